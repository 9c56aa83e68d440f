"""The tier contract: what every tier declares next to its own resources.

A tier is a `ComponentResource` (`uba:<tier>:<Name>`, every child parented to it, typed
attributes, `register_outputs`) that also says, about its own resources:

- `stack_outputs()`: what the stack exports of it (names an operator or a CI job needs);
- `dashboard_widgets()`: what the ops dashboard shows of it (its alarms join the
  dashboard on their own, through `components.shared.alarms`);
- `access_targets()`: the resources the staff groups are granted on, by the field names
  of `components.access.AccessTargets` (the access tier's policies name them).

`Platform` builds the tiers in data-path order and merges these declarations; it knows
nothing else about any tier.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol, TypeVar, runtime_checkable

import pulumi

from components.shared.dashboard import Widget

V = TypeVar("V")


@runtime_checkable
class Tier(Protocol):
    def stack_outputs(self) -> Mapping[str, pulumi.Input[str]]:
        """Stack output name -> value."""
        ...

    def dashboard_widgets(self) -> Sequence[Widget]:
        """Metric widgets of the ops dashboard, in the order they are shown."""
        ...

    def access_targets(self) -> Mapping[str, pulumi.Input[str]]:
        """`AccessTargets` field -> ARN or name of this tier's resource."""
        ...


def merge_declarations(declarations: Iterable[tuple[str, Mapping[str, V]]], what: str) -> dict[str, V]:
    """Merge per-tier mappings; a key two tiers both declare is a bug, reported with both tiers' names."""
    merged: dict[str, V] = {}
    owner: dict[str, str] = {}
    for tier, declared in declarations:
        for key, value in declared.items():
            if key in merged:
                raise ValueError(f"{what} {key!r} is declared by both the {owner[key]} and the {tier} tier")
            merged[key] = value
            owner[key] = tier
    return merged
