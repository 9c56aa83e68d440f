"""The warehouse tier: Redshift in a private VPC, reading the lake through Spectrum, with scheduled models."""

from components.warehouse.tier import Warehouse, WarehouseArgs

__all__ = ["Warehouse", "WarehouseArgs"]
