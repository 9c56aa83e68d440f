-- The search feed stream: one JSON document (already serialised by search_documents) per
-- Kinesis record, as raw UTF-8 bytes. Firehose reads it and bulk-indexes the documents
-- into the search collection or domain (components/search). Order does not matter to an
-- index, so the connector's default random partitioner spreads the records over the shards.
CREATE TABLE search_feed (
  document STRING
) WITH (
${connector_options}
)
