"""Run the policy pack's rules offline, against what the mock engine recorded for a stack.

The Pulumi CLI hands each CrossGuard rule a `ResourceValidationArgs` (a resource's
inputs, options and provider) or a `StackValidationArgs` (every resource's outputs);
this module builds the same objects from a `tools.engine.mocks.Snapshot` and calls the
same rule objects `policies/__main__.py` serves, with the stack's policy config applied
the way the CLI applies `--policy-pack-config`:

    violations = evaluate(snapshot, stack_policy_config("prod"))

So `python -m tools.synth <stack>` and the tests enforce exactly what `pulumi preview
--policy-pack policies` enforces, without the CLI, credentials or network.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.policy import _NotApplicableError  # what `args.not_applicable()` raises
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from policies.rules import ALL_POLICIES
from tools.engine.mocks import PROJECT_DIR, RegisteredResource, Snapshot

CONFIG_DIR = PROJECT_DIR / "policies" / "config"
ENFORCEMENT_LEVELS = tuple(level.value for level in EnforcementLevel)
PolicyConfig = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Violation:
    """One policy violation, as `tools.synth --json` writes it."""

    policy: str
    enforcement: str  # "mandatory" or "advisory"
    urn: str  # the resource in violation; "" when the stack as a whole is
    message: str

    def to_json(self) -> dict[str, str]:
        return asdict(self)


class PolicyConfigError(ValueError):
    """A policy config file the CLI would refuse: unknown policy, unknown property or wrong type."""


# --- policy config (`--policy-pack-config`) ----------------------------------------------------------------


def stack_config_path(stack: str) -> Path:
    return CONFIG_DIR / f"{stack}.json"


def stack_policy_config(stack: str) -> PolicyConfig:
    """The stack's policy config file, if it has one (`policies/config/<stack>.json`)."""
    path = stack_config_path(stack)
    return load_policy_config(path) if path.is_file() else {}


def load_policy_config(path: Path, policies: Sequence[Policy] = ALL_POLICIES) -> PolicyConfig:
    try:
        raw = json.loads(path.read_text())
    except OSError as error:
        raise PolicyConfigError(f"{path}: cannot read it ({error.strerror})") from None
    except json.JSONDecodeError as error:
        raise PolicyConfigError(f"{path}: not valid JSON ({error})") from None
    return validate_policy_config(raw, policies, source=str(path))


def validate_policy_config(raw: Any, policies: Sequence[Policy] = ALL_POLICIES, source: str = "config") -> PolicyConfig:
    """Normalise (`"mandatory"` -> `{"enforcementLevel": "mandatory"}`) and check against each policy's schema."""
    if not isinstance(raw, Mapping):
        raise PolicyConfigError(f"{source}: must be a JSON object of policy name -> settings")
    by_name = {policy.name: policy for policy in policies}
    problems: list[str] = []
    config: PolicyConfig = {}
    for name, value in raw.items():
        entry = {"enforcementLevel": value} if isinstance(value, str) else value
        if name not in by_name:
            problems.append(f"{name}: no such policy in the pack (known: {', '.join(sorted(by_name))})")
            continue
        if not isinstance(entry, Mapping):
            problems.append(f"{name}: must be an enforcement level or an object")
            continue
        problems.extend(f"{name}.{problem}" for problem in _entry_problems(by_name[name], entry))
        config[name] = dict(entry)
    if problems:
        raise PolicyConfigError(f"{source}: " + "; ".join(problems))
    return config


def _entry_problems(policy: Policy, entry: Mapping[str, Any]) -> list[str]:
    properties = policy.config_schema.properties if policy.config_schema else {}
    problems = []
    for key, value in entry.items():
        if key == "enforcementLevel":
            if value not in ENFORCEMENT_LEVELS:
                problems.append(f"enforcementLevel: must be one of {list(ENFORCEMENT_LEVELS)}, got {value!r}")
        elif key not in properties:
            problems.append(f"{key}: not a setting of this policy (settings: {sorted(properties) or 'none'})")
        else:
            problems.extend(f"{key}: {p}" for p in _value_problems(properties[key], value))
    return problems


_JSON_TYPES: dict[str, Callable[[Any], bool]] = {
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "array": lambda v: isinstance(v, list),
}


def _value_problems(schema: Mapping[str, Any], value: Any) -> list[str]:
    """The subset of JSON Schema the pack's config schemas use: type, enum, minimum, maximum, items."""
    expected = schema.get("type")
    if expected in _JSON_TYPES and not _JSON_TYPES[expected](value):
        return [f"must be of type {expected}, got {value!r}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"must be one of {schema['enum']}, got {value!r}"]
    if "minimum" in schema and value < schema["minimum"]:
        return [f"must be >= {schema['minimum']}, got {value!r}"]
    if "maximum" in schema and value > schema["maximum"]:
        return [f"must be <= {schema['maximum']}, got {value!r}"]
    if expected == "array" and "items" in schema:
        return [p for item in value for p in _value_problems(schema["items"], item)]
    return []


def enforcement_level(policy: Policy, config: PolicyConfig) -> EnforcementLevel:
    """The config's level for the policy, else the policy's own, else the pack's default (advisory)."""
    configured = config.get(policy.name, {}).get("enforcementLevel")
    if configured is not None:
        return EnforcementLevel(configured)
    return policy.enforcement_level or EnforcementLevel.ADVISORY


# --- snapshot -> the SDK's argument types ------------------------------------------------------------------


def _options(resource: RegisteredResource) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=resource.protect,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=resource.parent,
    )


class _Stack:
    """A snapshot seen as the analyzer sees a stack: providers by URN, resources with options."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.resources = snapshot.resources
        self.providers = {
            r.urn: PolicyProviderResource(r.type, unknown_checking_proxy(dict(r.inputs)), r.urn, r.name)
            for r in self.resources
            if r.type.startswith("pulumi:providers:")
        }

    def provider(self, resource: RegisteredResource) -> PolicyProviderResource | None:
        # A provider reference is `<provider urn>::<provider id>`.
        return self.providers.get(resource.provider.rsplit("::", 1)[0]) if resource.provider else None

    def resource_args(self, resource: RegisteredResource, config: Mapping[str, Any]) -> ResourceValidationArgs:
        """What `Analyze` receives: the resource's inputs, before AWS computes anything."""
        props = unknown_checking_proxy(dict(resource.inputs))
        return ResourceValidationArgs(
            resource.type, props, resource.urn, resource.name, _options(resource), self.provider(resource), config
        )

    def stack_args(self, config: Mapping[str, Any]) -> StackValidationArgs:
        """What `AnalyzeStack` receives: every resource's outputs (the mock engine's state), linked to parents."""
        by_urn: dict[str, PolicyResource] = {}
        for r in self.resources:
            outputs = r.state if r.custom else r.inputs
            by_urn[r.urn] = PolicyResource(
                r.type, unknown_checking_proxy(dict(outputs)), r.urn, r.name, _options(r), self.provider(r),
                None, [], {},
            )  # fmt: skip
        for r in self.resources:
            policy_resource = by_urn[r.urn]
            policy_resource.parent = by_urn.get(r.parent or "")
            policy_resource.dependencies = [by_urn[d] for d in r.depends_on if d in by_urn]
        return StackValidationArgs(list(by_urn.values()), config)


# --- running the rules -------------------------------------------------------------------------------------


def _call(validate: Callable[..., Any], args: Any, report: Callable[[str, str | None], None]) -> str | None:
    """Run one validation like the analyzer does; returns why it could not run, if it could not."""
    try:
        result = validate(args, report)
        if inspect.isawaitable(result):
            asyncio.run(_await(result))
    except UnknownValueError as error:
        return str(error.message)
    except _NotApplicableError:
        return None
    return None


async def _await(result: Any) -> None:
    await result


def evaluate(
    snapshot: Snapshot, config: PolicyConfig | None = None, policies: Iterable[Policy] = ALL_POLICIES
) -> list[Violation]:
    """Every violation of `policies` in the snapshot, with the enforcement level `config` gives each."""
    config = config or {}
    stack = _Stack(snapshot)
    violations: list[Violation] = []
    for policy in policies:
        level = enforcement_level(policy, config)
        if level is EnforcementLevel.DISABLED:
            continue
        if level is EnforcementLevel.REMEDIATE:
            level = EnforcementLevel.MANDATORY  # the analyzer reports an unremediated violation as mandatory
        settings = {k: v for k, v in config.get(policy.name, {}).items() if k != "enforcementLevel"}
        if isinstance(policy, ResourceValidationPolicy):
            for resource in stack.resources:
                violations += _check_resource(policy, level, stack.resource_args(resource, settings))
        elif isinstance(policy, StackValidationPolicy):
            violations += _check_stack(policy, level, stack.stack_args(settings))
    return violations


def _check_resource(
    policy: ResourceValidationPolicy, level: EnforcementLevel, args: ResourceValidationArgs
) -> list[Violation]:
    found: list[Violation] = []

    def report(message: str, _urn: str | None) -> None:
        # As in the analyzer, a resource check's finding belongs to the resource it checked.
        found.append(Violation(policy.name, level.value, args.urn, message))

    unknown = _call(policy.validate, args, report)
    if unknown:
        found.append(Violation(policy.name, EnforcementLevel.ADVISORY.value, args.urn, f"can't run: {unknown}"))
    return found


def _check_stack(policy: StackValidationPolicy, level: EnforcementLevel, args: StackValidationArgs) -> list[Violation]:
    found: list[Violation] = []

    def report(message: str, urn: str | None) -> None:
        found.append(Violation(policy.name, level.value, urn or "", message))

    unknown = _call(policy.validate, args, report)
    if unknown:
        found.append(Violation(policy.name, EnforcementLevel.ADVISORY.value, "", f"can't run: {unknown}"))
    return found


def mandatory(violations: Iterable[Violation]) -> list[Violation]:
    return [v for v in violations if v.enforcement == EnforcementLevel.MANDATORY.value]


def render(violations: Sequence[Violation]) -> str:
    """A readable report: one block per violation, mandatory first."""
    if not violations:
        return "policy violations: none"
    ordered = sorted(violations, key=lambda v: v.enforcement != EnforcementLevel.MANDATORY.value)
    lines = [f"policy violations: {len(mandatory(violations))} mandatory, {len(violations)} in all"]
    for violation in ordered:
        lines.append(f"  [{violation.enforcement}] {violation.policy}  {violation.urn or '(stack)'}")
        lines.append(f"      {violation.message}")
    return "\n".join(lines)
