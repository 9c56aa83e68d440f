"""Values that passed settings and then failed at deploy, or slipped past a guard: refused at synth, one line each.

Each line names the key, the value and what is allowed, as every settings problem does.
The rules are AWS's (tags: the tagging APIs' `Tag` reference; schedules: EventBridge
Scheduler's schedule types) and the Flink job's (markers become SQL string literals).
"""

from __future__ import annotations

from typing import Any

import pytest

from settings import load_settings
from tests.support.config import config_with, problems_for

REFUSED = [
    # tags AWS refuses on every resource at deploy
    ({"platform.extra_tags": {"aws:team": "analytics"}},
     "platform.extra_tags: must be an AWS tag key not starting with 'aws:' (reserved for AWS), "
     "got 'aws:team': 'analytics'"),
    ({"platform.extra_tags": {"AWS:Team": "analytics"}}, "platform.extra_tags: must be an AWS tag key not starting"),
    ({"platform.extra_tags": {"Team": "aws:analytics"}}, "platform.extra_tags: must be an AWS tag value not starting"),
    ({"platform.extra_tags": {"Team|Unit": "a"}},
     "platform.extra_tags: must be an AWS tag key of letters, digits, spaces and _ . : / = + - @; "
     "'|' is not allowed, got 'Team|Unit': 'a'"),
    ({"platform.extra_tags": {"Team": "a;b"}}, "platform.extra_tags: must be an AWS tag value of letters"),
    ({"platform.extra_tags": {"k" * 129: "a"}},
     "platform.extra_tags: must be an AWS tag key of at most 128 characters (129 here)"),
    ({"platform.extra_tags": {"Team": "v" * 257}},
     "platform.extra_tags: must be an AWS tag value of at most 256 characters (257 here)"),
    ({"platform.extra_tags": {"": "a"}}, "platform.extra_tags: must be an AWS tag key of 1 to 128 characters"),
    ({"platform.extra_tags": {f"Tag{n}": "x" for n in range(47)}},
     "platform.extra_tags: must hold at most 46 tags (AWS allows 50 a resource and the platform sets 4), got 47"),
    ({"platform.owner": "team\nanalytics"}, "platform.owner: must be an AWS tag value of letters"),
    ({"platform.cost_center": "aws:billing"}, "platform.cost_center: must be an AWS tag value not starting"),
    # schedules Scheduler cannot parse, or that never run
    ({"warehouse.refresh.schedule_expression": "rate(0 hours)"},
     "warehouse.refresh.schedule_expression: must be a rate of at least 1 (rate(0 ...) never runs), "
     "got 'rate(0 hours)'"),
    ({"warehouse.refresh.schedule_expression": "rate(1 hours)"},
     "warehouse.refresh.schedule_expression: must be rate(1 hour)"),
    ({"warehouse.refresh.schedule_expression": "rate(2 weeks)"},
     "warehouse.refresh.schedule_expression: must be an EventBridge Scheduler expression: "
     "rate(N minutes|hours|days), cron(6 fields) or at(yyyy-mm-ddThh:mm:ss), got 'rate(2 weeks)'"),
    ({"warehouse.refresh.schedule_expression": "cron(0 3 * * *)"},
     "warehouse.refresh.schedule_expression: must have 6 cron fields"),
    ({"warehouse.refresh.schedule_expression": "cron(0 3 * * * *)"},
     "warehouse.refresh.schedule_expression: must have '?' in exactly one of the day-of-month and day-of-week"),
    ({"warehouse.refresh.schedule_expression": "cron(0 25 * * ? *)"},
     "warehouse.refresh.schedule_expression: must have a valid cron hours field, not '25'"),
    ({"warehouse.refresh.schedule_expression": "cron(x)"}, "warehouse.refresh.schedule_expression: must have 6"),
    ({"warehouse.refresh.schedule_expression": "at(2026-02-30T03:00:00)"},
     "warehouse.refresh.schedule_expression: must be at(yyyy-mm-ddThh:mm:ss) with a real date and time"),
    # CIDRs that are not networks
    ({"warehouse.network.allowed_cidrs": ["0.0.0.0/00"]},
     "warehouse.network.allowed_cidrs[0]: must be written as 0.0.0.0/0 (no leading zeros), got '0.0.0.0/00'"),
    ({"warehouse.network.allowed_cidrs": ["999.1.1.1/8"]},
     "warehouse.network.allowed_cidrs[0]: must be an IPv4 network such as 10.0.0.0/16"),
    ({"warehouse.network.allowed_cidrs": ["10.1.0.0/33"]},
     "warehouse.network.allowed_cidrs[0]: must be an IPv4 network such as 10.0.0.0/16"),
    ({"warehouse.network.allowed_cidrs": ["10.1.2.3/16"]},
     "warehouse.network.allowed_cidrs[0]: must be a network address (host bits zero), e.g. 10.1.0.0/16, "
     "got '10.1.2.3/16'"),
    ({"warehouse.network.vpc_cidr": "10.042.0.0/16"}, "warehouse.network.vpc_cidr: must be an IPv4 network"),
    # CIDRs that together admit the whole internet: the "no 0.0.0.0/0" guard, bypassed
    ({"warehouse.network.allowed_cidrs": ["0.0.0.0/1", "128.0.0.0/1"]},
     "warehouse.network.allowed_cidrs: must not together admit every internet address (as 0.0.0.0/0 would); "
     "list the client networks, got ['0.0.0.0/1', '128.0.0.0/1']"),
    # ... also when the private and reserved blocks are left out: they are not the internet
    ({"warehouse.network.allowed_cidrs": ["0.0.0.0/5", "8.0.0.0/7", "11.0.0.0/8", "12.0.0.0/6", "16.0.0.0/4",
                                          "32.0.0.0/3", "64.0.0.0/2", "128.0.0.0/1"]},
     "warehouse.network.allowed_cidrs: must not together admit every internet address"),
    # markers that stop the Flink job at start
    ({"streaming.detection.error_markers": ["[ERROR]", "[ERR\x00]"]},
     "streaming.detection.error_markers[1]: must be printable text without control characters; "
     "'\\x00' is not allowed, got '[ERR\\x00]'"),
    ({"streaming.detection.warn_markers": ["WARN\n"]}, "streaming.detection.warn_markers[0]: must be printable text"),
]  # fmt: skip


@pytest.mark.parametrize(("changes", "expected"), REFUSED, ids=[line.split(":")[0] for _, line in REFUSED])
def test_a_value_aws_or_the_flink_job_would_refuse_is_one_line_naming_key_value_and_rule(
    changes: dict[str, Any], expected: str
) -> None:
    problems = problems_for(config_with(changes))
    assert [p for p in problems if p.startswith(expected)] and len(problems) == 1, problems


ACCEPTED = [
    {"platform.extra_tags": {"Team": "Analytics/EU", "cost:unit": "a=b+c@d.e_f-g", "Ünïcode key": "値 1"}},
    {"platform.extra_tags": {"Empty": ""}},  # a tag value may be empty
    {"platform.extra_tags": {f"Tag{n}": "x" for n in range(46)}},
    {"warehouse.refresh.schedule_expression": "rate(1 minute)"},
    {"warehouse.refresh.schedule_expression": "rate(15 minutes)"},
    {"warehouse.refresh.schedule_expression": "cron(0 3 * * ? *)"},
    {"warehouse.refresh.schedule_expression": "cron(0/15 8-18 ? * MON-FRI *)"},
    {"warehouse.refresh.schedule_expression": "cron(30 2 L * ? 2026-2030)"},
    {"warehouse.refresh.schedule_expression": "at(2027-01-01T03:00:00)"},
    {"warehouse.network.allowed_cidrs": ["203.0.113.0/24", "198.51.100.7/32", "10.0.0.0/8"]},
    {"warehouse.network.allowed_cidrs": ["0.0.0.0/1"]},  # half the internet is a choice, not a bypass
    {"streaming.detection.error_markers": ["[FEHLER]", "[错误]", "💥"]},
]


@pytest.mark.parametrize("changes", ACCEPTED)
def test_values_aws_takes_still_load(changes: dict[str, Any]) -> None:
    load_settings(config_with(changes), "dev")
