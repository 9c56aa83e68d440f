"""The edge-log collector: edge-logs stream -> `lambdas.edge_logs.handler` -> events stream.

An event source mapping feeds the Lambda batches of real-time log lines, with partial
batch failures, bisect-on-error and bounded retries and record age. Two queues, both
encrypted with the platform key:

- `edge-invalid-events`: what could not become an event (an unreadable line or beacon, an
  event the contract rejects), one message each, with the reason and what was received;
  the handler sends them.
- `edge-logs-failed-batches`: the on-failure destination of the mapping, where Lambda records
  the shard and sequence numbers of a batch that still failed after its retries (replay
  them from the stream while its retention lasts).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.shared.context import StackContext, child
from components.shared.functions import PythonFunction, PythonFunctionArgs, StreamReading, stream_mapping
from components.shared.iam import deny_insecure_transport, kms_via, policy_json
from lambdas.edge_logs import REQUIRED_FIELDS
from settings.edge import EdgeLogFunctionSettings

SERVICE_NAME = "edge-logs"
HANDLER = "lambdas.edge_logs.handler"
QUEUE_RETENTION_SECONDS = 14 * 24 * 3600  # SQS's maximum: the most time to look into a failure
STREAM_READ_ACTIONS = [
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
]


@dataclass(frozen=True)
class CollectorArgs:
    settings: EdgeLogFunctionSettings
    context: StackContext
    powertools_version: str
    logs_stream: aws.kinesis.Stream
    events_stream: aws.kinesis.Stream
    beacon_path: str


@dataclass(frozen=True)
class Collector:
    function: PythonFunction
    invalid_events_queue: aws.sqs.Queue
    invalid_events_queue_name: str
    failed_batches_queue: aws.sqs.Queue
    failed_batches_queue_name: str
    mapping: aws.lambda_.EventSourceMapping


def build_collector(parent: pulumi.Resource, args: CollectorArgs) -> Collector:
    context, settings = args.context, args.settings
    invalid_name, failed_name = context.name("edge-invalid-events"), context.name("edge-logs-failed-batches")
    invalid = _queue(parent, context, "edge-invalid-events", invalid_name)
    failed = _queue(parent, context, "edge-logs-failed-batches", failed_name)
    function = PythonFunction(
        SERVICE_NAME,
        PythonFunctionArgs(
            context=context,
            function_name=SERVICE_NAME,
            handler=HANDLER,
            description="Turns beacons in CloudFront real-time logs into events on the events stream",
            powertools_version=args.powertools_version,
            statements=_grants(args, invalid, failed),
            environment={
                "EVENTS_STREAM_NAME": args.events_stream.name,
                "INVALID_EVENTS_QUEUE_URL": invalid.url,
                "EDGE_LOG_FIELDS": ",".join(REQUIRED_FIELDS),
                "EDGE_BEACON_PATH": args.beacon_path,
                "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
                # One namespace per stack, so dev and prod metrics never mix in a shared account.
                "POWERTOOLS_METRICS_NAMESPACE": context.prefix,
                "POWERTOOLS_LOG_LEVEL": "INFO",
            },
            memory_mb=settings.memory_mb,
            timeout_seconds=settings.timeout_seconds,
            tracing=settings.tracing,
        ),
        opts=child(parent),
    )
    # A new mapping must not skip beacons already on the stream.
    reading = StreamReading(
        source_arn=args.logs_stream.arn, on_failure_arn=failed.arn, starting_position="TRIM_HORIZON",
        batch_size=settings.batch_size, maximum_retry_attempts=settings.maximum_retry_attempts,
        maximum_record_age_seconds=settings.maximum_record_age_seconds,
        batching_window_seconds=settings.batching_window_seconds,
    )  # fmt: skip
    mapping = stream_mapping(f"{SERVICE_NAME}-mapping", parent, function, reading)
    return Collector(function, invalid, invalid_name, failed, failed_name, mapping)


def _grants(args: CollectorArgs, invalid: aws.sqs.Queue, failed: aws.sqs.Queue) -> list[dict[str, Any]]:
    """What the handler and its event source mapping use; PythonFunction adds its logs (and X-Ray)."""
    context = args.context
    return [
        {"Sid": "ReadEdgeLogs", "Effect": "Allow", "Action": STREAM_READ_ACTIONS, "Resource": args.logs_stream.arn},
        {"Sid": "PutEvents", "Effect": "Allow", "Action": "kinesis:PutRecords", "Resource": args.events_stream.arn},
        {
            "Sid": "RecordInvalidEventsAndFailedBatches",
            "Effect": "Allow",
            "Action": ["sqs:SendMessage"],
            "Resource": [invalid.arn, failed.arn],
        },
        {
            # Both streams and both queues are encrypted with the platform key; only through those services.
            "Sid": "UseThePlatformKeyThroughItsServices",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": context.kms_key_arn,
            "Condition": {"StringEquals": {"kms:ViaService": kms_via(context, "kinesis", "sqs")}},
        },
    ]


def _queue(parent: pulumi.Resource, context: StackContext, logical_name: str, queue_name: str) -> aws.sqs.Queue:
    queue = aws.sqs.Queue(
        logical_name,
        name=queue_name,
        kms_master_key_id=context.kms_key_arn,
        kms_data_key_reuse_period_seconds=300,
        message_retention_seconds=QUEUE_RETENTION_SECONDS,
        opts=child(parent),
    )
    aws.sqs.QueuePolicy(
        f"{logical_name}-policy",
        queue_url=queue.url,
        policy=policy_json([deny_insecure_transport([queue.arn], "sqs:*")]),
        opts=child(queue),
    )
    return queue
