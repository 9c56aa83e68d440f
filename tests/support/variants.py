"""Every configuration the suite runs the program in: each stack file as it is, then the variants.

The variants are built exactly as the tests that use them build them (so in a full run each is
the same cached `run_stack` run): a provisioned warehouse, IAM ingest auth, an existing VPC, tiers
switched off, the BI tier switched on, the `cdc` tier on. Whatever must hold of every configuration the program
can be deployed in (its inputs match pulumi-aws's types, its deploy policy covers every type it creates, every
type it creates has a price entry) is checked over these.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.support.config import bi_on, cdc_on, cdc_on_mysql_without_endpoints, provisioned_warehouse
from tests.support.harness import StackRun, run_stack
from tests.support.search import public_search_collection, search_domain
from tools.engine.mocks import available_stacks, load_stack_config


def _dev(key: str) -> dict[str, Any]:
    return copy.deepcopy(load_stack_config("dev")[key])


def _iam_ingest() -> dict[str, Any]:
    ingest = _dev("uba:ingest")
    ingest["api"]["authorization"] = "iam"  # as tests/components/test_ingest.py switches it
    return {"uba:ingest": ingest}


def _existing_vpc() -> dict[str, Any]:
    network = {
        "existing_vpc_id": "vpc-0abc123",
        "existing_subnet_ids": ["subnet-0a1", "subnet-0b2", "subnet-0c3"],
        "allowed_security_group_ids": ["sg-0b1", "sg-0b2"],
    }  # as tests/components/warehouse/test_warehouse_stack.py's EXISTING_VPC
    return {"uba:warehouse": {**_dev("uba:warehouse"), "network": network}}


def _two_node_cluster_in_prod() -> dict[str, Any]:
    warehouse = copy.deepcopy(load_stack_config("prod")["uba:warehouse"])
    warehouse.pop("serverless")
    warehouse.update(mode="provisioned", provisioned={"node_type": "ra3.xlplus", "number_of_nodes": 2})
    return {"uba:warehouse": warehouse}


def _lake_and_warehouse_off() -> dict[str, Any]:
    return {
        "uba:lake": {**_dev("uba:lake"), "enabled": False},
        "uba:warehouse": {**_dev("uba:warehouse"), "enabled": False},
    }


def _live_variant() -> dict[str, Any]:
    live = _dev("uba:live")
    live["site"] = {
        "domain_name": "live.example.com",
        "price_class": "PriceClass_All",
        "certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
    }
    live["sign_in"] = {
        "mfa": "off",
        "advanced_security": "audit",
        "self_sign_up": True,
        "invited_personas": ["bizUser"],
    }
    return {"uba:live": live}  # as tests/components/live/test_live_stack.py's CUSTOM_DOMAIN


# label -> (stack, overrides): each stack file as it is, then the variants the suite runs.
VARIANTS: dict[str, tuple[str, Mapping[str, Any] | None]] = {
    **{stack: (stack, None) for stack in available_stacks()},
    "dev with a provisioned warehouse": ("dev", provisioned_warehouse()),
    "prod with a two-node cluster": ("prod", _two_node_cluster_in_prod()),
    "dev with IAM ingest auth": ("dev", _iam_ingest()),
    "dev in an existing VPC": ("dev", _existing_vpc()),
    "dev with streaming off": (
        "dev",
        {"uba:streaming": {"enabled": False, "alerts_stream": {"mode": "on_demand"}}, "uba:live": {"enabled": False}},
    ),
    "dev with the live page on its own domain, open sign-up and threat protection": ("dev", _live_variant()),
    "dev with the lake and warehouse off": ("dev", _lake_and_warehouse_off()),
    "dev without the dashboard": ("dev", {"uba:observability": {"dashboard": False}}),
    # BI is off in dev; on, its QuickSight dashboard's definition is checked against pulumi-aws-native's types.
    "dev with BI on": ("dev", bi_on()),
    "dev with CDC from PostgreSQL": ("dev", cdc_on()),
    "prod with CDC from PostgreSQL": ("prod", cdc_on()),
    "dev with CDC from Aurora MySQL, its own VPC endpoints and account roles": (
        "dev",
        cdc_on_mysql_without_endpoints(),
    ),
    "dev without the cost tier": ("dev", {"uba:cost": {"enabled": False}}),
    "dev with a search domain": ("dev", search_domain()),
    "dev with a public search collection": ("dev", public_search_collection()),
}


def run_variants() -> dict[str, StackRun]:
    """Every variant's run, two at a time (each is a program in its own interpreter)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {label: pool.submit(run_stack, stack, overrides) for label, (stack, overrides) in VARIANTS.items()}
        return {label: future.result() for label, future in futures.items()}
