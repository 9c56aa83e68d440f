-- Per action and tumbling event-time window: how many events (distinct eventIds) and
-- how many distinct users. Feeds the realtime results table.
CREATE TEMPORARY VIEW realtime_counts AS
SELECT
  action,
  DATE_FORMAT(window_start, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z''') AS windowStart,
  DATE_FORMAT(window_end, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z''') AS windowEnd,
  COUNT(DISTINCT eventId) AS events,
  COUNT(DISTINCT userId) AS users
FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(eventTime), ${window_interval}))
WHERE hasEventTime
GROUP BY action, window_start, window_end
