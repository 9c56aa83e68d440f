"""The BI tier: QuickSight dashboards on the warehouse and the lake, with row-level security by business line."""

from components.bi.network import WarehouseNetwork
from components.bi.sources import LakeSource, WarehouseSource
from components.bi.tier import Bi, BiArgs

__all__ = ["Bi", "BiArgs", "LakeSource", "WarehouseNetwork", "WarehouseSource"]
