"""Fixtures every test may use. Helpers that are not fixtures live in `tests/support/`."""

from tests.support.alert_sink import alerts, sink
from tests.support.browser import browser
from tests.support.opensearch import opensearch, opensearch_node

# the alert sink's handler module and its moto resources; a headless Chromium for page tests;
# the session's OpenSearch node and a client on it
__all__ = ["alerts", "browser", "opensearch", "opensearch_node", "sink"]
