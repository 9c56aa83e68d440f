-- The alerts stream: one JSON record (already serialised by alert_records) per Kinesis
-- record, written as raw UTF-8 bytes with a random partition key.
CREATE TABLE alerts (
  record STRING
) WITH (
${connector_options}
)
