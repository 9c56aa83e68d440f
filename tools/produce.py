"""Send realistic fake user events to the ingest API, or through the handler into a local stream.

    python -m tools.produce --endpoint https://ID.execute-api.REGION.amazonaws.com/prod/events \\
        --api-key KEY --rate 200 --count 5000 --error-ratio 0.05
    python -m tools.produce --local --count 2000 --rate 0 --error-ratio 0.1

It behaves like a well-mannered client of the ingest contract: batches of up to 500
events, resends what the API reports as `failed` (retryable) and whole batches answered
429/502/503/504 after `Retry-After` or a backoff, and never resends what was `rejected`.
`--error-ratio` mixes in events whose errorMsg starts with `[error]` (the real-time
error alert) and `WARNNING` (counted by the per-minute warning alert).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from faker import Faker

from tools.progress import bar

MAX_BATCH = 500
ACTIONS = ["viewDoc", "search", "addToCart", "buy", "login", "logout", "share", "comment"]
ACTION_WEIGHTS = [40, 20, 10, 5, 8, 5, 6, 6]
BUSINESSES = ["biz-news", "biz-shop", "biz-video", "biz-forum"]
CLIENT_OFFSETS = [timezone(timedelta(hours=h, minutes=m)) for h, m in [(0, 0), (1, 0), (8, 0), (-5, 0), (5, 30)]]
# The status of a request that got no HTTP answer at all (DNS, connection, TLS, timeout).
NO_ANSWER = 0
# Answers without a per-event report: resend the whole batch (0: no answer, a network error).
# A resend after a 502/504 may duplicate events; downstream de-duplicates by eventId.
RESEND_WHOLE_BATCH = {NO_ANSWER, 429, 500, 502, 504}


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: dict[str, Any]


Transport = Callable[[bytes], Answer]


# --- events ----------------------------------------------------------------------------


class EventFaker:
    """Plausible events: a pool of users with skewed activity, client clocks in several offsets."""

    def __init__(
        self, seed: int | None, users: int, error_ratio: float, warn_ratio: float, invalid_ratio: float
    ) -> None:
        # Several locales: names and messages in other scripts are everyday input, not edge cases.
        self._fake = Faker(["en_US", "de_DE", "ja_JP", "pt_BR"])
        self._random = random.Random(seed)
        if seed is not None:
            self._fake.seed_instance(seed)
        # Event ids come from this generator's own random source, not from Faker's: Faker seeds
        # each locale's generator with the same seed, so its seeded uuid4() repeats across locales
        # (2,000 events with seed 7 held 1,815 distinct ids) and de-duplication dropped the rest.
        self._users = [f"{self._fake.unique.user_name()}" for _ in range(users)]
        self._user_weights = [1 / (rank + 1) for rank in range(users)]  # a few heavy users, a long tail
        self._error_ratio = error_ratio
        self._warn_ratio = warn_ratio
        self._invalid_ratio = invalid_ratio
        self.kinds: Counter[str] = Counter()

    def event(self) -> dict[str, Any]:
        action = self._random.choices(ACTIONS, ACTION_WEIGHTS)[0]
        event: dict[str, Any] = {
            "eventId": self.event_id(),
            "action": action,
            "userId": self._random.choices(self._users, self._user_weights)[0],
            "objectId": f"{action.lower()[:4]}-{self._fake.bothify('??####').lower()}",
            "bizId": self._random.choice(BUSINESSES),
            "createdAt": datetime.now(self._random.choice(CLIENT_OFFSETS)).isoformat(timespec="milliseconds"),
        }
        roll = self._random.random()
        kind = "plain"
        if roll < self._error_ratio:
            event["errorMsg"], kind = f"[error] {self._fake.sentence(nb_words=6)}", "error"
        elif roll < self._error_ratio + self._warn_ratio:
            event["errorMsg"], kind = f"WARNNING {self._fake.sentence(nb_words=6)}", "warning"
        if self._random.random() < self._invalid_ratio:
            self.kinds["invalid"] += 1
            return self._spoil(event)
        self.kinds[kind] += 1
        return event

    def event_id(self) -> str:
        """A version-4 UUID drawn from this generator's random source: reproducible by seed, unique in a run."""
        return str(uuid.UUID(int=self._random.getrandbits(128), version=4))

    def _spoil(self, event: dict[str, Any]) -> dict[str, Any]:
        """One realistic client bug: a missing field, a clock without offset, or an unknown field."""
        defect = self._random.choice(["missing userId", "naive createdAt", "unknown field"])
        if defect == "missing userId":
            event.pop("userId")
        elif defect == "naive createdAt":
            event["createdAt"] = datetime.now(UTC).replace(tzinfo=None).isoformat()
        else:
            event["sessionId"] = self.event_id()
        return event


# --- sending ---------------------------------------------------------------------------


@dataclass
class Summary:
    generated: int = 0
    requests: int = 0
    accepted: int = 0
    rejected: int = 0
    resent: int = 0
    refused: int = 0  # events in requests refused whole (400/413/415 without a per-event report)
    lost: int = 0  # events still unaccepted after every resend
    unsent: int = 0  # events never sent: the run stopped because the endpoint answered nothing
    network_errors: Counter[str] = field(default_factory=Counter)  # why requests got no HTTP answer
    statuses: Counter[int] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    elapsed_s: float = 0.0
    stored: int | None = None
    stored_kinds: Counter[str] = field(default_factory=Counter)

    def lines(self) -> list[str]:
        rate = self.generated / self.elapsed_s if self.elapsed_s else float("inf")
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(self.kinds.items()))
        statuses = ", ".join(f"{s}x{n}" for s, n in sorted(self.statuses.items()) if s != NO_ANSWER)
        lines = [
            f"generated {self.generated} events ({kinds}) in {self.requests} requests "
            f"over {self.elapsed_s:.2f} s ({rate:.0f} events/s)",
            f"accepted {self.accepted}, rejected {self.rejected}, refused whole {self.refused}, "
            f"resent {self.resent}, unaccepted after resends {self.lost}",
            f"HTTP statuses: {statuses or 'none (no request was answered)'}",
        ]
        lines += [f"no answer x{n}: {reason}" for reason, n in self.network_errors.most_common()]
        if self.unsent:
            lines.append(
                f"stopped early: the endpoint answered none of the first {self.requests} requests, "
                f"so {self.unsent} events were not sent; check the URL and the network, then run again"
            )
        if self.stored is not None:
            stored_kinds = ", ".join(f"{k} {v}" for k, v in sorted(self.stored_kinds.items()))
            lines.append(f"records in the local stream: {self.stored} ({stored_kinds})")
        return lines


class Producer:
    def __init__(self, transport: Transport, max_resends: int, sleep: Callable[[float], None] = time.sleep) -> None:
        self._transport = transport
        self._max_resends = max_resends
        self._sleep = sleep
        self.summary = Summary()

    def send_batch(self, events: list[dict[str, Any]]) -> None:
        pending = events
        for attempt in range(self._max_resends + 1):
            if attempt:
                self.summary.resent += len(pending)
            answer = self._post(pending)
            pending = self._still_pending(pending, answer)
            if not pending:
                return
            self._sleep(_wait_seconds(answer, attempt))
        self.summary.lost += len(pending)

    def _post(self, events: list[dict[str, Any]]) -> Answer:
        body = json.dumps({"events": events}, ensure_ascii=False).encode("utf-8")
        self.summary.requests += 1
        answer = self._transport(body)
        self.summary.statuses[answer.status] += 1
        if answer.status == NO_ANSWER:
            self.summary.network_errors[str(answer.body.get("message", "no answer"))] += 1
        return answer

    @property
    def unreachable(self) -> bool:
        """Every request so far went unanswered: the endpoint is wrong or out of reach."""
        return self.summary.requests > 0 and set(self.summary.statuses) == {NO_ANSWER}

    def _still_pending(self, events: list[dict[str, Any]], answer: Answer) -> list[dict[str, Any]]:
        """What to send again: the events reported failed, or the whole batch if it got no report."""
        if answer.status in RESEND_WHOLE_BATCH:
            return events
        if "accepted" not in answer.body:
            # Refused whole (400/413/415 with a message): the same bytes would be refused again.
            print(f"request refused with {answer.status}: {answer.body.get('message')}", file=sys.stderr)
            self.summary.refused += len(events)
            return []
        self.summary.accepted += int(answer.body["accepted"])
        self.summary.rejected += len(answer.body.get("rejected", []))
        return [events[failure["index"]] for failure in answer.body.get("failed", [])]


def _wait_seconds(answer: Answer, attempt: int) -> float:
    retry_after = answer.headers.get("Retry-After") or answer.headers.get("retry-after")
    if retry_after and retry_after.isdigit():
        return float(retry_after)
    return random.uniform(0, min(5.0, 0.2 * 2**attempt))


def batches(events: Iterator[dict[str, Any]], count: int, size: int) -> Iterator[list[dict[str, Any]]]:
    while count > 0:
        take = min(size, count)
        yield [next(events) for _ in range(take)]
        count -= take


def run(producer: Producer, faker: EventFaker, count: int, rate: float, batch_size: int) -> Summary:
    """Send `count` events at `rate` events/s (0: as fast as the API answers)."""
    if rate > 0:
        # Ten batches a second at most keeps the pace smooth at low rates.
        batch_size = max(1, min(batch_size, int(rate / 10) or 1))
    started = time.monotonic()
    sent = 0
    stream = iter(faker.event, None)
    with bar(total=count, desc="sending", unit="event") as progress:
        for batch in batches(stream, count, batch_size):
            if rate > 0:
                time.sleep(max(0.0, started + sent / rate - time.monotonic()))
            producer.send_batch(batch)
            sent += len(batch)
            progress.update(len(batch))
            progress.set_postfix(accepted=producer.summary.accepted, refresh=False)
            if producer.unreachable:
                # A whole batch and its resends got no answer: every other batch would wait out the same.
                producer.summary.unsent = count - sent
                break
    summary = producer.summary
    summary.generated, summary.kinds = sent, faker.kinds
    summary.elapsed_s = time.monotonic() - started
    return summary


def http_transport(endpoint: str, api_key: str, timeout_s: float = 30.0) -> Transport:
    def send(body: bytes) -> Answer:
        request = urllib.request.Request(
            endpoint,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "x-api-key": api_key,
                "User-Agent": "uba-produce/1.0",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as response:
                return Answer(response.status, dict(response.headers), json.loads(response.read() or b"{}"))
        except urllib.error.HTTPError as error:
            return Answer(error.code, dict(error.headers), _json_or_message(error.read()))
        except urllib.error.URLError as error:
            return Answer(NO_ANSWER, {}, {"message": f"{endpoint}: {_reason(error.reason)}"})
        except (TimeoutError, OSError) as error:
            return Answer(NO_ANSWER, {}, {"message": f"{endpoint}: {_reason(error)}"})

    return send


def _reason(error: object) -> str:
    """Why a request got no answer, in words: `socket.gaierror(-2, ...)` says the name does not resolve."""
    if isinstance(error, TimeoutError):
        return "no answer within the timeout"
    if isinstance(error, OSError) and error.strerror:
        if error.errno is not None and error.errno < 0:  # getaddrinfo's codes
            return f"the host name does not resolve ({error.strerror})"
        return error.strerror
    return str(error) or type(error).__name__


def endpoint_url(text: str) -> str:
    """`text` if it is an http(s) URL with a host; ValueError saying what is expected otherwise."""
    parsed = urllib.parse.urlsplit(text)
    if parsed.scheme not in ("https", "http") or not parsed.hostname:
        raise ValueError(
            f"--endpoint must be the full URL of POST /events, e.g. "
            f"https://ID.execute-api.REGION.amazonaws.com/prod/events (pulumi stack output ingest_endpoint_url); "
            f"got {text!r}"
        )
    return text


def _json_or_message(raw: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(raw)
    except ValueError:
        return {"message": raw.decode("utf-8", errors="replace")}
    return parsed if isinstance(parsed, dict) else {"message": str(parsed)}


def run_local(args: argparse.Namespace, faker: EventFaker) -> Summary:
    """Through the real handler into a moto stream in this process; reads the stream back."""
    stream_name = "uba-local-events"
    for name, value in {
        "EVENTS_STREAM_NAME": stream_name,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }.items():
        os.environ.setdefault(name, value)
    from lambdas import ingest
    from tools.local.lambdas import FakeLambdaContext, local_kinesis, read_answer, read_stream, rest_api_event

    def send(body: bytes) -> Answer:
        event = rest_api_event(body, content_type="application/json; charset=utf-8", user_agent="uba-produce/1.0")
        answer = read_answer(ingest.handler(event, FakeLambdaContext()))
        return Answer(answer.status, answer.headers, answer.body)

    with local_kinesis(os.environ["EVENTS_STREAM_NAME"], shard_count=args.shards) as client:
        ingest.use_kinesis_client(client)
        try:
            summary = run(Producer(send, args.max_resends), faker, args.count, args.rate, args.batch_size)
            records = [record.json() for record in read_stream(client, os.environ["EVENTS_STREAM_NAME"])]
        finally:
            ingest.use_kinesis_client(None)
    summary.stored = len(records)
    summary.stored_kinds = Counter(_kind(record.get("errorMsg")) for record in records)
    return summary


def _kind(error_msg: str | None) -> str:
    if error_msg is None:
        return "plain"
    return "error" if error_msg.startswith("[error]") else "warning" if error_msg.startswith("WARNNING") else "other"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.produce", description=__doc__.split("\n\n")[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--endpoint", help="full URL of POST /events, stage included")
    target.add_argument("--local", action="store_true", help="through the handler into a local moto stream")
    parser.add_argument("--api-key", help="API Gateway API key (x-api-key), required with --endpoint")
    parser.add_argument("--count", type=int, default=1000, help="events to send (default 1000)")
    parser.add_argument("--rate", type=float, default=100.0, help="events per second; 0 = no pacing")
    parser.add_argument("--batch-size", type=int, default=MAX_BATCH, help="events per request, at most 500")
    parser.add_argument("--error-ratio", type=float, default=0.05, help="share of [error]/WARNNING events")
    parser.add_argument(
        "--warn-ratio", type=float, help="share of WARNNING events (then --error-ratio is [error] only)"
    )
    parser.add_argument("--invalid-ratio", type=float, default=0.0, help="share of deliberately invalid events")
    parser.add_argument("--users", type=int, default=50, help="distinct users (default 50)")
    parser.add_argument("--shards", type=int, default=2, help="shards of the local stream (with --local)")
    parser.add_argument("--max-resends", type=int, default=5, help="resends of failed events per batch")
    parser.add_argument("--seed", type=int, help="make the generated events reproducible")
    args = parser.parse_args(argv)
    if args.endpoint:
        try:
            endpoint_url(args.endpoint)
        except ValueError as error:
            parser.error(str(error))
        if not args.api_key:
            parser.error("--api-key is required with --endpoint")
    if not 1 <= args.batch_size <= MAX_BATCH:
        parser.error(f"--batch-size must be between 1 and {MAX_BATCH}")
    ratios = [args.error_ratio, args.warn_ratio or 0.0, args.invalid_ratio]
    if any(not 0 <= r <= 1 for r in ratios) or args.error_ratio + (args.warn_ratio or 0.0) > 1:
        parser.error("ratios must be between 0 and 1, and error + warning at most 1")
    if args.count < 0 or args.rate < 0 or args.users < 1:
        parser.error("--count and --rate must not be negative, --users at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    error_ratio, warn_ratio = (
        (args.error_ratio / 2, args.error_ratio / 2) if args.warn_ratio is None else (args.error_ratio, args.warn_ratio)
    )
    faker = EventFaker(args.seed, args.users, error_ratio, warn_ratio, args.invalid_ratio)
    if args.local:
        summary = run_local(args, faker)
    else:
        producer = Producer(http_transport(args.endpoint, args.api_key), args.max_resends)
        summary = run(producer, faker, args.count, args.rate, args.batch_size)
    print("\n".join(summary.lines()))
    return 0 if summary.lost == summary.refused == summary.unsent == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
