"""The pinned, dated price table (`prices.yaml`), read and checked once.

`PriceTable.load()` validates the file (every entry has a price for every listed region, a source,
an evidence level; every resource type names existing prices) and answers two questions: what a
quantity of a priced unit costs in a region (`cost`, tiered where AWS tiers it), and how a
resource type is priced (`pricing_of`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

PRICES_FILE = Path(__file__).resolve().parent / "prices.yaml"
Evidence = Literal["aws-page", "secondary", "unverified"]


class PriceTableError(ValueError):
    """The price table is malformed, or lacks what an estimate needs (a region, a price, a type)."""


class PriceEntry(BaseModel):
    """One priced unit: its price per region (a list of tier prices where `tiers_million` is set)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    unit: str
    source: str = Field(pattern=r"^https://")
    evidence: Evidence
    note: str = ""
    tiers_million: list[float] | None = None
    """Where every tier but the last ends, in millions of units a month (cumulative), for tiered prices."""

    def regional(self, region: str) -> list[float]:
        value = (self.model_extra or {}).get(region)
        if value is None:
            return []
        return [float(v) for v in value] if isinstance(value, list) else [float(value)]


class ResourcePricing(BaseModel):
    """How one resource type is priced: free (with the reason), a flat monthly fee, or usage by a rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    free: str | None = None
    monthly: str | None = None
    priced_by: list[str] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> ResourcePricing:
        kinds = [k for k in ("free", "monthly", "priced_by") if getattr(self, k)]
        if len(kinds) != 1:
            raise ValueError(f"give exactly one of free (a reason), monthly or priced_by, got {kinds or 'none'}")
        return self

    @property
    def price_ids(self) -> list[str]:
        return [self.monthly] if self.monthly else list(self.priced_by or [])


class _TableFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    checked: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    currency: Literal["USD"]
    regions: list[str] = Field(min_length=1)
    prices: dict[str, PriceEntry]
    resource_types: dict[str, ResourcePricing]


@dataclass(frozen=True)
class PriceTable:
    """The validated table."""

    checked: str
    regions: tuple[str, ...]
    prices: Mapping[str, PriceEntry]
    resource_types: Mapping[str, ResourcePricing]
    path: Path = PRICES_FILE

    @staticmethod
    def load(path: Path = PRICES_FILE) -> PriceTable:
        return _load(path)

    def entry(self, price_id: str) -> PriceEntry:
        try:
            return self.prices[price_id]
        except KeyError:
            raise PriceTableError(f"no price {price_id!r} in {self.path.name}") from None

    def unit_prices(self, price_id: str, region: str) -> list[float]:
        prices = self.entry(price_id).regional(region)
        if not prices:
            raise PriceTableError(
                f"{self.path.name} has no {region} price for {price_id!r} (its regions: {', '.join(self.regions)})"
            )
        return prices

    def cost(self, price_id: str, region: str, quantity: float) -> float:
        """What `quantity` units cost a month, through the tiers where the price has them."""
        prices = self.unit_prices(price_id, region)
        bounds = self.entry(price_id).tiers_million
        if not bounds:
            return quantity * prices[0]
        remaining, low, total = quantity, 0.0, 0.0
        for bound, price in zip([*bounds, None], prices, strict=True):
            span = remaining if bound is None else min(remaining, bound - low)
            total += span * price
            remaining -= span
            if bound is not None:
                low = bound
            if remaining <= 0:
                break
        return total

    def pricing_of(self, type_token: str) -> ResourcePricing | None:
        return self.resource_types.get(type_token)


@functools.cache
def _load(path: Path) -> PriceTable:
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        parsed = _TableFile.model_validate(raw)
    except (OSError, yaml.YAMLError) as error:
        raise PriceTableError(f"cannot read {path}: {error}") from None
    except ValidationError as error:
        found = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise PriceTableError(f"{path.name} is malformed: {found}") from None
    problems = _problems(parsed)
    if problems:
        raise PriceTableError(f"{path.name}: " + "; ".join(problems))
    return PriceTable(parsed.checked, tuple(parsed.regions), parsed.prices, parsed.resource_types, path)


def _problems(table: _TableFile) -> list[str]:
    problems: list[str] = []
    for price_id, entry in table.prices.items():
        bounds = entry.tiers_million or []
        if any(b <= a for a, b in zip([0.0, *bounds], bounds, strict=False)):
            problems.append(f"prices.{price_id}.tiers_million: must rise (where each tier ends), got {bounds}")
        tiers = len(bounds) + 1
        for region in table.regions:
            prices = entry.regional(region)
            if len(prices) != tiers:
                problems.append(f"prices.{price_id}.{region}: needs {tiers} price(s), got {len(prices)}")
    for type_token, pricing in table.resource_types.items():
        unknown = [p for p in pricing.price_ids if p not in table.prices]
        if unknown:
            problems.append(f"resource_types.{type_token}: names unknown prices {unknown}")
    used = {p for pricing in table.resource_types.values() for p in pricing.price_ids}
    unused = sorted(set(table.prices) - used)
    if unused:
        problems.append(f"prices {unused} are named by no resource type")
    return problems


def describe_missing(type_token: str, where: Sequence[str]) -> str:
    """The message for a resource type without an entry: which type, where it appears, and what to add."""
    return (
        f"resource type {type_token} (in {', '.join(where)}) has no entry in tools/cost/prices.yaml "
        f"`resource_types`: add `{type_token}: {{free: <why AWS charges nothing for it>}}`, "
        f"`{{monthly: <price id>}}` for a flat fee per resource, or `{{priced_by: [<price ids>]}}` with a "
        f'`@rule("{type_token}")` in tools/cost/rules.py (see the head of prices.yaml)'
    )
