"""The ingest tier: HTTPS endpoint, ingest Lambda and the Kinesis `events` stream.

POST https://<api>.execute-api.<region>.amazonaws.com/<stage>/events
  -> API Gateway REST (API key + usage plan, or IAM; throttled; JSON access logs)
  -> ingest Lambda (validates, enriches, PutRecords in batches of <= 500)
  -> Kinesis `events` (KMS)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.base import StackContext, assume_role_policy, child, log_group, metric_alarm
from components.functions import PythonFunction, PythonFunctionArgs
from components.streams import kinesis_stream
from settings import IngestSettings

# One JSON object per request; fields are API Gateway's $context variables.
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "extendedRequestId": "$context.extendedRequestId",
        "ip": "$context.identity.sourceIp",
        "userAgent": "$context.identity.userAgent",
        "apiKeyId": "$context.identity.apiKeyId",
        "caller": "$context.identity.caller",
        "requestTime": "$context.requestTime",
        "httpMethod": "$context.httpMethod",
        "resourcePath": "$context.resourcePath",
        "status": "$context.status",
        "protocol": "$context.protocol",
        "responseLength": "$context.responseLength",
        "integrationLatency": "$context.integrationLatency",
        "responseLatency": "$context.responseLatency",
        "errorMessage": "$context.error.message",
    },
    separators=(",", ":"),
)


@dataclass(frozen=True)
class IngestArgs:
    settings: IngestSettings
    context: StackContext
    powertools_version: str


class Ingest(pulumi.ComponentResource):
    """The front door. Other tiers read `events_stream`; clients call `endpoint_url`."""

    events_stream: aws.kinesis.Stream
    function: PythonFunction
    api: aws.apigateway.RestApi
    stage: aws.apigateway.Stage
    endpoint_url: pulumi.Output[str]
    api_key: aws.apigateway.ApiKey | None
    api_name: str
    stage_name: str

    def __init__(self, name: str, args: IngestArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("uba:ingest:Ingest", name, None, opts)
        settings, context = args.settings, args.context
        self.api_name = context.name("ingest")
        self.stage_name = settings.api.stage_name
        self.events_stream = kinesis_stream(self, context, "events-stream", settings.stream)
        self.function = self._function(args)
        self._api(settings, context)
        self._alarms(settings, context)
        self.register_outputs(
            {
                "events_stream_arn": self.events_stream.arn,
                "endpoint_url": self.endpoint_url,
                "function_name": self.function.function.name,
            }
        )

    def _function(self, args: IngestArgs) -> PythonFunction:
        settings, context = args.settings, args.context
        return PythonFunction(
            "ingest",
            PythonFunctionArgs(
                context=context,
                function_name="ingest",
                handler="lambdas.ingest.handler",
                description="Validates user events and writes them to the events stream",
                powertools_version=args.powertools_version,
                statements=[
                    {
                        "Sid": "PutEvents",
                        "Effect": "Allow",
                        "Action": "kinesis:PutRecords",
                        "Resource": self.events_stream.arn,
                    },
                    {
                        # Writing to a KMS-encrypted stream needs a data key from the stream's key.
                        "Sid": "EncryptEvents",
                        "Effect": "Allow",
                        "Action": "kms:GenerateDataKey",
                        "Resource": context.kms_key_arn,
                    },
                ],
                environment={
                    "EVENTS_STREAM_NAME": self.events_stream.name,
                    "POWERTOOLS_SERVICE_NAME": "ingest",
                    "POWERTOOLS_METRICS_NAMESPACE": "UserBehaviourAnalytics",
                    "POWERTOOLS_LOG_LEVEL": "INFO",
                },
                memory_mb=settings.function.memory_mb,
                timeout_seconds=settings.function.timeout_seconds,
                tracing=settings.api.tracing,
                reserved_concurrency=settings.function.reserved_concurrency,
            ),
            opts=child(self),
        )

    def _api(self, settings: IngestSettings, context: StackContext) -> None:
        api_settings = settings.api
        uses_api_key = api_settings.authorization == "api_key"
        self.api = aws.apigateway.RestApi(
            "api",
            name=self.api_name,
            description="User behaviour events: POST /events",
            endpoint_configuration=aws.apigateway.RestApiEndpointConfigurationArgs(types="REGIONAL"),
            api_key_source="HEADER",
            opts=child(self),
        )
        events = aws.apigateway.Resource(
            "events-resource", rest_api=self.api.id, parent_id=self.api.root_resource_id, path_part="events",
            opts=child(self.api),
        )  # fmt: skip
        method = aws.apigateway.Method(
            "post-events",
            rest_api=self.api.id,
            resource_id=events.id,
            http_method="POST",
            authorization="AWS_IAM" if api_settings.authorization == "iam" else "NONE",
            api_key_required=uses_api_key,
            opts=child(self.api),
        )
        integration = aws.apigateway.Integration(
            "post-events-lambda",
            rest_api=self.api.id,
            resource_id=events.id,
            http_method=method.http_method,
            type="AWS_PROXY",
            integration_http_method="POST",
            uri=self.function.function.invoke_arn,
            opts=child(self.api),
        )
        aws.lambda_.Permission(
            "api-invokes-ingest",
            action="lambda:InvokeFunction",
            function=self.function.function.name,
            principal="apigateway.amazonaws.com",
            source_arn=pulumi.Output.concat(self.api.execution_arn, "/*/POST/events"),
            opts=child(self.function),
        )
        deployment = aws.apigateway.Deployment(
            "deployment",
            rest_api=self.api.id,
            description="Redeployed whenever the API definition changes",
            triggers={"redeployment": _api_fingerprint(events, method, integration)},
            opts=child(self.api, depends_on=[method, integration]),
        )
        access_logs = log_group(self, context, "api-access-logs", f"/aws/apigateway/{context.name('ingest')}")
        account_settings = self._account_logging_role(settings, context)
        self.stage = aws.apigateway.Stage(
            "stage",
            rest_api=self.api.id,
            deployment=deployment.id,
            stage_name=api_settings.stage_name,
            xray_tracing_enabled=api_settings.tracing,
            access_log_settings=aws.apigateway.StageAccessLogSettingsArgs(
                destination_arn=access_logs.arn, format=ACCESS_LOG_FORMAT
            ),
            opts=child(self.api, depends_on=account_settings),
        )
        aws.apigateway.MethodSettings(
            "stage-settings",
            rest_api=self.api.id,
            stage_name=self.stage.stage_name,
            method_path="*/*",
            settings=aws.apigateway.MethodSettingsSettingsArgs(
                metrics_enabled=True,
                throttling_rate_limit=api_settings.rate_limit_rps,
                throttling_burst_limit=api_settings.burst_limit,
                logging_level="ERROR",
                data_trace_enabled=False,  # request bodies hold user data; never log them
            ),
            opts=child(self.stage),
        )
        self.endpoint_url = pulumi.Output.concat(self.stage.invoke_url, "/events")
        self.api_key = self._usage_plan(settings, context) if uses_api_key else None

    def _account_logging_role(self, settings: IngestSettings, context: StackContext) -> list[pulumi.Resource]:
        """API Gateway writes logs through one account-wide role; a stack may own that setting."""
        if not settings.api.manage_account_logging_role:
            return []
        logging_role = aws.iam.Role(
            "apigateway-logging-role",
            name=context.name("apigateway-logs"),
            description="Lets API Gateway write access and execution logs in this account and region",
            # No aws:SourceAccount: API Gateway documents none for its account-wide logging role.
            assume_role_policy=assume_role_policy("apigateway.amazonaws.com"),
            opts=child(self),
        )
        aws.iam.RolePolicyAttachment(
            "apigateway-logging-role-policy",
            role=logging_role.name,
            # The AWS-managed policy API Gateway documents for exactly this role.
            policy_arn="arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs",
            opts=child(logging_role),
        )
        account = aws.apigateway.Account(
            "apigateway-account", cloudwatch_role_arn=logging_role.arn, opts=child(logging_role)
        )
        return [account]

    def _usage_plan(self, settings: IngestSettings, context: StackContext) -> aws.apigateway.ApiKey:
        api_settings = settings.api
        plan = aws.apigateway.UsagePlan(
            "usage-plan",
            name=context.name("ingest-clients"),
            description="Rate, burst and daily quota per client API key",
            api_stages=[aws.apigateway.UsagePlanApiStageArgs(api_id=self.api.id, stage=self.stage.stage_name)],
            throttle_settings=aws.apigateway.UsagePlanThrottleSettingsArgs(
                rate_limit=api_settings.rate_limit_rps, burst_limit=api_settings.burst_limit
            ),
            quota_settings=aws.apigateway.UsagePlanQuotaSettingsArgs(limit=api_settings.daily_quota, period="DAY")
            if api_settings.daily_quota is not None
            else None,
            opts=child(self.stage),
        )
        # AWS generates the key's value; it stays in AWS and in encrypted state, never in config.
        key = aws.apigateway.ApiKey(
            "client-key", name=context.name("ingest-default-client"), enabled=True, opts=child(plan)
        )
        aws.apigateway.UsagePlanKey("client-key-plan", key_id=key.id, key_type="API_KEY", usage_plan_id=plan.id,
                                    opts=child(plan))  # fmt: skip
        return key

    def _alarms(self, settings: IngestSettings, context: StackContext) -> None:
        alarms = settings.alarms
        api_dimensions = {"ApiName": self.api_name, "Stage": self.stage_name}
        metric_alarm(
            self, context, "ingest-api-5xx-rate",
            f"More than {alarms.api_5xx_rate_percent}% of ingest requests failed with 5XX over 5 minutes",
            namespace="AWS/ApiGateway", metric_name="5XXError", dimensions=api_dimensions,
            statistic="Average", period=300, evaluation_periods=1,
            threshold=alarms.api_5xx_rate_percent / 100, comparison_operator="GreaterThanThreshold",
        )  # fmt: skip
        function_dimensions = {"FunctionName": self.function.name}
        metric_alarm(
            self, context, "ingest-lambda-errors", "The ingest Lambda is failing",
            namespace="AWS/Lambda", metric_name="Errors", dimensions=function_dimensions,
            statistic="Sum", period=300, evaluation_periods=1,
            threshold=alarms.lambda_errors, comparison_operator="GreaterThanOrEqualToThreshold",
        )  # fmt: skip
        metric_alarm(
            self, context, "ingest-lambda-throttles", "The ingest Lambda is being throttled",
            namespace="AWS/Lambda", metric_name="Throttles", dimensions=function_dimensions,
            statistic="Sum", period=300, evaluation_periods=1,
            threshold=alarms.lambda_throttles, comparison_operator="GreaterThanOrEqualToThreshold",
        )  # fmt: skip
        metric_alarm(
            self, context, "events-stream-write-throttled",
            "Writes to the events stream are throttled: add shards or switch to on-demand",
            namespace="AWS/Kinesis", metric_name="WriteProvisionedThroughputExceeded",
            dimensions={"StreamName": self.events_stream.name},
            statistic="Sum", period=60, evaluation_periods=1,
            threshold=alarms.write_throttled_records, comparison_operator="GreaterThanOrEqualToThreshold",
        )  # fmt: skip


def _api_fingerprint(
    resource: aws.apigateway.Resource, method: aws.apigateway.Method, integration: aws.apigateway.Integration
) -> pulumi.Output[str]:
    """Changes whenever the API's definition changes, so a new deployment is cut exactly then."""
    parts = pulumi.Output.all(
        resource.id, resource.path_part, method.id, method.authorization, method.api_key_required,
        integration.id, integration.uri, integration.type,
    )  # fmt: skip
    return parts.apply(lambda values: hashlib.sha256(json.dumps(values, default=str).encode()).hexdigest())
