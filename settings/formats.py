"""What AWS (and the Flink job) accept in a settings value, checked before anything is planned.

Each check returns None for a good value or the reason, phrased as "must ..." so that a
settings error reads `key: must ..., got VALUE` (see `settings._problem`). Values that
passed the plain type checks used to fail only at deploy (a tag AWS refuses, a schedule
Scheduler cannot parse) or to defeat a guard (CIDRs that together admit the internet).
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import datetime

# --- tags -------------------------------------------------------------------------------------------------
# AWS's tag rules, the same for every tagging API (e.g. the EFS/ECS `Tag` references): keys of 1-128 and values
# of 0-256 Unicode letters, digits, spaces and `_ . : / = + - @` ([\p{L}\p{Z}\p{N}_.:/=+\-@]), and no `aws:`
# prefix in any letter case on either, which AWS reserves. At most 50 user tags a resource.
TAG_KEY_MAX = 128
TAG_VALUE_MAX = 256
TAGS_PER_RESOURCE = 50
_TAG_PUNCTUATION = frozenset("_.:/=+-@")
TAG_CHARACTERS = "letters, digits, spaces and _ . : / = + - @"


def _tag_character(char: str) -> bool:
    return unicodedata.category(char)[0] in "LNZ" or char in _TAG_PUNCTUATION


def tag_text_problem(text: str, *, key: bool) -> str | None:
    """Why AWS would refuse `text` as a tag key (key=True) or value, or None."""
    what, limit = ("tag key", TAG_KEY_MAX) if key else ("tag value", TAG_VALUE_MAX)
    if key and not text:
        return f"must be an AWS {what} of 1 to {limit} characters"
    if len(text) > limit:
        return f"must be an AWS {what} of at most {limit} characters ({len(text)} here)"
    if text[:4].lower() == "aws:":
        return f"must be an AWS {what} not starting with 'aws:' (reserved for AWS)"
    bad = sorted({char for char in text if not _tag_character(char)})
    if bad:
        return f"must be an AWS {what} of {TAG_CHARACTERS}; {', '.join(map(repr, bad))} is not allowed"
    return None


# --- EventBridge Scheduler expressions ----------------------------------------------------------------------
# Scheduler's schedule types (docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html):
# rate(value unit) with a positive integer and minute(s)/hour(s)/day(s); cron(minutes hours day-of-month month
# day-of-week year), six fields, one of the two day fields `?`; at(yyyy-mm-ddThh:mm:ss).
SCHEDULE_FORMS = "rate(N minutes|hours|days), cron(6 fields) or at(yyyy-mm-ddThh:mm:ss)"
_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", re.ASCII)
_AT = re.compile(r"at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)", re.ASCII)
_CRON = re.compile(r"cron\((.*)\)", re.ASCII)
_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]


def _cron_piece(piece: str, low: int, high: int, names: Sequence[str], specials: str) -> bool:
    """One comma-separated piece of a cron field: `*`, `V`, `V-V`, with an optional `/step`, or a special."""
    if piece == "?" or piece in ("L", "LW"):
        return piece in specials or (piece == "LW" and "W" in specials)
    if "W" in specials and re.fullmatch(r"\d{1,2}W", piece):
        return low <= int(piece[:-1]) <= high
    if "#" in specials and re.fullmatch(r"[1-7]#[1-5]", piece):
        return True
    base, slash, step = piece.partition("/")
    if slash and not (step.isdigit() and int(step) >= 1):
        return False
    if base == "*":
        return True
    bounds = base.split("-")
    if len(bounds) > 2:
        return False
    for bound in bounds:
        if bound.upper() in names:
            continue
        if not (bound.isdigit() and low <= int(bound) <= high):
            return False
    return True


def _cron_field(text: str, low: int, high: int, names: Sequence[str], specials: str) -> bool:
    return all(_cron_piece(piece, low, high, names, specials) for piece in text.split(","))


def _cron_problem(fields_text: str) -> str | None:
    fields = fields_text.split()
    if len(fields) != 6:
        return f"must have 6 cron fields (minutes hours day-of-month month day-of-week year), not {len(fields)}"
    minutes, hours, day_of_month, month, day_of_week, year = fields
    checks = [
        ("minutes", _cron_field(minutes, 0, 59, (), "")),
        ("hours", _cron_field(hours, 0, 23, (), "")),
        ("day-of-month", _cron_field(day_of_month, 1, 31, (), "?LW")),
        ("month", _cron_field(month, 1, 12, _MONTHS, "")),
        ("day-of-week", _cron_field(day_of_week, 1, 7, _DAYS, "?L#")),
        ("year", _cron_field(year, 1970, 2199, (), "")),
    ]
    for (name, ok), field in zip(checks, fields, strict=True):
        if not ok:
            return f"must have a valid cron {name} field, not {field!r}"
    if (day_of_month == "?") == (day_of_week == "?"):
        return "must have '?' in exactly one of the day-of-month and day-of-week cron fields"
    return None


def schedule_problem(expression: str) -> str | None:
    """Why EventBridge Scheduler would refuse `expression`, or None."""
    if rate := _RATE.fullmatch(expression):
        value, unit = int(rate[1]), rate[2]
        if value < 1:
            return "must be a rate of at least 1 (rate(0 ...) never runs)"
        singular = unit.rstrip("s")
        expected = singular if value == 1 else singular + "s"
        if unit != expected:
            return f"must be rate({value} {expected}) (the unit is singular for 1 only)"
        return None
    if at := _AT.fullmatch(expression):
        try:
            datetime.strptime(at[1], "%Y-%m-%dT%H:%M:%S")
        except ValueError:
            return "must be at(yyyy-mm-ddThh:mm:ss) with a real date and time"
        return None
    if cron := _CRON.fullmatch(expression):
        return _cron_problem(cron[1])
    return f"must be an EventBridge Scheduler expression: {SCHEDULE_FORMS}"


# --- networks ---------------------------------------------------------------------------------------------


def ipv4_network_problem(cidr: str) -> str | None:
    """Why `cidr` is not an IPv4 network written the canonical way, or None."""
    try:
        network = ipaddress.IPv4Network(cidr, strict=False)
    except ValueError as error:
        return f"must be an IPv4 network such as 10.0.0.0/16 (octets 0-255, prefix /0 to /32): {error}"
    if network.network_address != ipaddress.IPv4Interface(cidr).ip:
        return f"must be a network address (host bits zero), e.g. {network}"
    if str(network) != cidr:
        return f"must be written as {network} (no leading zeros)"
    return None


# Address space that is not the internet (RFC 6890's special-purpose blocks that are not globally reachable).
NOT_INTERNET = tuple(
    ipaddress.IPv4Network(block)
    for block in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
        "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    )
)  # fmt: skip


def _without(networks: Iterable[ipaddress.IPv4Network], removed: ipaddress.IPv4Network) -> list[ipaddress.IPv4Network]:
    remaining: list[ipaddress.IPv4Network] = []
    for network in networks:
        if network.subnet_of(removed):
            continue
        if removed.subnet_of(network):
            remaining.extend(network.address_exclude(removed))
        else:
            remaining.append(network)
    return remaining


def admits_the_internet(networks: Iterable[ipaddress.IPv4Network]) -> bool:
    """Whether these networks together cover every internet address (`0.0.0.0/1` + `128.0.0.0/1`, say)."""
    uncovered = [ipaddress.IPv4Network("0.0.0.0/0")]
    for network in [*networks, *NOT_INTERNET]:
        uncovered = _without(uncovered, network)
        if not uncovered:
            return True
    return False


# --- text the Flink job reads -------------------------------------------------------------------------------


def control_character_problem(text: str) -> str | None:
    """Flink SQL stops at start on a control character (NUL, say) inside a string literal."""
    bad = sorted({char for char in text if unicodedata.category(char) == "Cc"})
    if bad:
        return f"must be printable text without control characters; {', '.join(map(repr, bad))} is not allowed"
    return None
