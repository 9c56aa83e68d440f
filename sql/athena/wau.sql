-- Weekly active users: distinct users per ISO week (Monday start) of the UTC day of created_at.
-- Weeks are clipped to the date range: pass a Monday..Sunday range for whole weeks.
-- Output: week_start VARCHAR 'YYYY-MM-DD' (a Monday), users BIGINT; ordered by week_start.
-- params: from_date, to_date
WITH deliveries AS (
    -- Pruning: see dau.sql; the same two predicates on the partition keys.
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
    SELECT
        -- date_trunc on a DATE returns a DATE in Trino and a TIMESTAMP in DuckDB; the outer
        -- CAST makes both render as 'YYYY-MM-DD'.
        CAST(CAST(date_trunc('week', CAST(created_at AS DATE)) AS DATE) AS VARCHAR) AS week_start,
        user_id
    FROM deliveries
    WHERE delivery_rank = 1
)

SELECT
    week_start,
    count(DISTINCT user_id) AS users
FROM unique_events
GROUP BY week_start
ORDER BY week_start
