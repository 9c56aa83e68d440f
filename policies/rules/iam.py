"""Least privilege, visible: no `*` on `*` outside the admin group, nothing attached to users, one service per role.

Staff get permissions only through the four groups; the admin group is the one place a
full grant is expected. A group counts as the admin group when its IAM name matches
`adminGroupPattern` (default: the name is `admin` or ends in `-admin`/`_admin`, as
`uba-prod-admin` does), so the exception is visible in the name anyone sees in the console.
"""

from __future__ import annotations

import re
from typing import Any, Final

from pulumi_policy import (
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from .common import (
    MANDATORY,
    UNKNOWN,
    as_list,
    document,
    for_types,
    is_set,
    label_of,
    lookup,
    of_type,
    pattern_matches,
    plain,
    refers_to,
    schema,
    setting,
    statements,
)

GROUP: Final = "aws:iam/group:Group"
GROUP_POLICY: Final = "aws:iam/groupPolicy:GroupPolicy"
ROLE: Final = "aws:iam/role:Role"
ROLE_POLICY: Final = "aws:iam/rolePolicy:RolePolicy"
USER_POLICY: Final = "aws:iam/userPolicy:UserPolicy"
MANAGED_POLICY: Final = "aws:iam/policy:Policy"
GROUP_ATTACHMENT: Final = "aws:iam/groupPolicyAttachment:GroupPolicyAttachment"
ROLE_ATTACHMENT: Final = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
USER_ATTACHMENT: Final = "aws:iam/userPolicyAttachment:UserPolicyAttachment"
POLICY_ATTACHMENT: Final = "aws:iam/policyAttachment:PolicyAttachment"

ADMINISTRATOR_ACCESS: Final = re.compile(r"^arn:aws[a-z-]*:iam::aws:policy/AdministratorAccess$")

ADMIN_CONFIG: Final = schema(
    adminGroupPattern={
        "type": "string",
        "default": r"(^|[-_])admin$",
        "description": "Regular expression an IAM group name matches when it is the admin group.",
    }
)


def full_grants(doc: Any) -> list[dict[str, Any]]:
    """Statements that allow every action (or all but some) on every resource (or all but some)."""
    if not isinstance(doc, dict):
        return []
    return [
        s
        for s in statements(doc)
        if s.get("Effect") == "Allow"
        and (bool({"*", "*:*"} & set(as_list(s.get("Action")))) or "NotAction" in s)
        and ("*" in as_list(s.get("Resource")) or "NotResource" in s)
    ]


def _name_of(resource: PolicyResource, prop: str, target_type: str) -> Any:
    """The IAM name `resource.<prop>` refers to, from its value or the resource it was computed from."""
    value = lookup(resource.props, prop)
    if isinstance(value, str):
        return value
    for dependency in resource.property_dependencies.get(prop, []):
        if dependency.resource_type == target_type:
            return lookup(dependency.props, "name")
    return UNKNOWN


_PRINCIPAL_TYPES: Final = {"group": GROUP, "role": ROLE, "user": "aws:iam/user:User"}


def _targets(attachment: PolicyResource) -> list[tuple[str, Any]]:
    """(kind, IAM name) of every principal an attachment grants to."""
    kind = {GROUP_ATTACHMENT: "group", ROLE_ATTACHMENT: "role", USER_ATTACHMENT: "user"}.get(attachment.resource_type)
    if kind is not None:
        return [(kind, _name_of(attachment, kind, _PRINCIPAL_TYPES[kind]))]
    return [
        (kind, name)
        for kind, prop in (("group", "groups"), ("role", "roles"), ("user", "users"))
        for name in as_list(plain(lookup(attachment.props, prop)))
    ]


ATTACHMENT_TYPES: Final = (GROUP_ATTACHMENT, ROLE_ATTACHMENT, USER_ATTACHMENT, POLICY_ATTACHMENT)


class _Judge:
    """Decides, for one stack, whether a full grant reaches anyone but the admin group."""

    def __init__(self, args: StackValidationArgs, report: ReportViolation) -> None:
        self.args, self.report = args, report
        self.pattern = str(setting(args, ADMIN_CONFIG, "adminGroupPattern"))

    def admin(self, kind: str, name: Any) -> bool:
        # A group name the preview cannot see yet is judged on the next preview, once it is known.
        return kind == "group" and (name is UNKNOWN or pattern_matches(self.pattern, name))

    def flag(self, resource: PolicyResource, what: str, fix: str) -> None:
        self.report(
            f"{resource.resource_type} {label_of(resource)} {what}, outside the admin group (IAM group name matching "
            f"{self.pattern!r}): {fix}",
            resource.urn,
        )

    def inline_policies(self) -> None:
        narrow = "grant the exact actions on the exact ARNs the principal uses."
        for resource in of_type(self.args, GROUP_POLICY):
            group = _name_of(resource, "group", GROUP)
            if full_grants(document(lookup(resource.props, "policy"))) and not self.admin("group", group):
                self.flag(resource, f"allows '*' on '*' to group {group!r}", narrow)
        for type_token in (ROLE_POLICY, USER_POLICY):
            for resource in of_type(self.args, type_token):
                if full_grants(document(lookup(resource.props, "policy"))):
                    self.flag(resource, "allows '*' on '*'", narrow)
        for role in of_type(self.args, ROLE):
            inline = plain(lookup(role.props, "inlinePolicies")) or []
            if any(full_grants(document(p.get("policy"))) for p in inline if isinstance(p, dict)):
                self.flag(role, "has an inline policy allowing '*' on '*'", narrow)
            if any(
                ADMINISTRATOR_ACCESS.match(str(arn)) for arn in as_list(plain(lookup(role.props, "managedPolicyArns")))
            ):
                self.flag(role, "has AdministratorAccess", "a service role gets its own least-privilege policy.")

    def attachments(self) -> None:
        for attachment in (r for t in ATTACHMENT_TYPES for r in of_type(self.args, t)):
            if not ADMINISTRATOR_ACCESS.match(str(lookup(attachment.props, "policyArn"))):
                continue
            outsiders = [(k, n) for k, n in _targets(attachment) if not self.admin(k, n)]
            if outsiders:
                self.flag(
                    attachment,
                    f"attaches AdministratorAccess to {', '.join(f'{k} {n!r}' for k, n in outsiders)}",
                    "only the admin group may hold AdministratorAccess.",
                )

    def managed_policies(self) -> None:
        for policy in of_type(self.args, MANAGED_POLICY):
            if not full_grants(document(lookup(policy.props, "policy"))):
                continue
            arns = (lookup(policy.props, "arn"), lookup(policy.props, "id"))
            attachments = [
                a for t in ATTACHMENT_TYPES for a in of_type(self.args, t) if refers_to(a, "policyArn", policy, arns)
            ]
            targets = [target for a in attachments for target in _targets(a)]
            outsiders = [(k, n) for k, n in targets if not self.admin(k, n)]
            if outsiders or not targets:
                whom = ", ".join(f"{k} {n!r}" for k, n in outsiders) or "nobody yet (so anyone could be given it)"
                self.flag(
                    policy,
                    f"allows '*' on '*' and is attached to {whom}",
                    "attach it to the admin group only, or grant exact actions on exact ARNs.",
                )


def check_no_wildcards(args: StackValidationArgs, report: ReportViolation) -> None:
    judge = _Judge(args, report)
    judge.inline_policies()
    judge.attachments()
    judge.managed_policies()


@for_types(USER_POLICY, USER_ATTACHMENT, POLICY_ATTACHMENT)
def check_no_user_policies(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == POLICY_ATTACHMENT:
        users = plain(lookup(args.props, "users"))
        if not is_set(users):
            return
        what = f"attaches a policy to users {users}"
    else:
        what = f"attaches a policy to user {plain(lookup(args.props, 'user'))!r}"
    report(
        f"{args.resource_type} {label_of(args)} {what}: staff get permissions only through the groups admin, op, "
        f"dev and bizUser; attach the policy to a group and list the user under `uba:access.staff`.",
        None,
    )


# Principals that are one service under two names: a role trusted by both is still a single-service role.
# Redshift Serverless needs its role to trust redshift-serverless.amazonaws.com and redshift.amazonaws.com
# (Redshift Management Guide, "Granting permissions to Amazon Redshift Serverless",
# https://docs.aws.amazon.com/redshift/latest/mgmt/serverless-security-other-services.html).
SERVICE_FAMILIES: Final = {"redshift-serverless.amazonaws.com": "redshift.amazonaws.com"}


def _service(principal: str) -> str:
    """The service a service principal belongs to: itself, or the family it is documented to share."""
    return SERVICE_FAMILIES.get(principal, principal)


def _trust_problems(doc: Any) -> list[str]:
    if doc is UNKNOWN:
        return []
    if not isinstance(doc, dict):
        return ["its trust policy is missing or not valid JSON"]
    services: set[str] = set()
    problems: list[str] = []
    for statement in statements(doc):
        if statement.get("Effect") != "Allow":
            continue
        if "NotPrincipal" in statement:
            problems.append("it trusts a NotPrincipal (everyone but someone)")
        principal = statement.get("Principal")
        if principal == "*" or (isinstance(principal, dict) and "*" in as_list(principal.get("AWS"))):
            problems.append("it trusts '*' (any AWS account)")
            continue
        if not isinstance(principal, dict):
            continue
        services.update(str(s) for s in as_list(principal.get("Service")))
        for kind in sorted(set(principal) - {"Service"}):
            problems.append(f"it trusts {kind} principals {as_list(principal[kind])}")
    distinct = {_service(s) for s in services}
    if len(distinct) != 1:
        problems.insert(0, f"it trusts {len(distinct)} services {sorted(services)}")
    return problems


@for_types(ROLE)
def check_single_service_trust(args: ResourceValidationArgs, report: ReportViolation) -> None:
    problems = _trust_problems(document(lookup(args.props, "assumeRolePolicy")))
    if problems:
        report(
            f"IAM role {label_of(args)} is not a single-service role: {'; '.join(problems)}. Trust exactly one "
            f"service principal (components.shared.iam.assume_role_policy(service, account_id)); people use groups.",
            None,
        )


POLICIES: Final = [
    StackValidationPolicy(
        name="iam-no-wildcard-outside-admin",
        description="No IAM policy allows '*' on '*' (or AdministratorAccess) except for the admin group.",
        enforcement_level=MANDATORY,
        config_schema=ADMIN_CONFIG,
        validate=check_no_wildcards,
    ),
    ResourceValidationPolicy(
        name="iam-no-user-policies",
        description="No IAM policy is attached to a user; permissions come from groups.",
        enforcement_level=MANDATORY,
        validate=check_no_user_policies,
    ),
    ResourceValidationPolicy(
        name="iam-role-single-service",
        description="Every IAM role is trusted by exactly one AWS service and nothing else.",
        enforcement_level=MANDATORY,
        validate=check_single_service_trust,
    ),
]
