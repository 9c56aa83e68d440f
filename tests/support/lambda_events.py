"""Shared helpers for Lambda handler tests: events, contexts, a moto stream, the environment.

A plain module rather than a conftest, so helpers for other handlers can live beside it
without fixture names colliding. Test modules build their fixtures from these.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest

from tools.local.lambdas import (
    ApiCallCounter,
    FakeLambdaContext,
    HttpAnswer,
    StreamRecord,
    local_kinesis,
    read_answer,
    read_stream,
    rest_api_event,
)

__all__ = [
    "ApiCallCounter",
    "FakeLambdaContext",
    "HttpAnswer",
    "StreamRecord",
    "handler_stream",
    "ingest_environment",
    "invoke",
    "kinesis_for_handler",
    "local_kinesis",
    "read_answer",
    "read_stream",
    "receive_at",
    "rest_api_event",
    "user_event",
]

STREAM_NAME = "uba-test-events"
# When the handler receives requests in tests that pin it: the hour after `user_event`'s times,
# so those fixed event times are inside the accepted window (`lambdas.events.MAX_EVENT_AGE`).
RECEIVED_AT = datetime(2026, 3, 1, 13, 0, tzinfo=UTC)


def ingest_environment(monkeypatch: pytest.MonkeyPatch, stream_name: str = STREAM_NAME) -> None:
    """What the Pulumi component sets, with tracing off and fast retries so tests run offline."""
    for name, value in {
        "EVENTS_STREAM_NAME": stream_name,
        "POWERTOOLS_SERVICE_NAME": "ingest",
        "POWERTOOLS_METRICS_NAMESPACE": "UbaTest",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "INGEST_RETRY_BASE_DELAY_MS": "1",
        "INGEST_RETRY_MAX_DELAY_MS": "5",
        "INGEST_SAFETY_MARGIN_MS": "1000",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)


def receive_at(monkeypatch: pytest.MonkeyPatch, moment: datetime = RECEIVED_AT) -> None:
    """Pin the handler's receipt time, so events with fixed timestamps stay within its window."""
    from lambdas import ingest

    monkeypatch.setattr(ingest, "clock", lambda: moment)


@contextmanager
def kinesis_for_handler(stream_name: str = STREAM_NAME, shard_count: int = 4) -> Iterator[Any]:
    """A moto stream injected into the ingest handler; restores the default client after."""
    from lambdas import ingest

    with local_kinesis(stream_name, shard_count) as client:
        ingest.use_kinesis_client(client)
        try:
            yield client
        finally:
            ingest.use_kinesis_client(None)


@contextmanager
def handler_stream(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The handler's environment, its clock pinned to `RECEIVED_AT`, and a moto stream it writes to."""
    ingest_environment(monkeypatch)
    receive_at(monkeypatch)
    with kinesis_for_handler() as client:
        yield client


def user_event(number: int, **overrides: Any) -> dict[str, Any]:
    """A valid client event; `number` makes ids unique and spreads events over 7 users."""
    event: dict[str, Any] = {
        "eventId": f"evt-{number:06d}",
        "action": "viewDoc",
        "userId": f"user-{number % 7}",
        "objectId": f"doc-{number % 31}",
        "bizId": "biz-news",
        "createdAt": f"2026-03-01T12:{number // 60 % 60:02d}:{number % 60:02d}.000+00:00",
    }
    event.update(overrides)
    return event


def invoke(
    body: str | bytes | dict[str, Any] | list[Any] | None,
    context: FakeLambdaContext | None = None,
    **event_options: Any,
) -> HttpAnswer:
    """Call the handler as API Gateway would and read the answer back."""
    from lambdas.ingest import handler

    if isinstance(body, dict | list):
        body = json.dumps(body, ensure_ascii=False)
    return read_answer(handler(rest_api_event(body, **event_options), context or FakeLambdaContext()))
