"""Where the search tier sits in the warehouse VPC: two security groups and the subnets it uses.

`endpoint` guards what serves search in the VPC (the OpenSearch Serverless VPC endpoint, or
the domain's network interfaces): HTTPS only, from the `clients` group and from the
networks the stack admits (`network.allowed_cidrs`). `clients` is worn by what the platform
itself runs there (Firehose's network interfaces, the search-admin function): HTTPS out to
the endpoint group and nowhere else. No internet route exists in the VPC; nothing here needs one.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.shared.context import StackContext, child

HTTPS_PORT = 443


@dataclass(frozen=True)
class SearchVpc:
    """The warehouse VPC, as the platform hands it over."""

    vpc_id: pulumi.Output[str]
    subnet_ids: list[pulumi.Output[str]]


@dataclass(frozen=True)
class SearchNetwork:
    subnet_ids: list[pulumi.Output[str]]
    endpoint_group: aws.ec2.SecurityGroup
    clients_group: aws.ec2.SecurityGroup
    rules: list[pulumi.Resource]  # what traffic needs in place before anything connects


def build_network(
    parent: pulumi.Resource, context: StackContext, vpc: SearchVpc, allowed_cidrs: list[str]
) -> SearchNetwork:
    name = context.name("search")
    endpoint_group = aws.ec2.SecurityGroup(
        "search-endpoint-sg",
        name=f"{name}-endpoint",
        description=f"{name}: HTTPS to search from the platform and the admitted networks",
        vpc_id=vpc.vpc_id,
        opts=child(parent),
    )
    clients_group = aws.ec2.SecurityGroup(
        "search-clients-sg",
        name=f"{name}-clients",
        description=f"{name}: Firehose delivery and the search-admin function, HTTPS to search only",
        vpc_id=vpc.vpc_id,
        opts=child(parent),
    )
    rules: list[pulumi.Resource] = [
        aws.vpc.SecurityGroupIngressRule(
            "search-endpoint-from-clients",
            security_group_id=endpoint_group.id,
            ip_protocol="tcp",
            from_port=HTTPS_PORT,
            to_port=HTTPS_PORT,
            referenced_security_group_id=clients_group.id,
            description="HTTPS from Firehose and the search-admin function",
            opts=child(endpoint_group),
        ),
        aws.vpc.SecurityGroupEgressRule(
            "search-clients-to-endpoint",
            security_group_id=clients_group.id,
            ip_protocol="tcp",
            from_port=HTTPS_PORT,
            to_port=HTTPS_PORT,
            referenced_security_group_id=endpoint_group.id,
            description="HTTPS to search",
            opts=child(clients_group),
        ),
    ]
    for index, cidr in enumerate(allowed_cidrs):
        rules.append(
            aws.vpc.SecurityGroupIngressRule(
                f"search-endpoint-from-network-{index}",
                security_group_id=endpoint_group.id,
                ip_protocol="tcp",
                from_port=HTTPS_PORT,
                to_port=HTTPS_PORT,
                cidr_ipv4=cidr,
                description=f"HTTPS from {cidr} (search.network.allowed_cidrs)",
                opts=child(endpoint_group),
            )
        )
    return SearchNetwork(vpc.subnet_ids, endpoint_group, clients_group, rules)
