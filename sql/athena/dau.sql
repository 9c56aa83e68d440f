-- Daily active users: distinct users per UTC day of created_at.
-- Output: day VARCHAR 'YYYY-MM-DD', users BIGINT; one row per day that has events, ordered by day.
-- params: from_date, to_date
WITH deliveries AS (
    -- Pruning: the year bounds give Athena a per-column range to project partitions from;
    -- the concat(...) BETWEEN is exact across month and year ends and only reads partition
    -- keys, so it is evaluated per projected partition before any file is opened.
    SELECT
        event_id,
        user_id,
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
    -- A redelivered event (same event_id) counts once: its earliest received copy.
    SELECT
        CAST(CAST(created_at AS DATE) AS VARCHAR) AS day,
        user_id
    FROM deliveries
    WHERE delivery_rank = 1
)

SELECT
    day,
    count(DISTINCT user_id) AS users
FROM unique_events
GROUP BY day
ORDER BY day
