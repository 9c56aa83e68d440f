"""Settings of the BI tier (`uba:bi`): QuickSight on the warehouse and the lake, who reads and authors, and
which business lines each person sees.

QuickSight itself is an account-level service: one subscription per AWS account (Enterprise edition, for
row-level security, VPC connections and Secrets Manager credentials), one identity region where its users
and groups live, and one QuickSight administrator who manages the account. The program neither creates
nor changes any of that; `quicksight` names it, so the program can check it at preview and say what to do
when it is missing (README, "BI: before the first `pulumi up`").
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from settings.base import Email, IamUserName, Matching, Model, TierSettings

# A business line as the events carry it (`bizId`). The value reaches QuickSight's row-level security
# rules, group names and SQL string literals, so it is held to characters none of them treat specially.
BizId = Annotated[
    str, Matching(r"[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}", "a business line id of 1-64 letters, digits and . _ : @ -")
]
ALL_LINES: Literal["*"] = "*"
LineGrant = BizId | Literal["*"]
QuickSightName = Annotated[
    str, Matching(r"[A-Za-z0-9._@-]{1,63}", "1-63 letters, digits and . _ @ - (a QuickSight namespace or user)")
]
RoleName = Annotated[str, Matching(r"[A-Za-z0-9+=,.@_-]{1,64}", "an IAM role name of 1-64 letters, digits and +=,.@_-")]
Region = Annotated[str, Matching(r"[a-z]{2}(-gov)?-[a-z]+-\d", "an AWS region such as eu-west-1")]
# QuickSight's refresh intervals (RefreshFrequency.Interval) that a SPICE dataset of this size needs.
RefreshInterval = Literal["MINUTE15", "MINUTE30", "HOURLY", "DAILY", "WEEKLY"]
TimeOfDay = Annotated[str, Matching(r"([01]\d|2[0-3]):[0-5]\d", "a time of day as HH:MM (24 hours)")]


class QuickSightAccountSettings(Model):
    """What the account's QuickSight subscription provides; checked at preview, never created or changed."""

    admin: QuickSightName = Field(
        description="User name of an existing QuickSight ADMIN in `namespace`: the preview looks this user up to "
        "prove the account is subscribed, and the README names them as who fixes the account-level prerequisites. "
        "The program grants them nothing."
    )
    namespace: QuickSightName = Field(
        default="default", description="QuickSight namespace the stack's users and groups live in."
    )
    identity_region: Region | None = Field(
        default=None,
        description="The account's QuickSight identity region, where users and groups are managed (QuickSight "
        "refuses user and group calls anywhere else); the stack's region if unset.",
    )
    secrets_role: RoleName = Field(
        default="aws-quicksight-secretsmanager-role-v0",
        description="The role QuickSight reads Secrets Manager secrets with, created once per account when an "
        "administrator turns on Secrets Manager access in QuickSight; the program adds an inline policy letting "
        "it read the warehouse's managed secret (and decrypt it with the platform key).",
    )


class BusinessLine(Model):
    biz_id: BizId
    """The `bizId` events of this line carry."""
    title: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    """How the line is named on the dashboard's filter."""


class BiPerson(Model):
    user: IamUserName
    """IAM user name, as listed in `uba:access.staff` (QuickSight registers the IAM user at the root path)."""
    role: Literal["reader", "author"] = Field(
        default="reader",
        description="`reader` opens the dashboard; `author` also builds analyses on the datasets (never their "
        "owner, so row-level security still applies). Nobody is made a QuickSight admin by this program.",
    )
    business_lines: list[LineGrant] = Field(
        min_length=1, description="The `biz_id`s this person sees, or `['*']` for every line (row-level security)."
    )
    email: Email | None = Field(default=None, description="Email QuickSight registers the user with.")
    register_user: bool = Field(
        default=True,
        description="Register the QuickSight user (IAM identity), or only manage its group memberships; an "
        "unregistered user must exist in QuickSight before `pulumi up` (`.venv/bin/python -m tools.bi check <stack>`).",
    )


class SpiceRefreshSettings(Model):
    interval: RefreshInterval = "HOURLY"
    """How often SPICE datasets are fully refreshed from the warehouse and the lake."""
    time_of_day: TimeOfDay = "02:15"
    """UTC time of day of DAILY and WEEKLY refreshes (ignored by shorter intervals)."""


class BiSettings(TierSettings):
    enabled: bool = False
    """Build the BI tier (QuickSight); needs the warehouse, the lake and the account's QuickSight subscription."""
    quicksight: QuickSightAccountSettings
    """The account's QuickSight subscription (README, "BI: before the first `pulumi up`")."""
    business_lines: list[BusinessLine] = Field(min_length=1)
    """Every business line the dashboard's row-level security and filter know."""
    people: list[BiPerson] = Field(default_factory=list)
    """Who reads or authors, and the business lines each sees."""
    import_mode: Literal["spice", "direct_query"] = Field(
        default="spice",
        description="`spice`: datasets are imported on `refresh`'s schedule (fast dashboards, no warehouse load "
        "per view); `direct_query`: every view queries the warehouse and Athena.",
    )
    refresh: SpiceRefreshSettings = SpiceRefreshSettings()
    """The SPICE refresh schedule (spice only)."""
    lake_window_days: int = Field(default=90, ge=7, le=1096)
    """Days of the lake the lake dataset reads (its query bounds the partitions, so Athena scans only these)."""

    def check_when_on(self) -> None:
        lines = [line.biz_id for line in self.business_lines]
        duplicates = sorted({biz for biz in lines if lines.count(biz) > 1})
        if duplicates:
            raise ValueError(f"business_lines: lists {', '.join(duplicates)} more than once")
        seen: set[str] = set()
        for person in self.people:
            key = person.user.lower()  # IAM user names are case-insensitive
            if key in seen:
                raise ValueError(f"people: user {person.user} is listed twice")
            seen.add(key)
            if person.user.lower() == self.quicksight.admin.lower():
                raise ValueError(
                    f"people: {person.user} is the account's QuickSight admin (quicksight.admin); the program "
                    f"registers readers and authors only, never an admin"
                )
            if person.register_user and person.email is None:
                raise ValueError(f"people: {person.user} needs an email, which QuickSight registers the user with")
            grants = person.business_lines
            if ALL_LINES in grants and len(grants) > 1:
                raise ValueError(f"people: {person.user} lists '*' (every line) beside single lines; keep one")
            unknown = [biz for biz in grants if biz != ALL_LINES and biz not in lines]
            if unknown:
                raise ValueError(
                    f"people: {person.user} is granted {', '.join(unknown)}, not in business_lines ({', '.join(lines)})"
                )
            if len(set(grants)) != len(grants):
                raise ValueError(f"people: {person.user} lists a business line twice")

    def lines_of(self, person: BiPerson) -> list[str]:
        """The business lines `person` sees, `*` expanded."""
        if ALL_LINES in person.business_lines:
            return [line.biz_id for line in self.business_lines]
        return list(person.business_lines)

    def person(self, user: str) -> BiPerson | None:
        return next((p for p in self.people if p.user.lower() == user.lower()), None)
