"""The real OpenSearch node of a test session (started once, stopped at the end) and a client on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lambdas.opensearch import OpenSearch
from tools.local.opensearch_node import FETCH_COMMAND, LocalNode, installed


@pytest.fixture(scope="session")
def opensearch_node() -> Iterator[LocalNode]:
    """One node for the whole session: a JVM and a cluster start cost seconds on two cores."""
    if not installed():
        pytest.fail(f"the local OpenSearch node is not installed; run `make setup` (or `{FETCH_COMMAND}`)")
    with LocalNode() as node:
        yield node


@pytest.fixture
def opensearch(opensearch_node: LocalNode) -> Iterator[OpenSearch]:
    """A client on the session's node; every index the test made is gone afterwards."""
    client = OpenSearch(opensearch_node.url)
    yield client
    client.request("DELETE", "/*", allow=[404])
    client.request("DELETE", "/_index_template/*", allow=[404])
