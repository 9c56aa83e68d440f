"""QuickSight's private way into the warehouse: a VPC connection in the warehouse's subnets.

QuickSight places its network interfaces in the warehouse's private subnets, in a security group of
its own that may send only to the warehouse's group on the Redshift port; the warehouse's group
admits that group on that port. No data source of the tier reaches Redshift any other way (the
policy pack's `quicksight-data-source-private` holds every database data source to a VPC connection).

QuickSight's guide ("Security groups: inbound and outbound rules") also asks for the QuickSight group
to admit all TCP from the data source's group: replies from the database reach the interfaces that
way. The rule names the warehouse's group only, nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.shared.context import StackContext, child
from components.shared.iam import role_with_policy

QUICKSIGHT = "quicksight.amazonaws.com"
ALL_TCP = (0, 65535)


@dataclass(frozen=True)
class WarehouseNetwork:
    """Where the warehouse listens (from the warehouse tier)."""

    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    security_group_id: pulumi.Input[str]
    port: int


def vpc_connection(
    parent: pulumi.Resource, context: StackContext, network: WarehouseNetwork
) -> aws.quicksight.VpcConnection:
    name = context.name("bi")
    group = aws.ec2.SecurityGroup(
        "bi-quicksight-sg",
        name=f"{name}-quicksight",
        description=f"{name}: QuickSight network interfaces, to the warehouse only",
        vpc_id=network.vpc_id,
        opts=child(parent),
    )
    aws.vpc.SecurityGroupEgressRule(
        "bi-quicksight-to-warehouse",
        security_group_id=group.id,
        ip_protocol="tcp",
        from_port=network.port,
        to_port=network.port,
        referenced_security_group_id=network.security_group_id,
        description="Redshift on the warehouse",
        opts=child(group),
    )
    aws.vpc.SecurityGroupIngressRule(
        "bi-quicksight-from-warehouse",
        security_group_id=group.id,
        ip_protocol="tcp",
        from_port=ALL_TCP[0],
        to_port=ALL_TCP[1],
        referenced_security_group_id=network.security_group_id,
        description="Replies from the warehouse (QuickSight guide: security groups)",
        opts=child(group),
    )
    admitted = aws.vpc.SecurityGroupIngressRule(
        "bi-warehouse-from-quicksight",
        security_group_id=network.security_group_id,
        ip_protocol="tcp",
        from_port=network.port,
        to_port=network.port,
        referenced_security_group_id=group.id,
        description="QuickSight through the BI VPC connection",
        opts=child(group),
    )
    role, grants = role_with_policy(
        parent,
        context,
        "bi-vpc-connection",
        QUICKSIGHT,
        _interface_statements(context, network, group),
        "QuickSight manages the network interfaces of the BI tier's VPC connection",
    )
    return aws.quicksight.VpcConnection(
        "bi-vpc-connection",
        vpc_connection_id=name,
        name=f"{name} warehouse",
        role_arn=role.arn,
        subnet_ids=list(network.subnet_ids),
        security_group_ids=[group.id],
        opts=child(parent, depends_on=[grants, admitted]),
    )


def _interface_statements(
    context: StackContext, network: WarehouseNetwork, group: aws.ec2.SecurityGroup
) -> list[dict[str, object]]:
    """What QuickSight's VPC connection role needs (QuickSight guide, "Configuring the VPC connection")."""
    subnets = [pulumi.Output.concat(context.arn("ec2", "subnet/"), subnet) for subnet in network.subnet_ids]
    return [
        {
            "Sid": "ManageInterfacesInTheWarehouseSubnets",
            "Effect": "Allow",
            "Action": [
                "ec2:CreateNetworkInterface",
                "ec2:ModifyNetworkInterfaceAttribute",
                "ec2:DeleteNetworkInterface",
            ],
            "Resource": [*subnets, group.arn, context.arn("ec2", "network-interface/*")],
        },
        {
            # EC2's Describe actions authorise on no narrower resource.
            "Sid": "DescribeTheNetwork",
            "Effect": "Allow",
            "Action": ["ec2:DescribeSubnets", "ec2:DescribeSecurityGroups"],
            "Resource": "*",
        },
    ]
