"""The ingest tier: HTTPS endpoint, ingest Lambda and the Kinesis `events` stream.

POST https://<api>.execute-api.<region>.amazonaws.com/<stage>/events
  -> API Gateway REST (API key + usage plan, or IAM; throttled; JSON access logs)
  -> ingest Lambda (validates, enriches, PutRecords in batches of <= 500)
  -> Kinesis `events` (KMS)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.shared.alarms import AlarmSpec, metric_alarms
from components.shared.context import StackContext, child
from components.shared.dashboard import Widget, lambda_widget, stream_widgets
from components.shared.functions import PythonFunction, PythonFunctionArgs
from components.shared.iam import assume_role_policy
from components.shared.kinesis import kinesis_stream
from components.shared.logs import log_group
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
    alarms: list[aws.cloudwatch.MetricAlarm]

    def __init__(self, name: str, args: IngestArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("uba:ingest:Ingest", name, None, opts)
        settings, context = args.settings, args.context
        self.api_name = context.name("ingest")
        self.stage_name = settings.api.stage_name
        self.events_stream = kinesis_stream(self, context, "events-stream", settings.stream)
        self.function = self._function(args)
        self._api(settings, context)
        self.alarms = metric_alarms(self, context, self._alarm_specs(settings))
        self.register_outputs(
            {
                "events_stream_arn": self.events_stream.arn,
                "endpoint_url": self.endpoint_url,
                "function_name": self.function.function_name,
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
            uri=self.function.invoke_arn,
            opts=child(self.api),
        )
        aws.lambda_.Permission(
            "api-invokes-ingest",
            action="lambda:InvokeFunction",
            function=self.function.function_name,
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
        # Execution logs (logging_level below) go to a group API Gateway names and, if it is missing, creates
        # itself: unencrypted and never expiring. Created here first, with the key and the retention
        # (API Gateway Developer Guide, "Set up CloudWatch logging for REST APIs": the group is
        # `API-Gateway-Execution-Logs_{rest-api-id}/{stage_name}`); the stage waits for it.
        execution_logs = log_group(
            self, context, "api-execution-logs",
            pulumi.Output.concat("API-Gateway-Execution-Logs_", self.api.id, f"/{api_settings.stage_name}"),
        )  # fmt: skip
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
            opts=child(self.api, depends_on=[execution_logs, *account_settings]),
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
        """API Gateway writes every stage's logs in the account and region through one role; one stack owns it.

        The other stacks rely on the owner: without the account's role API Gateway refuses a stage's
        access log settings ("CloudWatch Logs role ARN must be set in account settings to enable
        logging"). Role, policy and setting are retained on delete: since terraform-provider-aws v6
        (which pulumi-aws 7 bridges) deleting `aws.apigateway.Account` resets the account's role
        (hashicorp/terraform-provider-aws#42226), so destroying the owner, or handing ownership to
        another stack, would silently stop every other stack's logs.
        """
        if not settings.api.manage_account_logging_role:
            return []
        account_wide = {"retain_on_delete": True}
        logging_role = aws.iam.Role(
            "apigateway-logging-role",
            name=context.name("apigateway-logs"),
            description="Lets API Gateway write access and execution logs in this account and region",
            # No aws:SourceAccount: API Gateway documents none for its account-wide logging role.
            assume_role_policy=assume_role_policy("apigateway.amazonaws.com"),
            opts=child(self, **account_wide),
        )
        aws.iam.RolePolicyAttachment(
            "apigateway-logging-role-policy",
            role=logging_role.name,
            # The AWS-managed policy API Gateway documents for exactly this role.
            policy_arn="arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs",
            opts=child(logging_role, **account_wide),
        )
        account = aws.apigateway.Account(
            "apigateway-account", cloudwatch_role_arn=logging_role.arn, opts=child(logging_role, **account_wide)
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

    def _alarm_specs(self, settings: IngestSettings) -> list[AlarmSpec]:
        alarms = settings.alarms
        on_api = {"ApiName": self.api_name, "Stage": self.stage_name}
        on_function = {"FunctionName": self.function.name}
        return [
            AlarmSpec("ingest-api-5xx-rate",
                      f"More than {alarms.api_5xx_rate_percent}% of ingest requests failed with 5XX over 5 minutes",
                      "AWS/ApiGateway", "5XXError", on_api, "Average", period=300,
                      threshold=alarms.api_5xx_rate_percent / 100, comparison="GreaterThanThreshold"),
            AlarmSpec("ingest-lambda-errors", "The ingest Lambda is failing",
                      "AWS/Lambda", "Errors", on_function, "Sum", period=300,
                      threshold=alarms.lambda_errors, comparison="GreaterThanOrEqualToThreshold"),
            AlarmSpec("ingest-lambda-throttles", "The ingest Lambda is being throttled",
                      "AWS/Lambda", "Throttles", on_function, "Sum", period=300,
                      threshold=alarms.lambda_throttles, comparison="GreaterThanOrEqualToThreshold"),
            AlarmSpec("events-stream-write-throttled",
                      "Writes to the events stream are throttled: add shards or switch to on-demand",
                      "AWS/Kinesis", "WriteProvisionedThroughputExceeded", {"StreamName": self.events_stream.name},
                      "Sum", period=60,
                      threshold=alarms.write_throttled_records, comparison="GreaterThanOrEqualToThreshold"),
        ]  # fmt: skip

    # --- the tier contract -------------------------------------------------------------------------------

    def stack_outputs(self) -> Mapping[str, pulumi.Input[str]]:
        outputs: dict[str, pulumi.Input[str]] = {
            "events_stream_name": self.events_stream.name,
            "ingest_endpoint_url": self.endpoint_url,
        }
        if self.api_key is not None:
            outputs["ingest_api_key_id"] = self.api_key.id
        return outputs

    def dashboard_widgets(self) -> Sequence[Widget]:
        api = ["ApiName", self.api_name, "Stage", self.stage_name]
        return [
            Widget("Ingest requests and errors",
                   [["AWS/ApiGateway", m, *api] for m in ("Count", "4XXError", "5XXError")]),
            Widget("Ingest latency (p99, ms)",
                   [["AWS/ApiGateway", "Latency", *api], ["AWS/ApiGateway", "IntegrationLatency", *api]], "p99"),
            lambda_widget(self.function.name, "Ingest Lambda"),
            *stream_widgets("events", self.events_stream.name),
        ]  # fmt: skip

    def access_targets(self) -> Mapping[str, pulumi.Input[str]]:
        targets: dict[str, pulumi.Input[str]] = {
            "events_stream_arn": self.events_stream.arn,
            "ingest_function_arn": self.function.arn,
            "api_id": self.api.id,
            "api_stage": self.stage.stage_name,
            "api_access_log_group_arn": self.stage.access_log_settings.apply(lambda s: s.destination_arn if s else ""),
        }
        if self.api_key is not None:
            targets["api_key_id"] = self.api_key.id
        return targets


def _api_fingerprint(
    resource: aws.apigateway.Resource, method: aws.apigateway.Method, integration: aws.apigateway.Integration
) -> pulumi.Output[str]:
    """Changes whenever the API's definition changes, so a new deployment is cut exactly then."""
    parts = pulumi.Output.all(
        resource.id, resource.path_part, method.id, method.authorization, method.api_key_required,
        integration.id, integration.uri, integration.type,
    )  # fmt: skip
    return parts.apply(lambda values: hashlib.sha256(json.dumps(values, default=str).encode()).hexdigest())
