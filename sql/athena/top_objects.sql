-- The 10 most frequent objects per UTC day of created_at and action.
-- Ties: more events first, then objectId ascending (binary string order), so the cut at 10 and
-- the row order are deterministic; at most 10 rows per day and action.
-- Output: day VARCHAR 'YYYY-MM-DD', action VARCHAR, objectId VARCHAR, events BIGINT;
-- ordered by day, action, events descending, objectId.
-- params: from_date, to_date
WITH deliveries AS (
    -- Pruning: see dau.sql; the same two predicates on the partition keys.
    SELECT
        event_id,
        action,
        object_id,
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
        object_id
    FROM deliveries
    WHERE delivery_rank = 1
),

per_object AS (
    SELECT
        day,
        action,
        object_id,
        count(*) AS events
    FROM unique_events
    GROUP BY day, action, object_id
),

ranked AS (
    SELECT
        day,
        action,
        object_id,
        events,
        ROW_NUMBER() OVER (PARTITION BY day, action ORDER BY events DESC, object_id ASC) AS object_rank
    FROM per_object
)

SELECT
    day,
    action,
    object_id AS "objectId",
    events
FROM ranked
WHERE object_rank <= 10
ORDER BY day, action, object_rank
