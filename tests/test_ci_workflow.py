"""The GitHub workflow: tests like `.ci/run`, previews every stack with the policy pack, deploys prod after approval."""

from __future__ import annotations

import copy
import re
import shlex
from typing import Any

import pytest
import yaml

from streaming.fetch_connector import FETCH_COMMAND
from tools.engine.mocks import PROJECT_DIR, available_stacks

WORKFLOW_FILE = PROJECT_DIR / ".github" / "workflows" / "pulumi.yml"


@pytest.fixture(scope="module")
def workflow() -> dict[Any, Any]:
    return yaml.safe_load(WORKFLOW_FILE.read_text())


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [step for step in job["steps"] if str(step.get("uses", "")).startswith(action)]


def pulumi_step(job: dict[str, Any]) -> dict[str, Any]:
    (step,) = steps_using(job, "pulumi/actions@")
    assert step["uses"] == "pulumi/actions@v6"
    return step["with"]


def ci_commands() -> list[str]:
    """The commands `.ci/run` runs after moving to the repository root."""
    lines = [line.strip() for line in (PROJECT_DIR / ".ci" / "run").read_text().splitlines()]
    commands = [line for line in lines if line and not line.startswith(("#", "set ", "cd "))]
    assert commands, ".ci/run runs no command"
    return commands


def test_runs_on_pull_requests_and_on_pushes_to_main(workflow: dict[Any, Any]) -> None:
    triggers = workflow["on"] if "on" in workflow else workflow[True]  # YAML 1.1 reads a bare `on` as true
    assert "pull_request" in triggers
    assert triggers["push"]["branches"] == ["main"]


def test_the_test_job_runs_the_same_command_as_ci_run(workflow: dict[str, Any]) -> None:
    runs = [step["run"] for step in workflow["jobs"]["test"]["steps"] if "run" in step]
    assert [[c.strip() for c in run.split("&&")] for run in runs] == [ci_commands()]
    assert ci_commands() == ["make setup", "make test"]


def test_every_stack_is_previewed_with_the_policy_pack_and_commented(workflow: dict[str, Any]) -> None:
    preview = workflow["jobs"]["preview"]
    assert preview["if"] == "github.event_name == 'pull_request'" and preview["needs"] == "test"
    assert sorted(preview["strategy"]["matrix"]["stack"]) == available_stacks()
    action = pulumi_step(preview)
    assert action["command"] == "preview"
    assert action["stack-name"].endswith("/${{ matrix.stack }}")
    assert action["policyPacks"] == "policies"
    assert action["policyPackConfigs"] == "policies/config/${{ matrix.stack }}.json"
    assert action["comment-on-pr"] is True
    for stack in available_stacks():
        assert (PROJECT_DIR / "policies" / "config" / f"{stack}.json").is_file()


@pytest.mark.parametrize("job_name", ["preview", "deploy-dev", "deploy-prod"])
def test_python_dependencies_are_installed_before_pulumi_runs(workflow: dict[str, Any], job_name: str) -> None:
    steps = workflow["jobs"][job_name]["steps"]
    installs = [i for i, s in enumerate(steps) if "pip install" in s.get("run", "")]
    pulumi = next(i for i, s in enumerate(steps) if str(s.get("uses", "")).startswith("pulumi/actions@"))
    assert installs and installs[0] < pulumi
    install = shlex.split(steps[installs[0]]["run"].replace("\n", " "))
    assert "requirements.txt" in install and "policies/requirements.txt" in install


def fetches_the_connector(step: dict[str, Any]) -> bool:
    """A step that runs the connector fetch (`python -m streaming.fetch_connector`) with the project's .venv."""
    words = shlex.split(str(step.get("run", "")).replace("\n", " "))
    module = FETCH_COMMAND.split()[1:]  # ["-m", "streaming.fetch_connector"]
    return bool(words) and words[0] == ".venv/bin/python" and words[1:] == module


def jobs_running_the_program_without_the_connector(workflow: dict[str, Any]) -> list[str]:
    """Jobs whose Pulumi step (preview or up runs __main__.py, which packages the Flink app) has no fetch before it."""
    missing = []
    for name, job in workflow["jobs"].items():
        steps = job["steps"]
        runs_program = [i for i, s in enumerate(steps) if str(s.get("uses", "")).startswith("pulumi/actions@")]
        if not runs_program:
            continue
        installs = [i for i, s in enumerate(steps) if "pip install" in s.get("run", "")]
        fetches = [i for i, s in enumerate(steps) if fetches_the_connector(s)]
        # The fetch runs in the installed .venv, so it comes after the install, and before Pulumi.
        if not (installs and fetches and installs[0] < fetches[0] < runs_program[0]):
            missing.append(name)
    return missing


def test_every_job_that_runs_the_program_fetches_the_connector_it_deploys_first(workflow: dict[str, Any]) -> None:
    """Issue 19: previews and deploys ran the program without the JAR, which stops it with streaming on."""
    assert jobs_running_the_program_without_the_connector(workflow) == []
    for job_name in ("preview", "deploy-dev", "deploy-prod"):
        steps = workflow["jobs"][job_name]["steps"]
        fetch = next(i for i, s in enumerate(steps) if fetches_the_connector(s))
        java = [i for i, s in enumerate(steps) if str(s.get("uses", "")).startswith("actions/setup-java@")]
        assert java and java[0] < fetch, f"{job_name}: Maven needs a JDK before the fetch"


def test_the_check_catches_a_job_that_would_run_the_program_without_the_connector(workflow: dict[str, Any]) -> None:
    broken = copy.deepcopy(workflow)
    steps = broken["jobs"]["deploy-prod"]["steps"]
    steps[:] = [s for s in steps if not fetches_the_connector(s)]
    assert jobs_running_the_program_without_the_connector(broken) == ["deploy-prod"]
    late = copy.deepcopy(workflow)  # fetched, but only after Pulumi has run
    steps = late["jobs"]["preview"]["steps"]
    fetch = next(s for s in steps if fetches_the_connector(s))
    steps.remove(fetch)
    steps.append(fetch)
    assert jobs_running_the_program_without_the_connector(late) == ["preview"]


def deploy_jobs(workflow: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """stack -> (job name, job) for every job that runs `pulumi up`."""
    deploys = {}
    for name, job in workflow["jobs"].items():
        actions = steps_using(job, "pulumi/actions@")
        if actions and actions[0]["with"]["command"] == "up":
            stack = actions[0]["with"]["stack-name"].rsplit("/", 1)[-1]
            deploys[stack] = (name, job)
    return deploys


def test_main_deploys_every_stack_with_the_policy_pack_each_in_its_environment(workflow: dict[str, Any]) -> None:
    deploys = deploy_jobs(workflow)
    assert sorted(deploys) == available_stacks()
    for stack, (_, job) in deploys.items():
        assert job["environment"] == stack
        assert job["if"] == "github.event_name == 'push' && github.ref == 'refs/heads/main'"
        action = pulumi_step(job)
        assert action["policyPacks"] == "policies"
        assert action["policyPackConfigs"] == f"policies/config/{stack}.json"
        assert "test" in job["needs"]


def test_prod_deploys_only_after_dev_and_behind_its_protected_environment(workflow: dict[str, Any]) -> None:
    deploys = deploy_jobs(workflow)
    dev_job, _ = deploys["dev"]
    _, prod = deploys["prod"]
    assert prod["environment"] == "prod"
    assert dev_job in prod["needs"]
    assert prod["concurrency"]["cancel-in-progress"] is False
    # The protection itself lives in the repository settings; the workflow documents it.
    assert re.search(r"environment `prod` protected by required reviewers", WORKFLOW_FILE.read_text())


def test_aws_credentials_come_only_from_oidc_role_assumption(workflow: dict[str, Any]) -> None:
    text = WORKFLOW_FILE.read_text().lower()
    for forbidden in ("aws-secret-access-key", "aws-access-key-id", "aws_secret_access_key", "aws_access_key_id"):
        assert forbidden not in text
    credential_jobs = {name: job for name, job in workflow["jobs"].items() if steps_using(job, "aws-actions/")}
    assert set(credential_jobs) == {"preview", "deploy-dev", "deploy-prod"}
    for name, job in credential_jobs.items():
        assert job["permissions"]["id-token"] == "write", name
        (step,) = steps_using(job, "aws-actions/configure-aws-credentials@")
        assert step["uses"] == "aws-actions/configure-aws-credentials@v4"
        assert step["with"]["role-to-assume"].startswith("${{ vars."), name
    assert workflow["permissions"] == {"contents": "read"}, "jobs get more only where they need it"


def test_pulumi_cli_matches_the_pinned_sdk_and_logs_in_with_a_secret(workflow: dict[str, Any]) -> None:
    pins = dict(
        line.split("==") for line in (PROJECT_DIR / "requirements.txt").read_text().splitlines() if "==" in line
    )
    assert workflow["env"]["PULUMI_VERSION"] == pins["pulumi"]
    for name, job in workflow["jobs"].items():
        for step in steps_using(job, "pulumi/actions@"):
            assert step["env"]["PULUMI_ACCESS_TOKEN"] == "${{ secrets.PULUMI_ACCESS_TOKEN }}", name
            assert step["with"]["pulumi-version"] == "${{ env.PULUMI_VERSION }}", name


def checks_users(step: dict[str, Any], stack: str) -> bool:
    words = shlex.split(str(step.get("run", "")).replace("\n", " "))
    return words == [".venv/bin/python", "-m", "tools.access", "check-users", stack]


def deploys_without_the_user_check(workflow: dict[str, Any]) -> list[str]:
    """Deploy jobs that reach `pulumi up` without checking their stack's staff users first (with AWS credentials)."""
    missing = []
    for stack, (name, job) in deploy_jobs(workflow).items():
        steps = job["steps"]
        credentials = [i for i, s in enumerate(steps) if str(s.get("uses", "")).startswith("aws-actions/")]
        up = next(i for i, s in enumerate(steps) if str(s.get("uses", "")).startswith("pulumi/actions@"))
        checks = [i for i, s in enumerate(steps) if checks_users(s, stack)]
        if not (credentials and checks and credentials[0] < checks[0] < up):
            missing.append(name)
    return missing


def test_every_deploy_checks_its_staff_users_exist_before_pulumi_up(workflow: dict[str, Any]) -> None:
    """A membership naming a missing IAM user fails `pulumi up` half way; `check-users` refuses first."""
    assert deploys_without_the_user_check(workflow) == []
    broken = copy.deepcopy(workflow)
    steps = broken["jobs"]["deploy-prod"]["steps"]
    steps[:] = [s for s in steps if not checks_users(s, "prod")]
    assert deploys_without_the_user_check(broken) == ["deploy-prod"]
    wrong_stack = copy.deepcopy(workflow)  # dev's job checking prod's users checks nothing of its own
    for step in wrong_stack["jobs"]["deploy-dev"]["steps"]:
        if checks_users(step, "dev"):
            step["run"] = step["run"].replace("check-users dev", "check-users prod")
    assert deploys_without_the_user_check(wrong_stack) == ["deploy-dev"]
    for _, job in deploy_jobs(workflow).values():  # the tool imports moto and boto3: the dev requirements
        installs = [s["run"] for s in job["steps"] if "pip install" in s.get("run", "")]
        assert any("requirements-dev.txt" in run for run in installs)


def runs_preflight(step: dict[str, Any], stack: str) -> bool:
    words = shlex.split(str(step.get("run", "")).replace("\n", " "))
    return words == [".venv/bin/python", "-m", "tools.preflight", stack]


def deploys_without_the_preflight(workflow: dict[str, Any]) -> list[str]:
    """Deploy jobs that reach `pulumi up` without refusing their stack file's example values first."""
    missing = []
    for stack, (name, job) in deploy_jobs(workflow).items():
        steps = job["steps"]
        dev_install = [i for i, s in enumerate(steps) if "requirements-dev.txt" in s.get("run", "")]
        up = next(i for i, s in enumerate(steps) if str(s.get("uses", "")).startswith("pulumi/actions@"))
        checks = [i for i, s in enumerate(steps) if runs_preflight(s, stack)]
        if not (dev_install and checks and dev_install[0] < checks[0] < up):
            missing.append(name)
    return missing


def test_every_deploy_refuses_the_example_values_before_pulumi_up(workflow: dict[str, Any]) -> None:
    """The stack files ship with example.com addresses and example people; CI must never deploy them."""
    assert deploys_without_the_preflight(workflow) == []
    broken = copy.deepcopy(workflow)
    steps = broken["jobs"]["deploy-dev"]["steps"]
    steps[:] = [s for s in steps if not runs_preflight(s, "dev")]
    assert deploys_without_the_preflight(broken) == ["deploy-dev"]


def test_the_roles_permissions_are_the_generated_policies(workflow: dict[str, Any]) -> None:
    """The workflow documents its roles' permissions as the generated policies, never an administrator's."""
    header = WORKFLOW_FILE.read_text().split("\nname:")[0]
    assert "`python -m tools.deploy_policy <name> --account-id <id>`" in header
    assert "--read-only` prints" in header
    assert "AdministratorAccess" not in header.replace("never AdministratorAccess", "")
