"""Every rule of the pack, in one list: the CLI pack and the offline checker both serve exactly these."""

from __future__ import annotations

from typing import Final

from pulumi_policy import Policy

from . import (
    api,
    cloudfront,
    cost,
    encryption,
    iam,
    ingress,
    network,
    notifications,
    protection,
    quicksight,
    replication,
    search,
    storage,
    streaming,
    tagging,
    warehouse,
    web,
)

PACK_NAME: Final = "uba-guardrails"

ALL_POLICIES: Final[list[Policy]] = [
    *storage.POLICIES,
    *encryption.POLICIES,
    *protection.POLICIES,
    *warehouse.POLICIES,
    *network.POLICIES,
    *streaming.POLICIES,
    *replication.POLICIES,
    *api.POLICIES,
    *cloudfront.POLICIES,
    *iam.POLICIES,
    *tagging.POLICIES,
    *ingress.POLICIES,
    *web.POLICIES,
    *quicksight.POLICIES,
    *search.POLICIES,
    *notifications.POLICIES,
    *cost.POLICIES,
]
