"""Reading the access tier back from a mock-engine snapshot: groups, their policies, staff, and targets.

Everything here reads what the program registered (resource inputs and mock state); nothing
restates what the program meant to do.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from components.access.policies import ADMINISTRATOR_ACCESS_ARN, ADMINISTRATOR_ACCESS_DOCUMENT, AccessTargets
from settings import PERSONAS, Persona
from tools.engine.mocks import ProgramError, RegisteredResource, Snapshot
from tools.iam.evaluate import UnmodelledPolicyError

ATHENA_WORKGROUP = "aws:athena/workgroup:Workgroup"


def of_type(snapshot: Snapshot, type_token: str) -> list[RegisteredResource]:
    return [r for r in snapshot.resources if r.type == type_token]


def find(snapshot: Snapshot, type_token: str, name: str | None = None) -> RegisteredResource | None:
    found = [r for r in of_type(snapshot, type_token) if name is None or r.name == name]
    if len(found) > 1:
        raise ProgramError(f"stack {snapshot.stack}: {len(found)} resources {type_token} {name or ''}, expected one")
    return found[0] if found else None


FIREHOSE = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"


def arn_of(snapshot: Snapshot, type_token: str, name: str | None = None) -> str | None:
    resource = find(snapshot, type_token, name)
    return None if resource is None else str(resource.state["arn"])


def _group_personas(snapshot: Snapshot) -> dict[str, Persona]:
    """IAM group name -> persona, from the access tier's groups (`group-<persona>`)."""
    personas: dict[str, Persona] = {}
    for group in of_type(snapshot, "aws:iam/group:Group"):
        persona = group.name.removeprefix("group-")
        if persona in PERSONAS:
            personas[str(group.inputs["name"])] = persona
    return personas


def _document(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str) else dict(value)


def group_documents(snapshot: Snapshot) -> dict[Persona, list[dict[str, Any]]]:
    """Every policy document each group holds: attached managed policies and inline group policies."""
    personas = _group_personas(snapshot)
    managed = {str(p.state["arn"]): _document(p.inputs["policy"]) for p in of_type(snapshot, "aws:iam/policy:Policy")}
    documents: dict[Persona, list[dict[str, Any]]] = {persona: [] for persona in personas.values()}
    for attachment in of_type(snapshot, "aws:iam/groupPolicyAttachment:GroupPolicyAttachment"):
        arn = str(attachment.inputs["policyArn"])
        if arn == ADMINISTRATOR_ACCESS_ARN:
            document = ADMINISTRATOR_ACCESS_DOCUMENT
        elif arn in managed:
            document = managed[arn]
        else:
            raise UnmodelledPolicyError(f"group policy {arn} is neither the program's own nor AdministratorAccess")
        documents[personas[str(attachment.inputs["group"])]].append(document)
    for inline in of_type(snapshot, "aws:iam/groupPolicy:GroupPolicy"):
        documents[personas[str(inline.inputs["group"])]].append(_document(inline.inputs["policy"]))
    return documents


@dataclass(frozen=True)
class StaffEntry:
    user: str
    groups: list[Persona]
    created_by_stack: bool


def staff(snapshot: Snapshot) -> list[StaffEntry]:
    personas = _group_personas(snapshot)
    created = {str(u.inputs["name"]) for u in of_type(snapshot, "aws:iam/user:User")}
    entries = [
        StaffEntry(
            user=str(m.inputs["user"]),
            groups=[personas[str(g)] for g in m.inputs["groups"]],
            created_by_stack=str(m.inputs["user"]) in created,
        )
        for m in of_type(snapshot, "aws:iam/userGroupMembership:UserGroupMembership")
    ]
    return sorted(entries, key=lambda entry: (PERSONAS.index(entry.groups[0]), entry.user.lower()))


def _sink_function(snapshot: Snapshot) -> RegisteredResource | None:
    """The alert-sink Lambda (the lake tier has a function of its own, the partition registrar)."""
    return next((f for f in of_type(snapshot, "aws:lambda/function:Function") if f.name == "alert-sink-function"), None)


def _warehouse(snapshot: Snapshot) -> dict[str, str | None]:
    workgroup = find(snapshot, "aws:redshiftserverless/workgroup:Workgroup")
    namespace = find(snapshot, "aws:redshiftserverless/namespace:Namespace")
    cluster = find(snapshot, "aws:redshift/cluster:Cluster")
    if workgroup is not None:
        database = None if namespace is None else namespace.inputs.get("dbName")
        return {"warehouse_mode": "serverless", "warehouse_arn": str(workgroup.state["arn"]),
                "warehouse_name": str(workgroup.inputs["workgroupName"]), "warehouse_database": database}  # fmt: skip
    if cluster is not None:
        return {"warehouse_mode": "provisioned", "warehouse_arn": str(cluster.state["arn"]),
                "warehouse_name": str(cluster.state["clusterIdentifier"]),
                "warehouse_database": cluster.inputs.get("databaseName")}  # fmt: skip
    return {}


FIREHOSE = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"
POLICY = "aws:iam/policy:Policy"


def _search(snapshot: Snapshot) -> dict[str, str | None]:
    collection = arn_of(snapshot, "aws:opensearch/serverlessCollection:ServerlessCollection")
    domain = arn_of(snapshot, "aws:opensearch/domain:Domain")
    # bizUser searches only where the stack said so, which the program shows as bizUser's search policy.
    bizuser = any(str(p.inputs.get("name", "")).endswith("-bizuser-search") for p in of_type(snapshot, POLICY))
    return {
        "search_feed_stream_arn": arn_of(snapshot, "aws:kinesis/stream:Stream", "search-feed-stream"),
        "search_collection_arn": collection,
        "search_domain_arn": domain,
        "search_delivery_stream_arn": arn_of(snapshot, FIREHOSE, "search-feed-to-index"),
        "search_dead_letter_bucket_arn": arn_of(snapshot, "aws:s3/bucket:Bucket", "search-dead-letters-bucket"),
        "search_admin_function_arn": arn_of(snapshot, "aws:lambda/function:Function", "search-admin-function"),
        "bizuser_search_arn": (collection or domain) if bizuser else None,
    }


def _bi(snapshot: Snapshot) -> dict[str, str | None]:
    """The BI tier's dashboard, and where its QuickSight users live (from its groups)."""
    dashboard = find(snapshot, "aws-native:quicksight:Dashboard")
    groups = of_type(snapshot, "aws:quicksight/group:Group")
    if dashboard is None or not groups:
        return {}
    provider = find(snapshot, "pulumi:providers:aws", "aws")  # the program's own, not the edge's us-east-1 one
    region = groups[0].inputs.get("region") or (None if provider is None else provider.inputs["region"])
    return {
        "bi_dashboard_arn": str(dashboard.state["arn"]),
        "bi_namespace": str(groups[0].inputs.get("namespace") or "default"),
        "bi_identity_region": None if region is None else str(region),
        "bi_athena_workgroup_arn": arn_of(snapshot, ATHENA_WORKGROUP, "bi-athena-workgroup"),
    }


def targets_from_snapshot(snapshot: Snapshot) -> AccessTargets[str]:
    """The stack's resources as the access tier names them, read back from what the program registered."""
    platform = find(snapshot, "uba:platform:Platform")
    provider = find(snapshot, "pulumi:providers:aws", "aws")  # the program's own (the edge adds one in us-east-1)
    key_arn = arn_of(snapshot, "aws:kms/key:Key", "platform-key")
    if platform is None or provider is None or key_arn is None:
        raise ProgramError(f"stack {snapshot.stack}: no platform, provider or KMS key registered")
    api = find(snapshot, "aws:apigateway/restApi:RestApi")
    stage = find(snapshot, "aws:apigateway/stage:Stage")
    api_key = find(snapshot, "aws:apigateway/apiKey:ApiKey")
    database = find(snapshot, "aws:glue/catalogDatabase:CatalogDatabase")
    sink = _sink_function(snapshot)
    return AccessTargets[str](
        prefix=platform.name,
        region=str(provider.inputs["region"]),
        account_id=key_arn.split(":")[4],
        kms_key_arn=key_arn,
        ops_topic_arn=str(arn_of(snapshot, "aws:sns/topic:Topic", "ops-topic")),
        dashboard_arn=arn_of(snapshot, "aws:cloudwatch/dashboard:Dashboard"),
        events_stream_arn=arn_of(snapshot, "aws:kinesis/stream:Stream", "events-stream"),
        ingest_function_arn=arn_of(snapshot, "aws:lambda/function:Function", "ingest-function"),
        api_id=None if api is None else str(api.state["id"]),
        api_stage=None if stage is None else str(stage.inputs["stageName"]),
        api_key_id=None if api_key is None else str(api_key.state["id"]),
        alerts_stream_arn=arn_of(snapshot, "aws:kinesis/stream:Stream", "alerts-stream"),
        results_table_arn=arn_of(snapshot, "aws:dynamodb/table:Table", "realtime-results"),
        business_topic_arn=arn_of(snapshot, "aws:sns/topic:Topic", "business-alerts-topic"),
        dead_letter_queue_arn=arn_of(snapshot, "aws:sqs/queue:Queue", "alert-sink-dlq"),
        sink_function_arn=None if sink is None else str(sink.state["arn"]),
        flink_application_arn=arn_of(snapshot, "aws:kinesisanalyticsv2/application:Application"),
        lake_bucket_arn=arn_of(snapshot, "aws:s3/bucket:Bucket", "lake-bucket"),
        results_bucket_arn=arn_of(snapshot, "aws:s3/bucket:Bucket", "athena-results-bucket"),
        log_bucket_arn=arn_of(snapshot, "aws:s3/bucket:Bucket", "lake-access-logs-bucket"),
        glue_database_name=None if database is None else str(database.inputs["name"]),
        athena_workgroup_arn=arn_of(snapshot, ATHENA_WORKGROUP, "athena-workgroup"),
        athena_dev_workgroup_arn=arn_of(snapshot, ATHENA_WORKGROUP, "athena-workgroup-dev"),
        athena_bizuser_workgroup_arn=arn_of(snapshot, ATHENA_WORKGROUP, "athena-workgroup-bizuser"),
        delivery_stream_arn=arn_of(snapshot, FIREHOSE, "events-to-lake"),
        changes_delivery_stream_arn=arn_of(snapshot, FIREHOSE, "changes-to-lake"),
        change_processor_arn=arn_of(snapshot, "aws:lambda/function:Function", "change-processor-function"),
        changes_stream_arn=arn_of(snapshot, "aws:kinesis/stream:Stream", "changes-stream"),
        replication_config_arn=arn_of(snapshot, "aws:dms/replicationConfig:ReplicationConfig"),
        **_search(snapshot),
        api_access_log_group_arn=_access_log_destination(stage),
        edge_logs_stream_arn=arn_of(snapshot, "aws:kinesis/stream:Stream", "edge-logs-stream"),
        edge_function_arn=arn_of(snapshot, "aws:lambda/function:Function", "edge-logs-function"),
        edge_invalid_events_queue_arn=arn_of(snapshot, "aws:sqs/queue:Queue", "edge-invalid-events"),
        edge_failed_batches_queue_arn=arn_of(snapshot, "aws:sqs/queue:Queue", "edge-logs-failed-batches"),
        edge_distribution_arn=arn_of(snapshot, "aws:cloudfront/distribution:Distribution", "edge-distribution"),
        **_warehouse(snapshot),
        **_live(snapshot),
        **_bi(snapshot),
        budget_arn=arn_of(snapshot, "aws:budgets/budget:Budget"),
        alarm_arns=tuple(str(a.state["arn"]) for a in of_type(snapshot, "aws:cloudwatch/metricAlarm:MetricAlarm")),
        log_group_arns=tuple(str(g.state["arn"]) for g in of_type(snapshot, "aws:cloudwatch/logGroup:LogGroup")),
    )


def _live(snapshot: Snapshot) -> dict[str, str | None]:
    """The live tier's resources, by the logical names `components/live` gives them."""
    function = "aws:lambda/function:Function"
    http_api = find(snapshot, "aws:apigatewayv2/api:Api", "realtime-api")
    push_api = find(snapshot, "aws:apigatewayv2/api:Api", "push-api")
    return {
        "live_api_id": None if http_api is None else str(http_api.state["id"]),
        "live_push_api_id": None if push_api is None else str(push_api.state["id"]),
        "live_api_function_arn": arn_of(snapshot, function, "live-api-function"),
        "live_authorizer_function_arn": arn_of(snapshot, function, "live-authorizer-function"),
        "live_connections_function_arn": arn_of(snapshot, function, "live-connections-function"),
        "live_push_function_arn": arn_of(snapshot, function, "live-push-function"),
        "live_connections_table_arn": arn_of(snapshot, "aws:dynamodb/table:Table", "live-connections-table"),
        "live_dead_letter_queue_arn": arn_of(snapshot, "aws:sqs/queue:Queue", "live-push-dlq"),
        "user_pool_arn": arn_of(snapshot, "aws:cognito/userPool:UserPool", "user-pool"),
        "site_bucket_arn": arn_of(snapshot, "aws:s3/bucket:Bucket", "live-site-bucket"),
        "site_distribution_arn": arn_of(snapshot, "aws:cloudfront/distribution:Distribution", "site-distribution"),
        "site_headers_policy_arn": arn_of(
            snapshot, "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy", "site-headers"
        ),
        "site_key_arn": arn_of(snapshot, "aws:kms/key:Key", "site-key"),
    }


def _access_log_destination(stage: RegisteredResource | None) -> str | None:
    settings = None if stage is None else stage.inputs.get("accessLogSettings")
    return None if not settings else str(settings["destinationArn"])


# --- code a persona may change, and the roles that code runs as ----------------------------------------

# Actions that put other code (or what loads code: layers, configuration) behind a service role.
LAMBDA_CODE_ACTIONS = ("lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration")
FLINK_CODE_ACTIONS = ("kinesisanalytics:UpdateApplication",)


@dataclass(frozen=True)
class CodePath:
    """Whoever may do `action` on `resource` runs code of their choosing as `role_arn`."""

    action: str
    resource: str
    role_arn: str


def code_paths(snapshot: Snapshot) -> list[CodePath]:
    """Every function and Flink application of the stack, with the actions that change its code."""
    paths = [
        CodePath(action, str(function.state["arn"]), str(function.inputs["role"]))
        for function in of_type(snapshot, "aws:lambda/function:Function")
        for action in LAMBDA_CODE_ACTIONS
    ]
    paths += [
        CodePath(action, str(application.state["arn"]), str(application.inputs["serviceExecutionRole"]))
        for application in of_type(snapshot, "aws:kinesisanalyticsv2/application:Application")
        for action in FLINK_CODE_ACTIONS
    ]
    return paths


def role_documents(snapshot: Snapshot, role_arn: str) -> list[dict[str, Any]]:
    """The policy documents a role of the program holds (its inline policies); refused if any is out of sight."""
    names = [str(r.inputs["name"]) for r in of_type(snapshot, "aws:iam/role:Role") if str(r.state["arn"]) == role_arn]
    if len(names) != 1:
        raise UnmodelledPolicyError(
            f"stack {snapshot.stack}: code runs as {role_arn}, which the program did not create"
        )
    attached = [a for a in of_type(snapshot, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                if str(a.inputs["role"]) == names[0]]  # fmt: skip
    if attached:
        raise UnmodelledPolicyError(f"role {names[0]} holds managed policies this reader cannot see into")
    return [_document(p.inputs["policy"]) for p in of_type(snapshot, "aws:iam/rolePolicy:RolePolicy")
            if str(p.inputs["role"]) == names[0]]  # fmt: skip
