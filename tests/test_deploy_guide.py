"""The README's "Deploying for real" guide runs as written, where it can run offline.

- the Pulumi CLI release it names is the SDK that requirements.txt pins and the one CI deploys with;
- every `python -m` command it gives exists, with every flag it gives;
- the state-backend commands, pasted into bash with `aws` answered by moto, leave a bucket that is
  versioned, SSE-KMS with its own rotating key, closed to the public and TLS-only, and `pulumi login`
  and `stack init` name that bucket and key;
- the deploy-role commands create the role with GitHub's OIDC trust and attach every generated
  policy, which IAM (moto's policy validation) accepts.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from functools import cache
from pathlib import Path

import boto3
import pytest
import yaml
from moto import mock_aws

from tests.support.aws_cli import command_problem, fake_clis
from tests.support.harness import link_program_packages
from tools.engine.mocks import ACCOUNT_ID, PROJECT_DIR, available_stacks

README = PROJECT_DIR / "README.md"
REGION = "eu-west-1"


def guide() -> str:
    text = README.read_text()
    start = text.index("## Deploying for real\n")
    return text[start : text.index("\n## ", start + 1)]


def code_blocks(section: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", section, re.S)


def prose(section: str) -> str:
    return re.sub(r"```.*?```", "", section, flags=re.S)


def block_with(marker: str) -> str:
    (block,) = [b for b in code_blocks(guide()) if marker in b]
    return block


def commands(block: str) -> list[str]:
    """Each command line of a block, continuations joined and comments dropped (here-documents kept whole)."""
    joined = re.sub(r"\\\n\s*", " ", block)
    return [line.split("  #")[0].strip() for line in joined.splitlines() if line.strip()]


def pins() -> dict[str, str]:
    lines = (PROJECT_DIR / "requirements.txt").read_text().splitlines()
    return dict(line.split("#")[0].strip().split("==") for line in lines if "==" in line)


def test_the_guide_names_the_cli_release_the_sdk_pins_and_ci_deploys_with() -> None:
    sdk = pins()["pulumi"]
    workflow = yaml.safe_load((PROJECT_DIR / ".github" / "workflows" / "pulumi.yml").read_text())
    section = guide()
    named = set(re.findall(r"Pulumi CLI \*\*(\d+\.\d+\.\d+)\*\*", section))
    installed = set(re.findall(r"--version (\d+\.\d+\.\d+)", section))
    shown = set(re.findall(r"pulumi version\s+# v(\d+\.\d+\.\d+)", section))
    assert named == installed == shown == {sdk} == {workflow["env"]["PULUMI_VERSION"]}
    assert re.search(rf"Version: {re.escape(sdk)}", section), "the SDK check shows another version"


@cache
def help_text(module: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", module, "--help"], cwd=PROJECT_DIR, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"python -m {module} --help failed: {done.stderr}"
    return done.stdout


def python_commands(section: str) -> list[list[str]]:
    """Every `python -m <module> ...` the guide gives, in its code blocks and in its inline code."""
    found = [line for block in code_blocks(section) for line in commands(block)]
    spans = re.findall(r"`(?:[^`]*python -m )?((?:tools|streaming)\.\w+[^`]*)`", prose(section))
    found += [f"python -m {span}" for span in spans]
    words = [shlex.split(line.replace("<", "").replace(">", "")) for line in found if "python -m " in line]
    return [w[w.index("-m") + 1 :] for w in words]


def test_every_python_command_the_guide_gives_exists_with_every_flag_it_gives() -> None:
    given = python_commands(guide())
    modules = {command[0] for command in given}
    assert {"tools.preflight", "tools.deploy_policy", "tools.access", "streaming.fetch_connector"} <= modules
    for module, *arguments in given:
        text = help_text(module)
        for flag in (a for a in arguments if a.startswith("--")):
            assert re.search(rf"{re.escape(flag)}\b", text), f"`python -m {module}` has no {flag}"
        stacks = [a for a in arguments if a in available_stacks() or a.startswith(("$", "stack"))]
        if module in ("tools.preflight", "tools.deploy_policy") and arguments:  # a command, not just its name
            assert stacks, f"`python -m {module} {' '.join(arguments)}` names no stack"


def inline_aws_commands(section: str) -> list[list[str]]:
    """The `aws ...` commands the guide gives in its prose."""
    return [shlex.split(span)[1:] for span in re.findall(r"`(aws [^`]+)`", prose(section))]


def test_every_aws_command_the_guide_gives_is_checked() -> None:
    """The code blocks with `aws` commands run against moto (below); the inline ones are checked against
    the CLI's service models: each is an operation, with options the operation takes."""
    with_aws = [block for block in code_blocks(guide()) if re.search(r"(^|\$\(|\s)aws [a-z]", block, re.M)]
    assert with_aws == [block_with('pulumi login "s3://'), block_with("create-role")]
    inline = inline_aws_commands(guide())
    assert inline, "the guide's inline aws commands went missing"
    for argv in inline:
        assert command_problem(argv) is None, f"aws {' '.join(argv)}: {command_problem(argv)}"


def test_every_flag_the_guide_mentions_belongs_to_a_command_it_gives() -> None:
    """A flag named in prose (`--read-only`) is one of the given commands' flags, or of aws/pulumi lines."""
    section = guide()
    known = "\n".join(help_text(m) for m in {c[0] for c in python_commands(section)})
    known += "\n".join(code_blocks(section)) + "\n".join(" ".join(argv) for argv in inline_aws_commands(section))
    for flag in set(re.findall(r"`[^`]*?(--[a-z][a-z-]+)", prose(section))):
        assert flag in known, f"the guide mentions {flag}, which no command it gives takes"


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A scratch directory where `.venv/bin/python -m tools...` runs the real tools, as in a checkout."""
    work = tmp_path / "checkout"
    work.mkdir()
    link_program_packages(work)
    (work / "tools").symlink_to(PROJECT_DIR / "tools")
    (work / ".venv").symlink_to(PROJECT_DIR / ".venv")
    return work


def test_the_state_backend_commands_leave_a_bucket_a_careful_engineer_would_keep_state_in(
    tmp_path: Path, workdir: Path
) -> None:
    script = block_with('pulumi login "s3://')
    with mock_aws(), fake_clis(tmp_path / "bin") as clis:
        done = clis.run(script, workdir, {"AWS_DEFAULT_REGION": REGION})
        assert done.returncode == 0, done.stderr
        bucket = f"uba-pulumi-state-{ACCOUNT_ID}"
        s3, kms = boto3.client("s3", region_name=REGION), boto3.client("kms", region_name=REGION)
        assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] == REGION
        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        assert all(block.values()) and len(block) == 4
        rules = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
        assert rules == [{"ObjectOwnership": "BucketOwnerEnforced"}]
        (sse,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
        key = kms.describe_key(KeyId="alias/uba-pulumi-state")["KeyMetadata"]
        assert sse["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key["Arn"]}
        assert sse["BucketKeyEnabled"] is True
        assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"] is True
        (deny,) = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]
        assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert set(deny["Resource"]) == {f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"}
        (lifecycle,) = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
        assert lifecycle["NoncurrentVersionExpiration"]["NoncurrentDays"] == 90
        assert clis.pulumi_calls == [
            ["login", f"s3://{bucket}?region={REGION}&awssdk=v2"],
            ["stack", "init", "dev", "--secrets-provider", f"awskms://alias/uba-pulumi-state?region={REGION}"],
        ]


def test_a_misspelt_option_in_a_pasted_command_fails_as_it_would_for_a_user(tmp_path: Path, workdir: Path) -> None:
    """The fake CLI is strict: the tests above would catch a typo in the guide."""
    with mock_aws(), fake_clis(tmp_path / "bin") as clis:
        done = clis.run("aws s3api create-bucket --buckett x", workdir, {"AWS_REGION": REGION})
        assert done.returncode == 252 and "Unknown options: --buckett" in done.stderr
        done = clis.run("aws kms create-key --tags Key=a,Value=b", workdir, {"AWS_REGION": REGION})
        assert done.returncode == 254 and "shorthand syntax is not supported" in done.stderr


def test_the_deploy_role_commands_create_the_role_and_attach_every_generated_policy(
    tmp_path: Path, workdir: Path
) -> None:
    script = block_with("create-role")
    with mock_aws(), fake_clis(tmp_path / "bin") as clis:
        done = clis.run(script, workdir, {"AWS_REGION": REGION})
        assert done.returncode == 0, done.stderr
        iam = boto3.client("iam", region_name=REGION)
        role = iam.get_role(RoleName="uba-deploy-dev")["Role"]
        (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert trust["Principal"]["Federated"].endswith(":oidc-provider/token.actions.githubusercontent.com")
        assert trust["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"] == (
            "repo:acme/uba-platform:environment:dev"
        )
        generated = sorted(p.stem for p in (workdir / "build" / "deploy-policy" / "dev").glob("*.json"))
        attached = iam.list_attached_role_policies(RoleName="uba-deploy-dev")["AttachedPolicies"]
        assert generated and sorted(p["PolicyName"] for p in attached) == generated
        assert not any(p["PolicyName"] == "AdministratorAccess" for p in attached)
        assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
