"""`python -m tools.bi`: the dashboard rendered locally (every visual, row-level security) and the account check.

The report is rendered from the sample data (`tools.local.sample`: returning users over six weeks, four
business lines whose ids prod's stack file grants), and the small fixture lake of three lines checks
the range arithmetic by hand.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from settings.bi import BiSettings
from sql.bi import dashboard
from tests.sql.test_warehouse_models import at, event
from tools import bi, warehouse
from tools.engine.mocks import stack_settings
from tools.local import bi as local_bi
from tools.local.lake import write_lake
from tools.local.sample import BIZ_IDS, generate, write_sample

ACCOUNT = "123456789012"
LINES = ("biz-news", "biz-shop", "biz-video")
OBJECTS = {"biz-news": "article", "biz-shop": "sku", "biz-video": "video"}


def line_events() -> list[dict[str, Any]]:
    """Three lines over five weeks: each user comes back, views, sometimes buys, sometimes errs."""
    records = []
    for line_index, biz in enumerate(LINES):
        for user_index in range(3 + line_index):
            user = f"{biz}-user-{user_index}"
            for week in range(0, 35, 7 + user_index):
                day = week + line_index
                prefix = f"{user}-{day}"
                obj = f"{OBJECTS[biz]}-{(user_index + day) % 4 + 1:03d}"
                error = "[ERROR] payment declined" if (user_index + day) % 5 == 0 else None
                records += [
                    {**event(f"{prefix}-view", "viewDoc", user, at(day, "10:00:00")), "bizId": biz, "objectId": obj},
                    {**event(f"{prefix}-buy", "buy", user, at(day, "10:05:00"), error=error), "bizId": biz,
                     "objectId": obj},
                ][: 2 if user_index % 2 == 0 else 1]  # fmt: skip
    return records


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bi-report") / "lake"
    write_lake(root, line_events())
    return root


@pytest.fixture(scope="module")
def sample_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sample = generate(date(2026, 1, 5), date(2026, 2, 15), seed=7, users=60)
    return write_sample(tmp_path_factory.mktemp("bi-sample"), sample).lake


@pytest.fixture(scope="module")
def pages(sample_lake: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    out = tmp_path_factory.mktemp("pages")
    lake = str(sample_lake)
    assert bi.main(["report", "--lake", lake, "--out", str(out / "all.html")]) == 0
    assert bi.main(["report", "--lake", lake, "--out", str(out / "bo.html"), "--as", "bo.analyst"]) == 0
    return {name: (out / f"{name}.html").read_text() for name in ("all", "bo")}


def test_the_report_has_every_visual_of_the_specification_with_data(sample_lake: Path, pages: dict[str, str]) -> None:
    computed = bi.compute_report(sample_lake)
    assert set(computed.all_lines) == set(BIZ_IDS)
    spec = dashboard()
    assert [data.visual.key for data in computed.visuals] == [visual.key for visual in spec.visuals]
    assert [data.visual.key for data in computed.visuals if data.empty] == []
    for visual in spec.visuals:
        assert f"<h2>{visual.title.replace('>', '&gt;')}</h2>" in pages["all"]
    assert pages["all"].count("<svg") == len(spec.visuals)
    assert "<script" not in pages["all"] and 'src="http' not in pages["all"]  # self-contained


def test_row_level_security_shows_a_one_line_reader_only_that_lines_numbers(
    sample_lake: Path, pages: dict[str, str]
) -> None:
    """bo.analyst is granted biz-shop in prod's stack file: the report is the one of a lake without other lines."""
    lake = sample_lake
    settings = stack_settings("prod")
    assert bi.visible_lines(settings.bi, settings.platform.prefix, "bo.analyst") == ["biz-shop"]
    assert bi.visible_lines(settings.bi, settings.platform.prefix, "dana.dev") is None  # granted '*'
    shop = bi.compute_report(lake, lines=["biz-shop"])
    everything = bi.compute_report(lake)
    assert shop.visuals != everything.visuals

    # What QuickSight's rules do: the reader's rows are the only rows there are.
    connection = warehouse.connect()
    warehouse.refresh(connection, lake)
    spec = dashboard()
    local_bi.load_datasets(connection, spec, lake, shop.first, shop.last)
    for dataset in spec.datasets:
        connection.execute(f"DELETE FROM {local_bi.dataset_table(dataset)} WHERE biz_id <> 'biz-shop'")
    assert local_bi.compute(connection, spec, shop.first, shop.last) == shop.visuals

    page = pages["bo"]
    assert "as bo.analyst sees it (business lines biz-shop)" in page
    assert re.search(r"sku-\d{3}", page) and not re.search(r"(article|video|thread)-\d{3}", page)
    assert re.search(r"(article|video|thread)-\d{3}", pages["all"])


def test_a_reader_granted_no_line_sees_no_row(lake: Path) -> None:
    computed = bi.compute_report(lake, lines=[])
    assert all(data.empty for data in computed.visuals)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--as", "mallory"], "--as mallory: not in uba:bi.people"),
        (["--from", "2026-04-01", "--to", "2026-03-01"], "is after --to"),
        (["--from", "01/03/2026"], "expected a date as YYYY-MM-DD"),
    ],
)
def test_bad_report_arguments_are_refused_by_name(
    lake: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exit_:
        bi.main(["report", "--lake", str(lake), "--out", str(tmp_path / "x.html"), *arguments])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_a_missing_lake_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        bi.main(["report", "--lake", str(tmp_path / "nowhere"), "--out", str(tmp_path / "x.html")])
    assert "no lake directory" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert bi.main(["report", "--lake", str(tmp_path / "empty"), "--out", str(tmp_path / "x.html")]) == 1


def test_the_default_range_is_the_lakes_last_90_days(lake: Path) -> None:
    days = sorted(date.fromisoformat(record["createdAt"][:10]) for record in line_events())
    assert bi.lake_days(lake) == (days[0], days[-1])
    computed = bi.compute_report(lake)
    assert (computed.first, computed.last) == (days[0], days[-1])  # the lake holds less than 90 days
    later = bi.compute_report(lake, last=date(2026, 6, 30))
    assert (later.first, later.last) == (date(2026, 4, 2), date(2026, 6, 30))


# --- the account check ------------------------------------------------------------------------------------


def bi_settings(**quicksight: Any) -> BiSettings:
    base = stack_settings("prod").bi
    return base.model_copy(update={"quicksight": base.quicksight.model_copy(update=quicksight)})


def clients() -> tuple[Any, Any, Any]:
    quicksight = boto3.client("quicksight", region_name="eu-west-1")
    identity = boto3.client("quicksight", region_name="us-east-1")
    iam = boto3.client("iam", region_name="us-east-1")
    return quicksight, identity, iam


def subscription(**info: str) -> dict[str, Any]:
    account = {"AccountName": "uba", "Edition": "ENTERPRISE", "NotificationEmail": "ops@example.com",
               "AuthenticationType": "IAM_AND_QUICKSIGHT", "AccountSubscriptionStatus": "ACCOUNT_CREATED"}  # fmt: skip
    return {"AccountInfo": account | info, "Status": 200, "RequestId": "r"}


def user(role: str) -> dict[str, Any]:
    return {"User": {"UserName": "alice.admin", "Role": role, "Arn": "arn", "Active": True}, "Status": 200}


def role() -> dict[str, Any]:
    return {"Role": {"Path": "/", "RoleName": "r", "RoleId": "AROAEXAMPLE123456789", "Arn": "arn:aws:iam::1:role/r",
                     "CreateDate": datetime(2026, 1, 1), "AssumeRolePolicyDocument": "{}"}}  # fmt: skip


def run_check(settings: BiSettings, replies: dict[str, list[Any]]) -> list[str]:
    quicksight, identity, iam = clients()
    stubs = {"quicksight": Stubber(quicksight), "identity": Stubber(identity), "iam": Stubber(iam)}
    operations = {"quicksight": "describe_account_subscription", "identity": "describe_user", "iam": "get_role"}
    for name, answers in replies.items():
        for answer in answers:
            if isinstance(answer, tuple):
                stubs[name].add_client_error(operations[name], service_error_code=answer[0], service_message=answer[1])
            else:
                stubs[name].add_response(operations[name], answer)
    for stub in stubs.values():
        stub.activate()
    problems = bi.account_problems(settings, "eu-west-1", ACCOUNT, quicksight, identity, iam)
    for stub in stubs.values():
        stub.assert_no_pending_responses()
    return problems


def test_a_ready_account_has_no_finding() -> None:
    assert (
        run_check(bi_settings(), {"quicksight": [subscription()], "identity": [user("ADMIN")], "iam": [role()]}) == []
    )


def test_an_account_without_quicksight_is_told_to_subscribe() -> None:
    problems = run_check(bi_settings(), {"quicksight": [("ResourceNotFoundException", "not signed up")]})
    assert len(problems) == 1 and "has no QuickSight subscription" in problems[0] and "Enterprise" in problems[0]


def test_each_missing_prerequisite_is_one_line_with_what_to_do() -> None:
    problems = run_check(
        bi_settings(),
        {
            "quicksight": [subscription(Edition="STANDARD", AuthenticationType="ACTIVE_DIRECTORY")],
            "identity": [user("READER")],
            "iam": [("NoSuchEntity", "The role cannot be found")],
        },
    )
    assert len(problems) == 4
    assert "need the Enterprise edition" in problems[0]
    assert "authenticates with ACTIVE_DIRECTORY" in problems[1]
    assert "alice.admin is a READER, not an ADMIN" in problems[2]
    assert "aws-quicksight-secretsmanager-role-v0 does not exist" in problems[3] and "Secrets Manager" in problems[3]


def test_a_wrong_identity_region_is_named() -> None:
    message = "Operation is being called from endpoint us-east-1, but your identity region is eu-west-1."
    problems = run_check(
        bi_settings(identity_region="us-east-1"),
        {"quicksight": [subscription()], "identity": [("AccessDeniedException", message)], "iam": [role()]},
    )
    assert len(problems) == 1 and "set uba:bi.quicksight.identity_region" in problems[0]


def test_an_unexpected_aws_error_is_not_hidden() -> None:
    with pytest.raises(ClientError):
        run_check(bi_settings(), {"quicksight": [("ThrottlingException", "slow down")]})
