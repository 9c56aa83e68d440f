-- Events per UTC day of created_at, business line, action and object, for the BI dashboards.
-- Each event_id counts once (its earliest delivery, as the warehouse keeps it); error_events are
-- those whose error_msg carries an error marker ([PANIC], [panic], [ERROR], [error], case-sensitive,
-- as the real-time alert rule and the warehouse read it).
-- Output: event_day DATE, biz_id VARCHAR, action VARCHAR, object_id VARCHAR, events BIGINT,
-- error_events BIGINT.
-- QuickSight runs it as the lake dataset's custom SQL in the BI workgroup, with from_date and to_date
-- replaced by a window that ends today (uba:bi.lake_window_days); the partition predicates keep
-- Athena inside that window. The local report binds the two dates.
-- params: from_date, to_date
WITH deliveries AS (
    SELECT
        event_id,
        biz_id,
        action,
        object_id,
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
        CAST(created_at AS DATE) AS event_day,
        biz_id,
        action,
        object_id,
        -- NULL when error_msg is NULL: not an error, and not counted by the FILTER below.
        strpos(error_msg, '[PANIC]') > 0
        OR strpos(error_msg, '[panic]') > 0
        OR strpos(error_msg, '[ERROR]') > 0
        OR strpos(error_msg, '[error]') > 0 AS is_error
    FROM deliveries
    WHERE delivery_rank = 1
)

SELECT
    event_day,
    biz_id,
    action,
    object_id,
    count(*) AS events,
    count(*) FILTER (WHERE is_error) AS error_events
FROM unique_events
GROUP BY event_day, biz_id, action, object_id
