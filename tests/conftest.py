"""Fixtures every test may use. Helpers that are not fixtures live in `tests/support/`."""

from tests.support.alert_sink import alerts, sink
from tests.support.browser import browser
from tests.support.live import issuer, live_api

__all__ = [
    "alerts",  # the alert sink's handler module
    "browser",  # headless Chromium (Debian's), one per session
    "issuer",  # a Cognito-like token issuer with its JWKS on a local port
    "live_api",  # the realtime API's handler over the alert sink's moto table
    "sink",  # the alert sink's moto resources
]
