"""No security group admits the whole internet, in one CIDR or in pieces.

A `0.0.0.0/0` check alone is bypassed by `0.0.0.0/1` + `128.0.0.0/1`: this rule takes the
union of every CIDR that a group's ingress admits (inline `ingress`, `SecurityGroupRule`s of
type ingress, and `vpc.SecurityGroupIngressRule`s) and refuses the group's rules when that
union covers every internet address. Private and special-purpose blocks (RFC 6890) do not
count as the internet, so leaving 10.0.0.0/8 out of an otherwise complete set is no way round.
The settings refuse the same (`settings.formats.admits_the_internet`); the pack holds it for
any program, because it cannot import the settings (it runs in the Pulumi CLI's virtualenv).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from pulumi_policy import PolicyResource, ReportViolation, StackValidationArgs, StackValidationPolicy

from .common import MANDATORY, UNKNOWN, as_list, label_of, lookup, of_type, plain

SECURITY_GROUP: Final = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_RULE: Final = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE: Final = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# RFC 6890's special-purpose IPv4 blocks that are not globally reachable: not "the internet".
_NOT_INTERNET_V4: Final = tuple(
    ipaddress.IPv4Network(block)
    for block in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
        "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    )
)  # fmt: skip
# IPv6's internet is the global unicast block.
_INTERNET_V6: Final = ipaddress.IPv6Network("2000::/3")


@dataclass(frozen=True)
class Admission:
    """One resource's ingress CIDRs, under the security group they open."""

    group: str
    resource: PolicyResource
    networks: tuple[Network, ...]


def _networks(values: Iterable[object]) -> tuple[Network, ...]:
    networks: list[Network] = []
    for value in values:
        if isinstance(value, str) and value is not UNKNOWN:
            try:
                networks.append(ipaddress.ip_network(value, strict=False))
            except ValueError:
                continue  # not a CIDR: AWS refuses it at deploy, which is not this rule's point
    return tuple(networks)


def _group_of(resource: PolicyResource) -> str:
    """The security group a rule opens: the resource it was computed from, else the id it names."""
    dependencies = resource.property_dependencies.get("securityGroupId", [])
    if dependencies:
        return dependencies[0].urn
    value = lookup(resource.props, "securityGroupId")
    return value if isinstance(value, str) else f"unknown group of {resource.urn}"


def _admissions(args: StackValidationArgs) -> list[Admission]:
    found: list[Admission] = []
    for group in of_type(args, SECURITY_GROUP):
        for rule in as_list(plain(lookup(group.props, "ingress"))):
            if isinstance(rule, dict):
                cidrs = [*as_list(rule.get("cidrBlocks")), *as_list(rule.get("ipv6CidrBlocks"))]
                found.append(Admission(group.urn, group, _networks(cidrs)))
    for rule in of_type(args, SECURITY_GROUP_RULE):
        if lookup(rule.props, "type") == "ingress":
            cidrs = [
                *as_list(plain(lookup(rule.props, "cidrBlocks"))),
                *as_list(plain(lookup(rule.props, "ipv6CidrBlocks"))),
            ]
            found.append(Admission(_group_of(rule), rule, _networks(cidrs)))
    for rule in of_type(args, INGRESS_RULE):
        cidrs = [lookup(rule.props, "cidrIpv4"), lookup(rule.props, "cidrIpv6")]
        found.append(Admission(_group_of(rule), rule, _networks(cidrs)))
    return [admission for admission in found if admission.networks]


def _without(networks: list[Network], removed: Network) -> list[Network]:
    remaining: list[Network] = []
    for network in networks:
        if network.version != removed.version or not network.overlaps(removed):
            remaining.append(network)
        elif removed.supernet_of(network):  # type: ignore[arg-type]
            continue
        else:
            remaining.extend(network.address_exclude(removed))  # type: ignore[arg-type]
    return remaining


def admits_the_internet(networks: Iterable[Network]) -> bool:
    """Whether these CIDRs together cover every internet address, IPv4 or IPv6."""
    admitted = list(networks)
    v4_removed: list[Network] = [*(n for n in admitted if n.version == 4), *_NOT_INTERNET_V4]
    v6_removed: list[Network] = [n for n in admitted if n.version == 6]
    for internet, removed_blocks in ((ipaddress.IPv4Network("0.0.0.0/0"), v4_removed), (_INTERNET_V6, v6_removed)):
        uncovered: list[Network] = [internet]
        for removed in removed_blocks:
            uncovered = _without(uncovered, removed)
        if not uncovered:
            return True
    return False


def check_no_internet_ingress(args: StackValidationArgs, report: ReportViolation) -> None:
    by_group: dict[str, list[Admission]] = {}
    for admission in _admissions(args):
        by_group.setdefault(admission.group, []).append(admission)
    for admissions in by_group.values():
        networks = [network for admission in admissions for network in admission.networks]
        if not admits_the_internet(networks):
            continue
        together = ", ".join(sorted({str(network) for network in networks}))
        for admission in admissions:
            report(
                f"{admission.resource.resource_type} {label_of(admission.resource)} opens a security group whose "
                f"ingress CIDRs together admit every internet address ({together}): admit only the client networks "
                f"(`uba:warehouse.network.allowed_cidrs`), not 0.0.0.0/0 in pieces.",
                admission.resource.urn,
            )


POLICIES: Final = [
    StackValidationPolicy(
        name="security-group-no-internet-ingress",
        description="No security group's ingress CIDRs together admit the whole internet (0.0.0.0/0 in pieces too).",
        enforcement_level=MANDATORY,
        validate=check_no_internet_ingress,
    ),
]
