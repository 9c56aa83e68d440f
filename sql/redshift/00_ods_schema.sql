-- ODS: the raw lake, queryable in place through Redshift Spectrum.
--
-- The external schema maps this stack's Glue database. Its `events` table is the one
-- Firehose converts records against (partitioned by UTC hour, found by Athena through
-- partition projection). Spectrum ignores projection and would see no partitions, so
-- the refresh reads `ods.events_by_arrival` (the same files, partitions registered as
-- objects arrive, see stage_lake.sql) or, when it rebuilds everything, `ods.events_spectrum`
-- (the same files without partition keys). Nothing is loaded: every read goes to the
-- Parquet files in S3.
--
-- Placeholders (filled by tools/redshift_sql.py, always inside string literals):
--   {{glue_database}}      the stack's Glue database name
--   {{spectrum_role_arn}}  the IAM role Redshift assumes to read Glue and the lake bucket
--
-- IF NOT EXISTS keeps a redeploy harmless; pointing the schema at another database
-- needs `DROP SCHEMA ods` first.
CREATE EXTERNAL SCHEMA IF NOT EXISTS ods
FROM DATA CATALOG
DATABASE '{{glue_database}}'
IAM_ROLE '{{spectrum_role_arn}}';
