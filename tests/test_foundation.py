"""The program under mocks: core resources, tags, protection, determinism, config failures."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness import ProgramError, run_stack
from tools.mockengine import ACCOUNT_ID, PROJECT_DIR, accepts_tags, run_isolated

REQUIRED_TAGS = {"Project", "Environment", "Owner", "CostCenter"}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_kms_key_rotates_and_has_an_alias_from_the_prefix(stack: str) -> None:
    run = run_stack(stack)
    key = run.one("aws:kms/key:Key", "platform-key")
    assert key.inputs["enableKeyRotation"] is True
    alias = run.one("aws:kms/alias:Alias")
    assert alias.inputs["name"] == f"alias/uba-{stack}"
    assert alias.inputs["targetKeyId"] == key.state["keyId"]


def test_key_policy_lets_the_account_administer_and_services_use_it_narrowly() -> None:
    run = run_stack("dev")
    policy = run.policy(run.one("aws:kms/key:Key"))
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["AccountAdministersKeyThroughIam"]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}
    logs = by_sid["CloudWatchLogsEncryptsThisAccountsLogGroups"]
    assert logs["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    assert logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"] == (
        f"arn:aws:logs:eu-west-1:{ACCOUNT_ID}:log-group:*"
    )


def test_ops_topic_is_encrypted_tls_only_and_subscribed() -> None:
    run = run_stack("prod")
    topic = run.one("aws:sns/topic:Topic", "ops-topic")
    assert topic.inputs["kmsMasterKeyId"] == run.one("aws:kms/key:Key").state["arn"]
    assert topic.state["arn"] == f"arn:aws:sns:eu-west-1:{ACCOUNT_ID}:uba-prod-ops"
    statements = run.policy(run.one("aws:sns/topicPolicy:TopicPolicy", "ops-topic-policy"))["Statement"]
    deny = next(s for s in statements if s["Effect"] == "Deny")
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    subscription = run.one("aws:sns/topicSubscription:TopicSubscription", "ops-email-0")
    assert subscription.inputs["endpoint"] == "uba-oncall@example.com"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_tags_from_config_reach_every_taggable_resource(stack: str) -> None:
    run = run_stack(stack)
    provider = run.one("pulumi:providers:aws", "aws")
    default_tags = json.loads(provider.inputs["defaultTags"])["tags"]
    assert set(default_tags) >= REQUIRED_TAGS and default_tags["Environment"] == stack
    taggable = [r for r in run.custom() if accepts_tags(r.type)]
    assert taggable, "expected taggable resources"
    for resource in run.custom():
        assert resource.provider is not None and resource.provider.startswith(provider.urn), resource.urn
    for resource in taggable:
        assert resource.state["tagsAll"].items() >= default_tags.items(), resource.urn


def test_stateful_resources_are_protected_in_prod_and_not_in_dev() -> None:
    prod_key = run_stack("prod").one("aws:kms/key:Key")
    dev_key = run_stack("dev").one("aws:kms/key:Key")
    assert prod_key.protect and prod_key.retain_on_delete
    assert not dev_key.protect and not dev_key.retain_on_delete


def test_every_resource_has_a_parent_inside_the_platform_component() -> None:
    run = run_stack("dev")
    platform = run.one("uba:platform:Platform")
    descendants = {r.urn for r in run.children(platform, recursive=True)}
    for resource in run.resources:
        if resource.type.startswith("pulumi:providers:") or resource is platform:
            continue
        assert resource.urn in descendants, f"{resource.urn} is not parented under the Platform component"
    assert all(r.type.startswith("uba:") for r in run.resources if not r.custom)


def test_component_type_tokens_follow_the_tier_convention() -> None:
    run = run_stack("dev")
    for component in (r for r in run.resources if not r.custom):
        package, tier, name = component.type.split(":")
        assert package == "uba" and tier.islower() and name[0].isupper(), component.type


def test_same_stack_twice_in_one_session_gives_identical_results() -> None:
    first = run_isolated("prod")
    second = run_isolated("prod")
    assert first.to_json() == second.to_json()
    assert len(first.resources) > 0


def test_outputs_are_exported() -> None:
    outputs = run_stack("dev").outputs
    assert outputs["ops_topic_arn"] == f"arn:aws:sns:eu-west-1:{ACCOUNT_ID}:uba-dev-ops"
    assert outputs["kms_key_arn"].startswith(f"arn:aws:kms:eu-west-1:{ACCOUNT_ID}:key/")


def test_invalid_config_fails_before_any_resource_with_readable_lines() -> None:
    with pytest.raises(ProgramError) as caught:
        run_isolated("dev", overrides={"uba:ingest": {"stream": {"mode": "provisioned", "shard_count": 0}}})
    message = str(caught.value)
    assert "ingest.stream.shard_count: must be >= 1, got 0" in message
    assert "ingest.api: required, but missing" in message
    assert "Traceback" not in message


def test_unknown_stack_is_a_clear_error() -> None:
    with pytest.raises(ProgramError, match=re.escape("no stack file Pulumi.staging.yaml")):
        run_isolated("staging")


def test_a_stuck_program_fails_with_a_timeout_not_a_hang(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: stuck\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    (tmp_path / "__main__.py").write_text("import time\ntime.sleep(60)\n")
    with pytest.raises(ProgramError, match="did not finish within 3 s"):
        run_isolated("dev", project_dir=tmp_path, timeout=3)


def test_synth_prints_the_tree_and_writes_the_document(tmp_path: Path) -> None:
    out = tmp_path / "prod.json"
    completed = subprocess.run(
        [sys.executable, "-m", "tools.synth", "prod", "--json", str(out)],
        cwd=PROJECT_DIR, capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    assert "uba:core:Core  core" in completed.stdout
    assert "aws:kms/key:Key  platform-key [protected]" in completed.stdout
    document = json.loads(out.read_text())
    assert set(document) == {"project", "stack", "resources", "outputs", "policy"}
    assert document["project"] == "uba" and document["stack"] == "prod"
    assert document["policy"] == {"violations": []} or "violations" in document["policy"]
    key = next(r for r in document["resources"] if r["type"] == "aws:kms/key:Key")
    assert set(key) >= {"urn", "type", "name", "parent", "custom", "inputs", "state"}
    assert key["inputs"]["enableKeyRotation"] is True  # camelCase, as the engine sees it
    assert key["parent"].endswith("::core")


def test_synth_refuses_bad_config_with_exit_2(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    for name in ("Pulumi.yaml", "__main__.py", "settings.py"):
        (project / name).write_text((PROJECT_DIR / name).read_text())
    (project / "components").symlink_to(PROJECT_DIR / "components")
    stack = (PROJECT_DIR / "Pulumi.dev.yaml").read_text().replace("log_retention_days: 14", "log_retention_days: 13")
    (project / "Pulumi.dev.yaml").write_text(stack)
    completed = subprocess.run(
        [sys.executable, "-m", "tools.synth", "dev", "--project-dir", str(project)],
        cwd=PROJECT_DIR, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert completed.returncode == 2
    assert "invalid config for stack 'dev'" in completed.stderr
    assert "platform.log_retention_days: must be one of" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_duplicate_urns_are_refused_like_the_real_engine(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: dupes\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    (tmp_path / "__main__.py").write_text("import pulumi_aws as aws\naws.sns.Topic('same')\naws.sns.Topic('same')\n")
    with pytest.raises(ProgramError, match="duplicate resource URN"):
        run_isolated("dev", project_dir=tmp_path)
