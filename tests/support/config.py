"""Stack configuration as tests take it: a stack file's raw settings, their problems, and variant stacks.

The variants (`provisioned_warehouse`, ...) are the configurations the suite runs besides
the stack files themselves; each is a set of `run_stack` overrides.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from settings import SettingsError, load_settings
from tools.engine.mocks import load_stack_config


def raw_config(stack: str) -> dict[str, Any]:
    """A stack file's config as `load_settings` takes it (tier key -> object, plus region)."""
    config = load_stack_config(stack)
    raw: dict[str, Any] = {"region": config["aws:region"]}
    for key, value in config.items():
        namespace, _, name = key.partition(":")
        if namespace == "uba":
            raw[name] = copy.deepcopy(value)
    return raw


def config_with(changes: dict[str, Any], stack: str = "dev", raw: dict[str, Any] | None = None) -> dict[str, Any]:
    """`raw` (default: the stack file's config) with each dotted path set; a value of `...` deletes the key.

    A numeric part indexes a list (`warehouse.network.allowed_cidrs.0`); a missing object on the
    way is created.
    """
    raw = raw_config(stack) if raw is None else raw
    for path, value in changes.items():
        *parents, last = path.split(".")
        node = raw
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
        if value is ...:
            del node[last]
        else:
            node[last] = value
    return raw


def problems_for(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        load_settings(raw, "test")
    return caught.value.problems


def provisioned_warehouse() -> dict[str, Any]:
    """Dev's config with a provisioned cluster instead of Redshift Serverless."""
    warehouse = {k: v for k, v in load_stack_config("dev")["uba:warehouse"].items() if k != "serverless"}
    warehouse |= {"mode": "provisioned", "provisioned": {"node_type": "ra3.large", "number_of_nodes": 1}}
    return {"uba:warehouse": warehouse}


def bi_on(stack: str = "dev") -> dict[str, Any]:
    """The stack's BI section switched on (dev keeps it off: QuickSight costs per user and needs a subscription)."""
    return {"uba:bi": {**copy.deepcopy(load_stack_config(stack)["uba:bi"]), "enabled": True}}
