-- Port of the first Kinesis Data Analytics query: every event whose errorMsg contains
-- an error marker becomes one alert. Kinesis delivers at least once and clients may
-- retry, so an eventId seen again (within dedup.ttl.seconds) raises no second alert.
-- Not windowed: a late event still raises its alert.
CREATE TEMPORARY VIEW error_alerts AS
SELECT
  action,
  eventId,
  userId,
  objectId,
  bizId,
  errorMsg,
  createdAt
FROM (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY eventId ORDER BY procTime ASC) AS occurrence
  FROM events
  WHERE ${error_predicate}
)
WHERE occurrence = 1
