"""`tools.synth --compare`: what a change would do to a stack deployed from the older program."""

from __future__ import annotations

import copy
import json
import textwrap
from pathlib import Path
from typing import Any

import pulumi_aws as aws
import pytest

from tests.support.harness import run_stack
from tests.support.tokens import type_token
from tools.engine.compare import compare, render
from tools.engine.mocks import PROJECT_DIR, run_isolated
from tools.synth import document, main

ROLE = "urn:pulumi:dev::uba::uba:platform:Platform$uba:lake:Lake$aws:iam/role:Role::lake-firehose"


def _resource(urn: str, parent: str | None = None, **inputs: Any) -> dict[str, Any]:
    return {"urn": urn, "type": urn.split("::")[2].split("$")[-1], "name": urn.split("::")[-1], "parent": parent,
            "custom": True, "protect": False, "aliases": [], "inputs": inputs, "state": {}}  # fmt: skip


def _document(*resources: dict[str, Any], outputs: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"project": "uba", "stack": "dev", "resources": list(resources), "outputs": outputs or {}}


def _policy(resource: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                                "Resource": resource}]})  # fmt: skip


@pytest.fixture(scope="module")
def dev_document() -> dict[str, Any]:
    return document(run_stack("dev").snapshot, [])


def test_a_synth_compared_with_itself_shows_no_difference(dev_document: dict[str, Any]) -> None:
    result = compare(dev_document, copy.deepcopy(dev_document))
    assert result.identical and result.compared == len(dev_document["resources"]) > 150
    assert "no difference" in render(result, "dev", "old.json")


def test_a_changed_statement_is_named_by_its_path_inside_the_policy_document() -> None:
    old = _document(_resource(ROLE, policy=_policy("arn:aws:s3:::lake/*")))
    new = _document(_resource(ROLE, policy=_policy("arn:aws:s3:::lake/events/*")))
    result = compare(old, new)
    assert not result.identical
    assert [(c.urn, c.paths) for c in result.changed] == [(ROLE, ["inputs.policy.Statement[0].Resource"])]
    assert "inputs.policy.Statement[0].Resource" in render(result, "dev", "old.json")


def test_a_resource_that_starts_to_be_retained_on_delete_is_a_change() -> None:
    # Retaining a resource changes what `pulumi destroy` (or removing it) does to live
    # infrastructure, though no input changes: the comparison must say so.
    before = _resource("urn:pulumi:prod::uba::aws:apigateway/account:Account::apigateway-account")
    after = {**before, "retainOnDelete": True}
    result = compare(_document({**before, "retainOnDelete": False}), _document(after))
    assert [(c.urn, c.paths) for c in result.changed] == [(before["urn"], ["retainOnDelete"])]
    # A document written before the option was recorded says nothing about it either way.
    assert compare(_document(before), _document(after)).changed == []


def test_added_removed_reparented_protection_and_outputs_are_each_reported() -> None:
    keep = _resource("urn:pulumi:dev::uba::aws:s3/bucket:Bucket::lake", parent="P1", bucket="lake")
    moved = {**keep, "parent": "P2"}
    gone = _resource("urn:pulumi:dev::uba::aws:sqs/queue:Queue::old-queue")
    new_one = _resource("urn:pulumi:dev::uba::aws:sqs/queue:Queue::new-queue")
    protected = {**_resource("urn:pulumi:dev::uba::aws:kms/key:Key::key"), "protect": True}
    unprotected = _resource("urn:pulumi:dev::uba::aws:kms/key:Key::key")
    result = compare(_document(keep, gone, protected, outputs={"a": 1, "b": 2}),
                     _document(moved, new_one, unprotected, outputs={"a": 1, "c": 3}))  # fmt: skip
    assert result.added == [new_one["urn"]] and result.removed == [gone["urn"]]
    assert result.reparented == [(keep["urn"], "P1", "P2")]
    assert [(c.urn, c.paths) for c in result.changed] == [(protected["urn"], ["protect"])]
    assert result.outputs == ["b", "c"]


def test_a_rename_that_carries_an_alias_is_kept_not_replaced() -> None:
    old = _resource("urn:pulumi:dev::uba::aws:sqs/queue:Queue::dlq", name="q")
    renamed = {**_resource("urn:pulumi:dev::uba::aws:sqs/queue:Queue::dead-letters", name="q"), "aliases": [old["urn"]]}
    result = compare(_document(old), _document(renamed))
    assert result.identical and result.renamed == [(old["urn"], renamed["urn"])]
    unaliased = {**renamed, "aliases": []}
    assert not compare(_document(old), _document(unaliased)).identical  # without the alias: delete and create


def test_the_offline_engine_records_the_urn_an_alias_stands_for(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: probe\nruntime: python\n")
    (tmp_path / "Pulumi.test.yaml").write_text("config:\n  aws:region: eu-west-1\n")
    (tmp_path / "__main__.py").write_text(
        textwrap.dedent("""
        import pulumi
        import pulumi_aws as aws

        parent = pulumi.ComponentResource("uba:test:Tier", "tier")
        aws.sqs.Queue("dead-letters", opts=pulumi.ResourceOptions(parent=parent, aliases=[pulumi.Alias(name="dlq")]))
    """)
    )
    snapshot = run_isolated("test", project_dir=tmp_path)
    queue = next(r for r in snapshot.resources if r.type == type_token(aws.sqs.Queue))
    assert queue.aliases == ["urn:pulumi:test::probe::uba:test:Tier$aws:sqs/queue:Queue::dlq"]


def test_the_command_exits_3_and_names_the_change_when_a_stack_would_change(
    dev_document: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    older = copy.deepcopy(dev_document)
    table = next(r for r in older["resources"] if r["type"] == type_token(aws.dynamodb.Table))
    table["inputs"]["billingMode"] = "PROVISIONED"
    del older["resources"][0]
    path = tmp_path / "older.json"
    path.write_text(json.dumps(older))
    assert main(["dev", "--compare", str(path), "--project-dir", str(PROJECT_DIR)]) == 3
    printed = capsys.readouterr().out
    assert "1 added" in printed and f"~ changed     {table['urn']}" in printed and "inputs.billingMode" in printed


@pytest.mark.parametrize("content", ["not json", json.dumps({"resources": "none"})])
def test_a_compare_document_that_is_not_a_synth_is_refused_before_running(
    content: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "older.json"
    path.write_text(content)
    assert main(["dev", "--compare", str(path)]) == 2
    assert str(path) in capsys.readouterr().err
