"""The fake-event producer: its local path end to end, and how it resends what the API reports."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.support.lambda_events import ingest_environment
from tools import produce


@pytest.fixture
def local_env(monkeypatch: pytest.MonkeyPatch) -> None:
    ingest_environment(monkeypatch, stream_name="uba-produce-test")
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")


def test_local_run_stores_every_valid_event_and_none_of_the_invalid(local_env: None) -> None:
    args = produce.parse_args(["--local", "--count", "700", "--rate", "0", "--invalid-ratio", "0.05", "--seed", "11"])
    faker = produce.EventFaker(args.seed, args.users, 0.1, 0.1, args.invalid_ratio)

    summary = produce.run_local(args, faker)

    valid = summary.kinds["plain"] + summary.kinds["error"] + summary.kinds["warning"]
    assert summary.generated == 700
    assert summary.requests == 2  # 500 + 200
    assert summary.kinds["error"] > 0 and summary.kinds["warning"] > 0 and summary.kinds["invalid"] > 0
    assert (summary.accepted, summary.rejected, summary.lost) == (valid, summary.kinds["invalid"], 0)
    assert summary.stored == valid
    assert summary.stored_kinds == {k: summary.kinds[k] for k in ("plain", "error", "warning")}


def test_command_line_prints_a_summary_and_exits_zero(local_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    code = produce.main(["--local", "--count", "40", "--rate", "0", "--seed", "2"])

    out = capsys.readouterr().out
    assert code == 0
    assert "generated 40 events" in out
    assert "accepted 40, rejected 0" in out
    assert "records in the local stream: 40" in out


def test_rate_paces_the_requests(local_env: None) -> None:
    args = produce.parse_args(["--local", "--count", "100", "--rate", "200", "--seed", "5"])
    faker = produce.EventFaker(args.seed, args.users, 0.0, 0.0, 0.0)
    started = time.monotonic()

    summary = produce.run_local(args, faker)

    # 200 events/s in batches of 20: the fifth batch may leave no sooner than 0.4 s in.
    assert summary.requests == 5
    assert time.monotonic() - started >= 0.4


class ScriptedApi:
    """Answers in a fixed order and keeps what it was sent."""

    def __init__(self, *answers: produce.Answer) -> None:
        self.answers = list(answers)
        self.sent: list[list[str]] = []

    def __call__(self, body: bytes) -> produce.Answer:
        self.sent.append([event["eventId"] for event in json.loads(body)["events"]])
        return self.answers.pop(0)


def _report(accepted: int, failed: list[int], rejected: list[int] | None = None) -> dict[str, Any]:
    return {
        "accepted": accepted,
        "rejected": [{"index": i, "errors": ["userId: Field required"]} for i in rejected or []],
        "failed": [{"index": i, "eventId": f"e{i}", "error": "InternalFailure", "retryable": True} for i in failed],
    }


def test_producer_resends_only_failed_events_and_honours_retry_after() -> None:
    api = ScriptedApi(
        produce.Answer(200, {}, _report(2, failed=[1, 3], rejected=[2])),
        produce.Answer(503, {"Retry-After": "3"}, _report(0, failed=[0, 1])),
        produce.Answer(200, {}, _report(2, failed=[])),
    )
    waits: list[float] = []
    producer = produce.Producer(api, max_resends=5, sleep=waits.append)

    producer.send_batch([{"eventId": f"e{n}"} for n in range(5)])

    assert api.sent == [["e0", "e1", "e2", "e3", "e4"], ["e1", "e3"], ["e1", "e3"]]
    assert waits[1] == 3.0
    s = producer.summary
    assert (s.accepted, s.rejected, s.resent, s.lost) == (4, 1, 4, 0)


def test_producer_gives_up_after_max_resends_and_counts_the_loss() -> None:
    api = ScriptedApi(*[produce.Answer(502, {}, {"message": "Internal server error"})] * 3)
    producer = produce.Producer(api, max_resends=2, sleep=lambda _: None)

    producer.send_batch([{"eventId": "e0"}, {"eventId": "e1"}])

    assert len(api.sent) == 3
    assert (producer.summary.accepted, producer.summary.lost) == (0, 2)


def test_producer_does_not_resend_a_request_refused_whole() -> None:
    api = ScriptedApi(produce.Answer(413, {}, {"message": "body is too large"}))
    producer = produce.Producer(api, max_resends=5, sleep=lambda _: None)

    producer.send_batch([{"eventId": "e0"}])

    assert len(api.sent) == 1
    assert (producer.summary.refused, producer.summary.lost) == (1, 0)


def test_a_seeded_run_repeats_exactly_and_never_repeats_an_event_id() -> None:
    """Issue 13: 2,000 events with --seed 7 held 1,815 distinct ids, and de-duplication dropped the rest."""

    def ids(seed: int | None) -> list[str]:
        faker = produce.EventFaker(seed, 50, 0.05, 0.05, 0.0)
        return [faker.event()["eventId"] for _ in range(2000)]

    first, again, other = ids(7), ids(7), ids(8)
    assert len(set(first)) == 2000
    assert first == again  # reproducible
    assert not set(first) & set(other)
    assert len(set(ids(None))) == 2000


def test_events_of_a_seeded_run_are_the_same_apart_from_the_clock() -> None:
    def events(seed: int) -> list[dict[str, Any]]:
        faker = produce.EventFaker(seed, 20, 0.1, 0.1, 0.05)
        return [{k: v for k, v in faker.event().items() if k != "createdAt"} for _ in range(300)]

    assert events(3) == events(3)


@pytest.mark.parametrize("endpoint", ["notaurl", "ftp://example.com/events", "https://", "example.com/prod/events"])
def test_an_endpoint_that_is_not_a_url_is_refused_with_an_example(
    endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        produce.main(["--endpoint", endpoint, "--api-key", "k"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert "Traceback" not in err
    assert "--endpoint must be the full URL of POST /events, e.g. https://" in err and repr(endpoint) in err


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:  # a port the OS just handed out and nothing listens on any more
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("endpoint", "reason"),
    [
        ("https://uba-ingest.invalid/prod/events", "the host name does not resolve"),
        (f"http://127.0.0.1:{_closed_port()}/prod/events", "Connection refused"),
    ],
    ids=["unresolvable-host", "closed-port"],  # the port differs per process: test ids must not (pytest-xdist)
)
def test_an_unreachable_endpoint_says_why_and_stops_after_the_first_batch(
    endpoint: str, reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 13: a DNS failure printed only `HTTP statuses: 0x6`, and every batch waited out its resends."""
    code = produce.main(
        ["--endpoint", endpoint, "--api-key", "k", "--count", "1200", "--rate", "0", "--max-resends", "1"]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert f"no answer x2: {endpoint}: {reason}" in out
    assert "HTTP statuses: none (no request was answered)" in out
    assert "so 700 events were not sent" in out  # one batch of 500 and its resend, then it stopped
