"""The edge tier: CloudFront in front of ingest, beacons answered at the edge, real-time logs into events.

    browser --HTTPS--> CloudFront --POST /events--> API Gateway stage --> ingest Lambda --> events
                          |  beacon path: GET/POST answered 204 by a CloudFront Function
                          '--> real-time logs --> Kinesis edge-logs --> edge-log Lambda --> events
                                                                              '--> invalid-events queue

This file owns the edge-logs stream, the alarms and the tier contract; the distribution lives
in `distribution.py`, the edge-log Lambda in `collector.py`, and what must be in us-east-1
(the provider, the alarm relay) in `us_east_1.py`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.edge.collector import SERVICE_NAME, Collector, CollectorArgs, build_collector
from components.edge.distribution import EVENTS_PATH, DistributionArgs, EdgeDistribution, build_distribution
from components.edge.us_east_1 import REGION as US_EAST_1
from components.edge.us_east_1 import alarm_relay, us_east_1_provider
from components.shared.alarms import AlarmSpec, metric_alarms
from components.shared.context import StackContext
from components.shared.dashboard import Widget, lambda_widget, stream_widgets
from components.shared.kinesis import kinesis_stream
from settings.edge import EdgeSettings


@dataclass(frozen=True)
class EdgeArgs:
    settings: EdgeSettings
    context: StackContext
    powertools_version: str
    events_stream: aws.kinesis.Stream  # the ingest tier's, where beacon events go
    api_id: pulumi.Input[str]  # the ingest API the distribution forwards POST /events to
    api_stage_name: str
    tags: Mapping[str, str]  # the stack's default tags, for the us-east-1 provider
    ops_alarm_emails: Sequence[str] = field(default_factory=list)  # subscribers of the us-east-1 alarm relay
    kms_deletion_window_days: int = 30


class Edge(pulumi.ComponentResource):
    """The edge. Clients call `events_url` (or the API directly); pages send beacons to `beacon_url`."""

    logs_stream: aws.kinesis.Stream
    edge: EdgeDistribution
    collector: Collector
    domain_name: pulumi.Output[str]
    events_url: pulumi.Output[str]
    beacon_url: pulumi.Output[str]
    alarms: list[aws.cloudwatch.MetricAlarm]

    def __init__(self, name: str, args: EdgeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("uba:edge:Edge", name, None, opts)
        settings, context = args.settings, args.context
        provider = us_east_1_provider(self, args.tags)
        self.logs_stream = kinesis_stream(self, context, "edge-logs-stream", settings.realtime_logs.stream)
        self.edge = build_distribution(
            self,
            DistributionArgs(settings, context, provider, self.logs_stream, args.api_id, args.api_stage_name),
        )
        self.collector = build_collector(
            self,
            CollectorArgs(
                settings=settings.function,
                context=context,
                powertools_version=args.powertools_version,
                logs_stream=self.logs_stream,
                events_stream=args.events_stream,
                beacon_path=settings.beacon_path,
            ),
        )
        relay = alarm_relay(self, context, provider, args.ops_alarm_emails, args.kms_deletion_window_days)
        self._distribution_id = self.edge.distribution.id
        self.alarms = metric_alarms(self, context, self._regional_alarm_specs(settings))
        self.alarms += metric_alarms(self, context, self._cloudfront_alarm_specs(settings), relay.elsewhere)
        self.domain_name = self.edge.domain_name
        self.events_url = pulumi.Output.concat("https://", self.domain_name, EVENTS_PATH)
        self.beacon_url = pulumi.Output.concat("https://", self.domain_name, settings.beacon_path)
        self.register_outputs(
            {
                "distribution_id": self._distribution_id,
                "events_url": self.events_url,
                "beacon_url": self.beacon_url,
                "logs_stream_name": self.logs_stream.name,
            }
        )

    def _regional_alarm_specs(self, settings: EdgeSettings) -> list[AlarmSpec]:
        alarms, collector = settings.alarms, self.collector
        on_function = {"FunctionName": collector.function.name}
        return [
            AlarmSpec("edge-logs-iterator-age",
                      f"The edge-log Lambda lags: its oldest unread log line is over {alarms.iterator_age_ms} ms old",
                      "AWS/Lambda", "IteratorAge", on_function, "Maximum", period=60, evaluation_periods=5,
                      threshold=alarms.iterator_age_ms, comparison="GreaterThanThreshold"),
            AlarmSpec("edge-logs-errors",
                      "The edge-log Lambda failed whole invocations (a batch is retried, then recorded as failed)",
                      "AWS/Lambda", "Errors", on_function, "Sum", period=300,
                      threshold=alarms.function_errors, comparison="GreaterThanOrEqualToThreshold"),
            AlarmSpec("edge-events-dead-lettered",
                      "Beacons or log lines could not become events: read the reasons in the invalid-events queue",
                      self._metrics_namespace, "EventsDeadLettered", {"service": SERVICE_NAME}, "Sum", period=300,
                      threshold=alarms.dead_lettered_events, comparison="GreaterThanOrEqualToThreshold"),
            AlarmSpec("edge-logs-failed-batches",
                      "Edge log lines could not be processed after their retries: replay them from the stream",
                      "AWS/SQS", "ApproximateNumberOfMessagesVisible",
                      {"QueueName": collector.failed_batches_queue_name}, "Maximum", period=60,
                      threshold=0, comparison="GreaterThanThreshold"),
        ]  # fmt: skip

    def _cloudfront_alarm_specs(self, settings: EdgeSettings) -> list[AlarmSpec]:
        alarms = settings.alarms
        on_distribution: dict[str, pulumi.Input[str]] = {"DistributionId": self._distribution_id, "Region": "Global"}
        on_function = {"FunctionName": self.edge.function_name, "Region": "Global"}
        return [
            # 5xxErrorRate is already a percentage of all requests (CloudFront Developer Guide, metrics).
            AlarmSpec("edge-distribution-5xx-rate",
                      f"More than {alarms.distribution_5xx_rate_percent}% of the edge's requests failed with 5xx "
                      "over 5 minutes", "AWS/CloudFront", "5xxErrorRate", on_distribution, "Average", period=300,
                      threshold=alarms.distribution_5xx_rate_percent, comparison="GreaterThanThreshold"),
            AlarmSpec("edge-function-errors",
                      "The edge's viewer-request function failed: beacons and preflights get errors",
                      "AWS/CloudFront", "FunctionExecutionErrors", on_function, "Sum", period=300,
                      threshold=alarms.function_errors, comparison="GreaterThanOrEqualToThreshold"),
        ]  # fmt: skip

    @property
    def _metrics_namespace(self) -> str:
        # The edge-log Lambda's Powertools namespace: one per stack (collector.py).
        return self.collector.function.name.removesuffix(f"-{SERVICE_NAME}")

    # --- the tier contract -------------------------------------------------------------------------------

    def stack_outputs(self) -> Mapping[str, pulumi.Input[str]]:
        return {
            "edge_distribution_id": self._distribution_id,
            "edge_domain_name": self.domain_name,
            "edge_events_url": self.events_url,
            "edge_beacon_url": self.beacon_url,
            "edge_logs_stream_name": self.logs_stream.name,
            "edge_invalid_events_queue_url": self.collector.invalid_events_queue.url,
        }

    def dashboard_widgets(self) -> Sequence[Widget]:
        distribution = ["DistributionId", self._distribution_id, "Region", "Global"]
        function = ["FunctionName", self.edge.function_name, "Region", "Global"]
        lines = ["service", SERVICE_NAME]
        namespace = self._metrics_namespace
        return [
            Widget("Edge requests", [["AWS/CloudFront", "Requests", *distribution]], region=US_EAST_1),
            Widget("Edge error rates (%)",
                   [["AWS/CloudFront", m, *distribution] for m in ("4xxErrorRate", "5xxErrorRate")],
                   "Average", region=US_EAST_1),
            Widget("Edge function: invocations and errors",
                   [["AWS/CloudFront", m, *function] for m in ("FunctionInvocations", "FunctionExecutionErrors",
                                                               "FunctionValidationErrors", "FunctionThrottles")],
                   region=US_EAST_1),
            Widget("Edge log lines: what they became",
                   [[namespace, m, *lines] for m in ("LinesRead", "LinesNotEvents", "LinesBlocked", "BeaconsRead",
                                                     "EventsWritten", "EventsDeadLettered", "LinesFailed")]),
            lambda_widget(self.collector.function.name, "Edge-log Lambda"),
            Widget("Edge-log Lambda iterator age (max, ms)",
                   [["AWS/Lambda", "IteratorAge", "FunctionName", self.collector.function.name]], "Maximum"),
            *stream_widgets("edge-logs", self.logs_stream.name),
        ]  # fmt: skip

    def access_targets(self) -> Mapping[str, pulumi.Input[str]]:
        return {
            "edge_logs_stream_arn": self.logs_stream.arn,
            "edge_function_arn": self.collector.function.arn,
            "edge_invalid_events_queue_arn": self.collector.invalid_events_queue.arn,
            "edge_failed_batches_queue_arn": self.collector.failed_batches_queue.arn,
            "edge_distribution_arn": self.edge.distribution.arn,
        }
