"""The streaming tier: events stream -> Managed Flink -> alerts stream -> alert sink -> table + topic.

This file owns what the tier's parts share (the alerts stream, the realtime results
table, the business-alerts topic), the alarms and the tier contract; the Flink
application lives in `flink.py`, the alert-sink Lambda in `alert_sink.py`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.shared.alarms import AlarmSpec, metric_alarms
from components.shared.changes import ChangesFeed
from components.shared.context import StackContext, child, stateful
from components.shared.dashboard import Widget, lambda_widget, stream_widgets
from components.shared.functions import PythonFunction
from components.shared.iam import deny_insecure_transport, policy_json
from components.shared.kinesis import kinesis_stream
from components.streaming.alert_sink import AlertSink, AlertSinkArgs, build_alert_sink
from components.streaming.flink import FlinkApp, FlinkAppArgs, build_flink_app
from settings import StreamingSettings, StreamSettings

# The realtime table's schema, as lambdas/alerts.py writes and queries it.
PARTITION_KEY = "pk"
SORT_KEY = "sk"
TTL_ATTRIBUTE = "expiresAt"
BY_TYPE_INDEX = "byType"
ALERT_TYPE = "alertType"
# The table publishes every change of an item, old and new image, for whoever reads it (the live tier's
# pusher). Enabling a stream is free and an in-place update of the table; Lambda's reads of it are free too.
STREAM_VIEW_TYPE = "NEW_AND_OLD_IMAGES"


@dataclass(frozen=True)
class StreamingArgs:
    settings: StreamingSettings
    context: StackContext
    powertools_version: str  # the Powertools release whose published layer the sink uses
    events_stream: aws.kinesis.Stream
    flink_code: pulumi.Archive  # the packaged Flink application (`components.streaming.flink_code_archive`)
    changes: ChangesFeed | None = None  # replicated tables (the CDC tier): alerts carry their labels
    # The search feed's stream, when the search tier is on: the job writes searchable documents to it.
    search_feed: StreamSettings | None = None


class Streaming(pulumi.ComponentResource):
    """Real-time detection and alerting. Other tiers (access, dashboard) read the typed attributes."""

    alerts_stream: aws.kinesis.Stream
    results_table: aws.dynamodb.Table
    results_index_name: str  # the index of the latest items per alert type (hash alertType, range sk)
    business_topic: aws.sns.Topic
    dead_letter_queue: aws.sqs.Queue
    sink_function: PythonFunction
    application: aws.kinesisanalyticsv2.Application
    application_name: str
    events_consumer: aws.kinesis.StreamConsumer
    alarms: list[aws.cloudwatch.MetricAlarm]
    search_feed_stream: aws.kinesis.Stream | None = None  # the search tier's Firehose reads it

    def __init__(self, name: str, args: StreamingArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("uba:streaming:Streaming", name, None, opts)
        settings, context = args.settings, args.context

        self.alerts_stream = kinesis_stream(self, context, "alerts-stream", settings.alerts_stream)
        if args.search_feed is not None:
            self.search_feed_stream = kinesis_stream(self, context, "search-feed-stream", args.search_feed)
        self.results_table = self._results_table(args)
        self.results_index_name = BY_TYPE_INDEX
        self.business_topic = self._business_topic(args)
        sink = build_alert_sink(
            self,
            AlertSinkArgs(
                settings=settings.sink,
                context=context,
                powertools_version=args.powertools_version,
                alerts_stream=self.alerts_stream,
                results_table=self.results_table,
                business_topic=self.business_topic,
            ),
        )
        self.dead_letter_queue = sink.dead_letter_queue
        self.sink_function = sink.function
        self.alarms = metric_alarms(self, context, _sink_alarm_specs(args, sink))

        flink = build_flink_app(
            self,
            FlinkAppArgs(
                settings=settings,
                context=context,
                code=args.flink_code,
                events_stream=args.events_stream,
                alerts_stream=self.alerts_stream,
                changes=args.changes,
                search_stream=self.search_feed_stream,
            ),
        )
        self.application, self.application_name = flink.application, flink.application_name
        self._events_stream_name = args.events_stream.name
        self.events_consumer = flink.events_consumer
        self.alarms += metric_alarms(self, context, _flink_alarm_specs(flink))

        self.register_outputs(
            {
                "alerts_stream_name": self.alerts_stream.name,
                "realtime_table_name": self.results_table.name,
                "business_alerts_topic_arn": self.business_topic.arn,
                "dead_letter_queue_url": self.dead_letter_queue.url,
                "sink_function_name": self.sink_function.function_name,
                "application_name": self.application.name,
            }
        )

    def _results_table(self, args: StreamingArgs) -> aws.dynamodb.Table:
        context, sink = args.context, args.settings.sink
        return aws.dynamodb.Table(
            "realtime-results",
            name=context.name("realtime-results"),
            billing_mode="PAY_PER_REQUEST",
            hash_key=PARTITION_KEY,
            range_key=SORT_KEY,
            attributes=[
                aws.dynamodb.TableAttributeArgs(name=attribute, type="S")
                for attribute in (PARTITION_KEY, SORT_KEY, ALERT_TYPE)
            ],
            global_secondary_indexes=[
                aws.dynamodb.TableGlobalSecondaryIndexArgs(
                    name=BY_TYPE_INDEX,
                    key_schemas=[
                        aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(attribute_name=ALERT_TYPE, key_type="HASH"),
                        aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(attribute_name=SORT_KEY, key_type="RANGE"),
                    ],
                    projection_type="ALL",
                )
            ],
            ttl=aws.dynamodb.TableTtlArgs(attribute_name=TTL_ATTRIBUTE, enabled=True),
            stream_enabled=True,
            stream_view_type=STREAM_VIEW_TYPE,
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=sink.point_in_time_recovery),
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(
                enabled=True, kms_key_arn=context.kms_key_arn
            ),
            deletion_protection_enabled=context.protect_stateful,
            opts=stateful(self, context.protect_stateful),
        )

    def _business_topic(self, args: StreamingArgs) -> aws.sns.Topic:
        context = args.context
        topic = aws.sns.Topic(
            "business-alerts-topic",
            name=context.name("business-alerts"),
            display_name=f"{context.prefix} business alerts",
            kms_master_key_id=context.kms_key_arn,
            opts=child(self),
        )
        aws.sns.TopicPolicy(
            "business-alerts-topic-policy",
            arn=topic.arn,
            policy=policy_json([deny_insecure_transport([topic.arn], "sns:Publish")]),
            opts=child(topic),
        )
        for index, email in enumerate(args.settings.sink.business_alert_emails):
            aws.sns.TopicSubscription(
                f"business-alerts-email-{index}",
                topic=topic.arn,
                protocol="email",
                endpoint=email,
                opts=child(topic),
            )
        return topic

    # --- the tier contract -------------------------------------------------------------------------------

    def stack_outputs(self) -> Mapping[str, pulumi.Input[str]]:
        outputs: dict[str, pulumi.Input[str]] = {
            "alerts_stream_name": self.alerts_stream.name,
            "realtime_table_name": self.results_table.name,
            "business_alerts_topic_arn": self.business_topic.arn,
        }
        if self.search_feed_stream is not None:
            outputs["search_feed_stream_name"] = self.search_feed_stream.name
        return outputs

    def dashboard_widgets(self) -> Sequence[Widget]:
        flink = ["Application", self.application.name]
        sink = self.sink_function.function_name
        return [
            *stream_widgets("alerts", self.alerts_stream.name),
            Widget("Flink: uptime, downtime and restarts",
                   [["AWS/KinesisAnalytics", m, *flink] for m in ("uptime", "downtime", "fullRestarts")], "Maximum"),
            Widget("Flink: checkpoints",
                   [["AWS/KinesisAnalytics", m, *flink]
                    for m in ("lastCheckpointDuration", "numberOfFailedCheckpoints")],
                   "Maximum"),
            # How far the job reads behind the events stream. Not Managed Flink's millisBehindLatest:
            # the source reports that per shard, which reaches CloudWatch only at the PARALLELISM
            # metrics level (a metric per subtask and shard, billed as such), never at APPLICATION.
            # Kinesis itself reports the lag of an enhanced fan-out consumer, free, per stream and
            # consumer (Kinesis Data Streams developer guide, "Monitor ... with CloudWatch").
            Widget("Flink: how far behind the events stream (ms)",
                   [["AWS/Kinesis", "SubscribeToShardEvent.MillisBehindLatest",
                     "StreamName", self._events_stream_name, "ConsumerName", self.events_consumer.name]],
                   "Maximum"),
            lambda_widget(sink, "Alert sink Lambda"),
            Widget("Alert sink iterator age (max, ms)", [["AWS/Lambda", "IteratorAge", "FunctionName", sink]],
                   "Maximum"),
            Widget("Alert sink dead-letter queue depth",
                   [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", self.dead_letter_queue.name]],
                   "Maximum"),
        ]  # fmt: skip

    def access_targets(self) -> Mapping[str, pulumi.Input[str]]:
        return {
            "alerts_stream_arn": self.alerts_stream.arn,
            "results_table_arn": self.results_table.arn,
            "business_topic_arn": self.business_topic.arn,
            "dead_letter_queue_arn": self.dead_letter_queue.arn,
            "sink_function_arn": self.sink_function.arn,
            "flink_application_arn": self.application.arn,
            **({"search_feed_stream_arn": self.search_feed_stream.arn} if self.search_feed_stream is not None else {}),
        }


def _sink_alarm_specs(args: StreamingArgs, sink: AlertSink) -> list[AlarmSpec]:
    alarms = args.settings.alarms
    on_function = {"FunctionName": sink.function.name}
    return [
        AlarmSpec("alert-sink-iterator-age",
                  f"The alert sink lags: its oldest unread alert is over {alarms.iterator_age_ms} ms old",
                  "AWS/Lambda", "IteratorAge", on_function, "Maximum", period=60, evaluation_periods=5,
                  threshold=alarms.iterator_age_ms, comparison="GreaterThanThreshold"),
        AlarmSpec("alert-sink-errors",
                  "The alert-sink Lambda failed whole invocations (a batch is retried, then dead-lettered)",
                  "AWS/Lambda", "Errors", on_function, "Sum", period=300,
                  threshold=alarms.sink_errors, comparison="GreaterThanOrEqualToThreshold"),
        AlarmSpec("alert-sink-dead-letters",
                  "Alerts could not be stored or announced: their batch is recorded in the dead-letter queue",
                  "AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": sink.dead_letter_queue_name},
                  "Maximum", period=60, threshold=0, comparison="GreaterThanThreshold"),
    ]  # fmt: skip


def _flink_alarm_specs(flink: FlinkApp) -> list[AlarmSpec]:
    on_application = {"Application": flink.application_name}
    return [
        AlarmSpec("flink-downtime", "The Flink application is down (failing, restarting) or has stopped reporting",
                  "AWS/KinesisAnalytics", "downtime", on_application, "Maximum", period=60, evaluation_periods=3,
                  threshold=0, comparison="GreaterThanThreshold",
                  # A running application reports every minute; silence means it is not running.
                  missing_data="breaching"),
        AlarmSpec("flink-failed-checkpoints",
                  "The Flink application failed to checkpoint: a restart would replay or lose progress",
                  "AWS/KinesisAnalytics", "numberOfFailedCheckpoints", on_application, "Maximum", period=300,
                  threshold=0, comparison="GreaterThanThreshold"),
    ]  # fmt: skip
