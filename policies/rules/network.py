"""Security-group and rule descriptions EC2 accepts: its character set and length, checked before EC2 refuses them.

EC2 rejects a description outside its character set with `InvalidParameterValue` in the
middle of an `up`; mocks accept anything. The sets are those of the EC2 API Reference:
`CreateSecurityGroup` and `IpRange`/`Ipv6Range` (a rule on an address range) allow
`a-z A-Z 0-9`, space and `._-:/()#,@[]+=&;{}!$*`; `UserIdGroupPair` (a rule naming a
security group) and `PrefixListId` (a rule naming a prefix list) allow the same without
`&`. Every one is at most 255 characters. A rule that names several kinds of source
(an inline rule with CIDRs and groups) must satisfy the strictest of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

from pulumi_policy import ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from .common import MANDATORY, UNKNOWN, for_types, is_set, label_of, lookup, plain

SECURITY_GROUP: Final = "aws:ec2/securityGroup:SecurityGroup"
DEFAULT_SECURITY_GROUP: Final = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
SECURITY_GROUP_RULE: Final = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE: Final = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS_RULE: Final = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"

MAX_LENGTH: Final = 255


@dataclass(frozen=True)
class CharacterSet:
    pattern: re.Pattern[str]
    said: str  # how a message names it


ADDRESS_RANGE_SET: Final = CharacterSet(
    re.compile(r"[a-zA-Z0-9 ._\-:/()#,@\[\]+=&;{}!$*]"), "a-z A-Z 0-9, space and ._-:/()#,@[]+=&;{}!$*"
)
REFERENCE_SET: Final = CharacterSet(
    re.compile(r"[a-zA-Z0-9 ._\-:/()#,@\[\]+=;{}!$*]"),
    "a-z A-Z 0-9, space and ._-:/()#,@[]+=;{}!$* (no '&' in a rule naming a security group or prefix list)",
)

# Properties that make a rule name a security group or a prefix list, per resource type.
_REFERENCE_PROPERTIES: Final = {
    SECURITY_GROUP_RULE: ("sourceSecurityGroupId", "prefixListIds", "self"),
    INGRESS_RULE: ("referencedSecurityGroupId", "prefixListId"),
    EGRESS_RULE: ("referencedSecurityGroupId", "prefixListId"),
    "inline": ("securityGroups", "prefixListIds", "self"),
}


def _references_group_or_prefix_list(rule: Any, kind: str) -> bool:
    return any(
        value is UNKNOWN or (is_set(value) and value is not False)
        for value in (lookup(rule, prop) for prop in _REFERENCE_PROPERTIES[kind])
    )


def description_problem(description: Any, allowed: CharacterSet) -> str | None:
    """Why EC2 would refuse this description, or None (also when it is not known until deployment)."""
    if not isinstance(description, str):
        return None
    if len(description) > MAX_LENGTH:
        return f"is {len(description)} characters long (at most {MAX_LENGTH})"
    refused = sorted({char for char in description if not allowed.pattern.fullmatch(char)})
    if refused:
        return f"contains {', '.join(repr(c) for c in refused)}; EC2 allows only {allowed.said}"
    return None


def _descriptions(args: ResourceValidationArgs) -> Iterator[tuple[str, Any, CharacterSet]]:
    """(where, description, allowed set) of the group and of each of its rules."""
    props = args.props
    if args.resource_type == SECURITY_GROUP:
        yield "its description", lookup(props, "description"), ADDRESS_RANGE_SET
    if args.resource_type in (SECURITY_GROUP, DEFAULT_SECURITY_GROUP):
        for direction in ("ingress", "egress"):
            rules = plain(lookup(props, direction))
            for index, rule in enumerate(rules if isinstance(rules, list) else []):
                allowed = REFERENCE_SET if _references_group_or_prefix_list(rule, "inline") else ADDRESS_RANGE_SET
                yield f"the description of {direction}[{index}]", lookup(rule, "description"), allowed
        return
    allowed = REFERENCE_SET if _references_group_or_prefix_list(props, args.resource_type) else ADDRESS_RANGE_SET
    yield "its description", lookup(props, "description"), allowed


@for_types(SECURITY_GROUP, DEFAULT_SECURITY_GROUP, SECURITY_GROUP_RULE, INGRESS_RULE, EGRESS_RULE)
def check_descriptions(args: ResourceValidationArgs, report: ReportViolation) -> None:
    problems = [
        f"{where} {description!r} {problem}"
        for where, description, allowed in _descriptions(args)
        if (problem := description_problem(description, allowed)) is not None
    ]
    if problems:
        report(
            f"{args.resource_type} {label_of(args)}: {'; '.join(problems)}. EC2 refuses such a description "
            f"(InvalidParameterValue) in the middle of the update: reword the description.",
            None,
        )


POLICIES: Final = [
    ResourceValidationPolicy(
        name="ec2-description-charset",
        description="Security-group and rule descriptions use only the characters EC2 accepts, at most 255.",
        enforcement_level=MANDATORY,
        validate=check_descriptions,
    ),
]
