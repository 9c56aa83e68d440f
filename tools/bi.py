"""The BI dashboard off AWS, and the QuickSight account it needs on AWS.

    python -m tools.bi report --lake DIR --out report.html [--stack prod] [--as USER | --lines A,B]
                              [--from YYYY-MM-DD --to YYYY-MM-DD] [--png DIR]
    python -m tools.bi check STACK

`report` renders the dashboard specification (`sql.bi`) from a local lake: it builds the warehouse
models with `tools.warehouse`, runs the lake dataset's query on DuckDB, checks that every column the
specification names exists with a compatible type, computes every visual and writes one
self-contained HTML page (charts as inline SVG; `--png` also writes each chart as a PNG). `--as USER`
renders it as that person of the stack file's `uba:bi.people` sees it: only the business lines
their QuickSight groups grant under the row-level security rules the BI tier deploys. The range
defaults to the lake's last 90 days. Exit status: 0 written; 2 bad input; 1 the specification names
a column the SQL does not make, or the lake cannot be read.

`check` asks AWS (boto3, the caller's credentials) for what the BI tier takes as given in the
account: a QuickSight subscription of the Enterprise edition with IAM identities, the admin
`uba:bi.quicksight.admin` in its namespace and identity region, the Secrets Manager role QuickSight
reads the warehouse secret with, and every person the stack does not register. It prints one line
per finding with what to do; exit 1 when anything is missing.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from components.bi.people import group_names, groups_of, lines_visible, rule_rows
from settings import SettingsError
from settings.bi import BiSettings
from sql.bi import Dashboard, dashboard
from sql.redshift import RefreshParameters
from tools import warehouse
from tools.charts import Chart, Report, Section, Series, Table
from tools.engine.mocks import ProgramError, stack_settings
from tools.local import bi as local_bi

DEFAULT_DAYS = 90
ENTERPRISE_EDITIONS = ("ENTERPRISE", "ENTERPRISE_AND_Q")
IAM_AUTHENTICATION = ("IAM_AND_QUICKSIGHT", "IAM_ONLY")
PREREQUISITES = 'README, "BI: before the first `pulumi up`"'


class ReportError(RuntimeError):
    """The report cannot be made as asked (exit 1)."""


# --- who sees what ---------------------------------------------------------------------------------------


def visible_lines(settings: BiSettings, prefix: str, user: str) -> list[str] | None:
    """The business lines QuickSight shows `user` of the stack's BI people (None: every line)."""
    person = settings.person(user)
    if person is None:
        known = ", ".join(p.user for p in settings.people) or "nobody"
        raise ValueError(f"--as {user}: not in uba:bi.people of the stack (it lists {known})")
    names = group_names(prefix, [line.biz_id for line in settings.business_lines])
    visible = lines_visible(groups_of(person, names), rule_rows(names))
    return None if visible is None else sorted(visible)


# --- the report ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Computed:
    spec: Dashboard
    first: date
    last: date
    lines: list[str] | None
    visuals: list[local_bi.VisualData]
    all_lines: list[str]


def lake_days(lake: Path) -> tuple[date, date]:
    """The first and last UTC day the lake holds events of (from its partition folders)."""
    days = sorted(
        date(int(y.name[5:]), int(m.name[6:]), int(d.name[4:]))
        for y in (lake / "events").glob("year=*")
        for m in y.glob("month=*")
        for d in m.glob("day=*")
    )
    if not days:
        raise ReportError(f"no events in the lake at {lake} (expected events/year=YYYY/month=MM/day=DD/...)")
    return days[0], days[-1]


def compute_report(
    lake: Path,
    first: date | None = None,
    last: date | None = None,
    lines: list[str] | None = None,
    parameters: RefreshParameters | None = None,
) -> Computed:
    """Build the warehouse from `lake`, check the specification's columns, and compute every visual."""
    parameters = parameters or RefreshParameters()
    spec = dashboard(parameters.conversion_from_action, parameters.conversion_to_action)
    held_first, held_last = lake_days(lake)
    last = last or held_last
    first = first or max(held_first, last - timedelta(days=DEFAULT_DAYS - 1))
    connection = warehouse.connect()
    try:
        warehouse.refresh(connection, lake.resolve(), parameters)
        local_bi.load_datasets(connection, spec, lake.resolve(), first, last)
        problems = local_bi.column_problems(spec, local_bi.dataset_columns(connection, spec))
        if problems:
            raise ReportError("the dashboard specification does not match the SQL: " + "; ".join(problems))
        visuals = local_bi.compute(connection, spec, first, last, lines)
        all_lines = local_bi.lines_in(connection, spec)
    finally:
        connection.close()
    return Computed(spec, first, last, lines, visuals, all_lines)


CHART_KINDS = {"line": "line", "bar": "bar", "horizontal_bar": "barh", "heat_map": "heatmap"}


def _label(value: Any) -> str | date:
    return value if isinstance(value, date) else str(value)


def visual_chart(data: local_bi.VisualData) -> Chart:
    """One visual's numbers as a chart of `tools.charts`, drawn the way the dashboard draws it."""
    visual = data.visual
    kind: Any = CHART_KINDS[visual.kind]
    if visual.kind == "heat_map":
        rows = sorted({row[0] for row in data.rows})
        columns = sorted({row[1] for row in data.rows})
        cells = {(row[0], row[1]): row[2] for row in data.rows}
        series = [
            Series(f"{column}", [str(r) for r in rows], [cells.get((r, column)) for r in rows]) for column in columns
        ]
        return Chart(visual.title, kind, series, x_label=str(visual.columns.column if visual.columns else ""),
                     percent=visual.percent, size=(7.5, max(2.8, 0.22 * len(rows) + 1.2)))  # fmt: skip
    dated = kind == "line"
    x = [_label(row[0]) if dated else (row[0].isoformat() if isinstance(row[0], date) else str(row[0]))
         for row in data.rows]  # fmt: skip
    series = [
        Series(measure.label, x, [row[1 + index] for row in data.rows]) for index, measure in enumerate(visual.measures)
    ]
    size = (7.5, max(2.8, 0.3 * len(x) + 0.8)) if kind == "barh" else (7.5, 2.8)
    return Chart(visual.title, kind, series, percent=visual.percent, size=size)


def report_page(computed: Computed, lake: Path, viewer: str | None = None) -> Report:
    """The page: one section per visual, its chart and the rows behind it."""
    seen = local_bi.describe_lines(computed.lines)
    who = f"as {viewer} sees it ({seen})" if viewer else seen
    report = Report(
        f"{computed.spec.title}: the BI dashboard, rendered locally",
        f"lake {lake}, UTC days {computed.first} to {computed.last}, {who}; "
        f"specification sql/bi, one section per visual",
    )
    for data in computed.visuals:
        visual = data.visual
        table = Table(data.columns, data.rows)
        if data.empty:
            report.add(Section(visual.title, [], note=f"{visual.note} No rows in this range.".strip(), table=table))
            continue
        report.add(Section(visual.title, [visual_chart(data)], note=visual.note, table=table))
    return report


def write_report(
    computed: Computed, lake: Path, out: Path, png_directory: Path | None = None, viewer: str | None = None
) -> list[Path]:
    report = report_page(computed, lake, viewer)
    written = [report.write_html(out)]
    if png_directory is not None:
        written += report.write_pngs(png_directory)
    return written


# --- the account check -----------------------------------------------------------------------------------


def _error_code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", type(error).__name__))


def account_problems(
    settings: BiSettings, region: str, account_id: str, quicksight: Any, identity: Any, iam: Any
) -> list[str]:
    """What the account lacks for the BI tier, one line each with what to do (empty: ready).

    `quicksight` is a QuickSight client in the stack's region, `identity` one in the identity region,
    `iam` an IAM client: boto3 clients, or stubs of them.
    """
    account = settings.quicksight
    identity_region = account.identity_region or region
    problems: list[str] = []
    try:
        info = quicksight.describe_account_subscription(AwsAccountId=account_id)["AccountInfo"]
    except Exception as error:
        if _error_code(error) == "ResourceNotFoundException":
            return [
                f"account {account_id} has no QuickSight subscription: an administrator subscribes once per account "
                f"(Enterprise edition, IAM identities), then names a QuickSight admin in uba:bi.quicksight.admin "
                f"({PREREQUISITES})"
            ]
        raise
    if info.get("Edition") not in ENTERPRISE_EDITIONS:
        problems.append(
            f"the QuickSight subscription is {info.get('Edition')}: row-level security, VPC connections and Secrets "
            f"Manager credentials need the Enterprise edition (Manage QuickSight > Account settings > upgrade)"
        )
    if info.get("AuthenticationType") not in IAM_AUTHENTICATION:
        problems.append(
            f"QuickSight authenticates with {info.get('AuthenticationType')}: the BI tier registers IAM users, which "
            f"needs IAM_AND_QUICKSIGHT or IAM_ONLY ({PREREQUISITES})"
        )
    if info.get("AccountSubscriptionStatus") not in (None, "ACCOUNT_CREATED", "OK"):
        problems.append(f"the QuickSight subscription is {info.get('AccountSubscriptionStatus')}, not ready yet")
    problems += _user_problems(settings, identity_region, account_id, identity)
    try:
        iam.get_role(RoleName=account.secrets_role)
    except Exception as error:
        if _error_code(error) not in ("NoSuchEntity", "NoSuchEntityException"):
            raise
        problems.append(
            f"IAM role {account.secrets_role} does not exist: QuickSight's access to Secrets Manager is off; in "
            f"QuickSight, Manage QuickSight > Security & permissions > QuickSight access to AWS services > AWS Secrets "
            f"Manager, turn it on (the program then grants that role the warehouse secret), or set "
            f"uba:bi.quicksight.secrets_role to the role it uses"
        )
    return problems


def _user_problems(settings: BiSettings, identity_region: str, account_id: str, identity: Any) -> list[str]:
    account = settings.quicksight
    problems: list[str] = []
    wanted = [(account.admin, True)] + [(p.user, False) for p in settings.people if not p.register_user]
    for user, is_admin in wanted:
        try:
            found = identity.describe_user(UserName=user, AwsAccountId=account_id, Namespace=account.namespace)
        except Exception as error:
            code = _error_code(error)
            if code == "ResourceNotFoundException":
                what = "the admin uba:bi.quicksight.admin" if is_admin else "a person with register_user: false"
                problems.append(f"QuickSight has no user {user} in namespace {account.namespace} ({what})")
                continue
            if code == "AccessDeniedException" and "identity region" in str(error).lower():
                problems.append(
                    f"{identity_region} is not the account's QuickSight identity region ({error}); set "
                    f"uba:bi.quicksight.identity_region to the region the message names"
                )
                return problems
            raise
        role = found["User"].get("Role")
        if is_admin and role not in ("ADMIN", "ADMIN_PRO"):
            problems.append(f"QuickSight user {user} is a {role}, not an ADMIN: name the account's administrator")
    return problems


def check(stack: str) -> int:
    import boto3  # only this command talks to AWS

    settings = stack_settings(stack)
    region = settings.region
    identity_region = settings.bi.quicksight.identity_region or region
    account_id = boto3.client("sts", region_name=region).get_caller_identity()["Account"]
    problems = account_problems(
        settings.bi,
        region,
        account_id,
        boto3.client("quicksight", region_name=region),
        boto3.client("quicksight", region_name=identity_region),
        boto3.client("iam"),
    )
    state = "on" if settings.bi.enabled else "off (checked as if on)"
    for problem in problems:
        print(f"stack {stack}: {problem}", file=sys.stderr)
    if not problems:
        print(f"stack {stack}: QuickSight is ready for the BI tier (uba:bi is {state}) in account {account_id}")
    return 1 if problems else 0


# --- the command line ------------------------------------------------------------------------------------


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools.bi", description=__doc__.splitlines()[0] if __doc__ else "")
    commands = parser.add_subparsers(dest="command", required=True)
    report = commands.add_parser("report", help="render the dashboard from a local lake as one HTML page")
    report.add_argument("--lake", type=Path, required=True, help="lake root (holds events/year=.../)")
    report.add_argument("--out", type=Path, required=True, help="the HTML file to write")
    report.add_argument("--stack", default="prod", help="stack file whose BI people, lines and conversion to use")
    who = report.add_mutually_exclusive_group()
    who.add_argument("--as", dest="user", help="render what this person of uba:bi.people sees (row-level security)")
    who.add_argument("--lines", help="render only these business lines, comma-separated")
    report.add_argument("--from", dest="first", type=_day, help="first UTC day (default: 90 days before --to)")
    report.add_argument("--to", dest="last", type=_day, help="last UTC day (default: the lake's last day)")
    report.add_argument("--png", type=Path, help="also write each chart as a PNG into this directory")
    account = commands.add_parser("check", help="the account's QuickSight prerequisites (boto3)")
    account.add_argument("stack")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    options = parser.parse_args(argv)
    if options.command == "check":
        try:
            return check(options.stack)
        except (ProgramError, SettingsError) as error:
            print(error, file=sys.stderr)
            return 2
    return _report(parser, options)


def _report(parser: argparse.ArgumentParser, options: argparse.Namespace) -> int:
    if not options.lake.is_dir():
        parser.error(f"no lake directory at {options.lake}")
    if options.first and options.last and options.first > options.last:
        parser.error(f"--from {options.first} is after --to {options.last}")
    try:
        settings = stack_settings(options.stack)
    except (ProgramError, SettingsError) as error:
        parser.error(str(error))
    lines: list[str] | None = None
    if options.user:
        try:
            lines = visible_lines(settings.bi, settings.platform.prefix, options.user)
        except ValueError as error:
            parser.error(str(error))
    elif options.lines:
        lines = [line.strip() for line in options.lines.split(",") if line.strip()]
    refresh = settings.warehouse.refresh
    parameters = RefreshParameters(
        conversion_from_action=refresh.conversion_from_action, conversion_to_action=refresh.conversion_to_action
    )
    try:
        computed = compute_report(options.lake, options.first, options.last, lines, parameters)
    except (ReportError, FileNotFoundError) as error:
        print(error, file=sys.stderr)
        return 1
    written = write_report(computed, options.lake, options.out, options.png, viewer=options.user)
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
