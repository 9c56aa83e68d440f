"""Fixtures every test may use. Helpers that are not fixtures live in `tests/support/`."""

from tests.support.alert_sink import alerts, sink
from tests.support.browser import browser

# the alert sink's handler module and its moto resources; a headless Chromium for page tests
__all__ = ["alerts", "browser", "sink"]
