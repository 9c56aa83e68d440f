"""The realtime HTTP API: `lambdas.live_api` behind API Gateway (HTTP API), every route behind Cognito.

Routes are `lambdas.live_api.ROUTE_KEYS`, each with the JWT authorizer (issuer: the user
pool; audience: the page's client, which API Gateway matches against an access token's
`client_id`; scope `<prefix>-live/read`), plus the CORS preflight route, which answers only
CORS headers (see the handler). The `$default` stage deploys itself, throttles, and writes a
JSON access log (no query strings, so no tokens) to a log group of the platform's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.shared.context import StackContext, child
from components.shared.functions import PythonFunction, PythonFunctionArgs
from components.shared.iam import kms_via
from components.shared.logs import log_group
from lambdas.live_api import PREFLIGHT_ROUTE_KEY, ROUTE_KEYS
from settings.live import LiveApiSettings

STAGE = "$default"
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "userAgent": "$context.identity.userAgent",
        "requestTime": "$context.requestTime",
        "routeKey": "$context.routeKey",
        "status": "$context.status",
        "protocol": "$context.protocol",
        "responseLength": "$context.responseLength",
        "responseLatency": "$context.responseLatency",
        "integrationLatency": "$context.integrationLatency",
        "viewer": "$context.authorizer.claims.sub",
        "authorizerError": "$context.authorizer.error",
        "integrationError": "$context.integrationErrorMessage",
    },
    separators=(",", ":"),
)


@dataclass(frozen=True)
class RealtimeApiArgs:
    settings: LiveApiSettings
    context: StackContext
    powertools_version: str
    table_arn: pulumi.Input[str]
    table_name: pulumi.Input[str]
    index_name: str


@dataclass(frozen=True)
class RealtimeApi:
    api: aws.apigatewayv2.Api
    function: PythonFunction
    stage: aws.apigatewayv2.Stage
    url: pulumi.Output[str]
    name: str


def build_api(parent: pulumi.Resource, args: RealtimeApiArgs) -> aws.apigatewayv2.Api:
    """The API itself first: its address goes into the page's Content-Security-Policy."""
    return aws.apigatewayv2.Api(
        "realtime-api",
        name=args.context.name("live-api"),
        protocol_type="HTTP",
        description="Live results for the dashboard page: latest alerts, counts, an action's history",
        opts=child(parent),
    )


def build_routes(
    parent: pulumi.Resource,
    args: RealtimeApiArgs,
    api: aws.apigatewayv2.Api,
    environment: dict[str, pulumi.Input[str]],
    issuer: pulumi.Input[str],
    client_id: pulumi.Input[str],
    scope: str,
) -> RealtimeApi:
    settings, context = args.settings, args.context
    function = PythonFunction(
        "live-api",
        PythonFunctionArgs(
            context=context,
            function_name="live-api",
            handler="lambdas.live_api.handler",
            description="Answers the realtime API from the realtime table (Query only)",
            powertools_version=args.powertools_version,
            statements=_grants(args),
            environment={
                "LIVE_TABLE_NAME": args.table_name,
                "LIVE_BY_TYPE_INDEX": args.index_name,
                "POWERTOOLS_SERVICE_NAME": "live-api",
                **environment,
            },
            memory_mb=settings.memory_mb,
            timeout_seconds=settings.timeout_seconds,
            tracing=settings.tracing,
        ),
        opts=child(parent),
    )
    integration = aws.apigatewayv2.Integration(
        "realtime-api-lambda",
        api_id=api.id,
        integration_type="AWS_PROXY",
        integration_uri=function.arn,
        integration_method="POST",
        payload_format_version="2.0",
        timeout_milliseconds=settings.timeout_seconds * 1000 + 1000,
        opts=child(api),
    )
    authorizer = aws.apigatewayv2.Authorizer(
        "realtime-api-cognito",
        api_id=api.id,
        name="cognito",
        authorizer_type="JWT",
        identity_sources=["$request.header.Authorization"],
        jwt_configuration=aws.apigatewayv2.AuthorizerJwtConfigurationArgs(issuer=issuer, audiences=[client_id]),
        opts=child(api),
    )
    target = pulumi.Output.concat("integrations/", integration.id)
    routes = [
        aws.apigatewayv2.Route(
            f"route-{_slug(key)}",
            api_id=api.id,
            route_key=key,
            target=target,
            authorization_type="JWT",
            authorizer_id=authorizer.id,
            authorization_scopes=[scope],
            opts=child(api),
        )
        for key in ROUTE_KEYS
    ]
    routes.append(
        aws.apigatewayv2.Route(
            "route-preflight",
            api_id=api.id,
            route_key=PREFLIGHT_ROUTE_KEY,
            target=target,
            authorization_type="NONE",  # browsers send no credentials on a preflight; it reads nothing
            opts=child(api),
        )
    )
    access_logs = log_group(parent, context, "live-api-access-logs", f"/aws/apigateway/{context.name('live-api')}")
    stage = aws.apigatewayv2.Stage(
        "realtime-api-stage",
        api_id=api.id,
        name=STAGE,
        auto_deploy=True,
        access_log_settings=aws.apigatewayv2.StageAccessLogSettingsArgs(
            destination_arn=access_logs.arn, format=ACCESS_LOG_FORMAT
        ),
        default_route_settings=aws.apigatewayv2.StageDefaultRouteSettingsArgs(
            throttling_rate_limit=settings.rate_limit_rps,
            throttling_burst_limit=settings.burst_limit,
            detailed_metrics_enabled=True,
        ),
        opts=child(api, depends_on=routes),
    )
    aws.lambda_.Permission(
        "realtime-api-invokes",
        action="lambda:InvokeFunction",
        function=function.function_name,
        principal="apigateway.amazonaws.com",
        source_arn=pulumi.Output.concat(api.execution_arn, "/*/*"),
        opts=child(function),
    )
    return RealtimeApi(api=api, function=function, stage=stage, url=api.api_endpoint, name=context.name("live-api"))


def _slug(route_key: str) -> str:
    """`GET /actions/{action}/history` -> `get-actions-action-history`: a logical name that stays put."""
    return "-".join(part for part in route_key.lower().replace("{", "").replace("}", "").replace("/", " ").split())


def _grants(args: RealtimeApiArgs) -> list[dict[str, Any]]:
    index_arn = pulumi.Output.concat(args.table_arn, f"/index/{args.index_name}")
    return [
        {"Sid": "QueryRealtimeResults", "Effect": "Allow", "Action": ["dynamodb:Query"],
         "Resource": [args.table_arn, index_arn]},
        {"Sid": "ReadThroughTheTablesKey", "Effect": "Allow", "Action": ["kms:Decrypt"],
         "Resource": args.context.kms_key_arn,
         "Condition": {"StringEquals": {"kms:ViaService": kms_via(args.context, "dynamodb")}}},
    ]  # fmt: skip
