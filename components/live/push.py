"""Push: the WebSocket API the page stays connected to, its connections table, and the pusher.

- WebSocket API (`$connect` behind a Lambda REQUEST authorizer that verifies the Cognito
  access token with PyJWT from the JWT layer; `$disconnect`; `$default` for pings), one
  connections Lambda behind the three routes, a stage that throttles and writes a JSON access
  log without query strings (the token travels in the connection URL).
- The connections table: one item per open page, TTL `expiresAt`, encrypted with the platform
  key, protected like every table where the stack protects data (a deleted table would cut every
  open page off its updates).
- The pusher (`lambdas.live_push`) on the realtime table's stream: an event source mapping that
  passes only inserts and modifications of alert items, with bounded retries, bisect on error,
  a maximum record age and an encrypted SQS dead-letter queue, so a failing push never holds
  the stream up.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

import pulumi
import pulumi_aws as aws

from components.shared.context import StackContext, child, stateful
from components.shared.functions import (
    ARCHITECTURE,
    RUNTIME,
    PythonFunction,
    PythonFunctionArgs,
    StreamReading,
    stream_mapping,
)
from components.shared.iam import deny_insecure_transport, kms_via, policy_json
from components.shared.logs import log_group
from lambdas.live_authorizer import TOKEN_PARAMETER
from lambdas.live_view import ITEM_PREFIX
from settings.live import LiveApiSettings, PushSettings

STAGE = "live"
DLQ_RETENTION_SECONDS = 14 * 24 * 3600
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "requestTime": "$context.requestTime",
        "routeKey": "$context.routeKey",
        "eventType": "$context.eventType",
        "connectionId": "$context.connectionId",
        "status": "$context.status",
        "viewer": "$context.authorizer.principalId",
        "error": "$context.error.message",
        "integrationError": "$context.integrationErrorMessage",
    },
    separators=(",", ":"),
)
# The mapping hands the pusher only what it may push: new or changed alert items (never TTL deletions).
STREAM_FILTER = json.dumps(
    {"eventName": ["INSERT", "MODIFY"], "dynamodb": {"Keys": {"pk": {"S": [{"prefix": ITEM_PREFIX}]}}}},
    separators=(",", ":"),
)


@dataclass(frozen=True)
class PushArgs:
    settings: PushSettings
    api_settings: LiveApiSettings
    context: StackContext
    powertools_version: str
    table_stream_arn: pulumi.Input[str]
    jwt_layer: Path  # the built layer directory (layers/build.py)


@dataclass(frozen=True)
class Push:
    api: aws.apigatewayv2.Api
    stage: aws.apigatewayv2.Stage
    url: pulumi.Output[str]  # wss://<api>.execute-api.<region>.amazonaws.com/live
    connections_table: aws.dynamodb.Table
    authorizer_function: PythonFunction
    connections_function: PythonFunction
    pusher: PythonFunction
    dead_letter_queue: aws.sqs.Queue
    dead_letter_queue_name: str
    mapping: aws.lambda_.EventSourceMapping
    name: str


def build_push_api(parent: pulumi.Resource, context: StackContext) -> aws.apigatewayv2.Api:
    """The API itself first: its address goes into the page's Content-Security-Policy."""
    return aws.apigatewayv2.Api(
        "push-api",
        name=context.name("live-push"),
        protocol_type="WEBSOCKET",
        route_selection_expression="$request.body.action",
        description="Pushes new alerts and window counts to the dashboard pages",
        opts=child(parent),
    )


def websocket_url(api: aws.apigatewayv2.Api) -> pulumi.Output[str]:
    return pulumi.Output.concat(api.api_endpoint, f"/{STAGE}")


def build_push(
    parent: pulumi.Resource, args: PushArgs, api: aws.apigatewayv2.Api, auth_environment: dict[str, pulumi.Input[str]]
) -> Push:
    settings, context = args.settings, args.context
    table = _connections_table(parent, context)
    layer = aws.lambda_.LayerVersion(
        "jwt-layer",
        layer_name=context.name("live-jwt"),
        description="PyJWT with cryptography (layers/jwt/requirements.txt) for the WebSocket authorizer",
        code=pulumi.FileArchive(str(args.jwt_layer)),
        compatible_runtimes=[RUNTIME],
        compatible_architectures=[ARCHITECTURE],
        opts=child(parent),
    )
    authorizer_function = PythonFunction(
        "live-authorizer",
        PythonFunctionArgs(
            context=context,
            function_name="live-authorizer",
            handler="lambdas.live_authorizer.handler",
            description="Verifies the Cognito access token of a WebSocket connection",
            statements=[],  # it fetches the pool's public keys over HTTPS and calls no AWS API
            environment={"POWERTOOLS_SERVICE_NAME": "live-authorizer", **auth_environment},
            extra_layers=[layer.arn],
            **_sizing(args),
        ),
        opts=child(parent),
    )
    connections_function = PythonFunction(
        "live-connections",
        PythonFunctionArgs(
            context=context,
            function_name="live-connections",
            handler="lambdas.live_connections.handler",
            description="Remembers and forgets the dashboard pages connected to the WebSocket API",
            statements=_connection_grants(context, table),
            environment={
                "LIVE_CONNECTIONS_TABLE": table.name,
                "LIVE_CONNECTION_TTL_HOURS": str(settings.connection_ttl_hours),
                "POWERTOOLS_SERVICE_NAME": "live-connections",
            },
            **_sizing(args),
        ),
        opts=child(parent),
    )
    stage = _routes_and_stage(parent, args, api, authorizer_function, connections_function)
    queue_name = context.name("live-push-dlq")
    queue = _dead_letter_queue(parent, context, queue_name)
    pusher = PythonFunction(
        "live-push",
        PythonFunctionArgs(
            context=context,
            function_name="live-push",
            handler="lambdas.live_push.handler",
            description="Pushes new alerts and window counts from the realtime table's stream to connected pages",
            powertools_version=args.powertools_version,
            statements=_pusher_grants(args, api, table, queue),
            environment={
                "LIVE_CONNECTIONS_TABLE": table.name,
                "LIVE_CONNECTIONS_URL": pulumi.Output.concat(
                    "https://", api.id, f".execute-api.{context.region}.amazonaws.com/{STAGE}"
                ),
                "POWERTOOLS_SERVICE_NAME": "live-push",
                "POWERTOOLS_METRICS_NAMESPACE": context.prefix,
            },
            memory_mb=settings.memory_mb,
            timeout_seconds=settings.timeout_seconds,
            tracing=args.api_settings.tracing,
        ),
        opts=child(parent),
    )
    # From LATEST: pages want what happens from now on, and the API serves what came before. No batching
    # window: a page would wait for every second of it.
    reading = StreamReading(
        source_arn=args.table_stream_arn, on_failure_arn=queue.arn, starting_position="LATEST",
        batch_size=settings.batch_size, maximum_retry_attempts=settings.maximum_retry_attempts,
        maximum_record_age_seconds=settings.maximum_record_age_seconds, batching_window_seconds=0,
        reports_item_failures=False, filter_pattern=STREAM_FILTER,
    )  # fmt: skip
    mapping = stream_mapping("live-push-mapping", parent, pusher, reading)
    return Push(
        api=api, stage=stage, url=websocket_url(api), connections_table=table,
        authorizer_function=authorizer_function, connections_function=connections_function, pusher=pusher,
        dead_letter_queue=queue, dead_letter_queue_name=queue_name, mapping=mapping, name=context.name("live-push"),
    )  # fmt: skip


class _Sizing(TypedDict):
    powertools_version: str
    memory_mb: int
    timeout_seconds: int
    tracing: bool


def _sizing(args: PushArgs) -> _Sizing:
    """The authorizer and the connection routes answer API Gateway: sized like the realtime API's function."""
    settings = args.api_settings
    return {"powertools_version": args.powertools_version, "memory_mb": settings.memory_mb,
            "timeout_seconds": settings.timeout_seconds, "tracing": settings.tracing}  # fmt: skip


def _connections_table(parent: pulumi.Resource, context: StackContext) -> aws.dynamodb.Table:
    return aws.dynamodb.Table(
        "live-connections-table",
        name=context.name("live-connections"),
        billing_mode="PAY_PER_REQUEST",
        hash_key="connectionId",
        attributes=[aws.dynamodb.TableAttributeArgs(name="connectionId", type="S")],
        ttl=aws.dynamodb.TableTtlArgs(attribute_name="expiresAt", enabled=True),
        server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(
            enabled=True, kms_key_arn=context.kms_key_arn
        ),
        # Protected tables can rewind (policy `dynamodb-point-in-time-recovery`); this one holds a few items.
        point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=context.protect_stateful),
        deletion_protection_enabled=context.protect_stateful,
        opts=stateful(parent, context.protect_stateful),
    )


def _routes_and_stage(
    parent: pulumi.Resource,
    args: PushArgs,
    api: aws.apigatewayv2.Api,
    authorizer_function: PythonFunction,
    connections_function: PythonFunction,
) -> aws.apigatewayv2.Stage:
    context, settings = args.context, args.api_settings
    authorizer = aws.apigatewayv2.Authorizer(
        "push-api-token",
        api_id=api.id,
        name="cognito-token",
        authorizer_type="REQUEST",
        authorizer_uri=authorizer_function.invoke_arn,
        identity_sources=[f"route.request.querystring.{TOKEN_PARAMETER}"],
        opts=child(api),
    )
    aws.lambda_.Permission(
        "push-api-invokes-authorizer",
        action="lambda:InvokeFunction",
        function=authorizer_function.function_name,
        principal="apigateway.amazonaws.com",
        source_arn=pulumi.Output.concat(api.execution_arn, "/authorizers/", authorizer.id),
        opts=child(authorizer_function),
    )
    integration = aws.apigatewayv2.Integration(
        "push-api-lambda",
        api_id=api.id,
        integration_type="AWS_PROXY",
        integration_uri=connections_function.invoke_arn,
        integration_method="POST",
        opts=child(api),
    )
    target = pulumi.Output.concat("integrations/", integration.id)
    routes = [
        aws.apigatewayv2.Route(
            "push-route-connect", api_id=api.id, route_key="$connect", target=target,
            authorization_type="CUSTOM", authorizer_id=authorizer.id, opts=child(api),
        ),
        # API Gateway allows an authorizer on $connect only; the other routes run on a connection it authorised.
        aws.apigatewayv2.Route("push-route-disconnect", api_id=api.id, route_key="$disconnect", target=target,
                               authorization_type="NONE", opts=child(api)),
        aws.apigatewayv2.Route("push-route-default", api_id=api.id, route_key="$default", target=target,
                               authorization_type="NONE", opts=child(api)),
    ]  # fmt: skip
    aws.lambda_.Permission(
        "push-api-invokes-connections",
        action="lambda:InvokeFunction",
        function=connections_function.function_name,
        principal="apigateway.amazonaws.com",
        source_arn=pulumi.Output.concat(api.execution_arn, f"/{STAGE}/*"),
        opts=child(connections_function),
    )
    access_logs = log_group(parent, context, "live-push-access-logs", f"/aws/apigateway/{context.name('live-push')}")
    return aws.apigatewayv2.Stage(
        "push-api-stage",
        api_id=api.id,
        name=STAGE,
        auto_deploy=True,
        access_log_settings=aws.apigatewayv2.StageAccessLogSettingsArgs(
            destination_arn=access_logs.arn, format=ACCESS_LOG_FORMAT
        ),
        default_route_settings=aws.apigatewayv2.StageDefaultRouteSettingsArgs(
            throttling_rate_limit=settings.rate_limit_rps,
            throttling_burst_limit=settings.burst_limit,
            data_trace_enabled=False,  # messages carry alerts: never log them
        ),
        opts=child(api, depends_on=routes),
    )


def _connection_grants(context: StackContext, table: aws.dynamodb.Table) -> list[dict[str, Any]]:
    return [
        {"Sid": "RememberAndForgetConnections", "Effect": "Allow",
         "Action": ["dynamodb:PutItem", "dynamodb:DeleteItem"], "Resource": table.arn},
        {"Sid": "WriteThroughTheTablesKey", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
         "Resource": context.kms_key_arn,
         "Condition": {"StringEquals": {"kms:ViaService": kms_via(context, "dynamodb")}}},
    ]  # fmt: skip


def _pusher_grants(
    args: PushArgs, api: aws.apigatewayv2.Api, table: aws.dynamodb.Table, queue: aws.sqs.Queue
) -> list[dict[str, Any]]:
    context = args.context
    connections = pulumi.Output.concat(api.execution_arn, f"/{STAGE}/POST/@connections/*")
    return [
        {"Sid": "ReadRealtimeTableChanges", "Effect": "Allow",
         "Action": ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
         "Resource": args.table_stream_arn},
        # ListStreams authorises on no resource (Service Authorization Reference); the mapping lists them.
        {"Sid": "ListTableStreams", "Effect": "Allow", "Action": ["dynamodb:ListStreams"], "Resource": "*"},
        {"Sid": "FindAndForgetConnections", "Effect": "Allow", "Action": ["dynamodb:Scan", "dynamodb:DeleteItem"],
         "Resource": table.arn},
        {"Sid": "PostToConnectedPages", "Effect": "Allow", "Action": ["execute-api:ManageConnections"],
         "Resource": connections},
        {"Sid": "RecordFailedBatches", "Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": queue.arn},
        {"Sid": "UseThePlatformKeyThroughItsServices", "Effect": "Allow",
         "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": context.kms_key_arn,
         "Condition": {"StringEquals": {"kms:ViaService": kms_via(context, "dynamodb", "sqs")}}},
    ]  # fmt: skip


def _dead_letter_queue(parent: pulumi.Resource, context: StackContext, queue_name: str) -> aws.sqs.Queue:
    queue = aws.sqs.Queue(
        "live-push-dlq",
        name=queue_name,
        kms_master_key_id=context.kms_key_arn,
        kms_data_key_reuse_period_seconds=300,
        message_retention_seconds=DLQ_RETENTION_SECONDS,
        opts=child(parent),
    )
    aws.sqs.QueuePolicy(
        "live-push-dlq-policy",
        queue_url=queue.url,
        policy=policy_json([deny_insecure_transport([queue.arn], "sqs:*")]),
        opts=child(queue),
    )
    return queue
