"""Firehose from the search feed stream into the collection or domain; what it cannot index, to a dead-letter bucket.

The delivery stream reads the KMS-encrypted search feed stream (one JSON document per
record, written by the Flink job) and bulk-indexes the documents every `feed.buffer_seconds`
or `feed.buffer_mb`, whichever comes first, into `uba-search` (a domain rotates it daily:
`uba-search-YYYY-MM-DD`). A bulk request that fails is retried for `feed.retry_seconds`; a
document OpenSearch refuses (one that does not fit the index template, say) and what still
failed after the retries goes to the dead-letter bucket (`S3BackupMode: FailedDocumentsOnly`),
one JSON line per document with OpenSearch's error code and message and the document
itself, base64: never dropped. Firehose gives OpenSearch Serverless no document ids and
a domain Firehose's own (so Firehose's own retries do not duplicate); a thing the job
emits twice is two documents, which the saved searches collapse on `feedKey`.

In the VPC, Firehose delivers through network interfaces it creates in the warehouse
subnets, wearing the search clients' security group. Its role is trusted by Firehose for
this account alone and can do exactly this: read the one stream, write the dead-letter
bucket, index into the one collection or domain, use the platform key only through Kinesis
and S3, write its own log stream, and (in the VPC) manage its network interfaces.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.search.network import SearchNetwork
from components.search.store import SearchStore
from components.shared.buckets import LifecycleRule, SecureBucket, SecureBucketArgs
from components.shared.context import StackContext, child
from components.shared.iam import kms_via, policy_json
from components.shared.logs import log_group
from lambdas.search_schema import INDEX_NAME
from settings import SearchSettings

FIREHOSE = "firehose.amazonaws.com"
LOG_STREAM = "DestinationDelivery"
BACKUP_LOG_STREAM = "BackupDelivery"
DEAD_LETTER_PREFIX = "failed/"
KINESIS_READ = ["kinesis:DescribeStream", "kinesis:GetShardIterator", "kinesis:GetRecords", "kinesis:ListShards"]
S3_BUCKET_ACTIONS = ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"]
S3_OBJECT_ACTIONS = ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"]
DOMAIN_ACTIONS = ["es:DescribeDomain", "es:DescribeDomains", "es:DescribeDomainConfig", "es:ESHttpGet",
                  "es:ESHttpPost", "es:ESHttpPut"]  # fmt: skip
# What Firehose does to deliver into a VPC (Firehose developer guide, "Grant Firehose access to an
# OpenSearch destination in a VPC"); EC2 authorises these on no narrower resource.
VPC_DELIVERY_ACTIONS = ["ec2:DescribeVpcs", "ec2:DescribeVpcAttribute", "ec2:DescribeSubnets",
                        "ec2:DescribeSecurityGroups", "ec2:DescribeNetworkInterfaces", "ec2:CreateNetworkInterface",
                        "ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface"]  # fmt: skip


@dataclass(frozen=True)
class DeliveryRole:
    role: aws.iam.Role
    dead_letters: SecureBucket
    log_group: aws.cloudwatch.LogGroup
    log_stream: aws.cloudwatch.LogStream


@dataclass(frozen=True)
class Delivery:
    stream: aws.kinesis.FirehoseDeliveryStream
    name: str
    destination: str  # the metric family: AmazonOpenSearchServerless or AmazonOpenSearchService
    dead_letters: SecureBucket
    role: aws.iam.Role


def delivery_stream_name(context: StackContext) -> str:
    return context.name("search-feed-to-index")


def dead_letter_bucket(parent: pulumi.Resource, context: StackContext, settings: SearchSettings) -> SecureBucket:
    return SecureBucket(
        "search-dead-letters",
        SecureBucketArgs(
            context=context,
            purpose="search-dead-letters",
            # Where the stack protects data, an overwrite or a delete keeps the earlier version (for as long).
            versioning=context.protect_stateful,
            lifecycle=[
                LifecycleRule(
                    "expire-dead-letters",
                    "",
                    expire_after_days=settings.dead_letter_expire_after_days,
                    noncurrent_expire_after_days=settings.dead_letter_expire_after_days,
                )
            ],
        ),
        opts=child(parent),
    )


def delivery_role(
    parent: pulumi.Resource, context: StackContext, settings: SearchSettings
) -> tuple[aws.iam.Role, SecureBucket, aws.cloudwatch.LogGroup, aws.cloudwatch.LogStream]:
    """The role and what it writes to, created before the store (whose policies name the role)."""
    dead_letters = dead_letter_bucket(parent, context, settings)
    logs = log_group(parent, context, "search-firehose-logs", f"/aws/kinesisfirehose/{delivery_stream_name(context)}")
    log_stream = aws.cloudwatch.LogStream(
        "search-firehose-log-stream", name=LOG_STREAM, log_group_name=logs.name, opts=child(logs)
    )
    role = aws.iam.Role(
        "search-firehose",
        name=context.name("search-firehose"),
        description="Firehose: search feed stream -> the search index, failures to the dead-letter bucket",
        # Firehose, for this account only: its documented confused-deputy guard is `sts:ExternalId`.
        assume_role_policy=policy_json([_firehose_trust(context)]),
        opts=child(parent),
    )
    return role, dead_letters, logs, log_stream


def _firehose_trust(context: StackContext) -> dict[str, Any]:
    return {
        "Effect": "Allow",
        "Principal": {"Service": FIREHOSE},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": context.account_id}},
    }


def delivery_statements(
    context: StackContext,
    feed_stream: aws.kinesis.Stream,
    store: SearchStore,
    dead_letters: SecureBucket,
    log_stream_arn: pulumi.Output[str],
    in_vpc: bool,
) -> list[Mapping[str, Any]]:
    bucket = dead_letters.arn
    objects = pulumi.Output.concat(bucket, f"/{DEAD_LETTER_PREFIX}*")
    index_access: Mapping[str, Any] = (
        {"Sid": "IndexIntoTheCollection", "Effect": "Allow", "Action": "aoss:APIAccessAll", "Resource": store.arn}
        if store.service == "aoss"
        else {"Sid": "IndexIntoTheDomain", "Effect": "Allow", "Action": DOMAIN_ACTIONS,
              "Resource": [store.arn, pulumi.Output.concat(store.arn, "/*")]}
    )  # fmt: skip
    statements: list[Mapping[str, Any]] = [
        {"Sid": "ReadSearchFeed", "Effect": "Allow", "Action": KINESIS_READ, "Resource": feed_stream.arn},
        {"Sid": "DecryptSearchFeed", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": context.kms_key_arn,
         "Condition": {"StringEquals": {"kms:ViaService": kms_via(context, "kinesis"),
                                        "kms:EncryptionContext:aws:kinesis:arn": feed_stream.arn}}},
        index_access,
        {"Sid": "LocateDeadLetterBucket", "Effect": "Allow", "Action": S3_BUCKET_ACTIONS, "Resource": bucket},
        {"Sid": "WriteDeadLetters", "Effect": "Allow", "Action": S3_OBJECT_ACTIONS, "Resource": objects},
        {"Sid": "EncryptDeadLetters", "Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
         "Resource": context.kms_key_arn,
         "Condition": {"StringEquals": {"kms:ViaService": kms_via(context, "s3")},
                       "ArnLike": {"kms:EncryptionContext:aws:s3:arn": [bucket, objects]}}},
        {"Sid": "WriteDeliveryErrorLog", "Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": log_stream_arn},
    ]  # fmt: skip
    if in_vpc:
        statements.append({"Sid": "DeliverInsideTheVpc", "Effect": "Allow", "Action": VPC_DELIVERY_ACTIONS,
                           "Resource": "*"})  # fmt: skip
    return statements


def search_delivery(
    parent: pulumi.Resource,
    context: StackContext,
    settings: SearchSettings,
    feed_stream: aws.kinesis.Stream,
    store: SearchStore,
    network: SearchNetwork | None,
    role: tuple[aws.iam.Role, SecureBucket, aws.cloudwatch.LogGroup, aws.cloudwatch.LogStream],
) -> Delivery:
    firehose_role, dead_letters, logs, log_stream = role
    log_stream_arn = pulumi.Output.concat(logs.arn, f":log-stream:{LOG_STREAM}")
    policy = aws.iam.RolePolicy(
        "search-firehose-policy",
        role=firehose_role.id,
        name="search-firehose-least-privilege",
        policy=policy_json(
            delivery_statements(context, feed_stream, store, dead_letters, log_stream_arn, network is not None)
        ),
        opts=child(firehose_role),
    )
    feed = settings.feed
    backup: dict[str, Any] = dict(
        bucket_arn=dead_letters.arn,
        role_arn=firehose_role.arn,
        prefix=DEAD_LETTER_PREFIX,
        error_output_prefix=f"{DEAD_LETTER_PREFIX}errors/",
        kms_key_arn=context.kms_key_arn,
        compression_format="GZIP",
        buffering_interval=300,
        buffering_size=5,
    )
    logging: dict[str, Any] = dict(enabled=True, log_group_name=logs.name, log_stream_name=log_stream.name)
    name = delivery_stream_name(context)
    common: dict[str, Any] = dict(
        index_name=INDEX_NAME,
        role_arn=firehose_role.arn,
        buffering_interval=feed.buffer_seconds,
        buffering_size=feed.buffer_mb,
        retry_duration=feed.retry_seconds,
        s3_backup_mode="FailedDocumentsOnly",
    )
    kwargs: dict[str, Any]
    serverless = aws.kinesis.FirehoseDeliveryStreamOpensearchserverlessConfigurationArgs
    if store.service == "aoss":
        destination, metric_family = "opensearchserverless", "AmazonOpenSearchServerless"
        kwargs = {
            "opensearchserverless_configuration": serverless(
                collection_endpoint=store.endpoint,
                s3_configuration=aws.kinesis.FirehoseDeliveryStreamOpensearchserverlessConfigurationS3ConfigurationArgs(
                    **backup
                ),
                cloudwatch_logging_options=aws.kinesis.FirehoseDeliveryStreamOpensearchserverlessConfigurationCloudwatchLoggingOptionsArgs(
                    **logging
                ),
                vpc_config=None
                if network is None
                else aws.kinesis.FirehoseDeliveryStreamOpensearchserverlessConfigurationVpcConfigArgs(
                    subnet_ids=network.subnet_ids,
                    security_group_ids=[network.clients_group.id],
                    role_arn=firehose_role.arn,
                ),
                **common,
            )
        }
    else:
        assert network is not None, "a domain lives in the warehouse VPC"
        destination, metric_family = "opensearch", "AmazonOpenSearchService"
        kwargs = {
            "opensearch_configuration": aws.kinesis.FirehoseDeliveryStreamOpensearchConfigurationArgs(
                domain_arn=store.arn,
                index_rotation_period="OneDay",
                document_id_options=aws.kinesis.FirehoseDeliveryStreamOpensearchConfigurationDocumentIdOptionsArgs(
                    default_document_id_format="FIREHOSE_DEFAULT"
                ),
                s3_configuration=aws.kinesis.FirehoseDeliveryStreamOpensearchConfigurationS3ConfigurationArgs(**backup),
                cloudwatch_logging_options=aws.kinesis.FirehoseDeliveryStreamOpensearchConfigurationCloudwatchLoggingOptionsArgs(
                    **logging
                ),
                vpc_config=aws.kinesis.FirehoseDeliveryStreamOpensearchConfigurationVpcConfigArgs(
                    subnet_ids=network.subnet_ids,
                    security_group_ids=[network.clients_group.id],
                    role_arn=firehose_role.arn,
                ),
                **common,
            )
        }
    stream = aws.kinesis.FirehoseDeliveryStream(
        "search-feed-to-index",
        name=name,
        destination=destination,
        kinesis_source_configuration=aws.kinesis.FirehoseDeliveryStreamKinesisSourceConfigurationArgs(
            kinesis_stream_arn=feed_stream.arn, role_arn=firehose_role.arn
        ),
        **kwargs,
        # Firehose checks its access (and the destination's) when the stream is created.
        opts=child(parent, depends_on=[policy, *store.ready]),
    )
    return Delivery(stream, name, metric_family, dead_letters, firehose_role)
