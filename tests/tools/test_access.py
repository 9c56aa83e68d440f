"""Who can do what, per stack: the generated group policies evaluated with moto's IAM engine.

The matrix comes from `tools.access` (the policies the program attaches to each group, read
from the mock-engine snapshot). The expectations below are the spec, written per capability
as the personas allowed; every other persona must be refused. Where the dev stack's
builders and prod's read-only developers differ, the entry is a (builder, read_only) pair.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any, cast

import boto3
import pulumi_aws as aws
import pytest
from moto import mock_aws
from moto.iam.access_control import IAMPolicy, PermissionResult

from components.access.policies import ADMINISTRATOR_ACCESS_DOCUMENT
from settings import PERSONAS, Persona
from tests.support.config import cdc_on, provisioned_warehouse
from tests.support.harness import run_stack
from tests.support.tokens import BI, COST, EDGE, INGEST, LAKE, LIVE, SEARCH, STREAMING, WAREHOUSE, type_token
from tools.access import (
    build_report,
    cross_stack_allows,
    main,
    matrix,
    missing_users,
    reachable_roles,
    render_table,
)
from tools.engine.mocks import ACCOUNT_ID, Snapshot, load_stack_config
from tools.iam.evaluate import UnmodelledPolicyError, condition_holds, evaluate

ADMIN: Persona = "admin"
OP: Persona = "op"
DEV: Persona = "dev"
BIZ: Persona = "bizUser"
Expected = str | tuple[str, str]  # personas as letters "AODB"; or (builder, read_only)

EXPECTED: dict[str, dict[str, Expected]] = {
    "core": {
        "metrics.read": "AODB", "alarm.change": "AO", "alarm.delete": "AO", "dashboard.view": "AODB",
        "dashboard.edit": "AO", "ops-topic.publish": "A", "key.decrypt": "A", "key.schedule-deletion": "A",
        "key.disable": "A", "iam.create-user": "A", "iam.create-access-key": "A", "iam.attach-policy": "A",
        "iam.join-admin": "A", "iam.pass-role": "A",
        # Without MFA nobody may do anything but set MFA up; admin's own grants reach other users' devices.
        "no-mfa.metrics": "", "no-mfa.enable-own-mfa": "AODB", "no-mfa.enable-other-mfa": "A",
    },
    "ingest": {
        "api.invoke": ("AD", "A"), "events.put": ("AD", "A"), "events.read": ("AOD", "AO"),
        "events.describe": "AOD", "ingest.code": ("AD", "A"), "ingest.configure": "A", "ingest.stop": "AO",
        "ingest.logs": "AOD", "api.key": ("AD", "A"), "api.throttle": "AO", "api.access-logs-off": "A",
        "api.access-logs-redirect": "A",
    },
    # A builder ships the edge-log Lambda's code in dev and feeds its stream test lines; op reads and stops it.
    "edge": {
        "edge-logs.read": ("AOD", "AO"), "edge-logs.put": ("AD", "A"), "edge.code": ("AD", "A"), "edge.stop": "AO",
        "edge.logs": "AOD", "edge-invalid.receive": ("AOD", "AO"), "edge-invalid.purge": "A",
        "edge-failed.receive": "AO", "edge.describe": "AOD", "edge.reconfigure": "A",
    },
    "streaming": {
        "alerts.read": ("AOD", "AO"), "flink.stop": "AO", "flink.start": "AO", "flink.update": "A",
        "sink.code": ("AD", "A"), "realtime.get": ("AODB", "AOB"), "realtime.query-index": ("AODB", "AOB"),
        "realtime.put": ("AD", "A"), "realtime.drop": "A", "realtime.change-key": "A", "realtime.pitr-off": "A",
        # A builder ships the alert sink's code in dev, so it publishes whatever the sink's role may.
        "business.publish": ("AD", "A"), "dlq.receive": "AO", "dlq.purge": "A",
    },
    "lake": {
        "lake.list": ("AOD", "AO"), "lake.download": ("AOD", "AO"), "lake.read-via-athena": "AODB",
        "lake.errors": ("AOD", "AO"), "lake.write": ("AD", "A"), "lake.delete": ("AD", "A"), "lake.expire": "A",
        "results.list-all": "A", "results.upload": "A", "catalog.read": "AODB", "catalog.change": "A",
        "key.via-s3": "AODB", "access-logs.read": "AO", "firehose.destination": "A", "firehose.logs": "AOD",
    },
    # Each querying persona in its own workgroup and results prefix: no group lists, fetches or downloads
    # another's results (issue 12, item 10); admin may use every workgroup.
    "workgroups": {
        f"{capability}@{persona}": cast(Expected, letters)
        for persona, letters in (("op", "AO"), ("dev", "AD"), ("bizuser", "AB"))
        for capability in ("athena.query", "athena.list", "athena.results", "athena.analyses", "results.list",
                           "results.download", "results.write-via-athena")
    } | {"athena.tune@op": "A", "athena.tune@dev": "A", "athena.tune@bizuser": "A"},
    "warehouse": {"warehouse.connect": "AOB", "warehouse.sql": "AOB", "warehouse.delete": "A",
                  "warehouse.configure": "A"},
    # op and dev search, admin manages, bizUser nothing (prod's stack file leaves bizuser_search off);
    # nobody but admin ships the search-admin function's code, builders in dev included.
    "search": {"search.read": "AOD", "search.delete": "A", "search.feed-read": ("AOD", "AO"),
               "search.dead-letters": "AO", "search.dead-letters-delete": "A", "search.delivery-change": "A",
               "search.admin-code": "A"},
    # The page's sign-in, files and headers change only through the stack file (admin, CI); op handles viewers
    # in an incident; a builder ships the live functions' code, so it does what the pusher's role may.
    "live": {
        "live.api-code": ("AD", "A"), "live.push-stop": "AO", "live.push-logs": "AOD", "live.pool-read": "AOD",
        "live.pool-mfa-off": "A", "live.invite": "A", "live.sign-out-viewer": "AO", "live.lock-viewer": "AO",
        "live.page-ship": "A", "live.page-read": "A", "live.csp-change": "A", "live.headers-change": "A",
        "live.site-key-decrypt": "A", "live.connections-read": ("AOD", "AO"), "live.push-dlq": "AO",
        "live.disconnect-page": "AO", "live.push-as-pusher": ("AD", "A"),
    },
    # Business users open the dashboard, embedded as themselves only; what they see is row-level security's.
    # Nobody but admin changes, shares or administers QuickSight, or reads QuickSight's unfiltered results.
    "bi": {"bi.open": "AB", "bi.embed-self": "AB", "bi.embed-other": "A", "bi.edit": "A", "bi.share": "A",
           "bi.register-admin": "A", "bi.query": "A", "bi.results": "A"},
    # The groups that watch the platform see what it may cost; only admin (and the deployment) changes it.
    "cost": {"budget.view": "AOD", "budget.change": "A"},
}  # fmt: skip
# With CDC on (no stack file has it): the database's changes are data like the events, the replication
# is op's to start and stop, and what it replicates ships through CI only.
EXPECTED_CDC: dict[str, Expected] = {
    "changes.read": ("AOD", "AO"), "changes.put": "A", "replication.start": "AO", "replication.stop": "AO",
    "replication.modify": "A", "replication.tables": "AOD", "processor.code": ("AD", "A"),
    "changes.download": ("AOD", "AO"), "changes.read-via-athena": "AODB", "changes-firehose.destination": "A",
}  # fmt: skip
# Every request aimed at another stack's resources: only admin's account-wide grant reaches it.
CROSS_STACK = ["events.put", "events.read", "api.invoke", "ingest.code", "edge-logs.read", "edge.code",
               "ingest.logs", "alarm.change", "dashboard.view", "flink.stop", "realtime.get", "lake.read-via-athena",
               "athena.query@op", "athena.query@dev", "athena.query@bizuser", "catalog.read",
               "warehouse.connect", "live.pool-read", "bi.open", "budget.view", "search.read"]  # fmt: skip
TIER_COMPONENTS = {"ingest": INGEST, "edge": EDGE, "streaming": STREAMING, "lake": LAKE, "workgroups": LAKE,
                   "warehouse": WAREHOUSE, "bi": BI, "live": LIVE, "cost": COST, "search": SEARCH}  # fmt: skip
LETTERS = {"A": ADMIN, "O": OP, "D": DEV, "B": BIZ}


def expected_allowed(stack: str, other: str) -> dict[str, set[str]]:
    """Capability id -> personas allowed, for the tiers this stack (and the other) builds."""
    run, other_run = run_stack(stack), run_stack(other)
    builder = run.stack == "dev"  # the stack files: builder in dev, read_only in prod
    result: dict[str, set[str]] = {}
    for tier, entries in EXPECTED.items():
        if tier != "core" and not run.of_type(TIER_COMPONENTS[tier]):
            continue
        for capability, letters in entries.items():
            chosen = letters if isinstance(letters, str) else letters[0 if builder else 1]
            result[capability] = {LETTERS[letter] for letter in chosen}
    present_elsewhere = {c for tier, entries in EXPECTED.items() for c in entries
                         if tier == "core" or other_run.of_type(TIER_COMPONENTS[tier])}  # fmt: skip
    for capability in CROSS_STACK:
        if capability in present_elsewhere:
            result[f"{other}:{capability}"] = {ADMIN}
    return result


def verdicts(stack: str, other: str) -> dict[tuple[str, str], Any]:
    rows = matrix(run_stack(stack).snapshot, [run_stack(other).snapshot])
    return {(v.capability, v.persona): v for v in rows}


@pytest.mark.parametrize(("stack", "other"), [("dev", "prod"), ("prod", "dev")])
def test_every_persona_can_do_exactly_what_the_spec_says_and_nothing_more(stack: str, other: str) -> None:
    found = verdicts(stack, other)
    expected = expected_allowed(stack, other)
    assert {capability for capability, _ in found} == set(expected), "capabilities tried differ from the spec"
    unexpected_allows = [key for key, v in found.items() if v.allowed and key[1] not in expected[key[0]]]
    missing_allows = [key for key, v in found.items() if not v.allowed and key[1] in expected[key[0]]]
    assert unexpected_allows == [], f"allowed but must be refused: {unexpected_allows}"
    assert missing_allows == [], f"refused but must be allowed: {missing_allows}"
    assert len(expected) >= 40 and len(found) == len(PERSONAS) * len(expected)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_with_cdc_on_every_persona_can_do_exactly_what_the_spec_says_with_the_databases_changes(stack: str) -> None:
    builder = stack == "dev"
    rows = matrix(run_stack(stack, overrides=cdc_on()).snapshot, [])
    found = {(v.capability, v.persona): v.allowed for v in rows if v.capability in EXPECTED_CDC}
    assert {capability for capability, _ in found} == set(EXPECTED_CDC)
    for (capability, persona), allowed in found.items():
        letters = EXPECTED_CDC[capability]
        chosen = letters if isinstance(letters, str) else letters[0 if builder else 1]
        assert allowed == (persona in {LETTERS[letter] for letter in chosen}), (capability, persona, allowed)
    # The rest of the stack's matrix is what it is without CDC.
    without = {(v.capability, v.persona): v.allowed for v in matrix(run_stack(stack).snapshot, [])}
    assert {(v.capability, v.persona): v.allowed for v in rows if v.capability not in EXPECTED_CDC} == without


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_op_is_explicitly_denied_what_it_must_never_do(stack: str) -> None:
    """Explicit denies, so no other policy or group membership can ever grant these to op."""
    found = verdicts(stack, "prod" if stack == "dev" else "dev")
    must_be_explicit = [
        "iam.create-user", "iam.create-access-key", "iam.attach-policy", "iam.join-admin", "iam.pass-role",
        "key.schedule-deletion", "key.disable", "lake.delete", "lake.expire",
        # code is a privilege: op never ships it (nor what loads it), wherever another grant might allow it
        "ingest.code", "ingest.configure", "sink.code", "flink.update",
        # guardrails op could otherwise switch off
        "api.access-logs-off", "api.access-logs-redirect", "realtime.change-key", "realtime.pitr-off",
        "athena.tune@op", "athena.tune@dev", "athena.tune@bizuser", "firehose.destination", "warehouse.configure",
    ]  # fmt: skip
    for capability in must_be_explicit:
        if (capability, OP) in found:
            assert found[(capability, OP)].outcome == "explicit deny", capability
    assert found[("iam.create-user", OP)].outcome == "explicit deny"


def test_a_dev_stack_developer_cannot_touch_the_prod_stack() -> None:
    found = verdicts("dev", "prod")
    prod_stream = run_stack("prod").one(type_token(aws.kinesis.Stream), "events-stream").state["arn"]
    put = found[("prod:events.put", DEV)]
    assert put.resource == prod_stream and put.action == "kinesis:PutRecord"
    assert not put.allowed and put.outcome == "implicit deny"
    # ...while the same request on the dev stack's own stream is allowed.
    own = found[("events.put", DEV)]
    assert own.allowed and own.resource == prod_stream.replace("uba-prod", "uba-dev")
    for capability in CROSS_STACK:
        for persona in (OP, DEV, BIZ):
            if (f"prod:{capability}", persona) in found:
                assert not found[(f"prod:{capability}", persona)].allowed, (capability, persona)


def test_report_json_has_staff_and_a_long_form_matrix() -> None:
    doc = build_report(run_stack("prod").snapshot, [run_stack("dev").snapshot])
    assert doc["staff"] == [
        {"user": "alice.admin", "groups": ["admin"], "created_by_stack": False},
        {"user": "omar.ops", "groups": ["op"], "created_by_stack": False},
        {"user": "dana.dev", "groups": ["dev"], "created_by_stack": False},
        {"user": "bo.analyst", "groups": ["bizUser"], "created_by_stack": False},
    ]
    row = next(r for r in doc["matrix"] if r["capability"] == "events.put" and r["persona"] == "op")
    assert {k: row[k] for k in ("persona", "capability", "action", "resource", "allowed")} == {
        "persona": "op", "capability": "events.put", "action": "kinesis:PutRecord",
        "resource": f"arn:aws:kinesis:eu-west-1:{ACCOUNT_ID}:stream/uba-prod-events", "allowed": False,
    }  # fmt: skip
    json.dumps(doc)  # the whole document is JSON as printed by --format json
    table = render_table(doc)
    assert "  omar.ops     op" in table
    line = next(line for line in table.splitlines() if "put a record on the events stream " in line)
    assert line.split()[-4:] == ["allow", "deny", "deny", "deny"]


# --- the evaluator, and the statements moto cannot be trusted with -----------------------------------------


def mfa_policy(stack: str = "dev") -> dict[str, Any]:
    run = run_stack(stack)
    return run.policy(run.one(type_token(aws.iam.Policy), "policy-require-mfa"))


def deny_unless_mfa(stack: str = "dev") -> dict[str, Any]:
    statements = [s for s in mfa_policy(stack)["Statement"] if s["Effect"] == "Deny"]
    assert len(statements) == 1
    return statements[0]


@pytest.mark.parametrize(
    "context",
    [{"aws:MultiFactorAuthPresent": "false"}, {}],  # signed in without MFA; long-term keys carry no MFA key at all
    ids=["mfa-false", "mfa-key-absent"],
)
def test_without_mfa_the_deny_statement_refuses_everything_but_mfa_set_up(context: dict[str, str]) -> None:
    statement = deny_unless_mfa()
    admin = [ADMINISTRATOR_ACCESS_DOCUMENT, {"Version": "2012-10-17", "Statement": [statement]}]
    context = {**context, "aws:username": "dana.dev"}
    assert condition_holds(statement["Condition"], context)
    for action, resource in [("s3:GetObject", "arn:aws:s3:::uba-dev-lake/events/x"), ("iam:CreateUser", "*"),
                             ("sts:AssumeRole", f"arn:aws:iam::{ACCOUNT_ID}:role/x")]:  # fmt: skip
        assert evaluate(admin, action, resource, context).outcome == "explicit deny", action
    for action in ("iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "iam:ListMFADevices", "sts:GetSessionToken"):
        assert evaluate(admin, action, f"arn:aws:iam::{ACCOUNT_ID}:user/dana.dev", context).allowed, action


def test_with_mfa_the_deny_statement_does_not_apply() -> None:
    statement = deny_unless_mfa()
    admin = [ADMINISTRATOR_ACCESS_DOCUMENT, {"Version": "2012-10-17", "Statement": [statement]}]
    context = {"aws:MultiFactorAuthPresent": "true", "aws:username": "dana.dev"}
    assert not condition_holds(statement["Condition"], context)
    assert evaluate(admin, "s3:GetObject", "arn:aws:s3:::uba-dev-lake/events/x", context).allowed


def test_moto_alone_misreads_the_mfa_statement_which_is_why_conditions_are_evaluated_separately() -> None:
    """moto ignores `BoolIfExists` (it knows only StringEquals), so its verdict is a deny even with MFA."""
    policy = json.dumps({"Version": "2012-10-17", "Statement": [deny_unless_mfa()]})
    moto_verdict = IAMPolicy(policy).is_action_permitted(
        "s3:GetObject", "arn:aws:s3:::b/k", incoming_condition_values={"aws:MultiFactorAuthPresent": "true"}
    )
    assert moto_verdict == PermissionResult.DENIED  # wrong for IAM: the condition does not hold
    ours = evaluate([json.loads(policy)], "s3:GetObject", "arn:aws:s3:::b/k", {"aws:MultiFactorAuthPresent": "true"})
    assert ours.outcome == "implicit deny"  # right: the statement does not apply, and nothing allows


def test_self_service_mfa_reaches_only_the_callers_own_user() -> None:
    documents = [mfa_policy()]
    own = {"aws:MultiFactorAuthPresent": "false", "aws:username": "dana.dev"}
    user = f"arn:aws:iam::{ACCOUNT_ID}:user"
    assert evaluate(documents, "iam:EnableMFADevice", f"{user}/dana.dev", own).allowed
    assert evaluate(documents, "iam:EnableMFADevice", f"{user}/people/dana.dev", own).allowed  # a user with a path
    assert not evaluate(documents, "iam:EnableMFADevice", f"{user}/omar.ops", own).allowed
    assert not evaluate(documents, "iam:DeactivateMFADevice", f"{user}/dana.dev", own).allowed  # needs MFA first
    with_mfa = own | {"aws:MultiFactorAuthPresent": "true"}
    assert evaluate(documents, "iam:DeactivateMFADevice", f"{user}/dana.dev", with_mfa).allowed


def test_reads_through_athena_only_apply_when_athena_makes_the_call() -> None:
    statement = {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::lake/events/*"],
                 "Condition": {"ForAnyValue:StringEquals": {"aws:CalledVia": ["athena.amazonaws.com"]}}}  # fmt: skip
    documents = [{"Version": "2012-10-17", "Statement": [statement]}]
    key = "arn:aws:s3:::lake/events/year=2026/x.parquet"
    assert evaluate(documents, "s3:GetObject", key, {"aws:CalledVia": ["athena.amazonaws.com"]}).allowed
    assert evaluate(documents, "s3:GetObject", key, {}).outcome == "implicit deny"  # moto would say explicit deny
    assert evaluate(documents, "s3:GetObject", key, {"aws:CalledVia": ["glue.amazonaws.com"]}).outcome == (
        "implicit deny"
    )
    errors = "arn:aws:s3:::lake/errors/x"
    assert not evaluate(documents, "s3:GetObject", errors, {"aws:CalledVia": ["athena.amazonaws.com"]}).allowed


def test_key_use_is_allowed_only_through_the_named_services() -> None:
    statement = {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": ["arn:aws:kms:eu-west-1:1:key/k"],
                 "Condition": {"StringEquals": {"kms:ViaService": ["s3.eu-west-1.amazonaws.com"]}}}  # fmt: skip
    documents = [{"Version": "2012-10-17", "Statement": [statement]}]
    key = "arn:aws:kms:eu-west-1:1:key/k"
    assert evaluate(documents, "kms:Decrypt", key, {"kms:viaservice": "s3.eu-west-1.amazonaws.com"}).allowed
    assert not evaluate(documents, "kms:Decrypt", key, {"kms:ViaService": "sqs.eu-west-1.amazonaws.com"}).allowed
    assert not evaluate(documents, "kms:Decrypt", key, {}).allowed


def test_an_explicit_deny_beats_administrator_access() -> None:
    deny = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": ["kms:ScheduleKeyDeletion"],
                                                     "Resource": ["arn:aws:kms:eu-west-1:1:key/k"]}]}  # fmt: skip
    documents = [ADMINISTRATOR_ACCESS_DOCUMENT, deny]
    assert evaluate(documents, "kms:ScheduleKeyDeletion", "arn:aws:kms:eu-west-1:1:key/k", {}).outcome == (
        "explicit deny"
    )
    assert evaluate(documents, "kms:ScheduleKeyDeletion", "arn:aws:kms:eu-west-1:1:key/other", {}).allowed
    assert evaluate([ADMINISTRATOR_ACCESS_DOCUMENT], "anything:AtAll", "arn:aws:x:::y", {}).allowed
    assert evaluate([], "s3:GetObject", "arn:aws:s3:::b/k", {}).outcome == "implicit deny"


@pytest.mark.parametrize(
    ("statement", "problem"),
    [
        ({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::b/*"}, "NotResource"),
        ({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
          "Condition": {"NumericLessThan": {"s3:max-keys": "10"}}}, "NumericLessThan"),
        ({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
          "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]},
                        "DateGreaterThan": {"aws:CurrentTime": "x"}}},
         "DateGreaterThan"),
        ({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/(a|b)"}, "misread"),
        ({"Effect": "Allow", "Action": "iam:GetUser", "Resource": "arn:aws:iam::1:user/${aws:userid}"}, "aws:userid"),
        ({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}, "Principal"),
    ],
)  # fmt: skip
def test_what_the_evaluator_cannot_decide_faithfully_is_refused_not_guessed(statement: dict, problem: str) -> None:
    with pytest.raises(UnmodelledPolicyError, match=problem):
        evaluate([{"Version": "2012-10-17", "Statement": [statement]}], "s3:GetObject", "arn:aws:s3:::b/k",
                 {"aws:TagKeys": ["a"], "aws:username": "x"})  # fmt: skip


def test_every_persona_is_in_the_matrix_for_every_capability() -> None:
    rows = matrix(run_stack("prod").snapshot, [])
    by_capability: dict[str, set[str]] = {}
    for row in rows:
        by_capability.setdefault(row.capability, set()).add(row.persona)
    assert all(personas == set(PERSONAS) for personas in by_capability.values())
    assert not [c for c in by_capability if ":" in c]  # no other stack given, no cross-stack rows


def test_a_provisioned_warehouse_is_reached_through_cluster_credentials_for_its_own_database() -> None:
    run = run_stack("dev", overrides=provisioned_warehouse())
    cluster = run.one(type_token(aws.redshift.Cluster))
    found = {(v.capability, v.persona): v for v in matrix(run.snapshot, [])}
    connect = found[("warehouse.connect", BIZ)]
    identifier, database = cluster.state["clusterIdentifier"], cluster.inputs["databaseName"]
    assert connect.action == "redshift:GetClusterCredentialsWithIAM"
    assert connect.resource == f"arn:aws:redshift:eu-west-1:{ACCOUNT_ID}:dbname:{identifier}/{database}"
    assert {p for p in PERSONAS if found[("warehouse.connect", p)].allowed} == {ADMIN, OP, BIZ}
    assert {p for p in PERSONAS if found[("warehouse.sql", p)].allowed} == {ADMIN, OP, BIZ}
    assert found[("warehouse.delete", OP)].action == "redshift:DeleteCluster"
    assert not found[("warehouse.delete", OP)].allowed


def test_an_unknown_stack_is_refused_with_the_stacks_there_are(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["nosuch"]) == 2
    assert "no stack file Pulumi.nosuch.yaml; stacks here: dev, prod" in capsys.readouterr().err


# --- across stacks: one prefix extending another ---------------------------------------------------------


def prod_eu() -> Snapshot:
    """The prod stack file under the prefix `uba-prod-eu`, which extends prod's `uba-prod`."""
    platform = {**load_stack_config("prod")["uba:platform"], "prefix": "uba-prod-eu"}
    return replace(run_stack("prod", overrides={"uba:platform": platform}).snapshot, stack="prod-eu")


def test_no_group_of_a_stack_reaches_the_alarms_or_logs_of_a_stack_whose_prefix_extends_its_own() -> None:
    prod, eu = run_stack("prod").snapshot, prod_eu()
    rows = {(v.capability, v.persona): v for v in matrix(prod, [eu])}
    alarm = rows[("prod-eu:alarm.change", OP)]
    # The stack's region, or us-east-1 for the edge's alarms on CloudFront's metrics.
    assert re.match(rf"arn:aws:cloudwatch:(eu-west-1|us-east-1):{ACCOUNT_ID}:alarm:uba-prod-eu-", alarm.resource)
    assert not alarm.allowed  # `uba-prod-*` would have matched it
    assert not rows[("prod-eu:ingest.logs", OP)].allowed and not rows[("prod-eu:ingest.logs", DEV)].allowed
    assert rows[("alarm.change", OP)].allowed  # ...while prod's own alarms stay op's
    # Both runs are of one stack file, so mock ids (the warehouse's workgroup id) coincide; every name differs.
    assert [v for v in cross_stack_allows([prod, eu]) if "uba-prod-eu" in v.resource] == []


def test_cross_stack_evaluates_every_stack_file_at_once(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cross-stack"]) == 0
    assert "no grant of any group reaches another stack's resources (stacks: dev, prod)" in capsys.readouterr().out


# --- code is a privilege ----------------------------------------------------------------------------------


def test_the_matrix_counts_what_a_group_reaches_through_the_roles_of_code_it_may_ship() -> None:
    dev_rows = {(v.capability, v.persona): v for v in matrix(run_stack("dev").snapshot, [])}
    publish = dev_rows[("business.publish", DEV)]
    # No group policy grants sns:Publish to dev: the alert sink's role does, and a builder ships its code.
    assert publish.allowed and publish.via_role == f"arn:aws:iam::{ACCOUNT_ID}:role/uba-dev-alert-sink-role"
    assert publish.outcome == "allowed through uba-dev-alert-sink-role"
    assert not dev_rows[("business.publish", OP)].allowed  # op ships no code
    prod_rows = {(v.capability, v.persona): v for v in matrix(run_stack("prod").snapshot, [])}
    assert not any(v.via_role for v in prod_rows.values())  # in production only admin and CI ship code
    table = render_table(build_report(run_stack("dev").snapshot, []))
    line = next(line for line in table.splitlines() if "publish a business alert " in line)
    assert line.split()[-4:] == ["allow", "deny", "allow*", "deny"]


def test_a_group_that_could_ship_code_inherits_the_role_in_the_matrix() -> None:
    """Were op granted UpdateFunctionCode again, the matrix would show it publishing business alerts."""
    run = run_stack("prod")
    sink = next(f for f in run.of_type(type_token(aws.lambda_.Function)) if f.name != "ingest-function")
    documents = [{"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "lambda:UpdateFunctionCode", "Resource": sink.state["arn"]}]}]  # fmt: skip
    assert reachable_roles(run.snapshot, documents) == [sink.inputs["role"]]
    assert reachable_roles(run.snapshot, []) == []


# --- guardrails: conditions the evaluator must read as IAM does -------------------------------------------


def test_negated_and_null_conditions_match_a_missing_key_as_iam_does() -> None:
    key = "apigateway:Request/AccessLoggingDestination"
    assert condition_holds({"StringNotEquals": {key: "arn:own"}}, {})  # logging removed: the deny applies
    assert condition_holds({"StringNotEquals": {key: "arn:own"}}, {key: "arn:other"})
    assert not condition_holds({"StringNotEquals": {key: "arn:own"}}, {key: "arn:own"})
    assert condition_holds({"Null": {key: "true"}}, {}) and not condition_holds({"Null": {key: "true"}}, {key: "x"})
    assert condition_holds({"Null": {key: "false"}}, {key: "x"})


# --- staff users that must exist before the first `pulumi up` -------------------------------------------


def test_check_users_names_each_missing_user_and_the_two_ways_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with mock_aws():
        iam = boto3.client("iam")
        iam.create_user(UserName="alice.admin")
        # dev creates dana.dev and bo.analyst itself; omar.ops must exist and does not.
        assert missing_users("dev", iam) == [
            "stack dev: IAM user omar.ops does not exist; either set `create_user: true` on its access.staff "
            "entry, or create it first (aws iam create-user --user-name omar.ops)"
        ]
        # prod creates nobody: all three others are missing.
        assert [line.split()[4] for line in missing_users("prod", iam)] == ["omar.ops", "dana.dev", "bo.analyst"]
        for user in ("omar.ops", "dana.dev", "bo.analyst"):
            iam.create_user(UserName=user)
        assert missing_users("prod", iam) == []
        assert main(["check-users", "prod"]) == 0


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_default_table_fits_a_100_column_terminal_and_full_adds_action_and_resource(stack: str) -> None:
    """Issue 13: the matrix was 240 columns wide. The compact view keeps every capability and verdict."""
    other = "prod" if stack == "dev" else "dev"
    doc = build_report(run_stack(stack).snapshot, [run_stack(other).snapshot])
    compact, full = render_table(doc), render_table(doc, full=True)
    assert max(len(line) for line in compact.splitlines()) <= 100
    capabilities = {v["capability"] for v in doc["matrix"]}
    rows = [line for line in compact.splitlines() if line.rstrip().endswith(("allow", "deny", "allow*"))]
    assert len(rows) == len(capabilities)
    assert "add --full" in compact and "kinesis:PutRecord" not in compact
    put = next(line for line in full.splitlines() if "put a record on the events stream " in line)
    assert f"arn:aws:kinesis:eu-west-1:{ACCOUNT_ID}:stream/uba-{stack}-events" in put and "kinesis:PutRecord" in put
    assert max(len(line) for line in full.splitlines()) > 100


def test_a_description_too_long_for_the_compact_view_is_cut_with_an_ellipsis() -> None:
    verdict = {"capability": "x", "description": "d" * 150, "via_role": None, "allowed": True}
    personas = ("admin", "op", "dev", "bizUser")
    doc = {"stack": "dev", "staff": [], "matrix": [{**verdict, "persona": p} for p in personas]}
    line = next(line for line in render_table(doc).splitlines() if line.startswith("  ddd"))
    assert len(line) <= 100 and "…" in line and line.split()[-4:] == ["allow"] * 4
