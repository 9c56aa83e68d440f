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
  edgeLocation STRING,
  edgeRequestId STRING,
  -- createdAt is read in the stream's one form (UTC, seconds, up to 9 fraction digits, Z),
  -- the form ingest writes and Firehose's Parquet conversion reads (`stream_time()` in
  -- statements.py); anything else is NULL here, as Firehose sends it to errors/. An event
  -- time the windows cannot use becomes the epoch, which never moves the watermark, and
  -- hasEventTime = FALSE keeps the event out of every window (it can still raise an error
  -- alert, stamped with receivedAt). Two kinds:
  -- * a createdAt that is not a stream timestamp (no ingest Lambda writes one): a NULL
  --   event time would stop the job for good;
  -- * a createdAt more than event-time.max-future.seconds ahead of this job's clock
  --   (LOCALTIMESTAMP, UTC since table.local-time-zone is UTC). One such record, say in
  --   year 9999, written to the stream past the ingest's checks, would push the watermark
  --   beyond every real event: no window would close again, every later event would be
  --   late. The bound only looks forward, so replaying old events is never affected.
  --   (The Kinesis arrival time would be a better reference, but the 5.x `kinesis` source
  --   cannot read metadata columns yet: FLINK-36671, connector docs "Available Metadata".)
  eventTime AS CASE
    WHEN ${created_at_time} <= LOCALTIMESTAMP + ${max_future_interval}
    THEN ${created_at_time}
    ELSE TIMESTAMP '1970-01-01 00:00:00.000'
  END,
  hasEventTime AS COALESCE(
    ${created_at_time} <= LOCALTIMESTAMP + ${max_future_interval},
    FALSE
  ),
  procTime AS PROCTIME(),
  -- Bounded out-of-orderness: windows wait this long for stragglers before they close.
  WATERMARK FOR eventTime AS eventTime - ${watermark_interval}
) WITH (
${connector_options}
)
