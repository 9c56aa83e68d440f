"""The Managed Service for Apache Flink application that turns events into alerts.

The application code is the `streaming` package plus the pinned Kinesis SQL connector
JAR (layout in `streaming/package.py`), uploaded as a zip to a private, versioned,
KMS-encrypted artifacts bucket; the application pins the object version, so new code
means a new version and Pulumi updates (and restarts) the application. Its runtime
properties come from `streaming/properties.py`, the single definition of their names.
The job reads the events stream through an enhanced fan-out consumer registered here, with
the application (see `events_consumer`), and restores its state as `run_configuration` says.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from components.shared.buckets import LifecycleRule, SecureBucket, SecureBucketArgs
from components.shared.changes import ChangesFeed
from components.shared.context import StackContext, child
from components.shared.iam import kms_via, role_with_policy
from components.shared.logs import log_group
from settings import StreamingSettings
from streaming import properties
from streaming.package import application_property_groups

RUNTIME = "FLINK-1_20"
APPLICATION = "anomaly-detection"
CODE_KEY = f"flink/{APPLICATION}.zip"
LOG_STREAM = "application"
OLD_CODE_VERSIONS_EXPIRE_AFTER_DAYS = 30

# What the job does with each resource. The connector's source reads the events stream through
# an enhanced fan-out consumer: its enumerator lists the shards of the stream, each reader looks
# the consumer up once and subscribes to its shards through it (flink-connector-aws docs,
# "Internally Used Kinesis APIs"; SubscribeToShard and DescribeStreamConsumer act on the consumer
# ARN). No GetRecords: polling is what FLINK-36947 made burn the shards' read quota.
EVENTS_STREAM_ACTIONS = ["kinesis:DescribeStreamSummary", "kinesis:ListShards"]
EVENTS_CONSUMER_ACTIONS = ["kinesis:DescribeStreamConsumer", "kinesis:SubscribeToShard"]
ALERTS_WRITE_ACTIONS = ["kinesis:PutRecords"]
CODE_READ_ACTIONS = ["s3:GetObject", "s3:GetObjectVersion"]
KEY_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey"]


# --- the code ----------------------------------------------------------------------------------------------


def flink_code_archive(files: Mapping[str, Path], project_dir: Path) -> pulumi.AssetArchive:
    """The application zip as Pulumi uploads it: each built file (`streaming.package`) at its zip path.

    `files` is what the streaming package's build step verified (`verified_application_files`);
    project files are named by path relative to `project_dir`, where Pulumi runs the program.
    """
    return pulumi.AssetArchive({name: pulumi.FileAsset(_relative(path, project_dir)) for name, path in files.items()})


def _relative(path: Path, project_dir: Path) -> str:
    resolved = path.resolve()
    return str(resolved.relative_to(project_dir)) if resolved.is_relative_to(project_dir) else str(path)


# --- the application ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlinkAppArgs:
    settings: StreamingSettings
    context: StackContext
    code: pulumi.Archive
    events_stream: aws.kinesis.Stream
    alerts_stream: aws.kinesis.Stream
    changes: ChangesFeed | None = None
    """Replicated tables' changes (the CDC tier): alerts carry their labels as of the event's time."""
    search_stream: aws.kinesis.Stream | None = None  # the search feed, when the search tier is on


@dataclass(frozen=True)
class FlinkApp:
    application: aws.kinesisanalyticsv2.Application
    application_name: str
    role: aws.iam.Role
    artifacts: SecureBucket
    code_object: aws.s3.BucketObjectv2
    log_group: aws.cloudwatch.LogGroup
    events_consumer: aws.kinesis.StreamConsumer
    changes_consumer: aws.kinesis.StreamConsumer | None = None


PropertyGroup = aws.kinesisanalyticsv2.ApplicationApplicationConfigurationEnvironmentPropertiesPropertyGroupArgs


def enrichment_entities(changes: ChangesFeed) -> dict[str, dict[str, str]]:
    """`enrichment.entities`: each event field a replicated table's key is named by, with its key and label."""
    entities: dict[str, dict[str, str]] = {}
    for field, column in (("objectId", "object_id"), ("bizId", "biz_id")):
        table = changes.table_for(column)
        if table is not None and table.label_column is not None:
            (key,) = table.spec.key
            entities[field] = {"table": table.qualified, "key": key, "label": table.label_column}
    return entities


def runtime_properties(
    args: FlinkAppArgs,
    events_consumer: aws.kinesis.StreamConsumer,
    changes_consumer: aws.kinesis.StreamConsumer | None = None,
) -> pulumi.Output[list[PropertyGroup]]:
    """The `uba` group (settings, streams, consumers) and the run options, validated by the job's own parser."""
    detection = args.settings.detection
    changes = args.changes

    def groups(values: list[str]) -> list[PropertyGroup]:
        events_arn, alerts_arn, consumer_name, *rest = values
        uba = {
            properties.EVENTS_STREAM_ARN: events_arn,
            properties.EVENTS_CONSUMER_NAME: consumer_name,
            properties.ALERTS_STREAM_ARN: alerts_arn,
            properties.AWS_REGION: args.context.region,
            properties.WATERMARK_SECONDS: str(detection.watermark_seconds),
            properties.WINDOW_SECONDS: str(detection.window_seconds),
            properties.WARN_THRESHOLD: str(detection.warn_threshold),
            properties.ERROR_MARKERS: json.dumps(detection.error_markers),
            properties.WARN_MARKERS: json.dumps(detection.warn_markers),
        }
        if args.search_stream is not None:
            uba[properties.SEARCH_STREAM_ARN] = rest.pop(0)
        if changes is not None:
            changes_arn, changes_consumer_name = rest
            uba |= {
                properties.CHANGES_STREAM_ARN: changes_arn,
                properties.CHANGES_CONSUMER_NAME: changes_consumer_name,
                properties.ENRICHMENT_ENTITIES: json.dumps(enrichment_entities(changes), sort_keys=True),
                properties.ENRICHMENT_TTL_SECONDS: str(changes.enrichment_ttl_seconds),
            }
        built = application_property_groups(uba)
        return [PropertyGroup(property_group_id=g["property_group_id"], property_map=g["property_map"]) for g in built]

    inputs: list[pulumi.Input[str]] = [args.events_stream.arn, args.alerts_stream.arn, events_consumer.name]
    if args.search_stream is not None:
        inputs.append(args.search_stream.arn)
    if changes is not None and changes_consumer is not None:
        inputs += [changes.stream.arn, changes_consumer.name]
    return pulumi.Output.all(*inputs).apply(groups)


def events_consumer(parent: pulumi.Resource, args: FlinkAppArgs, application_name: str) -> aws.kinesis.StreamConsumer:
    """The application's enhanced fan-out consumer on the events stream, named after the application.

    Registered here rather than by the job (`source.efo.lifecycle` SELF_MANAGED): a job-managed
    consumer is registered at every start and deregistered only on a graceful stop, so one left
    behind by a crash keeps counting against the stream's consumer limit (and costing). Created
    before the application (whose job fails fast if it is missing) and destroyed after it.
    """
    return aws.kinesis.StreamConsumer(
        "flink-events-consumer",
        name=application_name,  # unique per stream and per stack
        stream_arn=args.events_stream.arn,
        # A consumer's name is unique on its stream: a replacement must deregister the old one first.
        opts=child(parent, delete_before_replace=True),
    )


def changes_consumer(
    parent: pulumi.Resource, changes: ChangesFeed, application_name: str
) -> aws.kinesis.StreamConsumer:
    """The application's enhanced fan-out consumer on the changes stream (see `events_consumer`)."""
    return aws.kinesis.StreamConsumer(
        "flink-changes-consumer",
        name=application_name,
        stream_arn=changes.stream.arn,
        opts=child(parent, delete_before_replace=True),
    )


def build_flink_app(parent: pulumi.Resource, args: FlinkAppArgs) -> FlinkApp:
    context, flink = args.context, args.settings.flink
    application_name = context.name(APPLICATION)

    artifacts = SecureBucket(
        "flink-artifacts",
        SecureBucketArgs(
            context=context,
            purpose="flink-artifacts",
            versioning=True,  # each upload is a new version; the application pins the one it runs
            keep_data=False,  # rebuilt from the repository at every deployment
            force_destroy=True,
            lifecycle=[
                LifecycleRule("expire-old-code", "", noncurrent_expire_after_days=OLD_CODE_VERSIONS_EXPIRE_AFTER_DAYS)
            ],
        ),
        opts=child(parent),
    )
    code_object = aws.s3.BucketObjectv2(
        "flink-app-code",
        bucket=artifacts.name,
        key=CODE_KEY,
        source=args.code,
        content_type="application/zip",
        server_side_encryption="aws:kms",
        kms_key_id=context.kms_key_arn,
        # The version id the application pins exists only once versioning is on; an object
        # uploaded before that has none, and the first deployment would pin an empty version.
        opts=child(artifacts, depends_on=[artifacts.versioning] if artifacts.versioning else None),
    )
    consumer = events_consumer(parent, args, application_name)
    changes = changes_consumer(parent, args.changes, application_name) if args.changes is not None else None
    logs = log_group(parent, context, "flink-logs", f"/aws/kinesis-analytics/{application_name}")
    log_stream = aws.cloudwatch.LogStream(
        "flink-log-stream", name=LOG_STREAM, log_group_name=logs.name, opts=child(logs)
    )
    service_role, role_policy = role_with_policy(
        parent,
        context,
        "flink-role",
        "kinesisanalytics.amazonaws.com",
        _grants(args, consumer, artifacts, logs, log_stream) + _changes_grants(args, changes),
        description=f"{application_name}: read events, write alerts, read its code, write its logs",
    )
    application = aws.kinesisanalyticsv2.Application(
        "flink-app",
        name=application_name,
        description="Flink SQL anomaly detection: error events and warning bursts become alerts",
        runtime_environment=RUNTIME,
        service_execution_role=service_role.arn,
        application_configuration=aws.kinesisanalyticsv2.ApplicationApplicationConfigurationArgs(
            application_code_configuration=aws.kinesisanalyticsv2.ApplicationApplicationConfigurationApplicationCodeConfigurationArgs(
                code_content_type="ZIPFILE",
                code_content=aws.kinesisanalyticsv2.ApplicationApplicationConfigurationApplicationCodeConfigurationCodeContentArgs(
                    s3_content_location=aws.kinesisanalyticsv2.ApplicationApplicationConfigurationApplicationCodeConfigurationCodeContentS3ContentLocationArgs(
                        bucket_arn=artifacts.arn,
                        file_key=code_object.key,
                        object_version=code_object.version_id,
                    )
                ),
            ),
            environment_properties=aws.kinesisanalyticsv2.ApplicationApplicationConfigurationEnvironmentPropertiesArgs(
                property_groups=runtime_properties(args, consumer, changes)
            ),
            flink_application_configuration=aws.kinesisanalyticsv2.ApplicationApplicationConfigurationFlinkApplicationConfigurationArgs(
                checkpoint_configuration=aws.kinesisanalyticsv2.ApplicationApplicationConfigurationFlinkApplicationConfigurationCheckpointConfigurationArgs(
                    configuration_type="CUSTOM",
                    checkpointing_enabled=True,
                    checkpoint_interval=flink.checkpoint_interval_ms,
                    # AWS's default pause, but never longer than the interval the stack asks for.
                    min_pause_between_checkpoints=min(5000, flink.checkpoint_interval_ms),
                ),
                monitoring_configuration=aws.kinesisanalyticsv2.ApplicationApplicationConfigurationFlinkApplicationConfigurationMonitoringConfigurationArgs(
                    configuration_type="CUSTOM", log_level="INFO", metrics_level="APPLICATION"
                ),
                parallelism_configuration=aws.kinesisanalyticsv2.ApplicationApplicationConfigurationFlinkApplicationConfigurationParallelismConfigurationArgs(
                    configuration_type="CUSTOM",
                    parallelism=flink.parallelism,
                    parallelism_per_kpu=flink.parallelism_per_kpu,
                    auto_scaling_enabled=flink.autoscaling,
                ),
            ),
            application_snapshot_configuration=aws.kinesisanalyticsv2.ApplicationApplicationConfigurationApplicationSnapshotConfigurationArgs(
                snapshots_enabled=flink.snapshots
            ),
            run_configuration=run_configuration(flink.snapshots),
        ),
        cloudwatch_logging_options=aws.kinesisanalyticsv2.ApplicationCloudwatchLoggingOptionsArgs(
            log_stream_arn=log_stream.arn
        ),
        # Deployed means running: the alerts tier is pointless with a stopped detector.
        start_application=True,
        # The service checks the role's grants (code, logs) when it creates and starts the application,
        # and the job looks its consumer up as it starts.
        opts=child(parent, depends_on=[role_policy, consumer, *([changes] if changes is not None else [])]),
    )
    return FlinkApp(
        application=application,
        application_name=application_name,
        role=service_role,
        artifacts=artifacts,
        code_object=code_object,
        log_group=logs,
        events_consumer=consumer,
        changes_consumer=changes,
    )


def run_configuration(
    snapshots: bool,
) -> aws.kinesisanalyticsv2.ApplicationApplicationConfigurationRunConfigurationArgs:
    """How an update (new code, new properties) restarts the job: the upgrade path of its state.

    With snapshots the job resumes from the latest one. A Flink SQL job has no operator UIDs of
    its own: the planner derives them from the plan, so a changed query changes the IDs of the
    operators it touches, and their state in the snapshot maps to nothing. Without
    `allow_non_restored_state` Flink refuses such a snapshot and Managed Flink restarts the
    job on it for ever. With it, the job starts and that state is dropped (Managed Flink API,
    FlinkRunConfiguration.AllowNonRestoredState, pointing at Flink's "Allowing Non-Restored
    State"). What that costs, per operator whose plan changed:
    - windows (warn bursts, counts): the open windows start empty, so the window in progress
      at the upgrade reports only what arrives after it (a burst may be missed once);
    - the error alerts' eventId de-duplication: forgotten, so an event redelivered after the
      upgrade may alert again, and the alert sink's own de-duplication is the guard;
    - the source, if its plan changed: it starts at `source.init.position` (LATEST).
    Operators whose plan did not change keep their state. AWS resets the flag to false on an
    update that omits it, so it is always sent.
    """
    return aws.kinesisanalyticsv2.ApplicationApplicationConfigurationRunConfigurationArgs(
        application_restore_configuration=aws.kinesisanalyticsv2.ApplicationApplicationConfigurationRunConfigurationApplicationRestoreConfigurationArgs(
            # With snapshots, an update resumes where the job was; without, it starts afresh.
            application_restore_type="RESTORE_FROM_LATEST_SNAPSHOT" if snapshots else "SKIP_RESTORE_FROM_SNAPSHOT"
        ),
        flink_run_configuration=aws.kinesisanalyticsv2.ApplicationApplicationConfigurationRunConfigurationFlinkRunConfigurationArgs(
            allow_non_restored_state=snapshots
        ),
    )


def _changes_grants(args: FlinkAppArgs, consumer: aws.kinesis.StreamConsumer | None) -> list[dict[str, Any]]:
    """With enrichment: find the changes stream's shards and read them through the application's consumer.

    The changes stream is encrypted with the platform key too; the key grant above covers it (through Kinesis).
    """
    if args.changes is None or consumer is None:
        return []
    return [
        {
            "Sid": "FindChangeShards",
            "Effect": "Allow",
            "Action": EVENTS_STREAM_ACTIONS,
            "Resource": args.changes.stream.arn,
        },
        {
            "Sid": "ReadChangesThroughTheConsumer",
            "Effect": "Allow",
            "Action": EVENTS_CONSUMER_ACTIONS,
            "Resource": consumer.arn,
        },
    ]


def _grants(
    args: FlinkAppArgs,
    consumer: aws.kinesis.StreamConsumer,
    artifacts: SecureBucket,
    logs: aws.cloudwatch.LogGroup,
    log_stream: aws.cloudwatch.LogStream,
) -> list[dict[str, Any]]:
    context = args.context
    return [
        {
            "Sid": "FindEventShards",
            "Effect": "Allow",
            "Action": EVENTS_STREAM_ACTIONS,
            "Resource": args.events_stream.arn,
        },
        {
            "Sid": "ReadEventsThroughTheConsumer",
            "Effect": "Allow",
            "Action": EVENTS_CONSUMER_ACTIONS,
            "Resource": consumer.arn,
        },
        {"Sid": "WriteAlerts", "Effect": "Allow", "Action": ALERTS_WRITE_ACTIONS, "Resource": args.alerts_stream.arn},
        *_search_feed_grants(args),
        {
            "Sid": "ReadApplicationCode",
            "Effect": "Allow",
            "Action": CODE_READ_ACTIONS,
            "Resource": pulumi.Output.concat(artifacts.arn, "/", CODE_KEY),
        },
        {
            # Both streams and the code object are encrypted with the platform key; only through those services.
            "Sid": "UseThePlatformKeyThroughItsServices",
            "Effect": "Allow",
            "Action": KEY_ACTIONS,
            "Resource": context.kms_key_arn,
            "Condition": {"StringEquals": {"kms:ViaService": kms_via(context, "kinesis", "s3")}},
        },
        {
            # Managed Flink looks its log group up by listing; DescribeLogGroups has no narrower resource.
            "Sid": "FindLogGroup",
            "Effect": "Allow",
            "Action": ["logs:DescribeLogGroups"],
            "Resource": context.arn("logs", "log-group:*"),
        },
        {
            "Sid": "FindLogStream",
            "Effect": "Allow",
            "Action": ["logs:DescribeLogStreams"],
            "Resource": pulumi.Output.concat(logs.arn, ":log-stream:*"),
        },
        {"Sid": "WriteLogs", "Effect": "Allow", "Action": ["logs:PutLogEvents"], "Resource": log_stream.arn},
    ]


def _search_feed_grants(args: FlinkAppArgs) -> list[dict[str, Any]]:
    """Writing the search feed (same actions as the alerts), when the search tier is on."""
    if args.search_stream is None:
        return []
    return [{"Sid": "WriteSearchFeed", "Effect": "Allow", "Action": ALERTS_WRITE_ACTIONS,
             "Resource": args.search_stream.arn}]  # fmt: skip
