-- Error rate per UTC day of created_at and action.
-- errors: events whose error_msg contains one of the markers [PANIC], [panic], [ERROR], [error]
-- (case-sensitive, as the real-time alert rule). rate = errors / events as DOUBLE rounded to
-- 4 places (half away from zero), NULL if events were 0 (never: a row exists only with events).
-- Output: day VARCHAR 'YYYY-MM-DD', action VARCHAR, events BIGINT, errors BIGINT, rate DOUBLE;
-- ordered by day, action.
-- params: from_date, to_date
WITH deliveries AS (
    -- Pruning: see dau.sql; the same two predicates on the partition keys.
    SELECT
        event_id,
        action,
        error_msg,
        created_at,
        ROW_NUMBER() OVER (
            PARTITION BY event_id
            ORDER BY received_at ASC NULLS LAST, created_at, action, user_id, object_id, error_msg
        ) AS delivery_rank
    FROM events
    WHERE year BETWEEN substr(:from_date, 1, 4) AND substr(:to_date, 1, 4)
        AND concat(year, '-', month, '-', day) BETWEEN :from_date AND :to_date
),

unique_events AS (
    SELECT
        CAST(CAST(created_at AS DATE) AS VARCHAR) AS day,
        action,
        -- NULL when error_msg is NULL: not an error, and not counted by the FILTER below.
        strpos(error_msg, '[PANIC]') > 0
        OR strpos(error_msg, '[panic]') > 0
        OR strpos(error_msg, '[ERROR]') > 0
        OR strpos(error_msg, '[error]') > 0 AS is_error
    FROM deliveries
    WHERE delivery_rank = 1
),

per_day_action AS (
    SELECT
        day,
        action,
        count(*) AS events,
        count(*) FILTER (WHERE is_error) AS errors
    FROM unique_events
    GROUP BY day, action
)

SELECT
    day,
    action,
    events,
    errors,
    round(CAST(errors AS DOUBLE) / nullif(events, 0), 4) AS rate
FROM per_day_action
ORDER BY day, action
