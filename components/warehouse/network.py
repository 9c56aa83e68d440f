"""Where the warehouse lives: a private VPC with no way to the internet, and who may connect.

The created VPC has private subnets only (as many AZs as the Redshift mode needs), one route
table with nothing but the local route and the S3 gateway endpoint's prefix-list route, an S3
gateway endpoint and a Glue interface endpoint (Spectrum reads the lake through S3 and the
catalog through Glue; with enhanced VPC routing and no NAT those are its only ways out), and a
locked-down default security group. There is no internet gateway and no NAT.

The warehouse security group admits TCP 5439 only from the configured CIDRs and security
groups. Its only egress is HTTPS to the S3 prefix list and to the Glue endpoint (or, in an
existing VPC, to that VPC's CIDR, where its endpoints live), so a query cannot reach anything
else even if a route existed.
"""

from __future__ import annotations

import ipaddress
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import pulumi
import pulumi_aws as aws

from components.shared.context import StackContext, child
from components.shared.iam import policy_json
from settings import NetworkSettings

REDSHIFT_PORT = 5439
HTTPS_PORT = 443


@dataclass(frozen=True)
class WarehouseNetwork:
    vpc_id: pulumi.Output[str]
    subnet_ids: list[pulumi.Output[str]]
    security_group_id: pulumi.Output[str]
    spectrum_paths: Sequence[pulumi.Resource]
    """The endpoints and rules Spectrum's traffic takes (enhanced VPC routing): SQL that reads Glue or S3,
    such as CREATE EXTERNAL SCHEMA, waits for them."""


@dataclass(frozen=True)
class EndpointPolicies:
    """What the VPC endpoints let through: the same reads the Spectrum role is granted."""

    s3: Sequence[Mapping[str, Any]]
    glue: Sequence[Mapping[str, Any]]


def subnet_cidrs(vpc_cidr: str, count: int) -> list[str]:
    """The first `count` quarters of the VPC (settings allow /16 to /22, so each has >= 250 addresses)."""
    quarters = ipaddress.IPv4Network(vpc_cidr).subnets(prefixlen_diff=2)
    return [str(network) for network in itertools.islice(quarters, count)]


def build_network(
    parent: pulumi.Resource,
    context: StackContext,
    settings: NetworkSettings,
    subnet_count: int,
    endpoint_policies: EndpointPolicies,
) -> WarehouseNetwork:
    """The created private VPC, or the existing one the stack names; either way a fresh security group."""
    # The S3 prefix list is how a security group names "S3 in this region" without 0.0.0.0/0.
    s3_prefix_list = aws.ec2.get_prefix_list_output(
        name=f"com.amazonaws.{context.region}.s3", opts=pulumi.InvokeOutputOptions(parent=parent)
    )
    if settings.existing_vpc_id is not None:
        return _existing_vpc(parent, context, settings, s3_prefix_list.id)
    return _private_vpc(parent, context, settings, subnet_count, endpoint_policies, s3_prefix_list.id)


def _private_vpc(
    parent: pulumi.Resource,
    context: StackContext,
    settings: NetworkSettings,
    subnet_count: int,
    endpoint_policies: EndpointPolicies,
    s3_prefix_list_id: pulumi.Output[str],
) -> WarehouseNetwork:
    name = context.name("warehouse")
    zones = aws.get_availability_zones_output(state="available", opts=pulumi.InvokeOutputOptions(parent=parent))
    vpc = aws.ec2.Vpc(
        "warehouse-vpc",
        cidr_block=settings.vpc_cidr,
        enable_dns_support=True,
        enable_dns_hostnames=True,  # private DNS of the Glue interface endpoint needs both
        tags={"Name": name},
        opts=child(parent),
    )
    # The default group allows all traffic between its members; empty it so nothing can rely on it.
    aws.ec2.DefaultSecurityGroup("warehouse-default-sg", vpc_id=vpc.id, opts=child(vpc))
    routes = aws.ec2.RouteTable("warehouse-private-routes", vpc_id=vpc.id, tags={"Name": f"{name}-private"},
                                opts=child(vpc))  # fmt: skip
    subnets: list[aws.ec2.Subnet] = []
    for index, cidr in enumerate(subnet_cidrs(settings.vpc_cidr, subnet_count)):
        subnet = aws.ec2.Subnet(
            f"warehouse-subnet-{index}",
            vpc_id=vpc.id,
            cidr_block=cidr,
            availability_zone=zones.names.apply(partial(_nth, index)),
            map_public_ip_on_launch=False,
            tags={"Name": f"{name}-private-{index}"},
            opts=child(vpc),
        )
        aws.ec2.RouteTableAssociation(
            f"warehouse-subnet-{index}-routes", subnet_id=subnet.id, route_table_id=routes.id, opts=child(subnet)
        )
        subnets.append(subnet)

    security_group = _warehouse_security_group(parent, context, settings, vpc.id)
    endpoints_group = aws.ec2.SecurityGroup(
        "warehouse-endpoints-sg",
        name=f"{name}-endpoints",
        description=f"{name}: HTTPS from the warehouse to its interface endpoints",
        vpc_id=vpc.id,
        opts=child(vpc),
    )
    endpoints_ingress = aws.vpc.SecurityGroupIngressRule(
        "warehouse-endpoints-from-warehouse",
        security_group_id=endpoints_group.id,
        ip_protocol="tcp",
        from_port=HTTPS_PORT,
        to_port=HTTPS_PORT,
        referenced_security_group_id=security_group.id,
        description="HTTPS from the warehouse",
        opts=child(endpoints_group),
    )
    s3_endpoint = aws.ec2.VpcEndpoint(
        "warehouse-s3-endpoint",
        vpc_id=vpc.id,
        service_name=f"com.amazonaws.{context.region}.s3",
        vpc_endpoint_type="Gateway",
        route_table_ids=[routes.id],
        policy=_endpoint_policy(endpoint_policies.s3),
        tags={"Name": f"{name}-s3"},
        opts=child(vpc),
    )
    glue_endpoint = aws.ec2.VpcEndpoint(
        "warehouse-glue-endpoint",
        vpc_id=vpc.id,
        service_name=f"com.amazonaws.{context.region}.glue",
        vpc_endpoint_type="Interface",
        subnet_ids=[subnet.id for subnet in subnets],
        security_group_ids=[endpoints_group.id],
        private_dns_enabled=True,
        policy=_endpoint_policy(endpoint_policies.glue),
        tags={"Name": f"{name}-glue"},
        opts=child(vpc),
    )
    egress = [
        _egress(security_group, "warehouse-egress-s3", "HTTPS to S3 (gateway endpoint)",
                prefix_list_id=s3_prefix_list_id),
        _egress(security_group, "warehouse-egress-glue", "HTTPS to the Glue endpoint",
                referenced_security_group_id=endpoints_group.id),
    ]  # fmt: skip
    return WarehouseNetwork(
        vpc_id=vpc.id,
        subnet_ids=[s.id for s in subnets],
        security_group_id=security_group.id,
        spectrum_paths=[s3_endpoint, glue_endpoint, endpoints_ingress, *egress],
    )


def _existing_vpc(
    parent: pulumi.Resource, context: StackContext, settings: NetworkSettings, s3_prefix_list_id: pulumi.Output[str]
) -> WarehouseNetwork:
    """The stack's own VPC: its owners provide the S3 and Glue paths; we add only the security group."""
    assert settings.existing_vpc_id is not None
    vpc = aws.ec2.get_vpc_output(id=settings.existing_vpc_id, opts=pulumi.InvokeOutputOptions(parent=parent))
    security_group = _warehouse_security_group(parent, context, settings, settings.existing_vpc_id)
    egress = [
        _egress(security_group, "warehouse-egress-s3", "HTTPS to S3", prefix_list_id=s3_prefix_list_id),
        # The VPC's interface endpoints (Glue) are somewhere in its CIDR; nothing outside it.
        _egress(security_group, "warehouse-egress-vpc", "HTTPS to the interface endpoints of the VPC",
                cidr_ipv4=vpc.cidr_block),
    ]  # fmt: skip
    return WarehouseNetwork(
        vpc_id=pulumi.Output.from_input(settings.existing_vpc_id),
        subnet_ids=[pulumi.Output.from_input(subnet) for subnet in settings.existing_subnet_ids],
        security_group_id=security_group.id,
        spectrum_paths=egress,  # the VPC's owners provide its endpoints
    )


def _warehouse_security_group(
    parent: pulumi.Resource, context: StackContext, settings: NetworkSettings, vpc_id: pulumi.Input[str]
) -> aws.ec2.SecurityGroup:
    """Port 5439 from the configured clients only. Rules are separate resources, so the group has no
    inline rules and AWS's default allow-all egress is removed when the group is created."""
    name = context.name("warehouse")
    group = aws.ec2.SecurityGroup(
        "warehouse-sg",
        name=name,
        description=f"{name}: Redshift on {REDSHIFT_PORT} from configured clients only",
        vpc_id=vpc_id,
        opts=child(parent),
    )
    for index, cidr in enumerate(settings.allowed_cidrs):
        _ingress(group, f"warehouse-ingress-cidr-{index}", f"Redshift clients in {cidr}", cidr_ipv4=cidr)
    for index, group_id in enumerate(settings.allowed_security_group_ids):
        _ingress(group, f"warehouse-ingress-sg-{index}", f"Redshift clients in {group_id}",
                 referenced_security_group_id=group_id)  # fmt: skip
    return group


def _nth(index: int, names: Sequence[str]) -> str:
    return names[index]


def _ingress(group: aws.ec2.SecurityGroup, logical_name: str, description: str, **source: Any) -> None:
    aws.vpc.SecurityGroupIngressRule(
        logical_name,
        security_group_id=group.id,
        ip_protocol="tcp",
        from_port=REDSHIFT_PORT,
        to_port=REDSHIFT_PORT,
        description=description,
        opts=child(group),
        **source,
    )


def _egress(
    group: aws.ec2.SecurityGroup, logical_name: str, description: str, **destination: Any
) -> aws.vpc.SecurityGroupEgressRule:
    return aws.vpc.SecurityGroupEgressRule(
        logical_name,
        security_group_id=group.id,
        ip_protocol="tcp",
        from_port=HTTPS_PORT,
        to_port=HTTPS_PORT,
        description=description,
        opts=child(group),
        **destination,
    )


def _endpoint_policy(statements: Sequence[Mapping[str, Any]]) -> pulumi.Output[str]:
    """An endpoint policy: any principal in the VPC, but only these actions on these resources."""
    return policy_json([{**statement, "Principal": "*"} for statement in statements])
