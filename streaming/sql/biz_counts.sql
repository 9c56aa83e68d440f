-- Per action, business line and tumbling event-time window: how many events (distinct eventIds)
-- and users, with the business line's label as it was at the window's end (an event-time temporal
-- join on the window's time). A business line the entity table does not know still counts,
-- marked bizKnown = FALSE.
CREATE TEMPORARY VIEW biz_counts AS
SELECT
  w.action,
  w.bizId,
  CASE WHEN b.deleted THEN CAST(NULL AS STRING) ELSE b.entityLabel END AS bizName,
  COALESCE(NOT b.deleted, FALSE) AS bizKnown,
  DATE_FORMAT(w.window_start, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z''') AS windowStart,
  DATE_FORMAT(w.window_end, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z''') AS windowEnd,
  w.events,
  w.users
FROM (
  SELECT
    action,
    bizId,
    window_start,
    window_end,
    window_time,
    COUNT(DISTINCT eventId) AS events,
    COUNT(DISTINCT userId) AS users
  FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(eventTime), ${window_interval}))
  WHERE hasEventTime
  GROUP BY action, bizId, window_start, window_end, window_time
) AS w
LEFT JOIN biz_versions FOR SYSTEM_TIME AS OF w.window_time AS b ON w.bizId = b.entityKey
