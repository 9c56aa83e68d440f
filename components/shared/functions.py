"""Python Lambda functions, built one way: arm64, Python 3.12, Powertools layer, own role and log group."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

import lambdas
from components.shared.context import StackContext, child
from components.shared.iam import role_with_policy
from components.shared.logs import log_group

LAMBDAS_DIR = Path(lambdas.__file__).resolve().parent  # the Lambda code is the `lambdas` package
RUNTIME = "python3.12"
ARCHITECTURE = "arm64"


def code_archive() -> pulumi.AssetArchive:
    """The `lambdas` package as Lambda code: every module, nothing else (no tests, no caches)."""
    return pulumi.AssetArchive(
        {f"lambdas/{path.name}": pulumi.FileAsset(str(path)) for path in sorted(LAMBDAS_DIR.glob("*.py"))}
    )


def powertools_layer_arn(version: str, opts: pulumi.InvokeOutputOptions) -> pulumi.Output[str]:
    """The published Powertools layer for this release, from its public SSM parameter.

    The layer carries Powertools with its extras (aws-xray-sdk, pydantic v2), so the
    function's own archive holds only our code.
    """
    name = f"/aws/service/powertools/python/{ARCHITECTURE}/{RUNTIME}/{version}"
    # A public String parameter: `insecure_value` keeps the layer ARN readable in previews and state.
    return aws.ssm.get_parameter_output(name=name, opts=opts).insecure_value


# What Lambda does to attach a function to a VPC, as its role (AWSLambdaVPCAccessExecutionRole's actions).
# EC2 authorises the describe actions on no narrower resource, and the network interfaces are created by
# Lambda with ids not known in advance.
VPC_ACCESS_ACTIONS = [
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
]


@dataclass(frozen=True)
class FunctionVpc:
    """Subnets and security groups a function runs in (for what it reaches only inside a VPC)."""

    subnet_ids: Sequence[pulumi.Input[str]]
    security_group_ids: Sequence[pulumi.Input[str]]


@dataclass(frozen=True)
class PythonFunctionArgs:
    context: StackContext
    function_name: str  # suffix after the stack prefix, e.g. `ingest`
    handler: str  # e.g. `lambdas.ingest.handler`
    description: str
    powertools_version: str
    statements: Sequence[Mapping[str, Any]]  # what the function itself calls; logs and X-Ray are added
    environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    memory_mb: int = 256
    timeout_seconds: int = 30
    tracing: bool = False
    reserved_concurrency: int | None = None
    vpc: FunctionVpc | None = None
    extra_layers: Sequence[
        pulumi.Input[str]
    ] = ()  # layer version ARNs after Powertools' (e.g. the live tier's JWT layer)


class PythonFunction(pulumi.ComponentResource):
    """A Lambda function with an encrypted log group of the stack's retention and a least-privilege role."""

    function: aws.lambda_.Function
    role: aws.iam.Role
    role_policy: aws.iam.RolePolicy  # depend on it where AWS checks the role's grants (event source mappings)
    log_group: aws.cloudwatch.LogGroup
    name: str  # the physical name, known before anything is created (alarm dimensions, dashboards)
    function_name: pulumi.Output[str]  # the same name as the created function's output: depends on it
    arn: pulumi.Output[str]
    invoke_arn: pulumi.Output[str]

    def __init__(self, name: str, args: PythonFunctionArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("uba:compute:PythonFunction", name, None, opts)
        context = args.context
        self.name = context.name(args.function_name)
        self.log_group = log_group(self, context, f"{name}-logs", f"/aws/lambda/{self.name}")
        log_streams = pulumi.Output.concat(self.log_group.arn, ":*")
        statements: list[Mapping[str, Any]] = [
            {
                "Sid": "WriteOwnLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": log_streams,
            },
            *args.statements,
        ]
        if args.tracing:
            # X-Ray's write actions support no resource-level permissions.
            statements.append(
                {
                    "Sid": "SendTraces",
                    "Effect": "Allow",
                    "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                    "Resource": "*",
                }
            )
        if args.vpc is not None:
            statements.append(
                {"Sid": "AttachToTheVpc", "Effect": "Allow", "Action": VPC_ACCESS_ACTIONS, "Resource": "*"}
            )
        self.role, self.role_policy = role_with_policy(
            self, context, f"{name}-role", "lambda.amazonaws.com", statements, f"{self.name} Lambda execution role"
        )
        self.function = aws.lambda_.Function(
            f"{name}-function",
            name=self.name,
            description=args.description,
            runtime=RUNTIME,
            architectures=[ARCHITECTURE],
            handler=args.handler,
            code=code_archive(),
            role=self.role.arn,
            layers=[
                powertools_layer_arn(args.powertools_version, pulumi.InvokeOutputOptions(parent=self)),
                *args.extra_layers,
            ],
            memory_size=args.memory_mb,
            timeout=args.timeout_seconds,
            reserved_concurrent_executions=args.reserved_concurrency,
            kms_key_arn=context.kms_key_arn,
            environment=aws.lambda_.FunctionEnvironmentArgs(
                variables={"POWERTOOLS_TRACE_DISABLED": "false" if args.tracing else "true", **args.environment}
            ),
            tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="Active" if args.tracing else "PassThrough"),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="JSON", log_group=self.log_group.name),
            vpc_config=None
            if args.vpc is None
            else aws.lambda_.FunctionVpcConfigArgs(
                subnet_ids=list(args.vpc.subnet_ids), security_group_ids=list(args.vpc.security_group_ids)
            ),
            # In a VPC, Lambda creates the function's network interfaces as its role: the grants come first.
            opts=child(self, depends_on=[self.log_group, *([self.role_policy] if args.vpc is not None else [])]),
        )
        self.function_name, self.arn, self.invoke_arn = self.function.name, self.function.arn, self.function.invoke_arn
        self.register_outputs({"arn": self.arn, "name": self.function_name})


@dataclass(frozen=True)
class StreamReading:
    """How a function reads a Kinesis or DynamoDB stream: in batches, splitting a failing batch on retry,
    and sending what still fails after the retries (or grows too old) to a queue, never dropping it."""

    source_arn: pulumi.Input[str]
    on_failure_arn: pulumi.Input[str]
    starting_position: str
    batch_size: int
    maximum_retry_attempts: int
    maximum_record_age_seconds: int
    batching_window_seconds: int | None = None  # Lambda's default when None
    reports_item_failures: bool = True  # the handler answers with the records that failed (partial batches)
    filter_pattern: str | None = None  # only records matching this event filter invoke the function


def stream_mapping(
    name: str, parent: pulumi.Resource, function: PythonFunction, reading: StreamReading
) -> aws.lambda_.EventSourceMapping:
    """The event source mapping that feeds `function` from a stream as `reading` says."""
    filters = (
        None
        if reading.filter_pattern is None
        else aws.lambda_.EventSourceMappingFilterCriteriaArgs(
            filters=[aws.lambda_.EventSourceMappingFilterCriteriaFilterArgs(pattern=reading.filter_pattern)]
        )
    )
    return aws.lambda_.EventSourceMapping(
        name,
        event_source_arn=reading.source_arn,
        function_name=function.arn,
        starting_position=reading.starting_position,
        batch_size=reading.batch_size,
        maximum_batching_window_in_seconds=reading.batching_window_seconds,
        function_response_types=["ReportBatchItemFailures"] if reading.reports_item_failures else None,
        bisect_batch_on_function_error=True,
        maximum_retry_attempts=reading.maximum_retry_attempts,
        maximum_record_age_in_seconds=reading.maximum_record_age_seconds,
        destination_config=aws.lambda_.EventSourceMappingDestinationConfigArgs(
            on_failure=aws.lambda_.EventSourceMappingDestinationConfigOnFailureArgs(
                destination_arn=reading.on_failure_arn
            )
        ),
        filter_criteria=filters,
        # Lambda checks the role's stream and queue grants when the mapping is created.
        opts=child(parent, depends_on=[function.role_policy]),
    )
