-- Monthly active users: distinct users per calendar month of the UTC day of created_at.
-- Months are clipped to the date range: pass a first..last day range for whole months.
-- Output: month VARCHAR 'YYYY-MM', users BIGINT; ordered by month.
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
        substr(CAST(CAST(created_at AS DATE) AS VARCHAR), 1, 7) AS month,
        user_id
    FROM deliveries
    WHERE delivery_rank = 1
)

SELECT
    month,
    count(DISTINCT user_id) AS users
FROM unique_events
GROUP BY month
ORDER BY month
