-- Port of the first Kinesis Data Analytics query: every event whose errorMsg contains
-- an error marker becomes one alert. Kinesis delivers at least once and clients may
-- retry, so an eventId seen again (within dedup.ttl.seconds) raises no second alert.
-- Not windowed: a late event still raises its alert. An event whose createdAt does not
-- parse (no ingest Lambda writes one) still alerts, stamped with the server's receivedAt,
-- so the alert sink always receives a timestamp it can key on. A createdAt that parses is
-- written back in the one form alerts carry (milliseconds, Z), so two copies of an event
-- make the same record however their fractions were spelt.
CREATE TEMPORARY VIEW error_alerts AS
SELECT
  action,
  eventId,
  userId,
  objectId,
  bizId,
  errorMsg,
  CASE
    WHEN hasEventTime THEN DATE_FORMAT(eventTime, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z''')
    ELSE receivedAt
  END AS createdAt
FROM (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY eventId ORDER BY procTime ASC) AS occurrence
  FROM events
  WHERE ${error_predicate}
)
WHERE occurrence = 1
