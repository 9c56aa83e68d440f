"""What the warehouse runs and when: the models' DDL at deploy time, the refresh on the stack's schedule.

Deploy time. Each statement of the deploy DDL (`sql/redshift/NN_*.sql`, rendered by
`sql.redshift`) is one `aws.redshiftdata.Statement`: a Data API ExecuteStatement that the
provider waits on, failing the deployment with Redshift's error if the SQL fails. They run in file
order (each depends on the one before) as the admin user, through the secret Redshift manages, so
the admin owns every object whoever deploys. No servers, no custom provider.

Immune to `pulumi refresh`. The provider reads a Statement back from DescribeStatement, and AWS
forgets a statement after about a day: its `sql` (and the other arguments, all of which force
replacement) then read back empty, so a refresh followed by `up` would re-run every statement. So:
(1) every input the provider reads back is in `ignore_changes`, which makes the engine keep the
stored inputs and plan no change after a refresh; (2) what a statement runs is its identity: its
logical name carries a digest of its SQL template (`warehouse-sql-<digest>`), so changing a
statement creates a new Statement resource that runs once and drops the old one from the state (the
provider deletes nothing in Redshift); (3) every statement is safe to run twice (`IF NOT EXISTS`;
the refresh user through a procedure that creates it only when `pg_user` lacks it, since Redshift
has no CREATE USER IF NOT EXISTS; GRANTs repeat harmlessly), so a state that lost a Statement, or a
re-run in any order, changes nothing.

The refresh signs in as its IAM role (`IAMR:<role name>`, the Data API's temporary credentials), so
the deploy SQL ends by creating that database user with its password disabled and granting it exactly
what `refresh.sql` does: USAGE on the external schema, DML on the model and work tables, TEMP on the
database (Spectrum queries need it), EXECUTE on the procedure that reads the lake (`stage_lake.sql`,
created by the deploy SQL before the grants).

Schedule. EventBridge Scheduler calls the Data API's BatchExecuteStatement directly (a universal
target): the rendered refresh runs as one transaction, `WithEvent` on. A FAILED statement-status
event for the refresh's statement name is matched by an EventBridge rule that keeps the event (with
the statement id to look up) in an encrypted log group; an alarm on the rule's `TriggeredRules`
notifies the ops topic, and a second alarm fires when Scheduler gives up on an invocation. Both go
through CloudWatch, which the core tier already lets publish to the ops topic.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

import pulumi
import pulumi_aws as aws

from components.shared.alarms import AlarmSpec, metric_alarms
from components.shared.context import StackContext, child
from components.shared.iam import policy_json, role
from components.shared.logs import log_group
from settings import RefreshSettings
from sql.changes import ChangeTable
from sql.redshift import (
    STAGE_PROCEDURE,
    DeployParameters,
    RefreshParameters,
    deploy_files,
    refresh_statements,
    render,
    split_statements,
    stage_procedure,
    table_names,
)
from sql.redshift.entities import APPLY_PROCEDURE, apply_procedure, model_tables
from sql.redshift.entities import deploy_statements as entity_deploy_statements

BATCH_EXECUTE_TARGET = "arn:aws:scheduler:::aws-sdk:redshiftdata:batchExecuteStatement"
STATUS_CHANGE = "Redshift Data Statement Status Change"
# Scheduler gives up after this many retries within this age; the next scheduled run catches up,
# because the refresh reads everything received after its watermark.
RETRY_ATTEMPTS = 3
MAX_EVENT_AGE_SECONDS = 900
_EXTERNAL_SCHEMA = re.compile(r"^CREATE\s+EXTERNAL\s+SCHEMA\s+IF\s+NOT\s+EXISTS\s+([a-z_][a-z0-9_]*)\s", re.I)


@dataclass(frozen=True)
class DataApiTarget:
    """Where the Data API runs SQL: a serverless workgroup or a provisioned cluster."""

    parameter: Literal["WorkgroupName", "ClusterIdentifier"]
    name: pulumi.Output[str]
    arn: pulumi.Output[str]  # the workgroup or cluster: the resource of redshift-data actions
    database: str
    admin_secret_arn: pulumi.Output[str]
    credentials_action: str  # how an IAM role signs in to this target with temporary credentials
    credentials_arn: pulumi.Output[str]

    @property
    def workgroup_name(self) -> pulumi.Output[str] | None:
        return self.name if self.parameter == "WorkgroupName" else None

    @property
    def cluster_identifier(self) -> pulumi.Output[str] | None:
        return self.name if self.parameter == "ClusterIdentifier" else None


REFRESH_ROLE = "warehouse-refresh"  # logical name; the physical role name is `<prefix>-warehouse-refresh`


def refresh_db_user(context: StackContext) -> str:
    """The database user the Data API signs the refresh role in as with temporary credentials (`IAMR:<role>`)."""
    return f"IAMR:{context.name(REFRESH_ROLE)}"


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def external_schemas(statements: Sequence[str]) -> list[str]:
    """Names of the external (Spectrum) schemas the deploy DDL creates."""
    return [m.group(1).lower() for s in statements if (m := _EXTERNAL_SCHEMA.match(s))]


# Redshift has no CREATE USER IF NOT EXISTS: this procedure creates a user only when pg_user lacks it
# (CREATE OR REPLACE PROCEDURE and PERFORM/FOUND: Redshift Database Developer Guide, "CREATE PROCEDURE"
# and "Supported PL/pgSQL statements"). It is replaced, never duplicated, on every run.
CREATE_USER_ONCE = "uba_create_user_once"
_CREATE_USER_ONCE_PROCEDURE = f"""CREATE OR REPLACE PROCEDURE {CREATE_USER_ONCE}(user_name VARCHAR)
AS $$
BEGIN
    PERFORM 1 FROM pg_user WHERE usename = user_name;
    IF NOT FOUND THEN
        EXECUTE 'CREATE USER ' || quote_ident(user_name) || ' PASSWORD DISABLE';
    END IF;
END;
$$ LANGUAGE plpgsql"""


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def refresh_user_grants(
    db_user: str, database: str, schemas: Sequence[str], tables: Sequence[str], procedures: Sequence[str] = ()
) -> list[str]:
    """The refresh's database user and exactly the privileges `refresh.sql` uses, each safe to run twice."""
    user = _quoted(db_user)
    return [
        _CREATE_USER_ONCE_PROCEDURE,
        f"CALL {CREATE_USER_ONCE}({_literal(db_user)})",
        f"GRANT USAGE ON SCHEMA {', '.join(schemas)} TO {user}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE {', '.join(tables)} TO {user}",
        f"GRANT TEMP ON DATABASE {database} TO {user}",
        # Step 2 of the refresh is a CALL; the procedure runs with the caller's privileges (SECURITY INVOKER).
        f"GRANT EXECUTE ON PROCEDURE {STAGE_PROCEDURE}() TO {user}",
        # With replicated tables, the refresh also CALLs the apply of their changes (sql.redshift.entities).
        *(f"GRANT EXECUTE ON PROCEDURE {procedure}() TO {user}" for procedure in procedures),
    ]


@dataclass(frozen=True)
class DeployStatement:
    """One deploy-time statement: its SQL as the program knows it before rendering, and as it runs."""

    template: str
    sql: pulumi.Output[str]

    @property
    def digest(self) -> str:
        """What the statement does, as a name: it changes exactly when the statement's SQL does."""
        return hashlib.sha256(self.template.encode("utf-8")).hexdigest()[:DIGEST_LENGTH]


DIGEST_LENGTH = 12


def deploy_sql(
    glue_database: pulumi.Input[str],
    spectrum_role_arn: pulumi.Input[str],
    refresh_db_user: str,
    database: str,
    entities: Sequence[ChangeTable] = (),
) -> list[DeployStatement]:
    """The deploy DDL rendered with the lake's names, then the refresh user's grants, in order.

    With replicated tables (`entities`), their models follow the deploy files (their DWS views join
    dwd_events) and the procedure applying their changes follows the stage procedure.
    """
    ddl = [stmt for path in deploy_files() for stmt in split_statements(path.read_text(encoding="utf-8"))]
    values = pulumi.Output.all(glue_database, spectrum_role_arn).apply(
        lambda v: DeployParameters(glue_database=v[0], spectrum_role_arn=v[1]).model_dump()
    )
    rendered = [DeployStatement(stmt, values.apply(partial(render, stmt))) for stmt in ddl]
    # The refresh's lake read (CREATE OR REPLACE: safe to run again), after the tables it names.
    procedures = [stage_procedure()]
    models: list[str] = []
    tables = table_names()
    if entities:
        models = entity_deploy_statements(entities)
        procedures.append(apply_procedure(entities))
        tables = [*tables, *model_tables(entities)]
    grants = refresh_user_grants(
        refresh_db_user, database, external_schemas(ddl), tables, [APPLY_PROCEDURE] if entities else []
    )
    plain = [*models, *procedures, *grants]
    return rendered + [DeployStatement(sql, pulumi.Output.from_input(sql)) for sql in plain]


# Every argument of aws.redshiftdata.Statement, as the engine names them: all are read back from
# DescribeStatement, which forgets a statement after about a day, and all force replacement.
STATEMENT_READ_BACK = [
    "clusterIdentifier",
    "database",
    "dbUser",
    "parameters",
    "region",
    "secretArn",
    "sql",
    "statementName",
    "withEvent",
    "workgroupName",
]


def run_at_deploy(
    parent: pulumi.Resource,
    target: DataApiTarget,
    statements: Sequence[DeployStatement],
    after: Sequence[pulumi.Resource],
) -> aws.redshiftdata.Statement:
    """Each statement as the admin, strictly in order; returns the last (the schema is ready after it)."""
    previous: list[pulumi.Resource] = list(after)
    last: aws.redshiftdata.Statement | None = None
    for statement in statements:
        last = aws.redshiftdata.Statement(
            f"warehouse-sql-{statement.digest}",
            database=target.database,
            secret_arn=target.admin_secret_arn,
            sql=statement.sql,
            workgroup_name=target.workgroup_name,
            cluster_identifier=target.cluster_identifier,
            opts=child(parent, depends_on=previous, ignore_changes=STATEMENT_READ_BACK),
        )
        previous = [last]
    assert last is not None, "the deploy SQL is never empty"
    return last


def refresh_role(parent: pulumi.Resource, context: StackContext, target: DataApiTarget) -> aws.iam.Role:
    """Scheduler's role for the refresh: submit the batch to this target and sign in as itself."""
    return role(
        parent,
        context,
        REFRESH_ROLE,
        "scheduler.amazonaws.com",
        [
            {
                "Sid": "SubmitTheRefresh",
                "Effect": "Allow",
                "Action": "redshift-data:BatchExecuteStatement",
                "Resource": target.arn,
            },
            {
                "Sid": "SignInAsTheRefreshUser",
                "Effect": "Allow",
                "Action": target.credentials_action,
                "Resource": target.credentials_arn,
            },
            decrypt_schedule_payload(context),
        ],
        "EventBridge Scheduler runs the warehouse refresh through the Redshift Data API",
    )


def decrypt_schedule_payload(context: StackContext) -> dict[str, Any]:
    """Schedules are encrypted with the platform key; Scheduler decrypts the payload as the execution role."""
    return {
        "Sid": "DecryptSchedulePayload",
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": context.kms_key_arn,
    }


def schedule_refresh(
    parent: pulumi.Resource,
    context: StackContext,
    settings: RefreshSettings,
    target: DataApiTarget,
    group: aws.scheduler.ScheduleGroup,
    execution_role: aws.iam.Role,
    after: pulumi.Resource,
    entities: Sequence[ChangeTable] = (),
) -> aws.scheduler.Schedule:
    statements = refresh_statements(
        RefreshParameters(
            lookback_days=settings.lookback_days,
            conversion_from_action=settings.conversion_from_action,
            conversion_to_action=settings.conversion_to_action,
        ),
        entities=entities,
    )
    request = pulumi.Output.json_dumps(
        {
            target.parameter: target.name,
            "Database": target.database,
            "Sqls": statements,
            "StatementName": refresh_statement_name(context),
            "WithEvent": True,
        }
    )
    return aws.scheduler.Schedule(
        "warehouse-refresh-schedule",
        name=context.name("warehouse-refresh"),
        group_name=group.name,
        description="Incremental refresh of the warehouse models (sql/redshift/refresh.sql), one transaction",
        schedule_expression=settings.schedule_expression,
        flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
        kms_key_arn=context.kms_key_arn,
        target=aws.scheduler.ScheduleTargetArgs(
            arn=BATCH_EXECUTE_TARGET,
            role_arn=execution_role.arn,
            input=request,
            retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(
                maximum_retry_attempts=RETRY_ATTEMPTS, maximum_event_age_in_seconds=MAX_EVENT_AGE_SECONDS
            ),
        ),
        # The first run must find the tables and the refresh user's grants.
        opts=child(parent, depends_on=[after]),
    )


def refresh_statement_name(context: StackContext) -> str:
    """The Data API statement name of every refresh; failure events are matched on it."""
    return context.name("warehouse-refresh")


@dataclass(frozen=True)
class RefreshAlarms:
    failed_rule: aws.cloudwatch.EventRule
    failed: aws.cloudwatch.MetricAlarm
    dropped: aws.cloudwatch.MetricAlarm


def alarm_on_refresh_trouble(
    parent: pulumi.Resource, context: StackContext, group: aws.scheduler.ScheduleGroup
) -> RefreshAlarms:
    rule = aws.cloudwatch.EventRule(
        "warehouse-refresh-failed",
        name=context.name("warehouse-refresh-failed"),
        description="A scheduled warehouse refresh failed in Redshift",
        event_pattern=pulumi.Output.json_dumps(
            {
                "source": ["aws.redshift-data"],
                "detail-type": [STATUS_CHANGE],
                "detail": {"state": ["FAILED"], "statementName": [refresh_statement_name(context)]},
            }
        ),
        opts=child(parent),
    )
    # The event carries the statement id (`aws redshift-data describe-statement --id ...` gives the error).
    failures = log_group(parent, context, "warehouse-refresh-failures",
                         f"/aws/events/{context.name('warehouse-refresh-failures')}")  # fmt: skip
    delivery = aws.cloudwatch.LogResourcePolicy(
        "warehouse-refresh-failures-delivery",
        policy_name=context.name("warehouse-refresh-failures"),
        policy_document=policy_json(
            [
                {
                    "Sid": "ThisRuleWritesFailedRefreshEvents",
                    "Effect": "Allow",
                    "Principal": {"Service": ["events.amazonaws.com", "delivery.logs.amazonaws.com"]},
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": pulumi.Output.concat(failures.arn, ":*"),
                    "Condition": {"ArnEquals": {"aws:SourceArn": rule.arn}},
                }
            ]
        ),
        opts=child(failures),
    )
    aws.cloudwatch.EventTarget(
        "warehouse-refresh-failed-to-logs",
        rule=rule.name,
        arn=failures.arn,
        opts=child(rule, depends_on=[delivery]),
    )
    failed, dropped = metric_alarms(parent, context, refresh_alarm_specs(context, rule, group))
    return RefreshAlarms(failed_rule=rule, failed=failed, dropped=dropped)


def refresh_alarm_specs(
    context: StackContext, rule: aws.cloudwatch.EventRule, group: aws.scheduler.ScheduleGroup
) -> list[AlarmSpec]:
    """A refresh that failed in Redshift, and a schedule Scheduler gave up on."""
    failures = f"/aws/events/{context.name('warehouse-refresh-failures')}"
    return [
        AlarmSpec("warehouse-refresh-failed", f"A warehouse refresh failed; the event is in log group {failures}",
                  "AWS/Events", "TriggeredRules", {"RuleName": rule.name}, "Sum", period=300,
                  threshold=1, comparison="GreaterThanOrEqualToThreshold"),
        AlarmSpec("warehouse-schedule-dropped",
                  "EventBridge Scheduler gave up on a warehouse schedule (refresh or snapshot) after its retries",
                  "AWS/Scheduler", "InvocationDroppedCount", {"ScheduleGroup": group.name}, "Sum", period=300,
                  threshold=1, comparison="GreaterThanOrEqualToThreshold"),
    ]  # fmt: skip


CREATE_SNAPSHOT_TARGET = "arn:aws:scheduler:::aws-sdk:redshiftserverless:createSnapshot"
SNAPSHOT_SCHEDULE = "cron(0 3 * * ? *)"  # daily, 03:00 UTC


def schedule_daily_snapshots(
    parent: pulumi.Resource,
    context: StackContext,
    namespace: aws.redshiftserverless.Namespace,
    retention_days: int,
    group: aws.scheduler.ScheduleGroup,
) -> aws.scheduler.Schedule:
    """Serverless keeps its 30-minute recovery points for 24 hours only; a daily manual snapshot,
    retained for the stack's days, is the documented way to keep more (CreateSnapshot's
    `retentionPeriod`). Each run's snapshot is named after Scheduler's execution id, so names never clash."""
    snapshot_role = role(
        parent,
        context,
        "warehouse-snapshots",
        "scheduler.amazonaws.com",
        [
            {
                "Sid": "SnapshotThisNamespace",
                "Effect": "Allow",
                "Action": "redshift-serverless:CreateSnapshot",
                # CreateSnapshot authorizes the namespace and the new snapshot, whose id (the only part
                # of a snapshot ARN) does not exist before the call, so snapshots take a wildcard.
                "Resource": [namespace.arn, context.arn("redshift-serverless", "snapshot/*")],
            },
            decrypt_schedule_payload(context),
        ],
        "EventBridge Scheduler takes the warehouse's daily snapshot",
    )
    request = pulumi.Output.json_dumps(
        {
            "namespaceName": namespace.namespace_name,
            "snapshotName": f"{context.name('daily')}-<aws.scheduler.execution-id>",
            "retentionPeriod": retention_days,
        }
    )
    return aws.scheduler.Schedule(
        "warehouse-snapshot-schedule",
        name=context.name("warehouse-snapshot"),
        group_name=group.name,
        description=f"Daily snapshot of the warehouse namespace, retention {retention_days} d",
        schedule_expression=SNAPSHOT_SCHEDULE,
        flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
        kms_key_arn=context.kms_key_arn,
        target=aws.scheduler.ScheduleTargetArgs(
            arn=CREATE_SNAPSHOT_TARGET,
            role_arn=snapshot_role.arn,
            input=request,
            retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(
                maximum_retry_attempts=RETRY_ATTEMPTS, maximum_event_age_in_seconds=MAX_EVENT_AGE_SECONDS
            ),
        ),
        opts=child(parent),
    )
