"""Where DMS runs: the stack's private subnets in the database's VPC, with a security group scoped to what it calls.

DMS's security group has no ingress and two egress rules: the database port to the database's
security group, and HTTPS to the Kinesis and Secrets Manager endpoints (the interface
endpoints created here, or, with `vpc_endpoints: false`, any HTTPS address, for a VPC whose
own endpoints or NAT route serve it). The database's security group gains one rule admitting
DMS's group on the database port, and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.shared.context import StackContext, child
from settings import CdcSettings

HTTPS_PORT = 443
# The services DMS calls from the subnets: the target stream, and the secret with the database credentials.
ENDPOINT_SERVICES = {"kinesis": "kinesis-streams", "secrets": "secretsmanager"}


@dataclass(frozen=True)
class DmsNetwork:
    security_group: aws.ec2.SecurityGroup
    subnet_group: aws.dms.ReplicationSubnetGroup
    ready: list[pulumi.Resource]  # the paths DMS needs before a replication can start


def dms_network(parent: pulumi.Resource, context: StackContext, settings: CdcSettings) -> DmsNetwork:
    network, source = settings.network, settings.source
    name = context.name("cdc")
    group = aws.ec2.SecurityGroup(
        "cdc-dms-sg",
        name=f"{name}-dms",
        description=f"{name}: DMS to the source database on {source.database_port} and to HTTPS endpoints",
        vpc_id=network.vpc_id,
        opts=child(parent),
    )
    ready: list[pulumi.Resource] = [
        _rule(aws.vpc.SecurityGroupEgressRule, "cdc-dms-egress-database", group.id, source.database_port,
              "DMS to the source database", referenced_security_group_id=source.security_group_id, parent=group),
        _rule(aws.vpc.SecurityGroupIngressRule, "cdc-database-ingress-dms", source.security_group_id,
              source.database_port, f"{name} DMS replication", referenced_security_group_id=group.id, parent=group),
    ]  # fmt: skip
    if network.vpc_endpoints:
        ready += _endpoints(group, context, settings, name)
    else:
        ready.append(
            _rule(aws.vpc.SecurityGroupEgressRule, "cdc-dms-egress-https", group.id, HTTPS_PORT,
                  "DMS to Kinesis and Secrets Manager over the VPC's own routes", cidr_ipv4="0.0.0.0/0", parent=group)
        )  # fmt: skip
    subnet_group = aws.dms.ReplicationSubnetGroup(
        "cdc-subnet-group",
        replication_subnet_group_id=name,
        replication_subnet_group_description=f"{name}: private subnets of the source database's VPC",
        subnet_ids=list(network.subnet_ids),
        opts=child(parent),
    )
    return DmsNetwork(security_group=group, subnet_group=subnet_group, ready=ready)


def _endpoints(group: aws.ec2.SecurityGroup, context: StackContext, settings: CdcSettings, name: str) -> list[Any]:
    network = settings.network
    endpoints_group = aws.ec2.SecurityGroup(
        "cdc-endpoints-sg",
        name=f"{name}-endpoints",
        description=f"{name}: HTTPS from DMS to its interface endpoints",
        vpc_id=network.vpc_id,
        opts=child(group),
    )
    resources: list[Any] = [
        _rule(aws.vpc.SecurityGroupIngressRule, "cdc-endpoints-from-dms", endpoints_group.id, HTTPS_PORT,
              "HTTPS from DMS", referenced_security_group_id=group.id, parent=endpoints_group),
        _rule(aws.vpc.SecurityGroupEgressRule, "cdc-dms-egress-endpoints", group.id, HTTPS_PORT,
              "DMS to its interface endpoints", referenced_security_group_id=endpoints_group.id, parent=group),
    ]  # fmt: skip
    for key, service in ENDPOINT_SERVICES.items():
        resources.append(
            aws.ec2.VpcEndpoint(
                f"cdc-{key}-endpoint",
                vpc_id=network.vpc_id,
                service_name=f"com.amazonaws.{context.region}.{service}",
                vpc_endpoint_type="Interface",
                subnet_ids=list(network.subnet_ids),
                security_group_ids=[endpoints_group.id],
                private_dns_enabled=True,
                tags={"Name": f"{name}-{key}"},
                opts=child(endpoints_group),
            )
        )
    return resources


def _rule(
    kind: Any,
    logical_name: str,
    group_id: pulumi.Input[str],
    port: int,
    description: str,
    *,
    parent: pulumi.Resource,
    **peer: Any,
) -> Any:
    return kind(
        logical_name,
        security_group_id=group_id,
        ip_protocol="tcp",
        from_port=port,
        to_port=port,
        description=description,
        opts=child(parent),
        **peer,
    )
