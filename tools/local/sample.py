"""A realistic, reproducible sample of the pipeline's data: stream records and the lake Firehose makes of them.

    sample = generate(date(2026, 1, 1), date(2026, 3, 31), seed=7)
    files = write_sample(Path("sample"), sample)   # sample/events.jsonl and sample/lake/events/year=…/

What is in it, and why each part is there (every record passes the event contract,
`lambdas.events`, including its window around the time ingest received it):

- **Users who come back.** A pool of users, some there before the range starts and the rest
  signing up during it, each with a habit (heavy, regular or casual), a home business line and a
  clock in one of several UTC offsets. Each day a user is active with a probability that fades
  with the weeks since they signed up, is lower at weekends, and leaves some users gone for good,
  so daily, weekly and monthly users and the 1/7/30-day retention cohorts all have something to show.
- **Sessions.** An active day holds one to three sessions at local day-time hours, seconds to a
  minute or two between events: `login`, `search`, several `viewDoc`, sometimes `addToCart` and
  `buy` (the viewDoc -> buy funnel of the conversion analysis and the warehouse KPIs), `share`,
  `comment`, `logout`.
- **Errors and warnings.** A few events carry `[ERROR]`, `[error]` or `[PANIC]` messages (one
  error alert each on the Flink job) and scattered `WARNING`/`warnning` ones; about every ten
  days a short incident has one action log 12 to 30 warnings within one minute, which the job's
  warn-burst alert (10 in a window by default) reports.
- **What delivery does to it.** About 1 % of events are sent twice by a client retry (same
  event, later `receivedAt`) and some are delivered twice as they are (Kinesis' at-least-once);
  about 2 % of sessions come from a phone that was offline and deliver hours to days late; a
  few clients' clocks run up to two minutes fast.
- **Small, stable entity sets.** `bizId` and `objectId` come from `BIZ_IDS` and `CATALOGUE`,
  which do not depend on the seed, so other tiers can join entity tables on them; user ids are
  `user-0001`, ... in order of sign-up.

The stream file lists records in arrival order (`receivedAt`), as the events stream carries
them; the lake holds the same records as Firehose lands them (`tools.local.lake.deliver`). The
same arguments give the same bytes: everything is drawn from one seeded random source, except
that arrivals are never later than `now` (only a range ending within a week of `now` notices).
"""

from __future__ import annotations

import json
import math
import random
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

from lambdas.events import MAX_CLOCK_SKEW, MAX_EVENT_AGE, RECEIVED_AT, IngestEnvelope, UserEvent, stored_record
from tools.local.lake import deliver

EVENTS_FILE = "events.jsonl"
LAKE_DIR = "lake"
DELIVERY_STREAM_NAME = "uba-sample-events"
DEFAULT_SEED = 7
DEFAULT_USERS = 250
# Longer ranges are fine for the generator but slow for a laptop's first hour; the CLI says so.
MAX_DAYS = 3 * 366


@dataclass(frozen=True)
class CatalogueEntry:
    """One object events are about: the stable ids other tiers join their entity tables on."""

    object_id: str
    biz_id: str
    kind: str
    title: str


BIZ_IDS = ("biz-news", "biz-shop", "biz-video", "biz-forum")
_KINDS = {"biz-news": "article", "biz-shop": "sku", "biz-video": "video", "biz-forum": "thread"}
_TITLES = {
    "article": ["Rates held steady", "City opens new line", "Storm season outlook", "Budget vote tonight",
                "Local team wins cup", "Markets at a glance", "The week in science", "Election explainer",
                "Heat records broken", "Transit strike ends", "New library opens", "Harbour cleanup"],
    "sku": ["Trail running shoes", "Espresso grinder", "Noise-cancelling headphones", "Cast-iron skillet",
            "Rain jacket", "Desk lamp", "Yoga mat", "Chef's knife", "Backpack 30 l", "Water bottle",
            "Wool socks", "Phone case"],
    "video": ["Ocean documentary", "Cooking basics 1", "Space station tour", "Jazz live set", "Bike repair 101",
              "City at night", "Mountain rescue", "Baking bread", "Drone racing final", "History of maps",
              "Chess openings", "Garden in a month"],
    "thread": ["Best budget laptop?", "Sourdough starter help", "Weekend hiking spots", "Show your desk setup",
               "Learning Rust in 2026", "Favourite board games", "Fixing a leaky tap", "Book club: March",
               "Home espresso tips", "Travel with kids", "Running a first 10k", "Photo critique thread"],
}  # fmt: skip
CATALOGUE: tuple[CatalogueEntry, ...] = tuple(
    CatalogueEntry(f"{_KINDS[biz]}-{index + 1:03d}", biz, _KINDS[biz], title)
    for biz in BIZ_IDS
    for index, title in enumerate(_TITLES[_KINDS[biz]])
)
# Business lines where a view can lead to a purchase (a `buy` only ever follows a view and a cart).
_SELLING = ("biz-shop", "biz-video")

# Markers the Flink job matches (streaming/properties.py defaults), in the messages real clients send.
ERROR_MESSAGES = (
    "[ERROR] payment declined by the card issuer",
    "[error] search index timed out after 3000 ms",
    "[PANIC] session store unavailable",
    "[error] could not load the document body",
)
WARNING_MESSAGES = (
    "WARNING slow response: 2.4 s",
    "warnning: retrying the request",
    "WARNING image cache miss",
    "warning: stale cart contents refreshed",
)
BURST_MESSAGES = {
    "search": "WARNING search backend latency above 2 s",
    "login": "WARNNING identity provider slow to answer",
    "viewDoc": "WARNING document renderer queue is long",
}
_OFFSETS = [timezone(timedelta(hours=h, minutes=m)) for h, m in [(0, 0), (1, 0), (2, 0), (-5, 0), (-8, 0),
                                                                  (5, 30), (8, 0), (9, 0)]]  # fmt: skip
_OFFSET_WEIGHTS = [14, 22, 8, 20, 10, 8, 10, 8]
_USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 Version/18.1 Safari/605.1.15",
    "uba-android/4.2.0 (Pixel 8; Android 15)",
    "uba-ios/4.2.1 (iPhone15,2; iOS 18.1)",
    "thermostat-fw/1.9.3",
)
# Local hours sessions start at, weighted: mornings, lunch and evenings.
_SESSION_HOURS = list(range(24))
_SESSION_HOUR_WEIGHTS = [1, 0, 0, 0, 0, 1, 3, 6, 8, 7, 6, 6, 8, 7, 6, 6, 7, 8, 10, 12, 12, 10, 6, 3]
# Habits: (share of users, chance to be active on a day while engaged).
_HABITS = {"heavy": (0.15, 0.75), "regular": (0.35, 0.35), "casual": (0.50, 0.10)}

LATE_SESSION_RATIO = 0.02
RESEND_RATIO = 0.01  # a client retry: the same event again, received a little later
REDELIVERY_RATIO = 0.003  # Kinesis at-least-once: the very same record twice
FAST_CLOCK_RATIO = 0.03
ERROR_RATIO = 0.004
WARNING_RATIO = 0.012
DAYS_PER_BURST = 10


@dataclass(frozen=True)
class _User:
    user_id: str
    signup: date
    activity: float
    lifetime_days: float  # how fast the habit fades after sign-up
    home_biz: str
    offset: timezone
    clock_skew: timedelta
    source_ip: str
    user_agent: str


@dataclass(frozen=True)
class Burst:
    """A warning incident: `count` warnings of one action within the minute starting at `minute`."""

    minute: datetime
    action: str
    count: int


@dataclass
class SampleStats:
    """What a sample holds, counted as it was made."""

    first_day: date
    last_day: date
    users: int = 0
    active_users: int = 0
    sessions: int = 0
    events: int = 0  # distinct events (eventIds)
    records: int = 0  # stream records, duplicates included
    duplicates: int = 0
    late: int = 0  # records received an hour or more after they happened
    errors: int = 0
    warnings: int = 0
    actions: Counter[str] = field(default_factory=Counter)
    bursts: list[Burst] = field(default_factory=list)

    def lines(self) -> list[str]:
        actions = ", ".join(f"{name} {count}" for name, count in self.actions.most_common())
        return [
            f"{self.first_day} to {self.last_day}: {self.events} events from {self.active_users} of "
            f"{self.users} users in {self.sessions} sessions",
            f"actions: {actions}",
            f"stream records: {self.records} ({self.duplicates} duplicates, {self.late} received an hour "
            f"or more late), errors {self.errors}, warnings {self.warnings}, "
            f"warning bursts {len(self.bursts)}",
        ]


@dataclass(frozen=True)
class Sample:
    records: list[dict[str, Any]]  # stream records in arrival order, duplicates included
    stats: SampleStats


@dataclass(frozen=True)
class SampleFiles:
    events_file: Path
    lake: Path
    lake_objects: int


class _Generator:
    def __init__(self, first: date, last: date, seed: int, users: int, now: datetime) -> None:
        self.first, self.last, self.now = first, last, now
        self.rng = random.Random(seed)
        self.start = datetime.combine(first, time(), UTC)
        self.end = datetime.combine(last + timedelta(days=1), time(), UTC)
        self.stats = SampleStats(first, last)
        self.users = self._users(users)
        self.records: list[dict[str, Any]] = []
        self._objects = {biz: [entry for entry in CATALOGUE if entry.biz_id == biz] for biz in BIZ_IDS}
        # A few popular objects and a long tail, the same ranking for every user.
        self._object_weights = [1 / (rank + 1) ** 0.8 for rank in range(len(self._objects[BIZ_IDS[0]]))]

    # --- who ------------------------------------------------------------------------------

    def _users(self, count: int) -> list[_User]:
        days = (self.last - self.first).days + 1
        habits = list(_HABITS)
        users = []
        for _ in range(count):
            # A quarter were there before the range; the rest sign up during it, more of them early on.
            if self.rng.random() < 0.25:
                signup = self.first - timedelta(days=self.rng.randrange(1, 120))
            else:
                signup = self.first + timedelta(days=int(days * self.rng.random() ** 1.3))
            habit = self.rng.choices(habits, [share for share, _ in _HABITS.values()])[0]
            skew = timedelta(seconds=self.rng.uniform(5, 120)) if self.rng.random() < FAST_CLOCK_RATIO else timedelta()
            users.append((signup, habit, skew))
        users.sort(key=lambda item: item[0])  # user ids in order of sign-up
        return [
            _User(
                user_id=f"user-{index + 1:04d}",
                signup=signup,
                activity=_HABITS[habit][1] * self.rng.uniform(0.7, 1.3),
                lifetime_days=self.rng.choice([20.0, 45.0, 90.0, 400.0]),
                home_biz=self.rng.choice(BIZ_IDS),
                offset=self.rng.choices(_OFFSETS, _OFFSET_WEIGHTS)[0],
                clock_skew=skew,
                source_ip=f"{self.rng.choice(['192.0.2', '198.51.100', '203.0.113'])}.{self.rng.randrange(1, 255)}",
                user_agent=self.rng.choice(_USER_AGENTS),
            )
            for index, (signup, habit, skew) in enumerate(users)
        ]

    def _active(self, user: _User, day: date) -> bool:
        if day < user.signup:
            return False
        age = (day - user.signup).days
        weekend = 0.7 if day.weekday() >= 5 else 1.0
        chance = 1.0 if age == 0 else user.activity * math.exp(-age / user.lifetime_days) * weekend
        return self.rng.random() < chance

    # --- what -----------------------------------------------------------------------------

    def _object(self, biz: str) -> CatalogueEntry:
        return self.rng.choices(self._objects[biz], self._object_weights)[0]

    def _session_actions(self, biz: str) -> list[tuple[str, CatalogueEntry]]:
        steps: list[tuple[str, CatalogueEntry]] = []
        viewed = self._object(biz)
        if self.rng.random() < 0.3:
            steps.append(("login", viewed))
        for _ in range(1 + min(7, int(self.rng.expovariate(0.45)))):
            if self.rng.random() < 0.35:
                steps.append(("search", self._object(biz)))
            viewed = self._object(biz)
            steps.append(("viewDoc", viewed))
        if biz in _SELLING and self.rng.random() < 0.35:
            steps.append(("addToCart", viewed))
            if self.rng.random() < 0.6:
                steps.append(("buy", viewed))
        if self.rng.random() < 0.08:
            steps.append(("share", viewed))
        if self.rng.random() < 0.06:
            steps.append(("comment", viewed))
        if self.rng.random() < 0.25:
            steps.append(("logout", viewed))
        return steps

    def _message(self) -> str | None:
        roll = self.rng.random()
        if roll < ERROR_RATIO:
            return self.rng.choice(ERROR_MESSAGES)
        if roll < ERROR_RATIO + WARNING_RATIO:
            return self.rng.choice(WARNING_MESSAGES)
        return None

    # --- when -----------------------------------------------------------------------------

    def _delivery_delay(self, late: bool) -> timedelta:
        if not late:
            return timedelta(milliseconds=self.rng.uniform(40, 900))
        # An offline phone: mostly hours, sometimes days, always inside the contract's 7 days.
        hours = min(self.rng.expovariate(1 / 14), MAX_EVENT_AGE.total_seconds() / 3600 - 1)
        return timedelta(hours=max(1.0, hours))

    def _emit(self, user: _User, action: str, entry: CatalogueEntry, happened: datetime,
              delay: timedelta, message: str | None) -> None:  # fmt: skip
        received = min(happened + delay, max(happened + timedelta(milliseconds=40), self.now))
        created = happened + user.clock_skew
        client = {
            "eventId": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
            "action": action,
            "userId": user.user_id,
            "objectId": entry.object_id,
            "bizId": entry.biz_id,
            # As a client sends it: its own clock, in its own offset.
            "createdAt": created.astimezone(user.offset).isoformat(timespec="milliseconds"),
        }
        if message is not None:
            client["errorMsg"] = message
        # Validated as ingest validates it, including the window around the moment it was received.
        event = UserEvent.model_validate(client, context={RECEIVED_AT: received})
        record = stored_record(
            event, IngestEnvelope(receivedAt=received, sourceIp=user.source_ip, userAgent=user.user_agent)
        )
        self.records.append(record)
        self.stats.events += 1
        self.stats.actions[action] += 1
        self.stats.late += received - happened >= timedelta(hours=1)
        if message in ERROR_MESSAGES:
            self.stats.errors += 1
        elif message is not None:
            self.stats.warnings += 1
        if self.rng.random() < RESEND_RATIO:
            resent = received + timedelta(seconds=self.rng.uniform(2, 30))
            self.records.append({**record, "receivedAt": _iso(min(resent, max(received, self.now)))})
            self.stats.duplicates += 1
        elif self.rng.random() < REDELIVERY_RATIO:
            self.records.append(dict(record))
            self.stats.duplicates += 1

    def _session(self, user: _User, day: date) -> None:
        hour = self.rng.choices(_SESSION_HOURS, _SESSION_HOUR_WEIGHTS)[0]
        local_start = datetime.combine(day, time(hour), user.offset) + timedelta(seconds=self.rng.uniform(0, 3600))
        at = local_start.astimezone(UTC)
        late = self.rng.random() < LATE_SESSION_RATIO
        delay = self._delivery_delay(late)
        biz = user.home_biz if self.rng.random() < 0.7 else self.rng.choice(BIZ_IDS)
        emitted = False
        for action, entry in self._session_actions(biz):
            at += timedelta(seconds=self.rng.uniform(3, 100))
            if not self.start <= at < self.end:
                continue  # local days at the range's edges reach past its UTC days
            jitter = timedelta(milliseconds=self.rng.uniform(0, 400)) if late else self._delivery_delay(False)
            self._emit(user, action, entry, at, delay + jitter if late else jitter, self._message())
            emitted = True
        self.stats.sessions += emitted

    def _bursts(self) -> None:
        days = (self.last - self.first).days + 1
        for _ in range(max(1, days // DAYS_PER_BURST)):
            day = self.first + timedelta(days=self.rng.randrange(days))
            minute = datetime.combine(day, time(self.rng.randrange(8, 22), self.rng.randrange(60)), UTC)
            action = self.rng.choice(list(BURST_MESSAGES))
            count = self.rng.randint(12, 30)
            users = [u for u in self.users if u.signup <= day and u.clock_skew == timedelta()] or self.users
            biz = self.rng.choice(BIZ_IDS)
            for second in sorted(self.rng.uniform(0, 55) for _ in range(count)):
                self._emit(self.rng.choice(users), action, self._object(biz), minute + timedelta(seconds=second),
                           self._delivery_delay(False), BURST_MESSAGES[action])  # fmt: skip
            self.stats.bursts.append(Burst(minute, action, count))

    def run(self, on_day: Callable[[date], object]) -> Sample:
        active: set[str] = set()
        day = self.first
        while day <= self.last:
            for user in self.users:
                if self._active(user, day):
                    for _ in range(self.rng.choices([1, 2, 3], [70, 22, 8])[0]):
                        self._session(user, day)
                    active.add(user.user_id)
            on_day(day)
            day += timedelta(days=1)
        self._bursts()
        # The stream carries records in the order they arrived.
        self.records.sort(key=lambda record: (record["receivedAt"], record["eventId"]))
        self.stats.users = len(self.users)
        self.stats.active_users = len(active | {r["userId"] for r in self.records})
        self.stats.records = len(self.records)
        self.stats.bursts.sort(key=lambda burst: burst.minute)
        return Sample(self.records, self.stats)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def generate(
    first_day: date,
    last_day: date,
    *,
    seed: int = DEFAULT_SEED,
    users: int = DEFAULT_USERS,
    now: datetime | None = None,
    on_day: Callable[[date], object] = lambda day: None,
) -> Sample:
    """Stream records for the UTC days `first_day` to `last_day` (inclusive), reproducible by `seed`.

    `now` (default: the current time) bounds arrivals: nothing is received in the future;
    `on_day` is called after each day is sampled (progress). Raises ValueError for a range that
    is empty, longer than `MAX_DAYS`, or not over before `now`.
    """
    moment = now or datetime.now(UTC)
    problems = validate_range(first_day, last_day, moment)
    if users < 1:
        problems.append(f"users must be at least 1, got {users}")
    if problems:
        raise ValueError("; ".join(problems))
    return _Generator(first_day, last_day, seed, users, moment).run(on_day)


def validate_range(first_day: date, last_day: date, now: datetime) -> list[str]:
    """What is wrong with a sample's date range, one message each (empty when it is fine)."""
    problems = []
    if last_day < first_day:
        problems.append(f"the range ends ({last_day}) before it starts ({first_day})")
    elif (last_day - first_day).days + 1 > MAX_DAYS:
        problems.append(f"the range holds {(last_day - first_day).days + 1} days; at most {MAX_DAYS}")
    if datetime.combine(last_day + timedelta(days=1), time(), UTC) > now + MAX_CLOCK_SKEW:
        problems.append(
            f"the range must end before today ({now.date()} UTC): events are sampled as received, and "
            "nothing is received in the future"
        )
    return problems


def write_events(path: Path, records: Sequence[dict[str, Any]]) -> Path:
    """Stream records as JSON lines, the input of `streaming.run_local --events`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
    return path


def write_sample(
    out: Path,
    sample: Sample,
    *,
    delivery_window: timedelta = timedelta(hours=1),
    on_object: Callable[[Path], object] = lambda path: None,
) -> SampleFiles:
    """`out/events.jsonl` (the stream) and `out/lake/` (Firehose's layout) from one sample.

    Refuses to write into a lake that already holds objects: new files would mix with old ones.
    `on_object` is called after each lake object is written (progress).
    """
    lake = out / LAKE_DIR
    if any(lake.rglob("*.parquet")):
        raise FileExistsError(f"{lake} already holds a lake; remove it or choose another --out")
    events_file = write_events(out / EVENTS_FILE, sample.records)
    objects = deliver(
        lake, sample.records, delivery_window=delivery_window, stream_name=DELIVERY_STREAM_NAME, on_object=on_object
    )
    return SampleFiles(events_file=events_file, lake=lake, lake_objects=len(objects))


def catalogue_records() -> Iterator[dict[str, str]]:
    """The catalogue as JSON-ready rows (`objectId`, `bizId`, `kind`, `title`), for entity tables."""
    for entry in CATALOGUE:
        yield {"objectId": entry.object_id, "bizId": entry.biz_id, "kind": entry.kind, "title": entry.title}
