-- Same-day conversion from one action to another, per UTC day of created_at.
-- from_users: users who did from_action that day. converted_users: those of them who also did
-- to_action that day at or after their first from_action (a to_action only before it does not
-- count). rate = converted_users / from_users as DOUBLE rounded to 4 places (half away from
-- zero), NULL if from_users were 0 (no such row is produced: a day without from_action has no row).
-- Output: day VARCHAR 'YYYY-MM-DD', from_users BIGINT, converted_users BIGINT, rate DOUBLE;
-- ordered by day.
-- params: from_date, to_date, from_action=viewDoc, to_action=buy
WITH deliveries AS (
    -- Pruning: see dau.sql; the same two predicates on the partition keys.
    SELECT
        event_id,
        action,
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
        CAST(CAST(created_at AS DATE) AS VARCHAR) AS day,
        action,
        user_id,
        created_at
    FROM deliveries
    WHERE delivery_rank = 1
),

-- Athena accepts `?` parameters only in WHERE clauses, so each action is selected by its own
-- filter here rather than by a CASE in the select list.
first_from AS (
    SELECT
        day,
        user_id,
        min(created_at) AS first_from_at
    FROM unique_events
    WHERE action = :from_action
    GROUP BY day, user_id
),

last_to AS (
    SELECT
        day,
        user_id,
        max(created_at) AS last_to_at
    FROM unique_events
    WHERE action = :to_action
    GROUP BY day, user_id
),

per_day AS (
    SELECT
        f.day,
        count(*) AS from_users,
        -- count(*) FILTER, not count_if: DuckDB's count_if is NULL when every input is NULL.
        count(*) FILTER (WHERE t.last_to_at >= f.first_from_at) AS converted_users
    FROM first_from AS f
    LEFT JOIN last_to AS t
        ON t.day = f.day AND t.user_id = f.user_id
    GROUP BY f.day
)

SELECT
    day,
    from_users,
    converted_users,
    round(CAST(converted_users AS DOUBLE) / nullif(from_users, 0), 4) AS rate
FROM per_day
ORDER BY day
