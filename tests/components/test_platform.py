"""The whole program under mocks: tags, protection, parenting, type tokens, determinism, outputs."""

from __future__ import annotations

import json

import pulumi_aws as aws
import pytest

from tests.support.harness import run_stack
from tests.support.tokens import PLATFORM, type_token
from tools.engine.mocks import ACCOUNT_ID, accepts_tags, run_isolated

REQUIRED_TAGS = {"Project", "Environment", "Owner", "CostCenter"}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_tags_from_config_reach_every_taggable_resource(stack: str) -> None:
    run = run_stack(stack)
    provider = run.one("pulumi:providers:aws", "aws")
    default_tags = json.loads(provider.inputs["defaultTags"])["tags"]
    assert set(default_tags) >= REQUIRED_TAGS and default_tags["Environment"] == stack
    taggable = [r for r in run.custom() if accepts_tags(r.type)]
    assert taggable, "expected taggable resources"
    # The program's provider, or the edge tier's us-east-1 provider, which carries the same default tags.
    providers = [p for p in run.of_type("pulumi:providers:aws")
                 if p is provider or p.inputs.get("region") == "us-east-1"]  # fmt: skip
    for other in providers:
        assert json.loads(other.inputs["defaultTags"])["tags"] == default_tags, other.urn
    # The one resource of the Cloud Control SDK (the BI dashboard) has that SDK's provider, with the same tags.
    native = {p.urn: p for p in run.of_type("pulumi:providers:aws-native")}
    for urn, native_provider in native.items():
        native_tags = native_provider.inputs["defaultTags"]
        native_tags = json.loads(native_tags) if isinstance(native_tags, str) else native_tags
        assert native_tags["tags"] == default_tags, urn
    classic = {p.urn: p for p in providers}
    for resource in run.custom():
        expected = native if resource.type.startswith("aws-native:") else classic
        assert resource.provider is not None and resource.provider.rsplit("::", 1)[0] in expected, resource.urn
    for resource in taggable:
        assert resource.state["tagsAll"].items() >= default_tags.items(), resource.urn


def test_stateful_resources_are_protected_in_prod_and_not_in_dev() -> None:
    prod_key = run_stack("prod").one(type_token(aws.kms.Key), "platform-key")
    dev_key = run_stack("dev").one(type_token(aws.kms.Key), "platform-key")
    assert prod_key.protect and prod_key.retain_on_delete
    assert not dev_key.protect and not dev_key.retain_on_delete


def test_every_resource_has_a_parent_inside_the_platform_component() -> None:
    run = run_stack("dev")
    platform = run.one(PLATFORM)
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
