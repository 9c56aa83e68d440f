"""Every custom resource the program registers, in every stack file and every variant the suite runs,
conforms to the installed pulumi-aws SDK's input types at every depth (issue 19's standing guard).

Mocks accept any property map; a real `pulumi up` sends it to the provider, which refuses a
misspelt name, a list where it wants an object, a missing required property or a string where
it wants a bool. `tools.engine.schema` checks each input against the SDK's `Args` classes; the
checker's own tests (tests/tools/test_schema.py) break real inputs to prove it catches each kind.

The variants are built exactly as the tests that use them build them, so in a full run each is
the same cached `run_stack` run and costs nothing extra here.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.support.config import provisioned_warehouse
from tests.support.harness import StackRun, run_stack
from tools.engine.mocks import available_stacks, load_stack_config
from tools.engine.schema import check_snapshot, custom_resources


def _dev(key: str) -> dict[str, Any]:
    return copy.deepcopy(load_stack_config("dev")[key])


def _iam_ingest() -> dict[str, Any]:
    ingest = _dev("uba:ingest")
    ingest["api"]["authorization"] = "iam"  # as tests/components/test_ingest.py switches it
    return {"uba:ingest": ingest}


def _existing_vpc() -> dict[str, Any]:
    network = {
        "existing_vpc_id": "vpc-0abc123",
        "existing_subnet_ids": ["subnet-0a1", "subnet-0b2", "subnet-0c3"],
        "allowed_security_group_ids": ["sg-0b1", "sg-0b2"],
    }  # as tests/components/warehouse/test_warehouse_stack.py's EXISTING_VPC
    return {"uba:warehouse": {**_dev("uba:warehouse"), "network": network}}


def _two_node_cluster_in_prod() -> dict[str, Any]:
    warehouse = copy.deepcopy(load_stack_config("prod")["uba:warehouse"])
    warehouse.pop("serverless")
    warehouse.update(mode="provisioned", provisioned={"node_type": "ra3.xlplus", "number_of_nodes": 2})
    return {"uba:warehouse": warehouse}


def _lake_and_warehouse_off() -> dict[str, Any]:
    return {
        "uba:lake": {**_dev("uba:lake"), "enabled": False},
        "uba:warehouse": {**_dev("uba:warehouse"), "enabled": False},
    }


def _live_variant() -> dict[str, Any]:
    live = _dev("uba:live")
    live["site"] = {
        "domain_name": "live.example.com",
        "price_class": "PriceClass_All",
        "certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
    }
    live["sign_in"] = {
        "mfa": "off",
        "advanced_security": "audit",
        "self_sign_up": True,
        "invited_personas": ["bizUser"],
    }
    return {"uba:live": live}  # as tests/components/live/test_live_stack.py's CUSTOM_DOMAIN


# label -> (stack, overrides): each stack file as it is, then the variants the suite runs.
VARIANTS: dict[str, tuple[str, Mapping[str, Any] | None]] = {
    **{stack: (stack, None) for stack in available_stacks()},
    "dev with a provisioned warehouse": ("dev", provisioned_warehouse()),
    "prod with a two-node cluster": ("prod", _two_node_cluster_in_prod()),
    "dev with IAM ingest auth": ("dev", _iam_ingest()),
    "dev in an existing VPC": ("dev", _existing_vpc()),
    "dev with streaming off": (
        "dev",
        {"uba:streaming": {"enabled": False, "alerts_stream": {"mode": "on_demand"}}, "uba:live": {"enabled": False}},
    ),
    "dev with the live page on its own domain, open sign-up and threat protection": ("dev", _live_variant()),
    "dev with the lake and warehouse off": ("dev", _lake_and_warehouse_off()),
    "dev without the dashboard": ("dev", {"uba:observability": {"dashboard": False}}),
}


@pytest.fixture(scope="module")
def runs() -> dict[str, StackRun]:
    """Every variant's run, two at a time (each is a program in its own interpreter)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {label: pool.submit(run_stack, stack, overrides) for label, (stack, overrides) in VARIANTS.items()}
        return {label: future.result() for label, future in futures.items()}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_input_of_every_resource_matches_the_sdk_types(runs: dict[str, StackRun], variant: str) -> None:
    run = runs[variant]
    assert any(r.type.startswith("aws:") for r in custom_resources(run.snapshot)), "no AWS resources to check"
    findings = check_snapshot(run.snapshot)
    assert not findings, f"{variant}: {len(findings)} input(s) the provider would refuse:\n" + "\n".join(findings)


def test_the_variants_cover_each_tier_switch_and_both_warehouse_modes(runs: dict[str, StackRun]) -> None:
    """A variant that silently stops differing from dev would check nothing new."""
    dev_types = {r.type for r in runs["dev"].resources}
    assert "aws:redshift/cluster:Cluster" in {r.type for r in runs["dev with a provisioned warehouse"].resources}
    assert "aws:ec2/vpc:Vpc" not in {r.type for r in runs["dev in an existing VPC"].resources}
    assert "aws:apigateway/apiKey:ApiKey" not in {r.type for r in runs["dev with IAM ingest auth"].resources}
    switched_off = {
        "dev with streaming off": "aws:kinesisanalyticsv2/application:Application",
        "dev with the lake and warehouse off": "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",
        "dev without the dashboard": "aws:cloudwatch/dashboard:Dashboard",
    }
    for variant, token in switched_off.items():
        assert token in dev_types and token not in {r.type for r in runs[variant].resources}, variant
