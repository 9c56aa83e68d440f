-- The refresh's only read of the lake, run by the procedure uba_stage_lake_events (the
-- refresh's step 2; sql/redshift/__init__.py builds the procedure from this file).
--
-- As written, it reads ods.events_spectrum whole: every object under events/, whether or not
-- its partition was ever registered. That is the read of a full refresh and of the first one
-- (no watermark). Otherwise the procedure reads ods.events_by_arrival instead, adding
--     AND e.arrival_hour >= '<YYYYMMDDHH of watermark - lookback_days>'
-- as a literal, which Spectrum prunes on before listing anything: a row received after
-- watermark - lookback_days lands in an object created at or after that moment, whose
-- partition (arrival hour, event hour) the partition registrar registered when it arrived.
-- The received_at predicate stays, because an event-hour folder holds older objects too.
INSERT INTO etl_staged_events (
    event_day, event_id, action, user_id, object_id, biz_id, created_at, received_at,
    error_msg, is_error, source_ip, user_agent, schema_version
)
SELECT
    CAST(e.created_at AS DATE),
    e.event_id,
    e.action,
    e.user_id,
    e.object_id,
    e.biz_id,
    e.created_at,
    e.received_at,
    NULLIF(e.error_msg, ''),
    CASE
        WHEN e.error_msg LIKE '%[PANIC]%' OR e.error_msg LIKE '%[panic]%'
            OR e.error_msg LIKE '%[ERROR]%' OR e.error_msg LIKE '%[error]%'
            THEN TRUE
        ELSE FALSE
    END,
    NULLIF(e.source_ip, ''),
    NULLIF(e.user_agent, ''),
    e.schema_version
FROM ods.events_spectrum AS e
WHERE e.event_id IS NOT NULL
    AND e.action IS NOT NULL
    AND e.user_id IS NOT NULL
    AND e.created_at IS NOT NULL
    AND e.received_at IS NOT NULL
    AND e.received_at > COALESCE(
        (SELECT DATEADD(DAY, -s.lookback_days, s.watermark) FROM etl_refresh_state AS s),
        CAST('1970-01-01 00:00:00' AS TIMESTAMP)
    );
