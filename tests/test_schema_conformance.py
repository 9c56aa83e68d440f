"""Every custom resource the program registers, in every stack file and every variant the suite runs,
conforms to the installed pulumi-aws SDK's input types at every depth (issue 19's standing guard).

Mocks accept any property map; a real `pulumi up` sends it to the provider, which refuses a
misspelt name, a list where it wants an object, a missing required property or a string where
it wants a bool. `tools.engine.schema` checks each input against the SDK's `Args` classes; the
checker's own tests (tests/tools/test_schema.py) break real inputs to prove it catches each kind.

The variants (`tests/support/variants.py`) are built exactly as the tests that use them build them, so
in a full run each is the same cached `run_stack` run and costs nothing extra here.
"""

from __future__ import annotations

import pytest

from tests.support.harness import StackRun
from tests.support.variants import VARIANTS, run_variants
from tools.engine.schema import check_snapshot, custom_resources


@pytest.fixture(scope="module")
def runs() -> dict[str, StackRun]:
    return run_variants()


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
    assert "aws-native:quicksight:Dashboard" in {r.type for r in runs["dev with BI on"].resources}
    switched_off = {
        "dev with streaming off": "aws:kinesisanalyticsv2/application:Application",
        "dev with the lake and warehouse off": "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",
        "dev without the dashboard": "aws:cloudwatch/dashboard:Dashboard",
        "dev without the cost tier": "aws:budgets/budget:Budget",
    }
    for variant, token in switched_off.items():
        assert token in dev_types and token not in {r.type for r in runs[variant].resources}, variant
