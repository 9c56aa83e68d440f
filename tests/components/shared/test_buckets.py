"""SecureBucket: every bucket the platform makes is encrypted, private, TLS-only and tidy."""

from __future__ import annotations

from pathlib import Path

import pulumi_aws as aws

from tests.support.harness import StackRun, link_program_packages
from tests.support.tokens import type_token
from tools.engine.mocks import ACCOUNT_ID, run_isolated

PROGRAM = """
import pulumi
import pulumi_aws as aws
from components.shared.context import StackContext
from components.shared.buckets import LifecycleRule, SecureBucket, SecureBucketArgs

protect = pulumi.Config("probe").require_bool("protect")
context = StackContext(
    prefix="uba-test", region="eu-west-1", account_id=pulumi.Output.from_input("{account}"),
    protect_stateful=protect, log_retention_days=7,
    kms_key_arn=pulumi.Output.from_input("arn:aws:kms:eu-west-1:{account}:key/k"),
    ops_topic_arn=pulumi.Output.from_input("arn:aws:sns:eu-west-1:{account}:ops"),
)
logs = SecureBucket("logs", SecureBucketArgs(context=context, purpose="access-logs"))
SecureBucket("lake", SecureBucketArgs(
    context=context, purpose="lake", versioning=True, access_log_bucket=logs.bucket,
    lifecycle=[LifecycleRule("raw", "events/", expire_after_days=400, transitions=[(30, "STANDARD_IA")])],
    extra_statements=lambda arn: [{{"Sid": "Extra", "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject",
                                    "Resource": pulumi.Output.concat(arn, "/*")}}],
))
"""


def probe(tmp_path: Path, protect: bool) -> StackRun:
    (tmp_path / "Pulumi.yaml").write_text("name: probe\nruntime: python\n")
    (tmp_path / "Pulumi.test.yaml").write_text(f"config:\n  probe:protect: {str(protect).lower()}\n")
    (tmp_path / "__main__.py").write_text(PROGRAM.format(account=ACCOUNT_ID))
    link_program_packages(tmp_path)
    return StackRun(run_isolated("test", project_dir=tmp_path))


def test_bucket_is_encrypted_private_tls_only_and_logged(tmp_path: Path) -> None:
    run = probe(tmp_path, protect=False)
    lake = next(r for r in run.of_type(type_token(aws.s3.Bucket)) if r.inputs["bucket"].startswith("uba-test-lake"))
    assert lake.inputs["bucket"] == f"uba-test-lake-{ACCOUNT_ID}"
    under = {r.type: r for r in run.children(lake)}
    rule = under[type_token(aws.s3.BucketServerSideEncryptionConfiguration)].inputs["rules"][0]
    assert rule["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "aws:kms",
        "kmsMasterKeyId": f"arn:aws:kms:eu-west-1:{ACCOUNT_ID}:key/k",
    }
    assert rule["bucketKeyEnabled"] is True
    block = under[type_token(aws.s3.BucketPublicAccessBlock)].inputs
    assert all(block[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                          "restrictPublicBuckets"))  # fmt: skip
    policy = run.policy(under[type_token(aws.s3.BucketPolicy)])
    tls = next(s for s in policy["Statement"] if s["Sid"] == "DenyInsecureTransport")
    assert tls["Effect"] == "Deny" and tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert tls["Resource"] == [lake.state["arn"], f"{lake.state['arn']}/*"]
    assert any(s["Sid"] == "Extra" for s in policy["Statement"])
    assert under[type_token(aws.s3.BucketVersioning)].inputs["versioningConfiguration"]["status"] == "Enabled"
    logging = under[type_token(aws.s3.BucketLogging)].inputs
    assert logging["targetBucket"] == f"uba-test-access-logs-{ACCOUNT_ID}" and logging["targetPrefix"] == "lake/"
    rules = {r["id"]: r for r in under[type_token(aws.s3.BucketLifecycleConfiguration)].inputs["rules"]}
    assert rules["abort-incomplete-multipart-uploads"]["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 7}
    assert rules["raw"]["filter"] == {"prefix": "events/"}
    assert rules["raw"]["expiration"]["days"] == 400
    assert rules["raw"]["transitions"] == [{"days": 30, "storageClass": "STANDARD_IA"}]
    assert under[type_token(aws.s3.BucketOwnershipControls)].inputs["rule"] == {
        "objectOwnership": "BucketOwnerEnforced"
    }


def test_buckets_are_protected_only_when_the_stack_protects_data(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    protected = probe(tmp_path / "a", protect=True).of_type(type_token(aws.s3.Bucket))
    unprotected = probe(tmp_path / "b", protect=False).of_type(type_token(aws.s3.Bucket))
    assert all(b.protect and b.retain_on_delete for b in protected)
    assert not any(b.protect for b in unprotected)
    assert "uba-test-access-logs" in {b.inputs["bucket"].rsplit("-", 1)[0] for b in unprotected}
    # Without versioning there is no versioning resource.
    names = {r.name for r in run_isolated("test", project_dir=tmp_path / "b").resources}
    assert "lake-versioning" in names and "logs-versioning" not in names
