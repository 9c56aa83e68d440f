"""The access tier: the stack's four staff groups, their policies, and who is in which group.

Groups `<prefix>-admin`, `-op`, `-dev` and `-bizuser` live under the IAM path `/<prefix
with / for ->/`. Permissions come only from policies attached to the groups (never to a
user): admin gets AWS's AdministratorAccess, the others customer-managed policies by
concern (`policies.py`), each naming only this stack's resources.

Staff come from `access.staff` in the stack file. A user is created only when the
entry says `create_user: true` (no password, no access keys: people set those up
through the identity team); memberships are one `UserGroupMembership` per person, so
they work for existing users too, and removing a person from the list removes their
memberships on the next `pulumi up`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import pulumi
import pulumi_aws as aws

from components.access.policies import (
    ADMINISTRATOR_ACCESS_ARN,
    LIST_FIELDS,
    AccessTargets,
    PolicySpec,
    group_name,
    group_policies,
    iam_path,
    placeholder_targets,
    render,
)
from components.shared.context import StackContext, child
from components.shared.dashboard import Widget
from settings import PERSONAS, AccessSettings, Persona, StaffMember


@dataclass(frozen=True)
class AccessArgs:
    settings: AccessSettings
    context: StackContext
    targets: AccessTargets[pulumi.Input[str]]


def resolve_targets(targets: AccessTargets[pulumi.Input[str]]) -> pulumi.Output[AccessTargets[str]]:
    """Wait for every ARN the groups are granted on, then hand the policy functions plain strings."""
    present: dict[str, Any] = {}
    for f in fields(targets):
        value = getattr(targets, f.name)
        if f.name in LIST_FIELDS:
            present[f.name] = pulumi.Output.all(*value).apply(tuple)
        elif value is not None:
            present[f.name] = value
    return pulumi.Output.all(**present).apply(lambda values: AccessTargets[str](**values))


def with_catalogues(
    targets: AccessTargets[pulumi.Input[str]], context: StackContext
) -> AccessTargets[pulumi.Input[str]]:
    """The targets plus every alarm and log group the tiers created, by exact ARN (never a prefix pattern)."""
    return replace(
        targets,
        alarm_arns=tuple(alarm.arn for alarm in context.alarms),
        log_group_arns=tuple(group.arn for group in context.log_groups),
    )


def _specs(targets: AccessTargets[str], settings: AccessSettings) -> dict[str, PolicySpec]:
    return {spec.key: spec for spec in group_policies(targets, settings.dev_access, settings.require_mfa)}


def _renderer(settings: AccessSettings, key: str) -> Callable[[AccessTargets[str]], str]:
    def render_policy(targets: AccessTargets[str]) -> str:
        return render(_specs(targets, settings)[key].document())

    return render_policy


class Access(pulumi.ComponentResource):
    """IAM groups admin / op / dev / bizUser, their policies, and the staff memberships."""

    path: str
    groups: dict[Persona, aws.iam.Group]
    policies: dict[str, aws.iam.Policy]
    users: dict[str, aws.iam.User]
    memberships: dict[str, aws.iam.UserGroupMembership]

    def __init__(self, name: str, args: AccessArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("uba:access:Access", name, None, opts)
        settings, context = args.settings, args.context
        self.path = iam_path(context.prefix)
        self.groups = {
            persona: aws.iam.Group(
                f"group-{persona}", name=group_name(context.prefix, persona), path=self.path, opts=child(self)
            )
            for persona in PERSONAS
        }
        aws.iam.GroupPolicyAttachment(
            "group-admin-administrator-access",
            group=self.groups["admin"].name,
            policy_arn=ADMINISTRATOR_ACCESS_ARN,
            opts=child(self.groups["admin"]),
        )
        self.policies = self._policies(args)
        self.users = {
            member.user: self._user(member) for member in settings.staff if member.create_user
        }  # fmt: skip
        self.memberships = {member.user: self._membership(member) for member in settings.staff}
        self.register_outputs(
            {
                "group_names": {persona: group.name for persona, group in self.groups.items()},
                "policy_arns": {key: policy.arn for key, policy in self.policies.items()},
            }
        )

    # --- the tier contract -------------------------------------------------------------------------------

    def stack_outputs(self) -> Mapping[str, pulumi.Input[str]]:
        return {f"group_{persona.lower()}": group.name for persona, group in self.groups.items()}

    def dashboard_widgets(self) -> Sequence[Widget]:
        return []  # IAM has no metrics; CloudTrail is where group use shows

    def access_targets(self) -> Mapping[str, pulumi.Input[str]]:
        return {}  # the groups are what is granted, not a resource they are granted on

    def _policies(self, args: AccessArgs) -> dict[str, aws.iam.Policy]:
        settings, context = args.settings, args.context
        targets = with_catalogues(args.targets, context)
        resolved = resolve_targets(targets)
        # Which policies exist depends only on which tiers exist, known now; their ARNs resolve later.
        policies: dict[str, aws.iam.Policy] = {}
        for key, spec in _specs(placeholder_targets(targets), settings).items():
            policy = aws.iam.Policy(
                f"policy-{key}",
                name=context.name(key),
                path=self.path,
                description=f"{context.prefix}: {spec.description}",
                policy=resolved.apply(_renderer(settings, key)),
                opts=child(self),
            )
            for persona in spec.personas:
                aws.iam.GroupPolicyAttachment(
                    f"policy-{key}-{persona}",
                    group=self.groups[persona].name,
                    policy_arn=policy.arn,
                    opts=child(policy),
                )
            policies[key] = policy
        return policies

    def _user(self, member: StaffMember) -> aws.iam.User:
        # No login profile and no access keys, ever: credentials are set up by the person, with MFA.
        # force_destroy stays off, so removing a person who has credentials fails loudly after their
        # memberships are gone, instead of silently deleting credentials someone else created.
        return aws.iam.User(f"user-{member.user}", name=member.user, force_destroy=False, opts=child(self))

    def _membership(self, member: StaffMember) -> aws.iam.UserGroupMembership:
        user = self.users.get(member.user)
        return aws.iam.UserGroupMembership(
            f"staff-{member.user}",
            user=user.name if user is not None else member.user,
            groups=[self.groups[group].name for group in member.groups],
            opts=child(self, depends_on=[user] if user is not None else []),
        )
