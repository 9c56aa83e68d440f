"""The live tier's settings: what a stack file may say, and what it is refused with."""

from __future__ import annotations

from typing import Any

import pytest

from settings import load_settings
from tests.support.config import config_with, problems_for

EU_CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"


def test_the_stack_files_turn_the_live_tier_on_with_their_own_sign_in_choices() -> None:
    dev, prod = (load_settings(config_with({}, stack), stack) for stack in ("dev", "prod"))
    assert dev.live.enabled and prod.live.enabled
    assert (dev.live.sign_in.mfa, prod.live.sign_in.mfa) == ("optional", "required")
    assert (dev.live.sign_in.advanced_security, prod.live.sign_in.advanced_security) == ("off", "enforced")
    assert all(member.email for member in prod.access.staff), "everyone on prod's staff list is invited"


def test_off_by_default_so_a_stack_without_the_section_builds_no_page() -> None:
    assert load_settings(config_with({"live": ...}), "dev").live.enabled is False


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"streaming": {"enabled": False}}, "live.enabled: needs the streaming tier"),
        ({"access.staff.1.email": "alice@example.com"}, "access.staff: omar.ops and alice.admin share the email"),
        ({"access.staff.1.email": "ALICE@example.com"}, "share the email"),
        ({"platform.prefix": "myaws-dev"}, "platform.prefix: the live tier's sign-in domain"),
        ({"live.site.domain_name": "live.example.com"}, "live.site.certificate_arn: a custom domain_name needs"),
        ({"live.site.certificate_arn": EU_CERTIFICATE},
         "live.site.certificate_arn: must be an ACM certificate ARN in us-east-1"),
        ({"live.site.domain_name": "Live.Example.com"}, "live.site.domain_name: must be a lowercase DNS name"),
        ({"live.sign_in.mfa": "sometimes"}, "live.sign_in.mfa: must be one of 'off', 'optional' or 'required'"),
        ({"live.sign_in.password_min_length": 6}, "live.sign_in.password_min_length: must be >= 8"),
        ({"live.sign_in.invited_personas": []}, "live.sign_in.invited_personas: nobody could sign in"),
        ({"live.sign_in.invited_personas": ["op", "op"]}, "live.sign_in.invited_personas: lists a group twice"),
        ({"live.push.connection_ttl_hours": 1}, "live.push.connection_ttl_hours: must be >= 2"),
        ({"live.api.timeout_seconds": 30}, "live.api.timeout_seconds: must be <= 29"),
        ({"access.staff.0.email": "not-an-email"}, "access.staff[0].email: must be an email address"),
    ],
)  # fmt: skip
def test_a_bad_live_setting_is_refused_naming_the_key(changes: dict[str, Any], expected: str) -> None:
    if changes.get("streaming") == {"enabled": False}:
        raw = config_with({})
        raw["streaming"] = {"enabled": False}
    else:
        raw = config_with(changes)
    found = problems_for(raw)
    assert any(expected in problem for problem in found), found


def test_a_switched_off_live_tier_needs_nothing_else_and_lets_streaming_go() -> None:
    raw = config_with({})
    raw["streaming"] = {"enabled": False}
    raw["live"] = {"enabled": False}
    assert load_settings(raw, "dev").live.enabled is False
