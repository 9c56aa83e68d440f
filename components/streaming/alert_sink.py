"""The alert sink: Flink's alerts stream -> `lambdas.alerts.handler` -> realtime table + business topic.

An event source mapping feeds the Lambda from the alerts stream with partial batch
failures, bisect-on-error and bounded retries and record age; what still fails is
recorded in an encrypted SQS dead-letter queue (for Kinesis the queue receives the
batch's shard and sequence numbers, not the records: replay them from the stream
while its retention lasts). The handler's contract (env vars, item layout, the calls
it makes) is documented in `lambdas/alerts.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.shared.context import StackContext, child
from components.shared.functions import PythonFunction, PythonFunctionArgs, StreamReading, stream_mapping
from components.shared.iam import deny_insecure_transport, kms_via, policy_json
from settings import AlertSinkSettings

SERVICE_NAME = "alert-sink"
HANDLER = "lambdas.alerts.handler"
DLQ_RETENTION_SECONDS = 14 * 24 * 3600  # SQS's maximum: the most time to look into a failure

# What the handler calls (see lambdas/alerts.py) and what the event source mapping does on its behalf.
TABLE_ACTIONS = ["dynamodb:UpdateItem"]
TOPIC_ACTIONS = ["sns:Publish"]
STREAM_READ_ACTIONS = [
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
]
DLQ_ACTIONS = ["sqs:SendMessage"]
KEY_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey"]


@dataclass(frozen=True)
class AlertSinkArgs:
    settings: AlertSinkSettings
    context: StackContext
    powertools_version: str
    alerts_stream: aws.kinesis.Stream
    results_table: aws.dynamodb.Table
    business_topic: aws.sns.Topic


@dataclass(frozen=True)
class AlertSink:
    """The sink's resources other parts of the tier (alarms, outputs) refer to."""

    function: PythonFunction
    dead_letter_queue: aws.sqs.Queue
    dead_letter_queue_name: str
    mapping: aws.lambda_.EventSourceMapping


def build_alert_sink(parent: pulumi.Resource, args: AlertSinkArgs) -> AlertSink:
    context, settings = args.context, args.settings
    queue_name = context.name(f"{SERVICE_NAME}-dlq")
    queue = _dead_letter_queue(parent, context, queue_name)
    function = PythonFunction(
        SERVICE_NAME,
        PythonFunctionArgs(
            context=context,
            function_name=SERVICE_NAME,
            handler=HANDLER,
            description="Stores Flink alerts in the realtime table and announces errors and warning bursts",
            powertools_version=args.powertools_version,
            statements=_grants(args, queue),
            environment=_environment(args),
            memory_mb=settings.memory_mb,
            timeout_seconds=settings.timeout_seconds,
            tracing=settings.tracing,
        ),
        opts=child(parent),
    )
    # A new mapping must not skip alerts already on the stream.
    reading = StreamReading(
        source_arn=args.alerts_stream.arn, on_failure_arn=queue.arn, starting_position="TRIM_HORIZON",
        batch_size=settings.batch_size, maximum_retry_attempts=settings.maximum_retry_attempts,
        maximum_record_age_seconds=settings.maximum_record_age_seconds,
    )  # fmt: skip
    mapping = stream_mapping(f"{SERVICE_NAME}-mapping", parent, function, reading)
    return AlertSink(function=function, dead_letter_queue=queue, dead_letter_queue_name=queue_name, mapping=mapping)


def _environment(args: AlertSinkArgs) -> dict[str, pulumi.Input[str]]:
    """The handler's configuration (names and defaults in lambdas/alerts.py)."""
    return {
        "ALERTS_TABLE_NAME": args.results_table.name,
        "ALERTS_TOPIC_ARN": args.business_topic.arn,
        "ALERTS_TTL_DAYS": str(args.settings.results_ttl_days),
        "ALERTS_SUBJECT_PREFIX": f"[{args.context.prefix}]",
        "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
        # One namespace per stack, so dev and prod metrics never mix in a shared account.
        "POWERTOOLS_METRICS_NAMESPACE": args.context.prefix,
    }


def _grants(args: AlertSinkArgs, queue: aws.sqs.Queue) -> list[dict[str, Any]]:
    """What the handler and its event source mapping use; PythonFunction adds its logs (and X-Ray)."""
    context = args.context
    return [
        {"Sid": "StoreAlerts", "Effect": "Allow", "Action": TABLE_ACTIONS, "Resource": args.results_table.arn},
        {"Sid": "AnnounceAlerts", "Effect": "Allow", "Action": TOPIC_ACTIONS, "Resource": args.business_topic.arn},
        {
            "Sid": "ReadAlertsStream",
            "Effect": "Allow",
            "Action": STREAM_READ_ACTIONS,
            "Resource": args.alerts_stream.arn,
        },
        {"Sid": "RecordFailedBatches", "Effect": "Allow", "Action": DLQ_ACTIONS, "Resource": queue.arn},
        {
            # Stream, table, topic and queue are encrypted with the platform key; only through those services.
            "Sid": "UseThePlatformKeyThroughItsServices",
            "Effect": "Allow",
            "Action": KEY_ACTIONS,
            "Resource": context.kms_key_arn,
            "Condition": {"StringEquals": {"kms:ViaService": kms_via(context, "kinesis", "dynamodb", "sns", "sqs")}},
        },
    ]


def _dead_letter_queue(parent: pulumi.Resource, context: StackContext, queue_name: str) -> aws.sqs.Queue:
    queue = aws.sqs.Queue(
        f"{SERVICE_NAME}-dlq",
        name=queue_name,
        kms_master_key_id=context.kms_key_arn,
        kms_data_key_reuse_period_seconds=300,
        message_retention_seconds=DLQ_RETENTION_SECONDS,
        opts=child(parent),
    )
    aws.sqs.QueuePolicy(
        f"{SERVICE_NAME}-dlq-policy",
        queue_url=queue.url,
        policy=policy_json([deny_insecure_transport([queue.arn], "sqs:*")]),
        opts=child(queue),
    )
    return queue
