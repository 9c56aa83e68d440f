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
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from components.base import StackContext, child, deny_insecure_transport, log_group, policy_json, role_with_policy
from settings import AlertSinkSettings

PROJECT_DIR = Path(__file__).resolve().parent.parent
LAMBDAS_PACKAGE = "lambdas"
HANDLER = "lambdas.alerts.handler"
RUNTIME = "python3.12"
ARCHITECTURE = "arm64"
SERVICE_NAME = "alert-sink"
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
LOG_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents"]
TRACING_ACTIONS = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]


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

    function: aws.lambda_.Function
    function_name: str
    role: aws.iam.Role
    dead_letter_queue: aws.sqs.Queue
    dead_letter_queue_name: str
    mapping: aws.lambda_.EventSourceMapping
    log_group: aws.cloudwatch.LogGroup


def lambda_package(project_dir: Path = PROJECT_DIR) -> pulumi.AssetArchive:
    """The `lambdas` package as Lambda imports it (`lambdas/<module>.py`): sources only, no caches or tests.

    Paths are relative to the project directory, where Pulumi runs the program.
    """
    modules = sorted((project_dir / LAMBDAS_PACKAGE).glob("*.py"))
    if not modules:
        raise FileNotFoundError(f"no Python modules in {project_dir / LAMBDAS_PACKAGE}")
    return pulumi.AssetArchive(
        {f"{LAMBDAS_PACKAGE}/{module.name}": pulumi.FileAsset(f"{LAMBDAS_PACKAGE}/{module.name}") for module in modules}
    )


def powertools_layer_parameter(version: str) -> str:
    """The public SSM parameter AWS keeps the Powertools layer ARN of a release in."""
    return f"/aws/service/powertools/python/{ARCHITECTURE}/{RUNTIME}/{version}"


def build_alert_sink(parent: pulumi.Resource, args: AlertSinkArgs) -> AlertSink:
    context, settings = args.context, args.settings
    function_name = context.name(SERVICE_NAME)
    queue_name = context.name(f"{SERVICE_NAME}-dlq")

    queue = _dead_letter_queue(parent, context, queue_name)
    logs = log_group(parent, context, f"{SERVICE_NAME}-logs", f"/aws/lambda/{function_name}")
    execution_role, role_policy = role_with_policy(
        parent,
        context,
        f"{SERVICE_NAME}-role",
        "lambda.amazonaws.com",
        _grants(args, queue, logs),
        description=f"{function_name}: store alerts from the alerts stream and announce them",
    )
    layer = aws.ssm.get_parameter_output(
        name=powertools_layer_parameter(args.powertools_version), opts=pulumi.InvokeOutputOptions(parent=parent)
    )
    function = aws.lambda_.Function(
        SERVICE_NAME,
        name=function_name,
        description="Stores Flink alerts in the realtime table and announces errors and warning bursts",
        role=execution_role.arn,
        runtime=RUNTIME,
        architectures=[ARCHITECTURE],
        handler=HANDLER,
        code=lambda_package(),
        # A public parameter of type String: its plain value, so the layer ARN is not marked secret.
        layers=[layer.insecure_value],
        memory_size=settings.memory_mb,
        timeout=settings.timeout_seconds,
        environment=aws.lambda_.FunctionEnvironmentArgs(variables=_environment(args)),
        tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="Active" if settings.tracing else "PassThrough"),
        # Powertools writes structured JSON itself; the log group is ours (encrypted, retention set).
        logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="Text", log_group=logs.name),
        opts=child(parent, depends_on=[logs, role_policy]),
    )
    mapping = aws.lambda_.EventSourceMapping(
        f"{SERVICE_NAME}-mapping",
        event_source_arn=args.alerts_stream.arn,
        function_name=function.arn,
        starting_position="TRIM_HORIZON",  # a new mapping must not skip alerts already on the stream
        batch_size=settings.batch_size,
        function_response_types=["ReportBatchItemFailures"],
        bisect_batch_on_function_error=True,
        maximum_retry_attempts=settings.maximum_retry_attempts,
        maximum_record_age_in_seconds=settings.maximum_record_age_seconds,
        destination_config=aws.lambda_.EventSourceMappingDestinationConfigArgs(
            on_failure=aws.lambda_.EventSourceMappingDestinationConfigOnFailureArgs(destination_arn=queue.arn)
        ),
        # Lambda checks the role's stream and queue grants when the mapping is created.
        opts=child(parent, depends_on=[role_policy]),
    )
    return AlertSink(
        function=function,
        function_name=function_name,
        role=execution_role,
        dead_letter_queue=queue,
        dead_letter_queue_name=queue_name,
        mapping=mapping,
        log_group=logs,
    )


def _environment(args: AlertSinkArgs) -> dict[str, pulumi.Input[str]]:
    """The handler's configuration (names and defaults in lambdas/alerts.py)."""
    variables: dict[str, pulumi.Input[str]] = {
        "ALERTS_TABLE_NAME": args.results_table.name,
        "ALERTS_TOPIC_ARN": args.business_topic.arn,
        "ALERTS_TTL_DAYS": str(args.settings.results_ttl_days),
        "ALERTS_SUBJECT_PREFIX": f"[{args.context.prefix}]",
        "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
        # One namespace per stack, so dev and prod metrics never mix in a shared account.
        "POWERTOOLS_METRICS_NAMESPACE": args.context.prefix,
    }
    if not args.settings.tracing:
        variables["POWERTOOLS_TRACE_DISABLED"] = "true"  # no segments to send without active tracing
    return variables


def _grants(args: AlertSinkArgs, queue: aws.sqs.Queue, logs: aws.cloudwatch.LogGroup) -> list[dict[str, Any]]:
    context = args.context
    statements: list[dict[str, Any]] = [
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
            "Condition": {"StringEquals": {"kms:ViaService": _via(context, "kinesis", "dynamodb", "sns", "sqs")}},
        },
        {
            "Sid": "WriteOwnLogs",
            "Effect": "Allow",
            "Action": LOG_ACTIONS,
            "Resource": pulumi.Output.concat(logs.arn, ":*"),
        },
    ]
    if args.settings.tracing:
        # X-Ray's PutTraceSegments/PutTelemetryRecords support no resource-level permissions: `*` is the only form.
        statements.append({"Sid": "SendTraces", "Effect": "Allow", "Action": TRACING_ACTIONS, "Resource": "*"})
    return statements


def _via(context: StackContext, *services: str) -> list[str]:
    return [f"{service}.{context.region}.amazonaws.com" for service in services]


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
