-- The events stream as the job sees it: one JSON object per record, exactly what the
-- ingest Lambda writes (`stored_record()` in lambdas/events.py), so the columns carry
-- the wire names. A test checks they match `stored_columns()` in order.
-- Only the WITH options differ between Kinesis (AWS) and a local file (tests).
CREATE TABLE events (
  eventId STRING,
  action STRING,
  userId STRING,
  objectId STRING,
  bizId STRING,
  createdAt STRING,
  errorMsg STRING,
  receivedAt STRING,
  sourceIp STRING,
  userAgent STRING,
  schemaVersion INT,
  -- createdAt is always UTC with milliseconds and a Z (`to_utc_iso()`), e.g.
  -- 2026-01-01T08:00:00.000Z, so the wall clock parsed here is UTC. A value that does not
  -- parse cannot come from the ingest Lambda; rather than a NULL event time, which would
  -- stop the job for good, it gets the epoch and hasEventTime = FALSE keeps it out of
  -- every window (it can still raise an error alert).
  eventTime AS COALESCE(
    TO_TIMESTAMP(createdAt, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''),
    TIMESTAMP '1970-01-01 00:00:00.000'
  ),
  hasEventTime AS TO_TIMESTAMP(createdAt, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z''') IS NOT NULL,
  procTime AS PROCTIME(),
  -- Bounded out-of-orderness: windows wait this long for stragglers before they close.
  WATERMARK FOR eventTime AS eventTime - ${watermark_interval}
) WITH (
${connector_options}
)
