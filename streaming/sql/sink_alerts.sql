-- The alerts stream: one JSON record (already serialised by alert_records) per Kinesis
-- record, written as raw UTF-8 bytes.
--
-- Partitioned by the record: a PARTITIONED BY table's Kinesis partition key is its
-- partition columns joined by `sink.partitioner-field-delimiter`, cut to the 256
-- characters Kinesis allows (connector docs, "Sink Partitioning"). An alert's record is
-- a function of the alert alone (its type, action and window, or the event, and their
-- figures), so a copy that Flink emits again after a restart lands on the same shard as
-- the first, after it, and meets the alert sink's de-duplication in order. With the
-- connector's default random partitioner the copies landed on any shard, were handled in
-- parallel and were both announced. The `raw` format takes exactly one column, so the
-- record is the only column there is to partition by.
CREATE TABLE alerts (
  record STRING
) PARTITIONED BY (record) WITH (
${connector_options}
)
