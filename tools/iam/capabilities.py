"""The capabilities `tools.access` tries: one concrete AWS action on one concrete resource each.

Each tier contributes the requests that matter for it (what a persona should and should not
be able to do with its resources); a resource the stack does not have drops its rows. The
cross-stack rows aim the same kinds of request at another stack's resources.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from components.access import AccessTargets
from components.access.policies import (
    ACCESS_LOG_DESTINATION_KEY,
    ACCESS_LOG_FORMAT_KEY,
    athena_workgroup_arns,
    quicksight_user_arn,
    results_prefix,
)
from settings import Persona
from tools.engine.mocks import Snapshot
from tools.iam.snapshot import arn_of, find, of_type

SAMPLE_EVENTS_OBJECT = "events/year=2026/month=01/day=15/hour=09/uba-events-1-2026-01-15-09-00-00.parquet"
SAMPLE_ERRORS_OBJECT = "errors/format-conversion-failed/2026/01/15/09/uba-errors-1.gz"
SAMPLE_CHANGES_OBJECT = "changes/public/documents/day=2026-01-15/uba-changes-to-lake-1-2026-01-15-09-00-00.parquet"


@dataclass(frozen=True)
class Capability:
    id: str
    description: str
    action: str
    resource: str
    context: dict[str, Any] = field(default_factory=dict)  # on top of `SESSION`


@dataclass(frozen=True)
class Landmarks:
    """Concrete resources of one stack that the capabilities are tried on."""

    targets: AccessTargets[str]
    snapshot: Snapshot

    def arn(self, type_token: str, name: str | None = None) -> str | None:
        return arn_of(self.snapshot, type_token, name)

    @property
    def events_route(self) -> str | None:
        api = find(self.snapshot, "aws:apigateway/restApi:RestApi")
        stage = self.targets.api_stage
        return None if api is None or stage is None else f"{api.state['executionArn']}/{stage}/POST/events"

    def first_arn(self, type_token: str) -> str | None:
        found = of_type(self.snapshot, type_token)
        return str(found[0].state["arn"]) if found else None

    def group_arn(self, persona: Persona) -> str | None:
        return self.arn("aws:iam/group:Group", f"group-{persona}")

    def log_group_arn(self, name: str) -> str | None:
        return self.arn("aws:cloudwatch/logGroup:LogGroup", name)

    @property
    def table_index_arn(self) -> str | None:
        table = find(self.snapshot, "aws:dynamodb/table:Table", "realtime-results")
        indexes = [] if table is None else table.inputs.get("globalSecondaryIndexes") or []
        return f"{table.state['arn']}/index/{indexes[0]['name']}" if table is not None and indexes else None

    @property
    def events_table_arn(self) -> str | None:
        return self.arn("aws:glue/catalogTable:CatalogTable", "events-table")

    @property
    def warehouse_credentials(self) -> tuple[str, str | None]:
        """The action and resource that hand out temporary database credentials."""
        t = self.targets
        if t.warehouse_mode == "provisioned":
            database = f"arn:aws:redshift:{t.region}:{t.account_id}:dbname:{t.warehouse_name}/{t.warehouse_database}"
            return "redshift:GetClusterCredentialsWithIAM", database
        return "redshift-serverless:GetCredentials", t.warehouse_arn


def _object(bucket_arn: str | None, key: str) -> str | None:
    return None if bucket_arn is None else f"{bucket_arn}/{key}"


Factory = Callable[..., "Capability | None"]


def _factory(prefix: str = "", suffix: str = "") -> Factory:
    def cap(id_: str, description: str, action: str, resource: str | None, **context: Any) -> Capability | None:
        if resource is None:
            return None
        return Capability(f"{prefix}{id_}", f"{description}{suffix}", action, resource, dict(context))

    return cap


ATHENA_CALL = {"aws:CalledVia": ["athena.amazonaws.com"]}


def _core(stack: Landmarks, cap: Factory) -> Iterator[Capability | None]:
    t = stack.targets
    iam = f"arn:aws:iam::{t.account_id}"
    alarm = stack.first_arn("aws:cloudwatch/metricAlarm:MetricAlarm")
    yield cap("metrics.read", "read CloudWatch metrics", "cloudwatch:GetMetricData", "*")
    yield cap("alarm.change", "change an alarm", "cloudwatch:PutMetricAlarm", alarm)
    yield cap("alarm.delete", "delete an alarm", "cloudwatch:DeleteAlarms", alarm)
    yield cap("dashboard.view", "view the ops dashboard", "cloudwatch:GetDashboard", t.dashboard_arn)
    yield cap("dashboard.edit", "edit the ops dashboard", "cloudwatch:PutDashboard", t.dashboard_arn)
    yield cap("ops-topic.publish", "publish to the ops topic", "sns:Publish", t.ops_topic_arn)
    yield cap("key.decrypt", "decrypt directly with the platform key", "kms:Decrypt", t.kms_key_arn)
    yield cap(
        "key.schedule-deletion", "schedule deletion of the platform key", "kms:ScheduleKeyDeletion", t.kms_key_arn
    )
    yield cap("key.disable", "disable the platform key", "kms:DisableKey", t.kms_key_arn)
    yield cap("iam.create-user", "create an IAM user", "iam:CreateUser", f"{iam}:user/mallory")
    yield cap(
        "iam.create-access-key", "create access keys for a staff user", "iam:CreateAccessKey", f"{iam}:user/omar.ops"
    )
    yield cap("iam.attach-policy", "attach a policy to the op group", "iam:AttachGroupPolicy", stack.group_arn("op"))
    yield cap("iam.join-admin", "add a user to the admin group", "iam:AddUserToGroup", stack.group_arn("admin"))
    yield cap(
        "iam.pass-role",
        "pass the ingest Lambda's role to a service",
        "iam:PassRole",
        stack.arn("aws:iam/role:Role", "ingest-role"),
    )
    # A console session that has not signed in with MFA.
    no_mfa = {"aws:MultiFactorAuthPresent": "false", "aws:username": "dana.dev"}
    yield cap("no-mfa.metrics", "read metrics without MFA", "cloudwatch:GetMetricData", "*", **no_mfa)
    yield cap(
        "no-mfa.enable-own-mfa",
        "enable one's own MFA device without MFA",
        "iam:EnableMFADevice",
        f"{iam}:user/dana.dev",
        **no_mfa,
    )
    yield cap(
        "no-mfa.enable-other-mfa",
        "enable an MFA device on someone else without MFA",
        "iam:EnableMFADevice",
        f"{iam}:user/omar.ops",
        **no_mfa,
    )


def _ingest(stack: Landmarks, cap: Factory) -> Iterator[Capability | None]:
    t = stack.targets
    yield cap("api.invoke", "send a test event through the API", "execute-api:Invoke", stack.events_route)
    yield cap("events.put", "put a record on the events stream", "kinesis:PutRecord", t.events_stream_arn)
    yield cap("events.read", "read raw events from the events stream", "kinesis:GetRecords", t.events_stream_arn)
    yield cap("events.describe", "describe the events stream", "kinesis:DescribeStreamSummary", t.events_stream_arn)
    yield cap("ingest.code", "ship new code to the ingest Lambda", "lambda:UpdateFunctionCode", t.ingest_function_arn)
    yield cap(
        "ingest.configure", "reconfigure the ingest Lambda", "lambda:UpdateFunctionConfiguration", t.ingest_function_arn
    )
    yield cap(
        "ingest.stop", "throttle the ingest Lambda to zero", "lambda:PutFunctionConcurrency", t.ingest_function_arn
    )
    yield cap(
        "ingest.logs", "read the ingest Lambda's logs", "logs:FilterLogEvents", stack.log_group_arn("ingest-logs")
    )
    yield cap(
        "api.key",
        "read the test client's API key",
        "apigateway:GET",
        None if t.api_key_id is None else f"arn:aws:apigateway:{t.region}::/apikeys/{t.api_key_id}",
    )
    stage = stack.arn("aws:apigateway/stage:Stage")
    # A stage PATCH as API Gateway presents it: the access-log settings the stage would have afterwards.
    kept = {
        ACCESS_LOG_DESTINATION_KEY: t.api_access_log_group_arn,
        ACCESS_LOG_FORMAT_KEY: '{"requestId":"$context.requestId"}',
    }
    yield cap("api.throttle", "change the API stage's throttling", "apigateway:PATCH", stage, **kept)
    yield cap("api.access-logs-off", "switch the API stage's access logs off", "apigateway:PATCH", stage)
    yield cap(
        "api.access-logs-redirect",
        "send the API stage's access logs elsewhere",
        "apigateway:PATCH",
        stage,
        **{**kept, ACCESS_LOG_DESTINATION_KEY: f"arn:aws:logs:{t.region}:{t.account_id}:log-group:elsewhere"},
    )


def _edge(stack: Landmarks, cap: Factory) -> Iterator[Capability | None]:
    t = stack.targets
    yield cap("edge-logs.read", "read CloudFront's real-time log lines", "kinesis:GetRecords", t.edge_logs_stream_arn)
    yield cap("edge-logs.put", "put a test log line on the edge-logs stream", "kinesis:PutRecord",
              t.edge_logs_stream_arn)  # fmt: skip
    yield cap("edge.code", "ship new code to the edge-log Lambda", "lambda:UpdateFunctionCode", t.edge_function_arn)
    yield cap("edge.stop", "throttle the edge-log Lambda to zero", "lambda:PutFunctionConcurrency",
              t.edge_function_arn)  # fmt: skip
    yield cap("edge.logs", "read the edge-log Lambda's logs", "logs:FilterLogEvents",
              stack.log_group_arn("edge-logs-logs"))  # fmt: skip
    yield cap("edge-invalid.receive", "read the events the edge could not take, with reasons", "sqs:ReceiveMessage",
              t.edge_invalid_events_queue_arn)  # fmt: skip
    yield cap("edge-invalid.purge", "purge the invalid-events queue", "sqs:PurgeQueue", t.edge_invalid_events_queue_arn)
    yield cap("edge-failed.receive", "read the edge-log batches that failed", "sqs:ReceiveMessage",
              t.edge_failed_batches_queue_arn)  # fmt: skip
    yield cap("edge.describe", "read the distribution's configuration", "cloudfront:GetDistributionConfig",
              t.edge_distribution_arn)  # fmt: skip
    yield cap("edge.reconfigure", "change the distribution (origins, WAF, logging)", "cloudfront:UpdateDistribution",
              t.edge_distribution_arn)  # fmt: skip


def _streaming(stack: Landmarks, cap: Factory) -> Iterator[Capability | None]:
    t = stack.targets
    yield cap("alerts.read", "read the alerts stream", "kinesis:GetRecords", t.alerts_stream_arn)
    yield cap("flink.stop", "stop the Flink application", "kinesisanalytics:StopApplication", t.flink_application_arn)
    yield cap(
        "flink.start", "start the Flink application", "kinesisanalytics:StartApplication", t.flink_application_arn
    )
    yield cap(
        "flink.update", "update the Flink application", "kinesisanalytics:UpdateApplication", t.flink_application_arn
    )
    yield cap("sink.code", "ship new code to the alert-sink Lambda", "lambda:UpdateFunctionCode", t.sink_function_arn)
    yield cap("realtime.get", "read a realtime result", "dynamodb:GetItem", t.results_table_arn)
    yield cap(
        "realtime.query-index",
        "query the realtime table's index",
        "dynamodb:Query",
        stack.table_index_arn,
    )
    yield cap("realtime.put", "write a realtime result", "dynamodb:PutItem", t.results_table_arn)
    yield cap("realtime.drop", "delete the realtime table", "dynamodb:DeleteTable", t.results_table_arn)
    yield cap(
        "realtime.change-key",
        "change the realtime table's encryption key",
        "dynamodb:UpdateTable",
        t.results_table_arn,
    )
    yield cap(
        "realtime.pitr-off",
        "switch the realtime table's point-in-time recovery off",
        "dynamodb:UpdateContinuousBackups",
        t.results_table_arn,
    )
    yield cap("business.publish", "publish a business alert", "sns:Publish", t.business_topic_arn)
    yield cap("dlq.receive", "read dead-lettered alerts", "sqs:ReceiveMessage", t.dead_letter_queue_arn)
    yield cap("dlq.purge", "purge the dead-letter queue", "sqs:PurgeQueue", t.dead_letter_queue_arn)


def _lake(stack: Landmarks, cap: Factory) -> Iterator[Capability | None]:
    t = stack.targets
    events = _object(t.lake_bucket_arn, SAMPLE_EVENTS_OBJECT)
    yield cap("lake.list", "list the lake's objects", "s3:ListBucket", t.lake_bucket_arn)
    yield cap("lake.download", "download a raw event file from the lake", "s3:GetObject", events)
    yield cap("lake.read-via-athena", "read lake events in an Athena query", "s3:GetObject", events, **ATHENA_CALL)
    yield cap(
        "lake.errors", "read Firehose's error output", "s3:GetObject", _object(t.lake_bucket_arn, SAMPLE_ERRORS_OBJECT)
    )
    yield cap("lake.write", "write a file into the lake", "s3:PutObject", events)
    yield cap("lake.delete", "delete a lake object", "s3:DeleteObject", events)
    yield cap("lake.expire", "set an expiry rule on the lake", "s3:PutLifecycleConfiguration", t.lake_bucket_arn)
    yield from _workgroups(stack, cap)
    yield cap("catalog.read", "read the events table definition", "glue:GetTable", stack.events_table_arn)
    yield cap("catalog.change", "change the events table definition", "glue:UpdateTable", stack.events_table_arn)
    yield cap(
        "key.via-s3",
        "decrypt lake data through S3",
        "kms:Decrypt",
        t.kms_key_arn if t.lake_bucket_arn else None,
        **{"kms:ViaService": f"s3.{t.region}.amazonaws.com"},
    )
    yield cap(
        "access-logs.read",
        "read the lake's S3 access logs",
        "s3:GetObject",
        _object(t.log_bucket_arn, "logs/2026-01-15-09-00-00-ABCDEF"),
    )
    yield cap(
        "firehose.destination",
        "change Firehose's destination (logging, prefixes)",
        "firehose:UpdateDestination",
        t.delivery_stream_arn,
    )
    yield cap(
        "firehose.logs",
        "read Firehose's delivery logs",
        "logs:FilterLogEvents",
        stack.log_group_arn("lake-firehose-logs"),
    )


def _cdc(stack: Landmarks, cap: Factory) -> Iterator[Capability | None]:
    """The database's changes: the stream DMS writes, the replication, and their place in the lake."""
    t = stack.targets
    changes = _object(t.lake_bucket_arn, SAMPLE_CHANGES_OBJECT) if t.changes_delivery_stream_arn else None
    yield cap("changes.read", "read database changes from the changes stream", "kinesis:GetRecords",
              t.changes_stream_arn)  # fmt: skip
    yield cap("changes.put", "put a forged change on the changes stream", "kinesis:PutRecord", t.changes_stream_arn)
    yield cap("replication.start", "start the DMS replication", "dms:StartReplication", t.replication_config_arn)
    yield cap("replication.stop", "stop the DMS replication", "dms:StopReplication", t.replication_config_arn)
    yield cap("replication.modify", "change what DMS replicates and where to", "dms:ModifyReplicationConfig",
              t.replication_config_arn)  # fmt: skip
    yield cap("replication.tables", "read the replication's table statistics",
              "dms:DescribeReplicationTableStatistics", t.replication_config_arn)  # fmt: skip
    yield cap("processor.code", "ship new code to the change processor", "lambda:UpdateFunctionCode",
              t.change_processor_arn)  # fmt: skip
    yield cap("changes.download", "download a replicated table's changes from the lake", "s3:GetObject", changes)
    yield cap("changes.read-via-athena", "read a replicated table's changes in an Athena query", "s3:GetObject",
              changes, **ATHENA_CALL)  # fmt: skip
    yield cap("changes-firehose.destination", "change the changes Firehose's destination",
              "firehose:UpdateDestination", t.changes_delivery_stream_arn)  # fmt: skip


def _workgroups(stack: Landmarks, cap: Factory) -> Iterator[Capability | None]:
    """Each querying persona's workgroup and results prefix, tried by every persona: `athena.query@bizuser`."""
    t = stack.targets
    for persona, workgroup in athena_workgroup_arns(t).items():
        at, prefix = f"@{persona.lower()}", results_prefix(persona)
        where = f" in the {persona} workgroup"
        result = _object(t.results_bucket_arn, f"{prefix}0b5c8a3e-2f1d-4c9b-9a57-1d2e3f4a5b6c.csv")
        yield cap(f"athena.query{at}", f"run a query{where}", "athena:StartQueryExecution", workgroup)
        yield cap(f"athena.list{at}", f"list the query executions{where}", "athena:ListQueryExecutions", workgroup)
        yield cap(f"athena.results{at}", f"fetch a query's results{where}", "athena:GetQueryResults", workgroup)
        yield cap(f"athena.analyses{at}", f"read the prepared analyses{where}", "athena:GetPreparedStatement",
                  workgroup)  # fmt: skip
        yield cap(f"athena.tune{at}", f"change the scan cap or enforcement{where}", "athena:UpdateWorkGroup",
                  workgroup)  # fmt: skip
        yield cap(f"results.list{at}", f"list {persona}'s query results", "s3:ListBucket", t.results_bucket_arn,
                  **{"s3:prefix": prefix})  # fmt: skip
        yield cap(f"results.download{at}", f"download {persona}'s query result file", "s3:GetObject", result)
        yield cap(f"results.write-via-athena{at}", f"write {persona}'s query result in an Athena query",
                  "s3:PutObject", result, **ATHENA_CALL)  # fmt: skip
    yield cap("results.list-all", "list every query result", "s3:ListBucket", t.results_bucket_arn)
    yield cap("results.upload", "upload a file into the results bucket", "s3:PutObject",
              _object(t.results_bucket_arn, "results/bizuser/forged.csv"))  # fmt: skip


def _warehouse_capabilities(stack: Landmarks, cap: Factory) -> Iterator[Capability | None]:
    t = stack.targets
    action, resource = stack.warehouse_credentials
    yield cap("warehouse.connect", "get temporary warehouse credentials", action, resource)
    yield cap("warehouse.sql", "run SQL through the Data API", "redshift-data:ExecuteStatement", t.warehouse_arn)
    delete = "redshift-serverless:DeleteWorkgroup" if t.warehouse_mode == "serverless" else "redshift:DeleteCluster"
    yield cap("warehouse.delete", "delete the warehouse", delete, t.warehouse_arn)
    # require_ssl and activity logging: the workgroup's config parameters, or the cluster's parameter group.
    configure = "redshift-serverless:UpdateWorkgroup" if t.warehouse_mode == "serverless" else "redshift:ModifyCluster"
    yield cap("warehouse.configure", "change the warehouse's SSL and logging settings", configure, t.warehouse_arn)


SAMPLE_DEAD_LETTER_OBJECT = "failed/2026/01/15/09/uba-prod-search-feed-to-index-1-2026-01-15-09-00-00.gz"


def _search(stack: Landmarks, cap: Factory) -> Iterator[Capability | None]:
    t = stack.targets
    failed = _object(t.search_dead_letter_bucket_arn, SAMPLE_DEAD_LETTER_OBJECT)
    yield cap("search.read", "search the log index", "aoss:APIAccessAll", t.search_collection_arn)
    yield cap("search.read-domain", "search the log index on the domain", "es:ESHttpPost",
              _object(t.search_domain_arn, "uba-search*/_search"))  # fmt: skip
    yield cap("search.delete", "delete the search collection", "aoss:DeleteCollection", t.search_collection_arn)
    yield cap("search.feed-read", "read the search feed stream", "kinesis:GetRecords", t.search_feed_stream_arn)
    yield cap("search.dead-letters", "read a document Firehose could not index", "s3:GetObject", failed)
    yield cap("search.dead-letters-delete", "delete a dead-lettered search document", "s3:DeleteObject", failed)
    yield cap("search.delivery-change", "change the search delivery's destination", "firehose:UpdateDestination",
              t.search_delivery_stream_arn)  # fmt: skip
    # The admin function is a domain's master user: shipping its code would be admin inside the index.
    yield cap("search.admin-code", "ship code to the search-admin Lambda", "lambda:UpdateFunctionCode",
              t.search_admin_function_arn)  # fmt: skip


def _live(stack: Landmarks, cap: Factory) -> Iterator[Capability | None]:
    t = stack.targets
    yield cap(
        "live.api-code",
        "ship new code to the realtime API Lambda",
        "lambda:UpdateFunctionCode",
        t.live_api_function_arn,
    )
    yield cap(
        "live.push-stop", "throttle the pusher to zero", "lambda:PutFunctionConcurrency", t.live_push_function_arn
    )
    yield cap("live.push-logs", "read the pusher's logs", "logs:FilterLogEvents", stack.log_group_arn("live-push-logs"))
    yield cap("live.pool-read", "read the user pool's configuration", "cognito-idp:DescribeUserPool", t.user_pool_arn)
    yield cap(
        "live.pool-mfa-off", "switch the user pool's MFA off", "cognito-idp:SetUserPoolMfaConfig", t.user_pool_arn
    )
    yield cap("live.invite", "invite someone to the dashboard by hand", "cognito-idp:AdminCreateUser", t.user_pool_arn)
    yield cap(
        "live.sign-out-viewer", "sign a viewer out everywhere", "cognito-idp:AdminUserGlobalSignOut", t.user_pool_arn
    )
    yield cap("live.lock-viewer", "lock a viewer out", "cognito-idp:AdminDisableUser", t.user_pool_arn)
    yield cap("live.page-ship", "ship a new dashboard page", "s3:PutObject", _object(t.site_bucket_arn, "app.js"))
    yield cap(
        "live.page-read",
        "download the page's files from the bucket",
        "s3:GetObject",
        _object(t.site_bucket_arn, "config.json"),
    )
    yield cap(
        "live.csp-change",
        "change the dashboard's distribution (its headers)",
        "cloudfront:UpdateDistribution",
        t.site_distribution_arn,
    )
    yield cap(
        "live.headers-change",
        "change the page's Content-Security-Policy",
        "cloudfront:UpdateResponseHeadersPolicy",
        t.site_headers_policy_arn,
    )
    yield cap("live.site-key-decrypt", "decrypt directly with the site key", "kms:Decrypt", t.site_key_arn)
    yield cap("live.connections-read", "see who is connected", "dynamodb:Scan", t.live_connections_table_arn)
    yield cap(
        "live.push-dlq", "read changes the pusher dead-lettered", "sqs:ReceiveMessage", t.live_dead_letter_queue_arn
    )
    push = t.live_push_api_id
    connection = (
        None
        if push is None
        else (f"arn:aws:execute-api:{t.region}:{t.account_id}:{push}/live/DELETE/@connections/abc123=")
    )
    yield cap("live.disconnect-page", "disconnect an open page", "execute-api:ManageConnections", connection)
    yield cap(
        "live.push-as-pusher",
        "post a message to an open page",
        "execute-api:ManageConnections",
        None if connection is None else connection.replace("/DELETE/", "/POST/"),
    )


def _bi(stack: Landmarks, cap: Factory) -> Iterator[Capability | None]:
    """The QuickSight dashboard: business users open it (as themselves); nobody but admin changes or shares it."""
    t = stack.targets
    dashboard = t.bi_dashboard_arn
    own, other = quicksight_user_arn(t, "bo.analyst"), quicksight_user_arn(t, "omar.ops")
    as_bo = {"aws:username": "bo.analyst"}
    yield cap("bi.open", "open the BI dashboard", "quicksight:DescribeDashboard", dashboard)
    yield cap("bi.embed-self", "get an embed URL of the BI dashboard as oneself",
              "quicksight:GenerateEmbedUrlForRegisteredUser", own if dashboard else None, **as_bo)  # fmt: skip
    yield cap("bi.embed-other", "get an embed URL as another QuickSight user",
              "quicksight:GenerateEmbedUrlForRegisteredUser", other if dashboard else None, **as_bo)  # fmt: skip
    yield cap("bi.edit", "change the BI dashboard", "quicksight:UpdateDashboard", dashboard)
    yield cap("bi.share", "share the BI dashboard", "quicksight:UpdateDashboardPermissions", dashboard)
    yield cap("bi.register-admin", "make a QuickSight user an admin", "quicksight:RegisterUser",
              other if dashboard else None)  # fmt: skip
    yield cap("bi.query", "run a query in QuickSight's Athena workgroup", "athena:StartQueryExecution",
              t.bi_athena_workgroup_arn)  # fmt: skip
    results = _object(t.results_bucket_arn, "results/bi/0b5c8a3e.csv") if dashboard else None
    yield cap("bi.results", "download QuickSight's query results (every line, before row-level security)",
              "s3:GetObject", results)  # fmt: skip


def _cost(stack: Landmarks, cap: Factory) -> Iterator[Capability | None]:
    t = stack.targets
    yield cap("budget.view", "view the stack's budget", "budgets:ViewBudget", t.budget_arn)
    yield cap("budget.change", "change the stack's budget or its alerts", "budgets:ModifyBudget", t.budget_arn)


def _own(stack: Landmarks) -> Iterator[Capability | None]:
    cap = _factory()
    for tier in (_core, _ingest, _edge, _streaming, _lake, _cdc, _warehouse_capabilities, _bi, _cost, _search, _live):
        yield from tier(stack, cap)


def _cross(other: Landmarks) -> Iterator[Capability | None]:
    """The same kinds of request, aimed at another stack's resources."""
    t = other.targets
    cap = _factory(prefix=f"{other.snapshot.stack}:", suffix=f" of stack {other.snapshot.stack}")
    yield cap("events.put", "put a record on the events stream", "kinesis:PutRecord", t.events_stream_arn)
    yield cap("events.read", "read the events stream", "kinesis:GetRecords", t.events_stream_arn)
    yield cap("api.invoke", "send an event through the API", "execute-api:Invoke", other.events_route)
    yield cap("ingest.code", "ship code to the ingest Lambda", "lambda:UpdateFunctionCode", t.ingest_function_arn)
    yield cap("edge-logs.read", "read the real-time log lines", "kinesis:GetRecords", t.edge_logs_stream_arn)
    yield cap("edge.code", "ship code to the edge-log Lambda", "lambda:UpdateFunctionCode", t.edge_function_arn)
    yield cap(
        "ingest.logs", "read the ingest Lambda's logs", "logs:FilterLogEvents", other.log_group_arn("ingest-logs")
    )
    yield cap(
        "alarm.change",
        "change an alarm",
        "cloudwatch:PutMetricAlarm",
        other.first_arn("aws:cloudwatch/metricAlarm:MetricAlarm"),
    )
    yield cap("dashboard.view", "view the ops dashboard", "cloudwatch:GetDashboard", t.dashboard_arn)
    yield cap("flink.stop", "stop the Flink application", "kinesisanalytics:StopApplication", t.flink_application_arn)
    yield cap("realtime.get", "read a realtime result", "dynamodb:GetItem", t.results_table_arn)
    yield cap(
        "lake.read-via-athena",
        "read lake events in an Athena query",
        "s3:GetObject",
        _object(t.lake_bucket_arn, SAMPLE_EVENTS_OBJECT),
        **ATHENA_CALL,
    )
    for persona, workgroup in athena_workgroup_arns(t).items():
        yield cap(f"athena.query@{persona.lower()}", f"run a query in the {persona} workgroup",
                  "athena:StartQueryExecution", workgroup)  # fmt: skip
    yield cap("catalog.read", "read the events table definition", "glue:GetTable", other.events_table_arn)
    action, resource = other.warehouse_credentials
    yield cap("warehouse.connect", "get warehouse credentials", action, resource)
    yield cap("search.read", "search the log index", "aoss:APIAccessAll", t.search_collection_arn)
    yield cap("live.pool-read", "read the user pool's configuration", "cognito-idp:DescribeUserPool", t.user_pool_arn)
    yield cap("bi.open", "open the BI dashboard", "quicksight:DescribeDashboard", t.bi_dashboard_arn)
    yield cap("budget.view", "view the budget", "budgets:ViewBudget", t.budget_arn)


def capabilities(own: Landmarks, others: list[Landmarks]) -> list[Capability]:
    found = [c for c in _own(own) if c is not None]
    for other in others:
        found.extend(c for c in _cross(other) if c is not None)
    return found
