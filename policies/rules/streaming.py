"""Stream consumers never block on a poison record, and Flink keeps restartable state.

A Lambda reading a stream retries a failing batch until it succeeds or expires; with
AWS's defaults (-1: forever, for a week) one bad record stalls its shard. Bounded retries,
bisecting the batch to isolate the bad record and an on-failure destination keep the
stream moving and lose nothing.
"""

from __future__ import annotations

from typing import Any, Final

from pulumi_policy import ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from .common import ADVISORY, MANDATORY, UNKNOWN, for_types, is_set, label_of, lookup, truthy
from .remedies import SNAPSHOT_SETTINGS, remedy

SNAPSHOTS_FIX: Final = "set application_snapshot_configuration.snapshots_enabled=True"


def reads_a_stream(props: Any) -> bool:
    """Kinesis and DynamoDB stream sources (not SQS queues, which have their own redrive policy)."""
    arn = lookup(props, "eventSourceArn")
    if isinstance(arn, str):
        service = arn.split(":")[2] if arn.count(":") >= 5 else ""
        return (service == "kinesis" and ":stream/" in arn) or (service == "dynamodb" and "/stream/" in arn)
    # The ARN is computed during the update: only stream (and Kafka) sources take a starting position.
    return is_set(lookup(props, "startingPosition")) and not is_set(lookup(props, "topics"))


def _bounded(value: Any) -> bool:
    return value is UNKNOWN or (isinstance(value, int | float) and value >= 0)


@for_types("aws:lambda/eventSourceMapping:EventSourceMapping")
def check_failure_handling(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if not reads_a_stream(props):
        return
    problems = []
    if not is_set(lookup(props, "destinationConfig", "onFailure", "destinationArn")):
        problems.append("no on-failure destination (destination_config.on_failure.destination_arn: an SQS queue)")
    bisect = lookup(props, "bisectBatchOnFunctionError")
    if not (truthy(bisect) or bisect is UNKNOWN):
        problems.append("a failing batch is not split (bisect_batch_on_function_error=True)")
    if not _bounded(lookup(props, "maximumRetryAttempts")):
        problems.append("retries are unbounded (maximum_retry_attempts >= 0, not -1)")
    if not _bounded(lookup(props, "maximumRecordAgeInSeconds")):
        problems.append("records never expire (maximum_record_age_in_seconds between 60 and 604800, not -1)")
    if problems:
        report(
            f"Lambda event source mapping {label_of(args)} on a stream can stall its shard: {'; '.join(problems)}. "
            f"Set each as named (the alert sink takes them from `uba:streaming.sink`).",
            None,
        )


@for_types("aws:kinesisanalyticsv2/application:Application")
def check_flink_snapshots(args: ResourceValidationArgs, report: ReportViolation) -> None:
    enabled = lookup(args.props, "applicationConfiguration", "applicationSnapshotConfiguration", "snapshotsEnabled")
    if not (truthy(enabled) or enabled is UNKNOWN):
        report(
            f"Flink application {label_of(args)} takes no snapshots, so an update or restart replays from the "
            f"stream's trim horizon or loses window state: "
            f"{remedy(SNAPSHOT_SETTINGS, args.name, True, SNAPSHOTS_FIX)}.",
            None,
        )


POLICIES: Final = [
    ResourceValidationPolicy(
        name="stream-consumer-failure-handling",
        description="Lambda event source mappings on streams bisect, retry a bounded number of times and "
        "send what still fails to an on-failure destination.",
        enforcement_level=MANDATORY,
        validate=check_failure_handling,
    ),
    # Advisory: `uba:streaming.flink.snapshots` is deliberately false in dev (cheaper, state is disposable).
    ResourceValidationPolicy(
        name="flink-snapshots",
        description="Managed Flink applications take snapshots on update and stop.",
        enforcement_level=ADVISORY,
        validate=check_flink_snapshots,
    ),
]
