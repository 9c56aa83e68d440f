"""Fixtures every test may use. Helpers that are not fixtures live in `tests/support/`."""

from tests.support.alert_sink import alerts, sink
from tests.support.browser import browser
from tests.support.live import issuer, live_api
from tests.support.opensearch import opensearch, opensearch_node

__all__ = [
    "alerts",  # the alert sink's handler module
    "browser",  # headless Chromium (Debian's), one per session
    "issuer",  # a Cognito-like token issuer with its JWKS on a local port
    "live_api",  # the realtime API's handler over the alert sink's moto table
    "opensearch",  # a client on the session's OpenSearch node
    "opensearch_node",  # the session's OpenSearch node
    "sink",  # the alert sink's moto resources
]
