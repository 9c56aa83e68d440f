"""Who reads and who authors, and the business lines each sees: QuickSight users, groups and the RLS rules.

Groups (in the account's identity region and the stack's namespace, named after the stack so two
stacks in one account never share one):

- `<prefix>-bi-readers` and `<prefix>-bi-authors`: open the dashboard; authors may also build analyses
  on the datasets (as their viewers, never their owners, so row-level security still applies);
- `<prefix>-bi-line-<bizId>`, one per business line, and `<prefix>-bi-all-lines`: which lines a person
  sees. The row-level security rules give each line group its line and the all-lines group every line
  (a NULL value); a person in no line group sees no row at all.

Users are the IAM users of `uba:access.staff` registered in QuickSight as READER or AUTHOR, never
ADMIN. The pure functions here (`group_names`, `rule_rows`, `lines_visible`) are what the local report
applies too, so the report rendered for a person shows exactly the lines QuickSight would.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Final

import pulumi
import pulumi_aws as aws

from components.shared.arns import PARTITION
from components.shared.context import StackContext, child
from settings.bi import ALL_LINES, BiPerson, BiSettings

USER_ROLES: Final = {"reader": "READER", "author": "AUTHOR"}
RULES_GROUP_COLUMN: Final = "GroupName"  # the column QuickSight's RLS rules name groups by


@dataclass(frozen=True)
class GroupNames:
    readers: str
    authors: str
    all_lines: str
    lines: Mapping[str, str]  # biz_id -> group


def group_names(prefix: str, business_lines: Iterable[str]) -> GroupNames:
    return GroupNames(
        readers=f"{prefix}-bi-readers",
        authors=f"{prefix}-bi-authors",
        all_lines=f"{prefix}-bi-all-lines",
        lines={biz: f"{prefix}-bi-line-{biz}" for biz in business_lines},
    )


def groups_of(person: BiPerson, names: GroupNames) -> list[str]:
    """The QuickSight groups a person is a member of."""
    role = names.authors if person.role == "author" else names.readers
    if ALL_LINES in person.business_lines:
        return [role, names.all_lines]
    return [role, *(names.lines[biz] for biz in person.business_lines)]


def rule_rows(names: GroupNames) -> list[tuple[str, str | None]]:
    """The row-level security rules: (group, business line), None meaning every line."""
    return [(names.all_lines, None), *((group, biz) for biz, group in names.lines.items())]


def lines_visible(groups: Iterable[str], rules: Sequence[tuple[str, str | None]]) -> set[str] | None:
    """What QuickSight shows a member of `groups` under `rules`: a set of lines, or None for every line."""
    member = set(groups)
    granted = [line for group, line in rules if group in member]
    if any(line is None for line in granted):
        return None
    return {line for line in granted if line is not None}


def rules_sql(rules: Sequence[tuple[str, str | None]]) -> str:
    """The rules as the Redshift custom SQL of the permissions dataset (values are settings-checked, quoted)."""

    def literal(value: str | None) -> str:
        return "CAST(NULL AS VARCHAR(256))" if value is None else "'" + value.replace("'", "''") + "'"

    selects = [f"SELECT {literal(group)} AS groupname, {literal(line)} AS biz_id" for group, line in rules]
    return "\nUNION ALL\n".join(selects)


@dataclass(frozen=True)
class People:
    groups: dict[str, aws.quicksight.Group]  # group name -> group
    users: dict[str, aws.quicksight.User]
    memberships: list[aws.quicksight.GroupMembership]

    def arn(self, name: str) -> pulumi.Output[str]:
        return self.groups[name].arn


def people(parent: pulumi.Resource, context: StackContext, settings: BiSettings, names: GroupNames) -> People:
    account = settings.quicksight
    region = account.identity_region or context.region
    described = {
        names.readers: "open the dashboard",
        names.authors: "open the dashboard and build analyses on its datasets",
        names.all_lines: "see every business line",
        **{group: f"see business line {biz}" for biz, group in names.lines.items()},
    }
    groups = {
        name: aws.quicksight.Group(
            f"bi-group-{name.removeprefix(context.prefix + '-bi-')}",
            group_name=name,
            namespace=account.namespace,
            description=f"{context.prefix}: {what}",
            region=region,
            opts=child(parent),
        )
        for name, what in described.items()
    }
    users = {
        person.user: aws.quicksight.User(
            f"bi-user-{person.user}",
            email=person.email,
            identity_type="IAM",
            iam_arn=context.account_id.apply(partial(iam_user_arn, user=person.user)),
            user_role=USER_ROLES[person.role],
            namespace=account.namespace,
            region=region,
            opts=child(parent),
        )
        for person in settings.people
        if person.register_user
    }
    memberships = [
        aws.quicksight.GroupMembership(
            f"bi-member-{person.user}-{group.removeprefix(context.prefix + '-bi-')}",
            group_name=groups[group].group_name,
            member_name=person.user,
            namespace=account.namespace,
            region=region,
            opts=child(groups[group], depends_on=[users[person.user]] if person.user in users else []),
        )
        for person in settings.people
        for group in groups_of(person, names)
    ]
    return People(groups=groups, users=users, memberships=memberships)


def iam_user_arn(account_id: str, user: str) -> str:
    return f"arn:{PARTITION}:iam::{account_id}:user/{user}"
