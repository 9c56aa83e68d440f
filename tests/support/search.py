"""Stack variants with the search tier on, shared by the schema conformance and the search tier's tests.

Prod carries the tier as its stack file says (a Serverless collection behind a VPC endpoint);
these switch it on in dev as a managed domain, and as a public collection.
"""

from __future__ import annotations

from typing import Any

from tools.engine.mocks import load_stack_config


def search_domain() -> dict[str, Any]:
    """Dev with a two-node domain in the warehouse VPC, and bizUser allowed to search."""
    return {
        "uba:search": {
            "enabled": True,
            "mode": "domain",
            "network": {"access": "vpc", "allowed_cidrs": ["10.0.0.0/8"]},
            "domain": {"instance_type": "t3.small.search", "instance_count": 2, "volume_gb": 20},
            "retention_days": 7,
            "bizuser_search": True,
        }
    }


def public_search_collection() -> dict[str, Any]:
    """Dev with a collection reached from public networks (IAM-signed requests only), without standby replicas."""
    return {
        "uba:search": {
            "enabled": True,
            "network": {"access": "public"},
            "serverless": {"standby_replicas": False},
            "retention_days": 3,
        },
        "uba:warehouse": {**load_stack_config("dev")["uba:warehouse"], "enabled": False},
        "uba:lake": {**load_stack_config("dev")["uba:lake"], "enabled": False},
    }
