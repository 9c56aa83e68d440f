"""Every finding on the platform's own resources names the stack setting that clears it, and that setting does.

Each scenario is a stack file with settings and policy config a team might choose (dev as it ships,
dev asked to protect its data, stricter log retention, a smaller Athena scan limit). For every
finding the program produces there, the message must name `uba:<key>: <value>`; the test writes
that value into the stack's config, runs the program again with the same policy config, and
checks the finding on that resource is gone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
import yaml

from policies.rules.remedies import retention_at_least
from tests.support.config import config_with
from tests.support.harness import run_stack
from tools.engine.policy import PolicyConfig, Violation, evaluate, stack_policy_config

# The two ways a message names what clears it (`policies.rules.remedies`): a stack setting, or an entry of
# a list in the stack's policy config.
STACK_SETTING = re.compile(r"set `uba:([a-z_]+(?:\.[a-z_]+)+): ([^`]+)` in the stack file")
POLICY_SETTING = re.compile(r"add `([^`]+)` to `([a-z-]+)\.([A-Za-z]+)` in the stack's policy config")


@dataclass(frozen=True)
class Scenario:
    name: str
    stack: str = "dev"
    settings: Mapping[str, Any] = field(default_factory=dict)  # dotted settings path -> value
    policy: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # policy -> config, merged

    def policy_config(self) -> PolicyConfig:
        config = {name: dict(values) for name, values in stack_policy_config(self.stack).items()}
        for name, values in self.policy.items():
            config.setdefault(name, {}).update(values)
        return config

    def with_remedy(self, message: str) -> Scenario | None:
        """This scenario with the remedy `message` names applied, or None when it names none."""
        setting = STACK_SETTING.search(message)
        if setting is not None:
            key, value = setting.groups()
            return replace(self, settings={**self.settings, key: yaml.safe_load(value)})
        entry = POLICY_SETTING.search(message)
        if entry is not None:
            item, policy, key = entry.groups()
            config = self.policy_config().get(policy, {})
            return replace(self, policy={**self.policy, policy: {**config, key: [*config.get(key, []), item]}})
        return None


SCENARIOS = [
    Scenario("dev as it ships (its advisories)"),
    Scenario("dev asked to protect data it does not protect", policy={"require-protection": {"protect": True}}),
    Scenario(
        "dev protecting its data",
        settings={"platform.protect_stateful": True},
        policy={"require-protection": {"protect": True}},
    ),
    Scenario("a year of logs required", policy={"log-group-retention": {"minimumRetentionDays": 365}}),
    Scenario(
        "a smaller Athena scan limit", policy={"athena-bytes-scanned-cutoff": {"maximumBytesScannedCutoff": 10**8}}
    ),
    Scenario(
        "dev searching from public networks", settings={"search.enabled": True, "search.network.access": "public"}
    ),
]


def findings(scenario: Scenario) -> list[Violation]:
    raw = config_with(dict(scenario.settings), scenario.stack)
    overrides = {f"uba:{key}": value for key, value in raw.items() if key != "region"}
    return evaluate(run_stack(scenario.stack, overrides).snapshot, scenario.policy_config())


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_every_finding_names_the_setting_that_clears_it(scenario: Scenario) -> None:
    found = findings(scenario)
    assert found, f"scenario {scenario.name!r} produces no finding: it tests nothing"
    by_remedy: dict[str, tuple[Scenario, list[Violation]]] = {}
    for violation in found:
        remedied = scenario.with_remedy(violation.message)
        assert remedied is not None, f"{violation.policy} on {violation.urn} names no setting: {violation.message}"
        key = json.dumps([remedied.settings, remedied.policy], sort_keys=True)
        by_remedy.setdefault(key, (remedied, []))[1].append(violation)
    for remedied, cleared in by_remedy.values():
        remaining = {(v.policy, v.urn) for v in findings(remedied)} & {(v.policy, v.urn) for v in cleared}
        assert not remaining, f"{remedied.settings} / {remedied.policy} did not clear {sorted(remaining)}"


def test_a_retention_remedy_names_a_period_cloudwatch_accepts() -> None:
    # CloudWatch has no 10- or 200-day retention: the remedy names the next period it accepts.
    assert (retention_at_least(10), retention_at_least(200), retention_at_least(365)) == (14, 365, 365)
