-- Port of the second Kinesis Data Analytics query: one alert per action and tumbling
-- event-time window holding at least warn.threshold warnings. Distinct eventIds are
-- counted, so a redelivered event does not push an action over the threshold.
CREATE TEMPORARY VIEW warn_bursts AS
SELECT
  action,
  DATE_FORMAT(window_start, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z''') AS windowStart,
  DATE_FORMAT(window_end, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z''') AS windowEnd,
  COUNT(DISTINCT eventId) AS warnCount
FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(eventTime), ${window_interval}))
WHERE hasEventTime AND ${warn_predicate}
GROUP BY action, window_start, window_end
HAVING COUNT(DISTINCT eventId) >= ${warn_threshold}
