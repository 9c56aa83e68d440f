"""Replicated tables in the lake: Firehose from the `changes` stream to Parquet per table, catalogued by Glue.

    Kinesis `changes` ──Firehose (change processor Lambda: flat rows, partition keys; Parquet)──▶
        s3://<lake>/changes/<schema>/<table>/day=YYYY-MM-DD/…        refused records ──▶ errors/changes/…
    Glue `changes_<schema>_<table>` (partition projection by day, Athena) and `…_spectrum` (Redshift)

Built by the lake tier when the CDC tier hands it a `ChangesFeed` (`uba:cdc` on). The layout is
`sql.changes`, the row contract `lambdas.change_records`, the processor `lambdas.changes`.

Firehose converts every table's rows with one schema (a delivery stream has one), the union of the
replicated tables' columns (`changes_conversion_schema`, a table no one queries); each table's own
Glue tables declare only its columns, which Athena and Spectrum read from the Parquet files by name.
Its role reads the one stream, invokes the one processor, reads the one conversion table and writes
the two prefixes; the processor's role writes its own logs and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import pulumi
import pulumi_aws as aws

from components.lake.delivery import (
    FIREHOSE,
    GLUE_SCHEMA_READ,
    KINESIS_READ,
    LOG_STREAM,
    S3_BUCKET_ACTIONS,
    S3_OBJECT_ACTIONS,
    firehose_trust_policy,
)
from components.lake.schema import PARQUET_INPUT_FORMAT, PARQUET_OUTPUT_FORMAT, PARQUET_SERDE
from components.shared.alarms import AlarmSpec, metric_alarms
from components.shared.changes import ChangesFeed
from components.shared.context import StackContext, child, stateful
from components.shared.functions import PythonFunction, PythonFunctionArgs
from components.shared.iam import kms_via, role_with_policy
from components.shared.logs import log_group
from lambdas.changes import METRICS_NAMESPACE, TABLES_ENV
from settings import LakeSettings
from sql.changes import (
    CHANGES_PREFIX,
    ERRORS_PREFIX,
    PARTITION_KEY,
    ChangeTable,
    conversion_columns,
    delivery_prefix,
    error_prefix,
    projection_parameters,
)

CONVERSION_TABLE = "changes_conversion_schema"
PROCESSOR_BUFFER_MB = "1"  # what Firehose hands the processor at once; its answer must stay under 6 MB
PROCESSOR_BUFFER_SECONDS = "60"
ALARM_PERIOD_SECONDS = 300
LAMBDA_INVOKE = ["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"]
S3Destination = aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationArgsDict


@dataclass(frozen=True)
class ChangesInLake:
    delivery_stream: aws.kinesis.FirehoseDeliveryStream
    processor: PythonFunction
    conversion_table: aws.glue.CatalogTable
    tables: dict[str, aws.glue.CatalogTable]  # Glue table name -> table (projected and Spectrum ones)
    alarms: list[aws.cloudwatch.MetricAlarm]


@dataclass(frozen=True)
class ChangesTargets:
    changes: ChangesFeed
    lake_bucket_arn: pulumi.Output[str]
    lake_bucket_name: pulumi.Output[str]
    database: aws.glue.CatalogDatabase


def delivery_stream_name(context: StackContext) -> str:
    return context.name("changes-to-lake")


def _storage(location: pulumi.Input[str], columns: list[tuple[str, str]]) -> aws.glue.CatalogTableStorageDescriptorArgs:
    return aws.glue.CatalogTableStorageDescriptorArgs(
        location=location,
        input_format=PARQUET_INPUT_FORMAT,
        output_format=PARQUET_OUTPUT_FORMAT,
        ser_de_info=aws.glue.CatalogTableStorageDescriptorSerDeInfoArgs(
            name="parquet", serialization_library=PARQUET_SERDE, parameters={"serialization.format": "1"}
        ),
        columns=[aws.glue.CatalogTableStorageDescriptorColumnArgs(name=name, type=kind) for name, kind in columns],
    )


def _location(bucket: pulumi.Output[str], prefix: str) -> pulumi.Output[str]:
    return bucket.apply(lambda name: f"s3://{name}/{prefix}")


def change_tables_in_catalog(
    parent: pulumi.Resource, context: StackContext, targets: ChangesTargets
) -> tuple[aws.glue.CatalogTable, dict[str, aws.glue.CatalogTable]]:
    """The conversion table, and per replicated table its projected (Athena) and Spectrum tables."""
    bucket, database = targets.lake_bucket_name, targets.database
    tables = targets.changes.tables
    conversion = aws.glue.CatalogTable(
        "changes-conversion-table",
        name=CONVERSION_TABLE,
        database_name=database.name,
        description="Firehose's Parquet schema for every replicated table's changes (query the per-table tables)",
        table_type="EXTERNAL_TABLE",
        parameters={"EXTERNAL": "TRUE", "classification": "parquet"},
        storage_descriptor=_storage(_location(bucket, CHANGES_PREFIX), conversion_columns(tables)),
        opts=child(parent),
    )
    catalog: dict[str, aws.glue.CatalogTable] = {}
    for table in tables:
        catalog[table.glue_table] = _projected_table(parent, context, table, database, bucket)
        catalog[table.spectrum_table] = aws.glue.CatalogTable(
            f"changes-{table.schema}-{table.table}-spectrum-table",
            name=table.spectrum_table,
            database_name=database.name,
            description=f"Changes of {table.qualified} without partition keys, for Redshift Spectrum",
            table_type="EXTERNAL_TABLE",
            parameters={"EXTERNAL": "TRUE", "classification": "parquet"},
            storage_descriptor=_storage(_location(bucket, table.prefix), table.lake_columns()),
            opts=child(parent),
        )
    return conversion, catalog


def _projected_table(
    parent: pulumi.Resource,
    context: StackContext,
    table: ChangeTable,
    database: aws.glue.CatalogDatabase,
    bucket: pulumi.Output[str],
) -> aws.glue.CatalogTable:
    return aws.glue.CatalogTable(
        f"changes-{table.schema}-{table.table}-table",
        name=table.glue_table,
        database_name=database.name,
        description=f"Every change of {table.qualified} (full load and CDC), partitioned by UTC day of the change",
        table_type="EXTERNAL_TABLE",
        parameters=bucket.apply(
            lambda name: {"EXTERNAL": "TRUE", "classification": "parquet", **projection_parameters(name, table)}
        ),
        partition_keys=[
            aws.glue.CatalogTablePartitionKeyArgs(name=PARTITION_KEY, type="string", comment="UTC day of the change")
        ],
        storage_descriptor=_storage(_location(bucket, table.prefix), table.lake_columns()),
        opts=stateful(parent, context.protect_stateful),
    )


def _firehose_statements(
    context: StackContext,
    targets: ChangesTargets,
    processor: PythonFunction,
    conversion: aws.glue.CatalogTable,
    log_stream_arn: pulumi.Output[str],
) -> list[dict[str, Any]]:
    lake, stream = targets.lake_bucket_arn, targets.changes.stream
    prefixes = [pulumi.Output.concat(lake, f"/{prefix}*") for prefix in (CHANGES_PREFIX, ERRORS_PREFIX)]
    return [
        {"Sid": "ReadChangesStream", "Effect": "Allow", "Action": KINESIS_READ, "Resource": stream.arn},
        {
            "Sid": "DecryptChangesStream",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": context.kms_key_arn,
            "Condition": {
                "StringEquals": {
                    "kms:ViaService": kms_via(context, "kinesis"),
                    "kms:EncryptionContext:aws:kinesis:arn": stream.arn,
                }
            },
        },
        {
            "Sid": "InvokeTheChangeProcessor",
            "Effect": "Allow",
            "Action": LAMBDA_INVOKE,
            "Resource": [processor.arn, pulumi.Output.concat(processor.arn, ":*")],
        },
        {"Sid": "LocateLakeBucket", "Effect": "Allow", "Action": S3_BUCKET_ACTIONS, "Resource": lake},
        {"Sid": "WriteChangesAndErrors", "Effect": "Allow", "Action": S3_OBJECT_ACTIONS, "Resource": prefixes},
        {
            "Sid": "EncryptLakeObjects",
            "Effect": "Allow",
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": context.kms_key_arn,
            "Condition": {
                "StringEquals": {"kms:ViaService": kms_via(context, "s3")},
                "ArnLike": {"kms:EncryptionContext:aws:s3:arn": [lake, *prefixes]},
            },
        },
        {
            "Sid": "ReadConversionSchema",
            "Effect": "Allow",
            "Action": GLUE_SCHEMA_READ,
            "Resource": [context.arn("glue", "catalog"), targets.database.arn, conversion.arn],
        },
        {"Sid": "WriteDeliveryErrorLog", "Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": log_stream_arn},
    ]


def changes_delivery(
    parent: pulumi.Resource,
    context: StackContext,
    settings: LakeSettings,
    targets: ChangesTargets,
    powertools_version: str,
) -> ChangesInLake:
    name = delivery_stream_name(context)
    processor = PythonFunction(
        "change-processor",
        PythonFunctionArgs(
            context=context,
            function_name="change-processor",
            handler="lambdas.changes.handler",
            description="Firehose transformation: DMS change records into the lake's flat rows, by table and day",
            powertools_version=powertools_version,
            statements=[],  # it only answers Firehose and writes its own logs
            environment={TABLES_ENV: targets.changes.processor_config},
            memory_mb=256,
            timeout_seconds=60,
            tracing=targets.changes.processor_tracing,
        ),
        opts=child(parent),
    )
    conversion, catalog = change_tables_in_catalog(parent, context, targets)
    logs = log_group(parent, context, "changes-firehose-logs", f"/aws/kinesisfirehose/{name}")
    log_stream = aws.cloudwatch.LogStream(
        "changes-firehose-log-stream", name=LOG_STREAM, log_group_name=logs.name, opts=child(logs)
    )
    log_stream_arn = pulumi.Output.concat(logs.arn, f":log-stream:{LOG_STREAM}")
    role, policy = role_with_policy(
        parent,
        context,
        "changes-firehose",
        FIREHOSE,
        _firehose_statements(context, targets, processor, conversion, log_stream_arn),
        "Firehose: changes stream -> change processor -> Parquet per replicated table in the lake",
        trust_policy=firehose_trust_policy(context),
    )
    stream = aws.kinesis.FirehoseDeliveryStream(
        "changes-to-lake",
        name=name,
        destination="extended_s3",
        kinesis_source_configuration=aws.kinesis.FirehoseDeliveryStreamKinesisSourceConfigurationArgs(
            kinesis_stream_arn=targets.changes.stream.arn, role_arn=role.arn
        ),
        extended_s3_configuration=_s3_destination(
            {
                "bucket_arn": targets.lake_bucket_arn,
                "role_arn": role.arn,
                "prefix": delivery_prefix(),
                "error_output_prefix": error_prefix(),
                "buffering_size": settings.firehose.buffer_mb,
                "buffering_interval": settings.firehose.buffer_seconds,
                "kms_key_arn": context.kms_key_arn,
                "compression_format": "UNCOMPRESSED",  # Parquet compresses its own pages
                "cloudwatch_logging_options": {
                    "enabled": True,
                    "log_group_name": logs.name,
                    "log_stream_name": log_stream.name,
                },
                "dynamic_partitioning_configuration": {"enabled": True},
                "processing_configuration": _processing(processor),
                "data_format_conversion_configuration": _parquet_conversion(context, targets, conversion, role),
            }
        ),
        opts=child(parent, depends_on=[policy]),
    )
    alarms = metric_alarms(parent, context, alarm_specs(settings, name, processor.name))
    return ChangesInLake(
        delivery_stream=stream, processor=processor, conversion_table=conversion, tables=catalog, alarms=alarms
    )


def _s3_destination(values: dict[str, Any]) -> S3Destination:
    """The destination as a typed dict: the nested Args classes' names run past any line."""
    return cast(S3Destination, values)


def _parquet_conversion(
    context: StackContext, targets: ChangesTargets, conversion: aws.glue.CatalogTable, role: aws.iam.Role
) -> dict[str, Any]:
    """Parquet against the conversion table; the processor writes the columns' own (lowercase) names."""
    return {
        "enabled": True,
        "input_format_configuration": {"deserializer": {"open_x_json_ser_de": {"case_insensitive": False}}},
        "output_format_configuration": {"serializer": {"parquet_ser_de": {"compression": "SNAPPY"}}},
        "schema_configuration": {
            "database_name": targets.database.name,
            "table_name": conversion.name,
            "role_arn": role.arn,
            "region": context.region,
            "catalog_id": context.account_id,
            "version_id": "LATEST",
        },
    }


def _processing(processor: PythonFunction) -> dict[str, Any]:
    """The change processor as Firehose's one Lambda processor; its partition keys drive the prefix."""
    parameters = {
        "LambdaArn": processor.arn,
        "BufferSizeInMBs": PROCESSOR_BUFFER_MB,
        "BufferIntervalInSeconds": PROCESSOR_BUFFER_SECONDS,
    }
    return {
        "enabled": True,
        "processors": [
            {
                "type": "Lambda",
                "parameters": [{"parameter_name": k, "parameter_value": v} for k, v in parameters.items()],
            }
        ],
    }


def alarm_specs(settings: LakeSettings, stream_name: str, processor_name: str) -> list[AlarmSpec]:
    """Delivery that lags, rows Firehose could not convert, records the processor refused, schema drift."""
    on_stream = {"DeliveryStreamName": stream_name}
    on_processor = {"FunctionName": processor_name}
    freshness = settings.alarms.freshness_seconds
    return [
        AlarmSpec("changes-delivery-freshness",
                  f"Changes wait more than {freshness} s in Firehose before reaching the lake",
                  "AWS/Firehose", "DeliveryToS3.DataFreshness", on_stream, "Maximum", period=ALARM_PERIOD_SECONDS,
                  threshold=freshness, comparison="GreaterThanThreshold"),
        AlarmSpec("changes-failed-conversions",
                  f"Firehose could not convert changes to Parquet; they are under s3://…/{ERRORS_PREFIX}",
                  "AWS/Firehose", "FailedConversion.Records", on_stream, "Sum", period=ALARM_PERIOD_SECONDS,
                  threshold=0, comparison="GreaterThanThreshold"),
        AlarmSpec("changes-rejected-records",
                  f"The change processor refused records (not DMS changes of a replicated table); they are under "
                  f"s3://…/{ERRORS_PREFIX}processing-failed/ and its log says why",
                  METRICS_NAMESPACE, "RecordsRejected", on_processor, "Sum", period=ALARM_PERIOD_SECONDS,
                  threshold=0, comparison="GreaterThanThreshold"),
        AlarmSpec("changes-schema-drift",
                  "A replicated table sends columns the stack does not list: run `python -m tools.cdc drift` and "
                  "add them to uba:cdc.tables",
                  METRICS_NAMESPACE, "UnmappedColumns", on_processor, "Sum", period=ALARM_PERIOD_SECONDS,
                  threshold=0, comparison="GreaterThanThreshold"),
    ]  # fmt: skip
