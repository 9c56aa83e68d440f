"""Firehose from the `events` stream into the lake: Parquet, partitioned by event time, failures kept.

The delivery stream reads the KMS-encrypted Kinesis stream, extracts the UTC
year/month/day/hour of each record's `createdAt` with JQ, converts the record to
Parquet against the Glue `events` table (OpenX JSON SerDe in, Parquet out) and writes
it SSE-KMS under `events/year=…/month=…/day=…/hour=…/`. A record that cannot be
converted or partitioned goes to `errors/<error type>/…`, never nowhere.

Its role is trusted by Firehose alone and can do exactly this: read the one stream,
write the two prefixes, read the one table's schema, use the platform key only through
Kinesis and S3 for those resources, and write its own log stream.

Firehose's own at-rest encryption (`server_side_encryption`) is left unset on purpose:
Firehose accepts it only for Direct PUT streams. With a Kinesis source, records rest in
the (KMS-encrypted) source stream, and the objects Firehose writes are SSE-KMS.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.lake.schema import delivery_prefix, error_prefix, json_key_mappings, partition_query
from components.shared.alarms import AlarmSpec, metric_alarms
from components.shared.context import StackContext, child
from components.shared.iam import kms_via, policy_json, role_with_policy
from components.shared.logs import log_group
from settings import LakeSettings
from sql.lake import ERRORS_PREFIX, EVENTS_PREFIX

FIREHOSE = "firehose.amazonaws.com"
LOG_STREAM = "DestinationDelivery"  # the name Firehose's console uses for S3 delivery errors
JQ_ENGINE = "JQ-1.6"
ALARM_PERIOD_SECONDS = 300

KINESIS_READ = ["kinesis:DescribeStream", "kinesis:GetShardIterator", "kinesis:GetRecords", "kinesis:ListShards"]
# Bucket-level actions Firehose's S3 destination needs (Firehose developer guide, "Grant Firehose
# access to an Amazon S3 destination"); object-level ones are granted on its two prefixes only.
S3_BUCKET_ACTIONS = ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"]
S3_OBJECT_ACTIONS = ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"]
GLUE_SCHEMA_READ = ["glue:GetTable", "glue:GetTableVersion", "glue:GetTableVersions"]


@dataclass(frozen=True)
class DeliveryTargets:
    """What the delivery stream reads from and writes to."""

    events_stream: aws.kinesis.Stream
    lake_bucket_arn: pulumi.Output[str]
    database: aws.glue.CatalogDatabase
    table: aws.glue.CatalogTable


@dataclass(frozen=True)
class Delivery:
    stream: aws.kinesis.FirehoseDeliveryStream
    role: aws.iam.Role
    log_group: aws.cloudwatch.LogGroup
    alarms: list[aws.cloudwatch.MetricAlarm]


def delivery_stream_name(context: StackContext) -> str:
    return context.name("events-to-lake")


def firehose_statements(
    context: StackContext, targets: DeliveryTargets, log_stream_arn: pulumi.Output[str]
) -> list[Mapping[str, Any]]:
    """The Firehose role's whole policy: one statement per thing it touches."""
    lake = targets.lake_bucket_arn
    prefixes = [pulumi.Output.concat(lake, f"/{prefix}*") for prefix in (EVENTS_PREFIX, ERRORS_PREFIX)]
    return [
        {
            "Sid": "ReadEventsStream",
            "Effect": "Allow",
            "Action": KINESIS_READ,
            "Resource": targets.events_stream.arn,
        },
        {
            "Sid": "DecryptEventsStream",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": context.kms_key_arn,
            "Condition": {
                "StringEquals": {
                    "kms:ViaService": kms_via(context, "kinesis"),
                    "kms:EncryptionContext:aws:kinesis:arn": targets.events_stream.arn,
                }
            },
        },
        {
            "Sid": "LocateLakeBucket",
            "Effect": "Allow",
            "Action": S3_BUCKET_ACTIONS,
            "Resource": lake,
        },
        {
            "Sid": "WriteEventsAndErrors",
            "Effect": "Allow",
            "Action": S3_OBJECT_ACTIONS,
            "Resource": prefixes,
        },
        {
            "Sid": "EncryptLakeObjects",
            "Effect": "Allow",
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": context.kms_key_arn,
            "Condition": {
                "StringEquals": {"kms:ViaService": kms_via(context, "s3")},
                # With S3 Bucket Keys the encryption context is the bucket ARN, without them the object ARN.
                "ArnLike": {"kms:EncryptionContext:aws:s3:arn": [lake, *prefixes]},
            },
        },
        {
            "Sid": "ReadEventsSchema",
            "Effect": "Allow",
            "Action": GLUE_SCHEMA_READ,
            "Resource": [context.arn("glue", "catalog"), targets.database.arn, targets.table.arn],
        },
        {
            "Sid": "WriteDeliveryErrorLog",
            "Effect": "Allow",
            "Action": "logs:PutLogEvents",
            "Resource": log_stream_arn,
        },
    ]


def firehose_trust_policy(context: StackContext) -> pulumi.Output[str]:
    """Firehose, for this account only: its documented confused-deputy guard is `sts:ExternalId`."""
    return policy_json(
        [
            {
                "Effect": "Allow",
                "Principal": {"Service": FIREHOSE},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": context.account_id}},
            }
        ]
    )


def events_delivery(
    parent: pulumi.Resource, context: StackContext, settings: LakeSettings, targets: DeliveryTargets
) -> Delivery:
    name = delivery_stream_name(context)
    logs = log_group(parent, context, "lake-firehose-logs", f"/aws/kinesisfirehose/{name}")
    log_stream = aws.cloudwatch.LogStream(
        "lake-firehose-log-stream", name=LOG_STREAM, log_group_name=logs.name, opts=child(logs)
    )
    log_stream_arn = pulumi.Output.concat(logs.arn, f":log-stream:{LOG_STREAM}")
    # Firehose checks its access when the delivery stream is created, so it waits for the policy too.
    firehose_role, policy = role_with_policy(
        parent,
        context,
        "lake-firehose",
        "firehose.amazonaws.com",
        firehose_statements(context, targets, log_stream_arn),
        "Firehose: events stream -> Parquet in the lake bucket",
        trust_policy=firehose_trust_policy(context),
    )

    stream = aws.kinesis.FirehoseDeliveryStream(
        "events-to-lake",
        name=name,
        destination="extended_s3",
        kinesis_source_configuration=aws.kinesis.FirehoseDeliveryStreamKinesisSourceConfigurationArgs(
            kinesis_stream_arn=targets.events_stream.arn, role_arn=firehose_role.arn
        ),
        extended_s3_configuration=aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationArgs(
            bucket_arn=targets.lake_bucket_arn,
            role_arn=firehose_role.arn,
            prefix=delivery_prefix(),
            error_output_prefix=error_prefix(),
            # Parquet conversion and dynamic partitioning both need at least 64 MB (settings enforce it).
            buffering_size=settings.firehose.buffer_mb,
            buffering_interval=settings.firehose.buffer_seconds,
            kms_key_arn=context.kms_key_arn,
            # Parquet compresses its own pages (SNAPPY); compressing the file again is not allowed.
            compression_format="UNCOMPRESSED",
            cloudwatch_logging_options=aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationCloudwatchLoggingOptionsArgs(
                enabled=True, log_group_name=logs.name, log_stream_name=log_stream.name
            ),
            dynamic_partitioning_configuration=aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationDynamicPartitioningConfigurationArgs(
                enabled=True
            ),
            processing_configuration=_partition_key_extraction(),
            data_format_conversion_configuration=_parquet_conversion(context, targets, firehose_role),
        ),
        # Firehose validates the role's access at creation: the policy must be in place first.
        opts=child(parent, depends_on=[policy]),
    )
    alarms = metric_alarms(parent, context, alarm_specs(settings, name))
    return Delivery(stream=stream, role=firehose_role, log_group=logs, alarms=alarms)


def _partition_key_extraction() -> aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationArgs:
    parameter = aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorParameterArgs
    return aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationArgs(
        enabled=True,
        processors=[
            aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorArgs(
                type="MetadataExtraction",
                parameters=[
                    parameter(parameter_name="MetadataExtractionQuery", parameter_value=partition_query()),
                    parameter(parameter_name="JsonParsingEngine", parameter_value=JQ_ENGINE),
                ],
            )
        ],
    )


def _parquet_conversion(
    context: StackContext, targets: DeliveryTargets, firehose_role: aws.iam.Role
) -> aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationArgs:
    return aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationArgs(
        enabled=True,
        input_format_configuration=aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationInputFormatConfigurationArgs(
            deserializer=aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationInputFormatConfigurationDeserializerArgs(
                open_x_json_ser_de=aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationInputFormatConfigurationDeserializerOpenXJsonSerDeArgs(
                    # Keys are camelCase, columns snake_case: match keys exactly through the explicit map.
                    case_insensitive=False,
                    column_to_json_key_mappings=json_key_mappings(),
                )
            )
        ),
        output_format_configuration=aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationOutputFormatConfigurationArgs(
            serializer=aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationOutputFormatConfigurationSerializerArgs(
                parquet_ser_de=aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationOutputFormatConfigurationSerializerParquetSerDeArgs(
                    compression="SNAPPY"
                )
            )
        ),
        schema_configuration=aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationSchemaConfigurationArgs(
            database_name=targets.database.name,
            table_name=targets.table.name,
            role_arn=firehose_role.arn,
            region=context.region,
            catalog_id=context.account_id,
            version_id="LATEST",
        ),
    )


def alarm_specs(settings: LakeSettings, stream_name: str) -> list[AlarmSpec]:
    """Delivery that lags, and records Firehose could not convert (they wait under `errors/`)."""
    on_stream = {"DeliveryStreamName": stream_name}
    freshness = settings.alarms.freshness_seconds
    return [
        AlarmSpec("lake-delivery-freshness",
                  f"Events wait more than {freshness} s in Firehose before reaching the lake",
                  "AWS/Firehose", "DeliveryToS3.DataFreshness", on_stream, "Maximum", period=ALARM_PERIOD_SECONDS,
                  threshold=freshness, comparison="GreaterThanThreshold"),
        AlarmSpec("lake-failed-conversions",
                  f"Firehose could not convert records to Parquet; they are under s3://…/{ERRORS_PREFIX}",
                  "AWS/Firehose", "FailedConversion.Records", on_stream, "Sum", period=ALARM_PERIOD_SECONDS,
                  threshold=0, comparison="GreaterThanThreshold"),
    ]  # fmt: skip
