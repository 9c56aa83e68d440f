"""Fixtures every test may use. Helpers that are not fixtures live in `tests/support/`."""

from tests.support.alert_sink import alerts, sink

__all__ = ["alerts", "sink"]  # the alert sink's handler module and its moto resources
