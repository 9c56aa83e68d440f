-- ODS: the raw lake, queryable in place as ods.events through Redshift Spectrum.
--
-- The external schema maps this stack's Glue database; its `events` table is the one
-- Firehose converts records against, so ods.events has exactly the stored columns of
-- `lambdas.events.stored_columns()` plus the string partition keys year/month/day/hour.
-- Nothing is loaded: every read goes to the Parquet files in S3.
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
