"""Stack test harness: run the real program for a stack under mocks and query what it registered.

    stack = run_stack("prod")
    stream = stack.one(type_token(aws.kinesis.Stream), "events-stream")
    assert stream.inputs["streamModeDetails"]["streamMode"] == "PROVISIONED"

Each distinct (stack, overrides) pair runs once per test session, in a fresh
interpreter with a timeout (see `tools.engine.mocks.run_isolated`), and the frozen
result is shared, so many tests can query the same stack cheaply and no runtime
state leaks from one run into the next.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.engine.mocks import PROJECT_DIR, ProgramError, RegisteredResource, Snapshot, run_isolated

__all__ = ["ProgramError", "Resource", "StackRun", "link_program_packages", "run_stack"]

Resource = RegisteredResource


@dataclass(frozen=True)
class StackRun:
    """What one run of the program registered, with simple queries."""

    snapshot: Snapshot

    @property
    def stack(self) -> str:
        return self.snapshot.stack

    @property
    def outputs(self) -> dict[str, Any]:
        return self.snapshot.outputs

    @property
    def resources(self) -> list[Resource]:
        return self.snapshot.resources

    def of_type(self, type_token: str) -> list[Resource]:
        """Every resource of a type token, in URN order (stable from run to run)."""
        return [r for r in self.resources if r.type == type_token]

    def one(self, type_token: str, name: str | None = None) -> Resource:
        """Exactly one resource of a type (and logical name); fails with what was found instead."""
        found = [r for r in self.of_type(type_token) if name is None or r.name == name]
        if len(found) != 1:
            names = [r.name for r in self.of_type(type_token)]
            raise AssertionError(
                f"expected exactly one {type_token}{f' named {name!r}' if name else ''} in stack "
                f"{self.stack!r}, found {len(found)}; registered names of that type: {names}"
            )
        return found[0]

    def by_urn(self, urn: str) -> Resource:
        for resource in self.resources:
            if resource.urn == urn:
                return resource
        raise AssertionError(f"no resource with URN {urn}")

    def children(self, parent: Resource, recursive: bool = False) -> list[Resource]:
        """Resources whose parent is `parent` (or, recursively, any descendant)."""
        direct = [r for r in self.resources if r.parent == parent.urn]
        if not recursive:
            return direct
        result: list[Resource] = []
        for resource in direct:
            result.append(resource)
            result.extend(self.children(resource, recursive=True))
        return result

    def component(self, type_token: str) -> Resource:
        """The single component of a type token, e.g. `uba:core:Core`."""
        return self.one(type_token)

    def custom(self) -> Iterator[Resource]:
        """Every cloud resource (not components, not providers)."""
        return (r for r in self.resources if r.custom and not r.type.startswith("pulumi:providers:"))

    def policy(self, resource: Resource, key: str = "policy") -> dict[str, Any]:
        """A JSON policy document input, parsed."""
        value = resource.inputs[key]
        return json.loads(value) if isinstance(value, str) else dict(value)


_CACHE: dict[str, StackRun] = {}


def run_stack(stack: str, overrides: Mapping[str, Any] | None = None) -> StackRun:
    """Run the program for `stack` (config from its `Pulumi.<stack>.yaml`), once per session.

    `overrides` replaces whole config keys, e.g. `{"uba:streaming": {...}}`; pass a
    key with value None to remove it.
    """
    key = json.dumps([stack, overrides or {}], sort_keys=True)
    if key not in _CACHE:
        _CACHE[key] = StackRun(run_isolated(stack, overrides=overrides))
    return _CACHE[key]


# The packages the program imports; a scratch project links them to run a program of its own.
PROGRAM_PACKAGES = ("components", "lambdas", "settings", "sql", "streaming")


def link_program_packages(project: Path) -> None:
    """Make a scratch project (its own `Pulumi.yaml` and `__main__.py`) see the platform's packages."""
    for package in PROGRAM_PACKAGES:
        (project / package).symlink_to(PROJECT_DIR / package)
