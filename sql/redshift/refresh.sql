-- Incremental refresh of the warehouse models, run on a schedule.
--
-- Submitted as ONE Redshift Data API BatchExecuteStatement: the statements below run in
-- order in a single transaction, so a failed refresh changes nothing and a concurrent
-- one is refused by Redshift's serializable isolation (the next scheduled run catches up).
-- Work tables are permanent tables emptied with DELETE (TRUNCATE would commit).
--
-- Placeholders (filled by tools/redshift_sql.py, always inside string literals):
--   {{lookback_days}}            days before the watermark whose deliveries are read again
--   {{conversion_from_action}}   first action of the daily conversion (default viewDoc)
--   {{conversion_to_action}}     second action of the daily conversion (default buy)
--
-- What "changed" means. W is etl_refresh_state.watermark, the latest received_at taken in
-- so far. A refresh reads every lake row with received_at > W - lookback_days (all rows
-- when W is NULL) and rebuilds:
--   event days   the event_day of every row read, plus the day where dwd_events holds
--                another delivery of an event_id read (a duplicate can move it);
--   dim_user     users with a dwm_user_daily row on an event day, before or after;
--   kpi days     event days, plus the old and new first_seen_day of those users;
--   cohorts      first-seen days of those users (old and new), and cohorts whose
--                cohort_day + days_after the watermark's UTC day reached in this refresh.
-- A late event (created long ago, received now) has received_at > W, so its old day is
-- rebuilt however old it is. The look-back is for files that land late: Firehose
-- buffers, so a row can reach S3 after a refresh moved W past its received_at. A row
-- whose received_at is older than W - lookback_days when it lands is NOT picked up;
-- set the watermark to NULL (tools.redshift_sql.refresh_statements(full=True)) to
-- rebuild everything. Running the refresh again with no new files changes no model table.

-- 1. The one state row exists from the first refresh on; record this run's look-back.
INSERT INTO etl_refresh_state (watermark, previous_watermark, lookback_days, refreshed_at)
SELECT CAST(NULL AS TIMESTAMP), CAST(NULL AS TIMESTAMP), CAST(NULL AS INTEGER), CAST(NULL AS TIMESTAMP)
FROM (SELECT COUNT(*) AS state_rows FROM etl_refresh_state) AS existing
WHERE existing.state_rows = 0;

UPDATE etl_refresh_state SET lookback_days = CAST('{{lookback_days}}' AS INTEGER);

-- 2. Read the lake once: typed, cleaned deliveries received after W - lookback.
--    This is the only statement that touches Spectrum: the procedure runs stage_lake.sql
--    with a literal bound on the arrival partitions (see that file).
DELETE FROM etl_staged_events;

CALL uba_stage_lake_events();

-- 3. Move the watermark to the latest delivery read (never backwards).
UPDATE etl_refresh_state
SET
    previous_watermark = watermark,
    watermark = CASE
        WHEN staged.newest IS NULL OR staged.newest < watermark THEN watermark
        ELSE staged.newest
    END
FROM (SELECT MAX(received_at) AS newest FROM etl_staged_events) AS staged;

-- 4. Event days to rebuild: days of the rows read, and days where dwd_events keeps
--    another delivery of one of their event_ids.
DELETE FROM etl_refresh_days;

INSERT INTO etl_refresh_days (scope, affected_day)
SELECT 'event', staged.event_day
FROM etl_staged_events AS staged
UNION
SELECT 'event', kept.event_day
FROM dwd_events AS kept
INNER JOIN etl_staged_events AS staged ON kept.event_id = staged.event_id;

-- 5. Candidates of the event days: current rows plus the deliveries read.
INSERT INTO etl_staged_events (
    event_day, event_id, action, user_id, object_id, biz_id, created_at, received_at,
    error_msg, is_error, source_ip, user_agent, schema_version
)
SELECT
    d.event_day, d.event_id, d.action, d.user_id, d.object_id, d.biz_id, d.created_at, d.received_at,
    d.error_msg, d.is_error, d.source_ip, d.user_agent, d.schema_version
FROM dwd_events AS d
WHERE d.event_day IN (SELECT affected_day FROM etl_refresh_days WHERE scope = 'event');

-- 6. Users active on an event day before the rebuild.
DELETE FROM etl_changed_users;

INSERT INTO etl_changed_users (user_id)
SELECT DISTINCT m.user_id
FROM dwm_user_daily AS m
WHERE m.event_day IN (SELECT affected_day FROM etl_refresh_days WHERE scope = 'event');

-- 7. DWD: rebuild the event days, keeping the earliest delivery of each event_id
--    (ties on received_at broken by the other columns, so the choice is repeatable).
DELETE FROM dwd_events
WHERE event_day IN (SELECT affected_day FROM etl_refresh_days WHERE scope = 'event');

INSERT INTO dwd_events (
    event_day, event_id, action, user_id, object_id, biz_id, created_at, received_at,
    error_msg, is_error, source_ip, user_agent, schema_version
)
SELECT
    event_day, event_id, action, user_id, object_id, biz_id, created_at, received_at,
    error_msg, is_error, source_ip, user_agent, schema_version
FROM (
    SELECT
        c.*,
        ROW_NUMBER() OVER (
            PARTITION BY c.event_id
            ORDER BY
                c.received_at, c.created_at, c.action, c.user_id, c.object_id, c.biz_id,
                c.error_msg, c.source_ip, c.user_agent, c.schema_version
        ) AS delivery_rank
    FROM etl_staged_events AS c
) AS ranked
WHERE ranked.delivery_rank = 1;

-- 8. DWM: rebuild the event days from dwd_events.
DELETE FROM dwm_user_daily
WHERE event_day IN (SELECT affected_day FROM etl_refresh_days WHERE scope = 'event');

INSERT INTO dwm_user_daily (event_day, user_id, events, distinct_actions, error_events)
SELECT
    d.event_day,
    d.user_id,
    COUNT(*),
    COUNT(DISTINCT d.action),
    SUM(CASE WHEN d.is_error THEN 1 ELSE 0 END)
FROM dwd_events AS d
WHERE d.event_day IN (SELECT affected_day FROM etl_refresh_days WHERE scope = 'event')
GROUP BY d.event_day, d.user_id;

-- 9. Users active on an event day after the rebuild.
INSERT INTO etl_changed_users (user_id)
SELECT DISTINCT m.user_id
FROM dwm_user_daily AS m
WHERE m.event_day IN (SELECT affected_day FROM etl_refresh_days WHERE scope = 'event')
    AND m.user_id NOT IN (SELECT user_id FROM etl_changed_users);

-- 10. Days whose new-user count or cohort may change: the changed users' first-seen
--     days as they were, and the event days.
INSERT INTO etl_refresh_days (scope, affected_day)
SELECT scope, affected_day
FROM (
    SELECT 'kpi' AS scope, u.first_seen_day AS affected_day
    FROM dim_user AS u
    WHERE u.user_id IN (SELECT user_id FROM etl_changed_users)
    UNION
    SELECT 'cohort', u.first_seen_day
    FROM dim_user AS u
    WHERE u.user_id IN (SELECT user_id FROM etl_changed_users)
    UNION
    SELECT 'kpi', r.affected_day
    FROM etl_refresh_days AS r
    WHERE r.scope = 'event'
) AS before_rebuild;

-- 11. DIM: recompute the changed users from all their days.
DELETE FROM dim_user
WHERE user_id IN (SELECT user_id FROM etl_changed_users);

INSERT INTO dim_user (user_id, first_seen_day, last_seen_day)
SELECT m.user_id, MIN(m.event_day), MAX(m.event_day)
FROM dwm_user_daily AS m
WHERE m.user_id IN (SELECT user_id FROM etl_changed_users)
GROUP BY m.user_id;

-- 12. More days to recompute: the changed users' new first-seen days, and cohorts whose
--     cohort_day + days_after the watermark's UTC day reached in this refresh. (A
--     cohort whose retention day is an event day needs no rule of its own: whoever
--     came back that day is a changed user, and their cohort is already listed.)
INSERT INTO etl_refresh_days (scope, affected_day)
SELECT scope, affected_day
FROM (
    SELECT 'kpi' AS scope, u.first_seen_day AS affected_day
    FROM dim_user AS u
    WHERE u.user_id IN (SELECT user_id FROM etl_changed_users)
    UNION
    SELECT 'cohort', u.first_seen_day
    FROM dim_user AS u
    WHERE u.user_id IN (SELECT user_id FROM etl_changed_users)
    UNION
    SELECT 'cohort', u.first_seen_day
    FROM dim_user AS u
    CROSS JOIN (SELECT 1 AS days_after UNION ALL SELECT 7 UNION ALL SELECT 30) AS offsets
    CROSS JOIN etl_refresh_state AS s
    WHERE DATEADD(DAY, offsets.days_after, u.first_seen_day) <= CAST(s.watermark AS DATE)
        AND (
            s.previous_watermark IS NULL
            OR DATEADD(DAY, offsets.days_after, u.first_seen_day) > CAST(s.previous_watermark AS DATE)
        )
    EXCEPT
    SELECT scope, affected_day
    FROM etl_refresh_days
) AS after_rebuild;

-- 13. DWS daily KPIs for the kpi days.
DELETE FROM dws_daily_kpis
WHERE event_day IN (SELECT affected_day FROM etl_refresh_days WHERE scope = 'kpi');

INSERT INTO dws_daily_kpis (event_day, dau, new_users, events, error_events, conversion_rate)
SELECT
    activity.event_day,
    activity.dau,
    activity.new_users,
    activity.events,
    activity.error_events,
    CAST(
        ROUND(CAST(conversion.converted_users AS DOUBLE PRECISION) / NULLIF(conversion.from_users, 0), 4)
        AS DECIMAL(5, 4)
    )
FROM (
    SELECT
        m.event_day,
        COUNT(*) AS dau,
        SUM(CASE WHEN u.first_seen_day = m.event_day THEN 1 ELSE 0 END) AS new_users,
        SUM(m.events) AS events,
        SUM(m.error_events) AS error_events
    FROM dwm_user_daily AS m
    INNER JOIN dim_user AS u ON u.user_id = m.user_id
    WHERE m.event_day IN (SELECT affected_day FROM etl_refresh_days WHERE scope = 'kpi')
    GROUP BY m.event_day
) AS activity
LEFT JOIN (
    SELECT
        started.event_day,
        COUNT(*) AS from_users,
        SUM(started.converted) AS converted_users
    FROM (
        SELECT
            first_step.event_day,
            first_step.user_id,
            MAX(CASE WHEN second_step.event_id IS NULL THEN 0 ELSE 1 END) AS converted
        FROM (
            SELECT d.event_day, d.user_id, MIN(d.created_at) AS first_at
            FROM dwd_events AS d
            WHERE d.action = '{{conversion_from_action}}'
                AND d.event_day IN (SELECT affected_day FROM etl_refresh_days WHERE scope = 'kpi')
            GROUP BY d.event_day, d.user_id
        ) AS first_step
        LEFT JOIN dwd_events AS second_step
            ON second_step.user_id = first_step.user_id
            AND second_step.event_day = first_step.event_day
            AND second_step.action = '{{conversion_to_action}}'
            AND second_step.created_at >= first_step.first_at
        GROUP BY first_step.event_day, first_step.user_id
    ) AS started
    GROUP BY started.event_day
) AS conversion ON conversion.event_day = activity.event_day;

-- 14. DWS retention for the cohorts; a (cohort, days_after) row only once the
--     watermark's UTC day has reached cohort_day + days_after.
DELETE FROM dws_retention
WHERE cohort_day IN (SELECT affected_day FROM etl_refresh_days WHERE scope = 'cohort');

INSERT INTO dws_retention (cohort_day, days_after, cohort_users, retained_users)
SELECT
    u.first_seen_day,
    offsets.days_after,
    COUNT(*),
    COUNT(returned.user_id)
FROM dim_user AS u
CROSS JOIN (SELECT 1 AS days_after UNION ALL SELECT 7 UNION ALL SELECT 30) AS offsets
CROSS JOIN etl_refresh_state AS s
LEFT JOIN dwm_user_daily AS returned
    ON returned.user_id = u.user_id
    AND returned.event_day = DATEADD(DAY, offsets.days_after, u.first_seen_day)
WHERE u.first_seen_day IN (SELECT affected_day FROM etl_refresh_days WHERE scope = 'cohort')
    AND DATEADD(DAY, offsets.days_after, u.first_seen_day) <= CAST(s.watermark AS DATE)
GROUP BY u.first_seen_day, offsets.days_after;

-- 15. Line days to rebuild in dwm_user_biz_daily: the event days, and any day of the warehouse
--     the line model has no row for (it was added to a warehouse that already held days: the
--     first refresh after that upgrade backfills them once, and finds none missing afterwards).
INSERT INTO etl_refresh_days (scope, affected_day)
SELECT 'line', r.affected_day
FROM etl_refresh_days AS r
WHERE r.scope = 'event'
UNION
SELECT 'line', k.event_day
FROM dws_daily_kpis AS k
WHERE NOT EXISTS (SELECT 1 FROM dwm_user_biz_daily AS b WHERE b.event_day = k.event_day);

-- 16. DWM by business line for the line days, from dwd_events and dim_user (rebuilt above).
DELETE FROM dwm_user_biz_daily
WHERE event_day IN (SELECT affected_day FROM etl_refresh_days WHERE scope = 'line');

INSERT INTO dwm_user_biz_daily (
    event_day, biz_id, user_id, events, error_events, conversion_started, converted, new_user
)
SELECT
    activity.event_day,
    activity.biz_id,
    activity.user_id,
    activity.events,
    activity.error_events,
    CASE WHEN started.user_id IS NULL THEN 0 ELSE 1 END,
    COALESCE(started.converted, 0),
    CASE WHEN u.first_seen_day = activity.event_day THEN 1 ELSE 0 END
FROM (
    SELECT
        d.event_day,
        d.biz_id,
        d.user_id,
        COUNT(*) AS events,
        SUM(CASE WHEN d.is_error THEN 1 ELSE 0 END) AS error_events
    FROM dwd_events AS d
    WHERE d.event_day IN (SELECT affected_day FROM etl_refresh_days WHERE scope = 'line')
    GROUP BY d.event_day, d.biz_id, d.user_id
) AS activity
INNER JOIN dim_user AS u ON u.user_id = activity.user_id
LEFT JOIN (
    SELECT
        first_step.event_day,
        first_step.biz_id,
        first_step.user_id,
        MAX(CASE WHEN second_step.event_id IS NULL THEN 0 ELSE 1 END) AS converted
    FROM (
        SELECT d.event_day, d.biz_id, d.user_id, MIN(d.created_at) AS first_at
        FROM dwd_events AS d
        WHERE d.action = '{{conversion_from_action}}'
            AND d.event_day IN (SELECT affected_day FROM etl_refresh_days WHERE scope = 'line')
        GROUP BY d.event_day, d.biz_id, d.user_id
    ) AS first_step
    LEFT JOIN dwd_events AS second_step
        ON second_step.user_id = first_step.user_id
        AND second_step.event_day = first_step.event_day
        AND second_step.biz_id = first_step.biz_id
        AND second_step.action = '{{conversion_to_action}}'
        AND second_step.created_at >= first_step.first_at
    GROUP BY first_step.event_day, first_step.biz_id, first_step.user_id
) AS started
    ON started.event_day = activity.event_day
    AND started.biz_id = activity.biz_id
    AND started.user_id = activity.user_id;

-- 17. A changed user's first day may have moved to or from a day not rebuilt above.
UPDATE dwm_user_biz_daily
SET new_user = CASE WHEN dwm_user_biz_daily.event_day = u.first_seen_day THEN 1 ELSE 0 END
FROM dim_user AS u
WHERE u.user_id = dwm_user_biz_daily.user_id
    AND u.user_id IN (SELECT user_id FROM etl_changed_users);

-- 18. Line cohorts to rebuild: the cohorts of step 14, and any cohort the line model lacks
--     (backfilled once after an upgrade, as in step 15).
INSERT INTO etl_refresh_days (scope, affected_day)
SELECT 'line_cohort', r.affected_day
FROM etl_refresh_days AS r
WHERE r.scope = 'cohort'
UNION
SELECT 'line_cohort', kept.cohort_day
FROM dws_retention AS kept
WHERE NOT EXISTS (SELECT 1 FROM dws_biz_retention AS b WHERE b.cohort_day = kept.cohort_day);

-- 19. DWS retention by business line: the new users of each line on cohort_day (new_user = 1),
--     and who of them was active in the same line days_after later.
DELETE FROM dws_biz_retention
WHERE cohort_day IN (SELECT affected_day FROM etl_refresh_days WHERE scope = 'line_cohort');

INSERT INTO dws_biz_retention (cohort_day, biz_id, days_after, cohort_users, retained_users)
SELECT
    first_day.event_day,
    first_day.biz_id,
    offsets.days_after,
    COUNT(*),
    COUNT(returned.user_id)
FROM dwm_user_biz_daily AS first_day
CROSS JOIN (SELECT 1 AS days_after UNION ALL SELECT 7 UNION ALL SELECT 30) AS offsets
CROSS JOIN etl_refresh_state AS s
LEFT JOIN dwm_user_biz_daily AS returned
    ON returned.user_id = first_day.user_id
    AND returned.biz_id = first_day.biz_id
    AND returned.event_day = DATEADD(DAY, offsets.days_after, first_day.event_day)
WHERE first_day.new_user = 1
    AND first_day.event_day IN (SELECT affected_day FROM etl_refresh_days WHERE scope = 'line_cohort')
    AND DATEADD(DAY, offsets.days_after, first_day.event_day) <= CAST(s.watermark AS DATE)
GROUP BY first_day.event_day, first_day.biz_id, offsets.days_after;

-- 20. Stamp the run.
UPDATE etl_refresh_state SET refreshed_at = GETDATE();
