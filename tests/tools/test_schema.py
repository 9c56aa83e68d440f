"""The schema checker catches each kind of input a real provider refuses, in a real stack.

Most tests take the dev stack as the program registers it, break one input of one real
resource the way a slip in a component would, and expect exactly one finding, naming the
resource and the property's path, from a check of the whole stack. One runs a scratch
program with such slips through the offline engine, to show they reach the check as written.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi_aws as aws
import pytest

from tests.support.harness import Resource, run_stack
from tests.support.tokens import type_token
from tools.engine.mocks import Snapshot, run_isolated
from tools.engine.schema import UNKNOWN, args_class, check_inputs, check_snapshot

Inputs = dict[str, Any]

SSE = type_token(aws.s3.BucketServerSideEncryptionConfiguration)
LAKE_SSE = f"{SSE} lake-encryption"
SSE_DEFAULT = "rules[0].applyServerSideEncryptionByDefault"


def dev_with(token: str, name: str, breaking: Callable[[Inputs], None]) -> Snapshot:
    """The dev stack with one resource's inputs broken by `breaking`."""
    snapshot = run_stack("dev").snapshot
    resources: list[Resource] = []
    for resource in snapshot.resources:
        if (resource.type, resource.name) == (token, name):
            broken = copy.deepcopy(resource.inputs)
            breaking(broken)
            resource = dataclasses.replace(resource, inputs=broken)
        resources.append(resource)
    assert resources != snapshot.resources, f"no {token} {name} in dev"
    return dataclasses.replace(snapshot, resources=resources)


def _misspell_kms_key(inputs: Inputs) -> None:
    default = inputs["rules"][0]["applyServerSideEncryptionByDefault"]
    default["kmsMasterKeyID"] = default.pop("kmsMasterKeyId")


def _drop_algorithm(inputs: Inputs) -> None:
    del inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"]


def _rules_as_one_object(inputs: Inputs) -> None:
    inputs["rules"] = inputs["rules"][0]


def _stream_mode_as_a_list(inputs: Inputs) -> None:
    inputs["streamModeDetails"] = [inputs["streamModeDetails"]]


def _statements_instead_of_the_document(inputs: Inputs) -> None:
    inputs["assumeRolePolicy"] = json.loads(inputs["assumeRolePolicy"])["Statement"]


def test_the_dev_stack_as_registered_has_no_findings() -> None:
    """The baseline the breakages below are measured against: one finding each, and only theirs."""
    assert check_snapshot(run_stack("dev").snapshot) == []


@pytest.mark.parametrize(
    ("resource", "breaking", "finding"),
    [
        pytest.param(
            (SSE, "lake-encryption"),
            _misspell_kms_key,
            f"{LAKE_SSE}: {SSE_DEFAULT}.kmsMasterKeyID: BucketServerSideEncryptionConfigurationRule"
            "ApplyServerSideEncryptionByDefaultArgs has no property 'kmsMasterKeyID'; did you mean 'kmsMasterKeyId'?",
            id="misspelt nested property",
        ),
        pytest.param(
            (SSE, "lake-encryption"),
            _drop_algorithm,
            f"{LAKE_SSE}: {SSE_DEFAULT}.sseAlgorithm: required by BucketServerSideEncryptionConfigurationRule"
            "ApplyServerSideEncryptionByDefaultArgs, missing",
            id="missing required nested property",
        ),
        pytest.param(
            (SSE, "lake-encryption"),
            _rules_as_one_object,
            f"{LAKE_SSE}: rules: expected a list, got an object "
            '{"applyServerSideEncryptionByDefault": {"kmsMasterKeyId":...',
            id="object where a list is expected",
        ),
        pytest.param(
            (type_token(aws.kinesis.Stream), "events-stream"),
            _stream_mode_as_a_list,
            "aws:kinesis/stream:Stream events-stream: streamModeDetails: "
            'expected an object (StreamStreamModeDetailsArgs), got a list [{"streamMode": "ON_DEMAND"}]',
            id="list where an object is expected",
        ),
        pytest.param(
            (type_token(aws.s3.BucketPublicAccessBlock), "lake-public-access-block"),
            lambda inputs: inputs.update(blockPublicAcls="true"),
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock lake-public-access-block: blockPublicAcls: "
            'expected a bool, got a string "true"',
            id="string where a bool is expected",
        ),
        pytest.param(
            (type_token(aws.kinesis.Stream), "events-stream"),
            lambda inputs: inputs.update(retentionPeriod=24.5),
            "aws:kinesis/stream:Stream events-stream: retentionPeriod: expected an integer, got a number 24.5",
            id="fraction where an integer is expected",
        ),
        pytest.param(
            (type_token(aws.lambda_.Function), "ingest-function"),
            lambda inputs: inputs.update(memory_size=inputs.pop("memorySize")),
            "aws:lambda/function:Function ingest-function: memory_size: FunctionArgs has no property 'memory_size' "
            "(the Python name of 'memorySize')",
            id="python name instead of the wire name",
        ),
        pytest.param(
            (type_token(aws.iam.Role), "ingest-role"),
            _statements_instead_of_the_document,
            "aws:iam/role:Role ingest-role: assumeRolePolicy: expected a string or an object (PolicyDocumentArgs), "
            'got a list [{"Effect": "Allow", "Principal": {"Service": "lambda.ama...',
            id="policy statements instead of the document",
        ),
        pytest.param(
            ("pulumi:providers:aws", "aws"),
            lambda inputs: inputs.update(defaultTags='{"tag": {"Project": "uba"}}'),
            "pulumi:providers:aws aws: defaultTags.tag: "
            "ProviderDefaultTagsArgs has no property 'tag'; did you mean 'tags'?",
            id="provider config, sent as JSON text",
        ),
    ],
)
def test_a_broken_input_is_reported_with_its_resource_and_path(
    resource: tuple[str, str], breaking: Callable[[Inputs], None], finding: str
) -> None:
    assert check_snapshot(dev_with(*resource, breaking)) == [finding]


def test_a_type_the_checker_cannot_resolve_fails_by_name_instead_of_being_skipped() -> None:
    """Say the program took up another package's resource: the check must fail, not skip it."""
    snapshot = run_stack("dev").snapshot
    (lake,) = [r for r in snapshot.resources if r.type == type_token(aws.s3.Bucket) and r.name == "lake-bucket"]
    foreign = dataclasses.replace(lake, type="random:index/randomId:RandomId", name="lake-suffix")
    findings = check_snapshot(dataclasses.replace(snapshot, resources=[*snapshot.resources, foreign]))
    assert findings == [
        "random:index/randomId:RandomId lake-suffix: cannot be checked: "
        "no pulumi-aws resource class has the type token random:index/randomId:RandomId"
    ]


def test_a_resource_whose_args_class_is_not_named_after_it_resolves_to_its_own_args() -> None:
    """`BucketVersioningArgs` is the Bucket's inline block; the resource's own class is `...InitArgs`."""
    assert args_class(type_token(aws.s3.BucketVersioning)) is aws.s3.BucketVersioningInitArgs


SLIPS_PROGRAM = """
import pulumi_aws as aws

aws.s3.BucketServerSideEncryptionConfiguration(
    "lake-encryption",
    bucket="uba-dev-lake",
    rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms", "kms_master_key": "alias/uba"}}],
)
aws.s3.BucketPublicAccessBlock("lake-public-access-block", bucket="uba-dev-lake", block_public_acls="true")
aws.kinesis.Stream("events-stream", stream_mode_details={"stream_mode": "ON_DEMAND"}, retention_period=24)
"""


def test_slips_written_in_a_program_reach_the_check_in_wire_form(tmp_path: Path) -> None:
    """Dict inputs pass the SDK unchecked: their snake_case keys are translated, a misspelt one is sent as written."""
    (tmp_path / "Pulumi.yaml").write_text("name: slips\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  aws:region: eu-west-1\n")
    (tmp_path / "__main__.py").write_text(SLIPS_PROGRAM)
    findings = check_snapshot(run_isolated("dev", project_dir=tmp_path))
    assert findings == [
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock lake-public-access-block: blockPublicAcls: "
        'expected a bool, got a string "true"',
        f"{LAKE_SSE}: {SSE_DEFAULT}.kms_master_key: BucketServerSideEncryptionConfigurationRule"
        "ApplyServerSideEncryptionByDefaultArgs has no property 'kms_master_key'; did you mean 'kmsMasterKeyId'?",
    ]


def test_a_value_unknown_at_preview_passes_where_any_shape_is_expected() -> None:
    """A preview leaves outputs of resources not yet created unknown: the checker cannot judge them, so passes them."""
    stream = type_token(aws.kinesis.Stream)
    assert (
        check_inputs(stream, {"streamModeDetails": UNKNOWN, "retentionPeriod": UNKNOWN, "shardLevelMetrics": [UNKNOWN]})
        == []
    )
    assert [str(p) for p in check_inputs(stream, {"streamModeDetails": UNKNOWN, "retentionPeriod": "24"})] == [
        'retentionPeriod: expected an integer, got a string "24"'
    ]
