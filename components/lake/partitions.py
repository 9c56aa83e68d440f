"""The partition registrar: S3 tells a Lambda of every new events object; it registers the Glue partition.

    s3://<lake>/events/…/<object> ──ObjectCreated──▶ <prefix>-lake-partitions ──BatchCreatePartition──▶
        Glue `<prefix>_lake.events_by_arrival` (arrival_hour, year, month, day, hour)

Redshift Spectrum prunes only partitions registered in the Glue Data Catalog, so the refresh
can bound its read of the lake only on a table whose partitions exist there (the `events`
table's projected ones are Athena's alone). The handler is `lambdas.partitions`; it needs only
GetTable and BatchCreatePartition on that one table. A bucket has one notification
configuration, and this is the lake bucket's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.shared.alarms import AlarmSpec, metric_alarms
from components.shared.buckets import SecureBucket
from components.shared.context import StackContext, child
from components.shared.functions import PythonFunction, PythonFunctionArgs
from sql.lake import EVENTS_PREFIX

ALARM_PERIOD_SECONDS = 300


@dataclass(frozen=True)
class Registrar:
    function: PythonFunction
    notification: aws.s3.BucketNotification
    alarms: list[aws.cloudwatch.MetricAlarm]


def registrar_statements(
    context: StackContext, database: pulumi.Input[str], table: pulumi.Input[str]
) -> list[dict[str, Any]]:
    """Read the table's format and add partitions to it: Glue authorises both on catalog, database and table."""
    return [
        {
            "Sid": "RegisterArrivalPartitions",
            "Effect": "Allow",
            "Action": ["glue:GetTable", "glue:BatchCreatePartition"],
            "Resource": [
                context.arn("glue", "catalog"),
                pulumi.Output.concat(context.arn("glue", "database/"), database),
                pulumi.Output.concat(context.arn("glue", "table/"), database, "/", table),
            ],
        }
    ]


def partition_registrar(
    parent: pulumi.Resource,
    context: StackContext,
    powertools_version: str,
    lake: SecureBucket,
    database: aws.glue.CatalogDatabase,
    table: aws.glue.CatalogTable,
) -> Registrar:
    function = PythonFunction(
        "lake-partitions",
        PythonFunctionArgs(
            context=context,
            function_name="lake-partitions",
            handler="lambdas.partitions.handler",
            description="Registers the Glue partition of every new lake events object (Redshift Spectrum prunes on it)",
            powertools_version=powertools_version,
            statements=registrar_statements(context, database.name, table.name),
            environment={"GLUE_DATABASE": database.name, "GLUE_TABLE": table.name},
            memory_mb=128,
            timeout_seconds=30,
            tracing=True,  # a few segments an hour: traced in every stack, like the path it serves
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    permission = aws.lambda_.Permission(
        "lake-invokes-partitions",
        action="lambda:InvokeFunction",
        function=function.function_name,
        principal="s3.amazonaws.com",
        source_arn=lake.arn,
        source_account=context.account_id,
        opts=child(function),
    )
    notification = aws.s3.BucketNotification(
        "lake-notifications",
        bucket=lake.name,
        lambda_functions=[
            aws.s3.BucketNotificationLambdaFunctionArgs(
                lambda_function_arn=function.arn, events=["s3:ObjectCreated:*"], filter_prefix=EVENTS_PREFIX
            )
        ],
        # S3 tests the destination when the configuration is saved: the invoke permission must exist.
        opts=child(parent, depends_on=[permission]),
    )
    on_function = {"FunctionName": function.function_name}
    alarms = metric_alarms(
        parent,
        context,
        [
            AlarmSpec(
                "lake-partitions-errors",
                "The partition registrar is failing: new lake objects stay invisible to the warehouse refresh",
                "AWS/Lambda",
                "Errors",
                on_function,
                "Sum",
                period=ALARM_PERIOD_SECONDS,
                threshold=0,
                comparison="GreaterThanThreshold",
            ),
        ],
    )
    return Registrar(function, notification, alarms)
