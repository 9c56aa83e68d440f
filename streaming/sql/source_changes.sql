-- The changes stream as the job sees it: one DMS message per record (lambdas/change_records.py
-- describes them). Column values arrive under `data`, read here as text whatever their type
-- (Flink's JSON format renders a number or a boolean as its text); the key before an update that
-- changed it under `before-image`. Only the WITH options differ between Kinesis and a local file.
CREATE TABLE changes (
  `data` MAP<STRING, STRING>,
  `before-image` MAP<STRING, STRING>,
  `metadata` ROW<
    `timestamp` STRING,
    `record-type` STRING,
    `operation` STRING,
    `schema-name` STRING,
    `table-name` STRING,
    `commit-timestamp` STRING
  >,
  -- When the change happened at the source: its commit time, or for a full-load row the time DMS
  -- read it (`2026-01-01T08:00:30.104820Z`). A time that does not parse becomes the epoch, the
  -- oldest version there is, rather than a NULL rowtime that would stop the job.
  changeTime AS COALESCE(
    TO_TIMESTAMP(
      REPLACE(REPLACE(COALESCE(`metadata`.`commit-timestamp`, `metadata`.`timestamp`), 'T', ' '), 'Z', ''),
      'yyyy-MM-dd HH:mm:ss.SSSSSS'
    ),
    TIMESTAMP '1970-01-01 00:00:00.000'
  ),
  -- The entity tables are versioned by change time. A change up to changes.watermark.seconds older
  -- than the newest one seen (DMS interleaves tables and, during its full load, the changes it
  -- cached) still versions the events before it; the joins wait this long for changes, but only
  -- while the stream is active: an idle stream holds no watermark back (table.exec.source.idle-timeout).
  WATERMARK FOR changeTime AS changeTime - ${changes_watermark_interval}
) WITH (
${connector_options}
)
