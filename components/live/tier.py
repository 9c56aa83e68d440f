"""The live tier: the realtime table's results on a signed-in dashboard page, pushed as they happen.

    page (CloudFront, private bucket) --sign in--> Cognito hosted sign-in (code + PKCE)
        --GET, Bearer--> HTTP API (JWT authorizer) --> live-api Lambda --Query--> realtime table
        --wss, token--> WebSocket API ($connect authorizer) --> connections Lambda --> connections table
    realtime table --stream--> live-push Lambda --PostToConnection--> every open page

The realtime table and its `byType` index belong to the streaming tier; `Platform` hands
them over (`LiveArgs`). Build order follows what names what: the two APIs first (their
addresses go into the page's Content-Security-Policy), then the distribution (its address is
the user pool's callback and the invitation's link), then sign-in, then the routes and
functions that need the pool, and last the page's files and `config.json`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from components.live.api import RealtimeApiArgs, build_api, build_routes
from components.live.headers import origin_of
from components.live.push import PushArgs, build_push, build_push_api, websocket_url
from components.live.signin import auth_url, build_sign_in
from components.live.site import build_distribution, build_site, site_url
from components.shared.alarms import AlarmSpec, metric_alarms
from components.shared.context import StackContext
from components.shared.dashboard import Widget, lambda_widget
from lambdas import live_auth
from settings import StaffMember
from settings.live import LiveSettings


@dataclass(frozen=True)
class LiveArgs:
    settings: LiveSettings
    context: StackContext
    powertools_version: str
    staff: Sequence[StaffMember]  # the access tier's list: who is invited to the page
    realtime_table: aws.dynamodb.Table  # the streaming tier's results table, with its stream on
    realtime_index_name: str  # its index of the latest items per alert type
    jwt_layer: Path  # the built JWT layer (layers/build.py)
    kms_deletion_window_days: int
    web_acl_arn: pulumi.Input[str] | None = None  # the stack's CLOUDFRONT web ACL (the edge tier's), if any


class Live(pulumi.ComponentResource):
    """Live results: realtime API, push updates, sign-in and the dashboard page."""

    def __init__(self, name: str, args: LiveArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("uba:live:Live", name, None, opts)
        settings, context = args.settings, args.context
        table = args.realtime_table
        api_args = RealtimeApiArgs(settings.api, context, args.powertools_version, table.arn, table.name,
                                   args.realtime_index_name)  # fmt: skip
        http_api = build_api(self, api_args)
        push_api = build_push_api(self, context)
        origins = [
            http_api.api_endpoint.apply(origin_of),
            push_api.api_endpoint.apply(origin_of),
            auth_url(context),
        ]
        distribution, headers = build_distribution(self, context, settings.site, origins, args.web_acl_arn)
        self.url = site_url(settings.site, distribution)
        self.sign_in = build_sign_in(self, context, settings.sign_in, args.staff, self.url)
        auth_environment: dict[str, pulumi.Input[str]] = {
            live_auth.MODE_ENV: "cognito",  # the only mode a deployed function runs in
            live_auth.ISSUER_ENV: self.sign_in.issuer,
            live_auth.CLIENT_ID_ENV: self.sign_in.client.id,
            live_auth.SCOPE_ENV: self.sign_in.scope,
        }
        self.api = build_routes(
            self, api_args, http_api, {**auth_environment, "LIVE_ALLOWED_ORIGIN": self.url},
            self.sign_in.issuer, self.sign_in.client.id, self.sign_in.scope,
        )  # fmt: skip
        self.push = build_push(
            self,
            PushArgs(settings.push, settings.api, context, args.powertools_version, table.stream_arn, args.jwt_layer),
            push_api,
            auth_environment,
        )
        page_config = pulumi.Output.all(
            api=self.api.url, push=websocket_url(push_api), pool=self.sign_in.pool.id,
            client=self.sign_in.client.id, auth=self.sign_in.auth_url, site=self.url,
        ).apply(lambda o: {
            "mode": "cognito", "region": context.region, "apiUrl": o["api"], "pushUrl": o["push"],
            "userPoolId": o["pool"], "clientId": o["client"], "authUrl": o["auth"],
            "scopes": ["openid", "email", self.sign_in.scope], "redirectUri": f"{o['site']}/",
        })  # fmt: skip
        self.site = build_site(self, context, settings.site, distribution, headers, args.kms_deletion_window_days,
                               page_config)  # fmt: skip
        self.alarms = metric_alarms(self, context, self._alarm_specs(settings))
        self.register_outputs(dict(self.stack_outputs()))

    def _alarm_specs(self, settings: LiveSettings) -> list[AlarmSpec]:
        alarms = settings.alarms
        on_api: dict[str, pulumi.Input[str]] = {"ApiId": self.api.api.id, "Stage": "$default"}
        on_pusher: dict[str, pulumi.Input[str]] = {"FunctionName": self.push.pusher.name}
        return [
            AlarmSpec("live-api-5xx-rate",
                      f"More than {alarms.api_5xx_rate_percent}% of realtime API requests failed (5XX) over 5 minutes",
                      "AWS/ApiGateway", "5xx", on_api, "Average", period=300,
                      threshold=alarms.api_5xx_rate_percent / 100, comparison="GreaterThanThreshold"),
            AlarmSpec("live-api-latency",
                      f"The realtime API's 95th-percentile latency is over {alarms.api_latency_p95_ms} ms",
                      "AWS/ApiGateway", "Latency", on_api, "p95", period=300, evaluation_periods=2,
                      threshold=alarms.api_latency_p95_ms, comparison="GreaterThanThreshold"),
            AlarmSpec("live-push-errors",
                      "The pusher failed whole batches (retried, bisected, then dead-lettered): pages miss updates",
                      "AWS/Lambda", "Errors", on_pusher, "Sum", period=300,
                      threshold=alarms.push_errors, comparison="GreaterThanOrEqualToThreshold"),
            AlarmSpec("live-push-iterator-age",
                      f"Pages lag: the oldest change not yet pushed is over {alarms.push_iterator_age_ms} ms old",
                      "AWS/Lambda", "IteratorAge", on_pusher, "Maximum", period=60, evaluation_periods=3,
                      threshold=alarms.push_iterator_age_ms, comparison="GreaterThanThreshold"),
            AlarmSpec("live-push-dead-letters",
                      "Realtime changes could not be pushed: their batch is recorded in the dead-letter queue",
                      "AWS/SQS", "ApproximateNumberOfMessagesVisible",
                      {"QueueName": self.push.dead_letter_queue_name}, "Maximum", period=60,
                      threshold=0, comparison="GreaterThanThreshold"),
        ]  # fmt: skip

    # --- the tier contract -------------------------------------------------------------------------------

    def stack_outputs(self) -> Mapping[str, pulumi.Input[str]]:
        return {
            "live_dashboard_url": self.url,
            "live_api_url": self.api.url,
            "live_push_url": self.push.url,
            "live_user_pool_id": self.sign_in.pool.id,
            "live_client_id": self.sign_in.client.id,
        }

    def dashboard_widgets(self) -> Sequence[Widget]:
        api = ["ApiId", self.api.api.id, "Stage", "$default"]
        push = ["ApiId", self.push.api.id, "Stage", "live"]
        return [
            Widget("Realtime API requests and errors",
                   [["AWS/ApiGateway", m, *api] for m in ("Count", "4xx", "5xx")]),
            Widget("Realtime API latency (p95, ms)",
                   [["AWS/ApiGateway", "Latency", *api], ["AWS/ApiGateway", "IntegrationLatency", *api]], "p95"),
            Widget("Push: connections and messages",
                   [["AWS/ApiGateway", m, *push] for m in ("ConnectCount", "MessageCount", "ClientError",
                                                           "ExecutionError")]),
            lambda_widget(self.push.pusher.name, "Pusher Lambda"),
            Widget("Pusher iterator age (max, ms)",
                   [["AWS/Lambda", "IteratorAge", "FunctionName", self.push.pusher.name]], "Maximum"),
            lambda_widget(self.api.function.name, "Realtime API Lambda"),
        ]  # fmt: skip

    def access_targets(self) -> Mapping[str, pulumi.Input[str]]:
        return {
            "live_api_id": self.api.api.id,
            "live_push_api_id": self.push.api.id,
            "live_api_function_arn": self.api.function.arn,
            "live_authorizer_function_arn": self.push.authorizer_function.arn,
            "live_connections_function_arn": self.push.connections_function.arn,
            "live_push_function_arn": self.push.pusher.arn,
            "live_connections_table_arn": self.push.connections_table.arn,
            "live_dead_letter_queue_arn": self.push.dead_letter_queue.arn,
            "user_pool_arn": self.sign_in.pool.arn,
            "site_bucket_arn": self.site.bucket.arn,
            "site_distribution_arn": self.site.distribution.arn,
            "site_headers_policy_arn": self.site.headers_policy.arn,
            "site_key_arn": self.site.key.arn,
        }
