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


def problems_for(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        load_settings(raw, "test")
    return caught.value.problems


def provisioned_warehouse() -> dict[str, Any]:
    """Dev's config with a provisioned cluster instead of Redshift Serverless."""
    warehouse = {k: v for k, v in load_stack_config("dev")["uba:warehouse"].items() if k != "serverless"}
    warehouse |= {"mode": "provisioned", "provisioned": {"node_type": "ra3.large", "number_of_nodes": 1}}
    return {"uba:warehouse": warehouse}
