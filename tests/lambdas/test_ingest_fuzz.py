"""Hostile bodies against the ingest Lambda: every one is answered as the README says, none raises.

A seeded generator (no Hypothesis in the toolchain; the seed makes every failure reproducible)
builds batches whose values, keys and bytes are the kinds that once crashed the handler or
slipped past it: integer literals past Python's 4300-digit limit, timestamps past what UTC can
hold, epoch numbers, duplicate keys, unpaired surrogate escapes, deep nesting, non-finite
numbers, truncation and stray bytes. An exception out of the handler is a 502 at API Gateway.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from lambdas import ingest
from tests.support.lambda_events import (
    STREAM_NAME,
    FakeLambdaContext,
    ingest_environment,
    kinesis_for_handler,
    read_answer,
    read_stream,
    receive_at,
    rest_api_event,
    user_event,
)

SEED = 20261201
ROUNDS = 300
DOCUMENTED_STATUSES = {200, 400, 413, 415}  # 503 only when Kinesis refuses, which moto does not here

HOSTILE_VALUES = [
    "9" * 5000,
    "-" + "1" * 4301,
    "1e400",
    "-0",
    "0." + "0" * 3000 + "1",
    "NaN",
    "-Infinity",
    '"\\ud800"',
    '"a\\udfff\\ud800b"',
    '"\\u0000"',
    '"' + "x" * 3000 + '"',
    "true",
    "null",
    "[]",
    "{}",
    "[" * 900 + "]" * 900,
    "[" * 5000 + "]" * 5000,
    '{"a": 1, "a": 2}',
    '"9999-12-31T23:59:59-01:00"',
    '"0001-01-01T00:00:00+01:00"',
    '"9999-12-31T23:59:59.999999Z"',
    '"2026-03-01T12:00:00+23:59"',
    '"2026-03-01T12:00:00.1234567891Z"',
    '"2026-13-01T00:00:00Z"',
    '"\\uff12\\uff10\\uff12\\uff16-03-01T12:00:00Z"',  # full-width digits
    '"1772370000"',
    "1772370000",
    "1772370000000.5",
]
STRAY_BYTES = ["\\", '"', "{", "}", "[", ",", ":", "\x00", "\ud800", "\u2028", "\ufeff", "é"]
FIELDS = ["eventId", "action", "userId", "objectId", "bizId", "createdAt", "errorMsg", "extra", ""]


@dataclass(frozen=True)
class HostileBody:
    text: str
    events: int | None  # how many events the body holds, when it is still a readable batch
    how: str


def _raw_event(rng: random.Random, number: int) -> tuple[str, bool]:
    """One event as JSON text with 0 to 2 hostile fields; whether a key is repeated in it."""
    fields = {key: json.dumps(value, ensure_ascii=False) for key, value in user_event(number).items()}
    repeated = False
    for _ in range(rng.randint(0, 2)):
        key = rng.choice(FIELDS)
        if key in fields and rng.random() < 0.15:
            repeated = True
            return "{" + ", ".join([*(f'"{k}": {v}' for k, v in fields.items()), f'"{key}": "again"']) + "}", repeated
        fields[key] = rng.choice(HOSTILE_VALUES)
    return "{" + ", ".join(f"{json.dumps(k)}: {v}" for k, v in fields.items()) + "}", repeated


def hostile_bodies(seed: int, rounds: int) -> Iterator[HostileBody]:
    rng = random.Random(seed)
    for _ in range(rounds):
        count = rng.randint(1, 6)
        events = [_raw_event(rng, rng.randint(0, 3000)) for _ in range(count)]
        text = '{"events": [' + ", ".join(raw for raw, _ in events) + "]}"
        readable = not any(repeated for _, repeated in events)
        roll = rng.random()
        if roll < 0.15:
            cut = rng.randint(0, len(text) - 1)
            yield HostileBody(text[:cut], None, f"truncated at {cut}")
        elif roll < 0.3:
            at = rng.randint(0, len(text))
            stray = rng.choice(STRAY_BYTES)
            yield HostileBody(text[:at] + stray + text[at:], None, f"{stray!r} inserted at {at}")
        elif roll < 0.4:
            yield HostileBody(text[:-1] + ', "events": []}', None, "events key repeated")
        else:
            yield HostileBody(text, count if readable else None, "hostile values")


def _answer(body: HostileBody) -> tuple[int, dict[str, Any]]:
    response = read_answer(ingest.handler(rest_api_event(body.text), FakeLambdaContext()))
    return response.status, response.body


@pytest.fixture
def stream(monkeypatch: pytest.MonkeyPatch) -> Any:
    ingest_environment(monkeypatch)
    receive_at(monkeypatch)
    with kinesis_for_handler() as client:
        yield client


def test_every_hostile_body_gets_a_documented_answer_and_accepted_means_stored(stream: Any) -> None:
    statuses: dict[int, int] = {}
    accepted_total = 0
    for number, body in enumerate(hostile_bodies(SEED, ROUNDS)):
        context = f"body {number} ({body.how}): {body.text[:200]!r}"
        status, answer = _answer(body)  # an exception here is the 502 this test exists to prevent

        assert status in DOCUMENTED_STATUSES, context
        statuses[status] = statuses.get(status, 0) + 1
        if "accepted" not in answer:
            assert set(answer) == {"message"} and status != 200, context
            continue
        indices = [r["index"] for r in answer["rejected"]] + [f["index"] for f in answer["failed"]]
        assert len(indices) == len(set(indices)), context
        assert status == (200 if answer["accepted"] else 400), context
        if body.events is not None:
            assert answer["accepted"] + len(indices) == body.events, context
        accepted_total += answer["accepted"]

    # Accepted means on the stream: every accepted event is stored, nothing else is.
    assert len(read_stream(stream, STREAM_NAME)) == accepted_total
    # The generator reaches every kind of answer, or it is not testing what it claims to.
    assert statuses.keys() >= {200, 400}, statuses
