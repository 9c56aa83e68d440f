"""What the page sees of a realtime-table item: the same JSON from the API and from a push.

The realtime table holds one item per alert (`lambdas/alerts.py` documents the keys and
writes them) plus the sink's bookkeeping (`notifyClaim`, `sequenceNumber`, `snsMessageId`,
...). A view keeps the alert's own fields, as the alert contract names them, and `storedAt`
(when the sink first stored it), and nothing else; the labels the CDC tier's enrichment adds
(`ErrorAlert.ENRICHMENT_FIELDS`) and its per-business-line counts are not on the page yet.
`tests/lambdas/test_live_push.py` proves that the views and the alert contract name the same fields.

`item_key` and `page_size` are the shared vocabulary of the API and the pusher.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from lambdas.events import Action, ErrorText, Id

AlertType = Literal["error", "warn_burst", "counts"]
FeedType = Literal["error", "warn_burst"]
ALERT_TYPES: tuple[AlertType, ...] = ("error", "warn_burst", "counts")
# The partition-key shape of every alert item (lambdas/alerts.py, AlertBase.key).
ITEM_PREFIX = "ALERT#"
# Timestamps as the sink stores them (`to_utc_iso`): UTC, milliseconds, Z. String order is time order.
Timestamp = Annotated[
    str, Field(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$", examples=["2026-03-01T12:15:00.000Z"])
]


class _View(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    action: Action
    storedAt: Timestamp | None = Field(default=None, description="When the alert sink first stored the alert.")


class ErrorView(_View):
    """One event whose errorMsg carried an error marker."""

    alertType: Literal["error"]
    eventId: Id
    userId: Id
    objectId: Id
    bizId: Id
    errorMsg: ErrorText
    createdAt: Timestamp


class WarnBurstView(_View):
    """An action with at least the threshold number of warnings in one window."""

    alertType: Literal["warn_burst"]
    windowStart: Timestamp
    windowEnd: Timestamp
    warnCount: int = Field(ge=1)


class CountsView(_View):
    """Events and distinct users of one action in one window."""

    alertType: Literal["counts"]
    windowStart: Timestamp
    windowEnd: Timestamp
    events: int = Field(ge=0)
    users: int = Field(ge=0)


AlertView = Annotated[ErrorView | WarnBurstView | CountsView, Field(discriminator="alertType")]
_VIEW: TypeAdapter[ErrorView | WarnBurstView | CountsView] = TypeAdapter(AlertView)


class NotAnAlertError(ValueError):
    """An item that is not an alert of the contract (another writer's item, or drift)."""


def _plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal; the views take int."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def view_of(item: dict[str, Any]) -> ErrorView | WarnBurstView | CountsView:
    """The page's view of one deserialised realtime-table item; NotAnAlertError when it is none."""
    fields = {name: _plain(value) for name, value in item.items()}
    if "firstSeenAt" in fields:
        fields["storedAt"] = fields["firstSeenAt"]
    try:
        return _VIEW.validate_python(fields)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise NotAnAlertError(
            f"item {item.get('pk')!r}/{item.get('sk')!r}: {where}: {first['msg']} ({error.error_count()} problem(s))"
        ) from None


def json_of(view: ErrorView | WarnBurstView | CountsView) -> dict[str, Any]:
    return view.model_dump(mode="json", exclude_none=True)


def partition_key(alert_type: AlertType, action: str) -> str:
    return f"{ITEM_PREFIX}{alert_type}#{action}"
