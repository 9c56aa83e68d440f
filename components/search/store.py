"""What holds the search index: an OpenSearch Serverless time series collection, or a managed domain.

Serverless (the default). A `TIMESERIES` collection and the four policies it needs:
- encryption: the platform's customer-managed key, never an AWS-owned one;
- network: reachable only through an OpenSearch Serverless VPC endpoint in the warehouse VPC
  (`network.access: vpc`), or from public networks (`public`), where every request must
  still be signed by an IAM principal the data access policy names;
- data access: Firehose writes the search indices, the search-admin function manages the
  index template, op and dev (and bizUser with `bizuser_search`) read, admin manages all.
  Data access policies name IAM users and roles, not groups, so the staff of each group
  are named (root-path IAM users, as `access.staff` creates them); the IAM side
  (`aoss:APIAccessAll` on the collection) is granted to the groups by the access tier;
- retention: a data lifecycle policy keeps documents `retention_days`, then OpenSearch
  Serverless deletes them (best effort, typically within 48 hours after).

Domain (`mode: domain`). A small OpenSearch Service domain in the warehouse VPC: no public
endpoint, encryption at rest with the platform key and node to node, HTTPS only (TLS 1.2+),
and fine-grained access control with IAM as its only way in. Its master user is the
search-admin function's role, which maps the same personas to roles inside the domain
(`lambdas.search_admin.security_requests`); the domain's resource policy admits only the
principals listed above. Firehose rotates the index daily, and the search-admin function
deletes the days past `retention_days` (a daily schedule, see `admin.py`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_aws as aws

from components.search.network import SearchNetwork
from components.shared.context import StackContext, child, stateful
from lambdas.search_schema import INDEX_PATTERN
from settings import SearchSettings

Service = Literal["aoss", "es"]
# The current TLS policy of OpenSearch Service domains: TLS 1.2 and 1.3 with perfect forward secrecy only.
TLS_POLICY = "Policy-Min-TLS-1-2-PFS-2023-10"

WRITER_INDEX_PERMISSIONS = ["aoss:CreateIndex", "aoss:UpdateIndex", "aoss:DescribeIndex", "aoss:WriteDocument"]
ADMIN_COLLECTION_PERMISSIONS = ["aoss:CreateCollectionItems", "aoss:UpdateCollectionItems",
                                "aoss:DescribeCollectionItems"]  # fmt: skip
READER_INDEX_PERMISSIONS = ["aoss:ReadDocument", "aoss:DescribeIndex"]
READER_DOMAIN_ACTIONS = ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost"]


@dataclass(frozen=True)
class SearchPrincipals:
    """Who may do what with the search data (IAM ARNs)."""

    writer: pulumi.Output[str]  # the Firehose delivery role
    manager: pulumi.Output[str]  # the search-admin function's role
    readers: Sequence[pulumi.Input[str]] = ()  # op and dev staff (and bizUser's with bizuser_search)
    admins: Sequence[pulumi.Input[str]] = ()  # admin staff

    def resolved(self) -> pulumi.Output[dict[str, list[str]]]:
        """Every principal, by kind (writer, manager, readers, admins), once the ARNs are known."""
        people: dict[str, list[pulumi.Input[str]]] = {
            "writer": [self.writer],
            "manager": [self.manager],
            "readers": list(self.readers),
            "admins": list(self.admins),
        }
        return pulumi.Output.all(**{key: pulumi.Output.all(*values) for key, values in people.items()})


@dataclass(frozen=True)
class SearchStore:
    service: Service
    name: str  # the collection's or the domain's name
    arn: pulumi.Output[str]
    endpoint: pulumi.Output[str]  # https://...
    dashboards_endpoint: pulumi.Output[str]
    ready: list[pulumi.Resource] = field(default_factory=list)  # what must exist before anything connects
    collection: aws.opensearch.ServerlessCollection | None = None
    domain: aws.opensearch.Domain | None = None


def store_name(context: StackContext) -> str:
    return context.name("search")


# --- Serverless --------------------------------------------------------------------------------------------


def _rules(resource_type: str, resources: Sequence[str], permissions: Sequence[str] | None = None) -> dict[str, Any]:
    rule: dict[str, Any] = {"ResourceType": resource_type, "Resource": list(resources)}
    if permissions is not None:
        rule["Permission"] = list(permissions)
    return rule


def data_access_policy(collection: str, principals: Mapping[str, Sequence[str]]) -> list[dict[str, Any]]:
    """The collection's data access policy: one rule set per kind of principal that has any member."""
    this_collection = [f"collection/{collection}"]
    search_indices = [f"index/{collection}/{INDEX_PATTERN}"]
    statements = {
        "writer": ("Firehose writes the search feed", [
            _rules("index", search_indices, WRITER_INDEX_PERMISSIONS),
            _rules("collection", this_collection, ["aoss:DescribeCollectionItems"])]),
        "manager": ("The search-admin function manages the index template", [
            _rules("collection", this_collection, ADMIN_COLLECTION_PERMISSIONS),
            _rules("index", search_indices, ["aoss:DescribeIndex"])]),
        "readers": ("Staff who search (op, dev)", [
            _rules("index", search_indices, READER_INDEX_PERMISSIONS),
            _rules("collection", this_collection, ["aoss:DescribeCollectionItems"])]),
        "admins": ("Admin staff manage everything in the collection", [
            _rules("index", [f"index/{collection}/*"], ["aoss:*"]),
            _rules("collection", this_collection, ["aoss:*"])]),
    }  # fmt: skip
    return [
        {"Description": description, "Rules": rules, "Principal": sorted(principals[key])}
        for key, (description, rules) in statements.items()
        if principals.get(key)
    ]


def serverless_collection(
    parent: pulumi.Resource,
    context: StackContext,
    settings: SearchSettings,
    network: SearchNetwork | None,
    principals: SearchPrincipals,
) -> SearchStore:
    name = store_name(context)
    collection_rule = [_rules("collection", [f"collection/{name}"])]
    encryption = aws.opensearch.ServerlessSecurityPolicy(
        "search-encryption-policy",
        name=f"{name}-keys",
        type="encryption",
        description="The search collection is encrypted with the platform key",
        policy=context.kms_key_arn.apply(
            lambda key: json.dumps({"Rules": collection_rule, "AWSOwnedKey": False, "KmsARN": key})
        ),
        opts=child(parent),
    )
    ready: list[pulumi.Resource] = [encryption]
    if network is not None:
        endpoint = aws.opensearch.ServerlessVpcEndpoint(
            "search-vpc-endpoint",
            name=f"{name}-vpce",
            vpc_id=network.endpoint_group.vpc_id,
            subnet_ids=network.subnet_ids,
            security_group_ids=[network.endpoint_group.id],
            opts=child(parent),
        )
        network_rules = [{
            "Description": "Only through the VPC endpoint in the warehouse VPC",
            "Rules": [_rules("collection", [f"collection/{name}"]), _rules("dashboard", [f"collection/{name}"])],
            "AllowFromPublic": False,
        }]  # fmt: skip
        network_policy_document = endpoint.id.apply(
            lambda vpce: json.dumps([{**network_rules[0], "SourceVPCEs": [vpce]}])
        )
        ready += [endpoint, *network.rules]
    else:
        network_policy_document = pulumi.Output.from_input(json.dumps([{
            "Description": "From public networks; every request is still IAM-signed and checked by the data policy",
            "Rules": [_rules("collection", [f"collection/{name}"]), _rules("dashboard", [f"collection/{name}"])],
            "AllowFromPublic": True,
        }]))  # fmt: skip
    network_policy = aws.opensearch.ServerlessSecurityPolicy(
        "search-network-policy",
        name=f"{name}-network",
        type="network",
        description="Who can reach the search collection over the network",
        policy=network_policy_document,
        opts=child(parent),
    )
    ready.append(network_policy)
    collection = aws.opensearch.ServerlessCollection(
        "search-collection",
        name=name,
        type="TIMESERIES",
        description="Log search: error and warning events and the alerts",
        standby_replicas="ENABLED" if settings.serverless.standby_replicas else "DISABLED",
        # A collection is created only once a matching encryption policy exists.
        opts=stateful(parent, context.protect_stateful, depends_on=[encryption, network_policy]),
    )
    access = aws.opensearch.ServerlessAccessPolicy(
        "search-data-access-policy",
        name=f"{name}-access",
        type="data",
        description="Firehose writes, the admin function manages, staff search by group",
        policy=principals.resolved().apply(lambda resolved: json.dumps(data_access_policy(name, resolved))),
        opts=child(parent),
    )
    lifecycle = aws.opensearch.ServerlessLifecyclePolicy(
        "search-retention-policy",
        name=f"{name}-retention",
        type="retention",
        description=f"Searchable documents are kept {settings.retention_days} days",
        policy=json.dumps(retention_policy(name, settings.retention_days)),
        opts=child(parent),
    )
    ready += [collection, access, lifecycle]
    return SearchStore(
        service="aoss",
        name=name,
        arn=collection.arn,
        endpoint=collection.collection_endpoint,
        dashboards_endpoint=collection.dashboard_endpoint,
        ready=ready,
        collection=collection,
    )


def retention_policy(collection: str, days: int) -> dict[str, Any]:
    return {
        "Rules": [
            {"ResourceType": "index", "Resource": [f"index/{collection}/{INDEX_PATTERN}"],
             "MinIndexRetention": f"{days}d"}
        ]
    }  # fmt: skip


# --- domain ------------------------------------------------------------------------------------------------


def domain_access_policy(domain_arn: str, principals: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """The domain's resource policy: only the platform's roles and the staff, and readers only read."""
    everything = f"{domain_arn}/*"
    statements = [
        {"Sid": "PlatformRoles", "Effect": "Allow", "Principal": {"AWS": sorted([*principals["writer"],
                                                                                  *principals["manager"]])},
         "Action": ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut", "es:ESHttpDelete"],
         "Resource": everything},
    ]  # fmt: skip
    if principals.get("admins"):
        statements.append({"Sid": "AdminStaff", "Effect": "Allow", "Principal": {"AWS": sorted(principals["admins"])},
                           "Action": "es:ESHttp*", "Resource": everything})  # fmt: skip
    if principals.get("readers"):
        statements.append({"Sid": "SearchingStaff", "Effect": "Allow",
                           "Principal": {"AWS": sorted(principals["readers"])},
                           "Action": READER_DOMAIN_ACTIONS, "Resource": everything})  # fmt: skip
    return {"Version": "2012-10-17", "Statement": statements}


def domain_store(
    parent: pulumi.Resource,
    context: StackContext,
    settings: SearchSettings,
    network: SearchNetwork,
    principals: SearchPrincipals,
) -> SearchStore:
    name = store_name(context)
    spec = settings.domain
    zones = 2 if spec.instance_count > 1 else 1
    domain_arn = context.arn("es", f"domain/{name}")
    domain = aws.opensearch.Domain(
        "search-domain",
        domain_name=name,
        engine_version=spec.engine_version,
        cluster_config=aws.opensearch.DomainClusterConfigArgs(
            instance_type=spec.instance_type,
            instance_count=spec.instance_count,
            zone_awareness_enabled=zones > 1,
            zone_awareness_config=aws.opensearch.DomainClusterConfigZoneAwarenessConfigArgs(
                availability_zone_count=zones
            )
            if zones > 1
            else None,
        ),
        ebs_options=aws.opensearch.DomainEbsOptionsArgs(
            ebs_enabled=True, volume_type="gp3", volume_size=spec.volume_gb
        ),
        encrypt_at_rest=aws.opensearch.DomainEncryptAtRestArgs(enabled=True, kms_key_id=context.kms_key_arn),
        node_to_node_encryption=aws.opensearch.DomainNodeToNodeEncryptionArgs(enabled=True),
        domain_endpoint_options=aws.opensearch.DomainDomainEndpointOptionsArgs(
            enforce_https=True, tls_security_policy=TLS_POLICY
        ),
        advanced_security_options=aws.opensearch.DomainAdvancedSecurityOptionsArgs(
            enabled=True,
            anonymous_auth_enabled=False,
            internal_user_database_enabled=False,
            master_user_options=aws.opensearch.DomainAdvancedSecurityOptionsMasterUserOptionsArgs(
                master_user_arn=principals.manager
            ),
        ),
        vpc_options=aws.opensearch.DomainVpcOptionsArgs(
            subnet_ids=network.subnet_ids[:zones], security_group_ids=[network.endpoint_group.id]
        ),
        access_policies=pulumi.Output.all(domain_arn, principals.resolved()).apply(
            lambda resolved: json.dumps(domain_access_policy(resolved[0], resolved[1]))
        ),
        opts=stateful(parent, context.protect_stateful, depends_on=network.rules),
    )
    return SearchStore(
        service="es",
        name=name,
        arn=domain.arn,
        endpoint=domain.endpoint.apply(lambda host: f"https://{host}"),
        dashboards_endpoint=domain.dashboard_endpoint.apply(lambda host: f"https://{host}"),
        ready=[domain, *network.rules],
        domain=domain,
    )


def index_settings(settings: SearchSettings) -> dict[str, Any]:
    """Index settings the template carries: none on Serverless (it refuses them), shards and replicas on a domain."""
    if settings.mode == "serverless":
        return {}
    return {"number_of_shards": 1, "number_of_replicas": 1 if settings.domain.instance_count > 1 else 0}
