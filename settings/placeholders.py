"""Values the stack files ship with as examples, which nobody should deploy.

The repository's `Pulumi.dev.yaml` and `Pulumi.prod.yaml` name example people (`EXAMPLE_STAFF`) and
addresses at domains reserved for examples (RFC 2606 and 6761: `example.com`, `example.net`,
`example.org`, and the `.example`, `.test`, `.invalid`, `.localhost` top-level domains). An alarm
subscription to `ops@example.com` is accepted by AWS and then never confirmed: alarms would reach
nobody. `python -m tools.preflight <stack>` refuses them with their line in the stack file; the
program itself warns on every preview and update (`__main__.py`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

# The people the stack files ship with, so a fresh clone has a complete example.
EXAMPLE_STAFF = frozenset({"alice.admin", "omar.ops", "dana.dev", "bo.analyst"})
RESERVED_DOMAINS = ("example.com", "example.net", "example.org")
RESERVED_TOP_LEVEL = ("example", "test", "invalid", "localhost")
_HOST = re.compile(r"(?<![\w.-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z][a-z0-9-]*(?![\w-])", re.IGNORECASE)


@dataclass(frozen=True)
class Placeholder:
    """An example value at a key path, e.g. `platform.ops_alarm_emails[0]`."""

    path: str
    value: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path} is {self.value!r}, {self.reason}"


def reserved_domain(text: str) -> str | None:
    """The first host name in `text` (an address, a URL, a bare host) at a domain reserved for examples."""
    for match in _HOST.finditer(text):
        host = match.group(0).lower()
        if host.rsplit(".", 1)[-1] in RESERVED_TOP_LEVEL:
            return host
        if any(host == domain or host.endswith(f".{domain}") for domain in RESERVED_DOMAINS):
            return host
    return None


def placeholder_reason(path: str, value: str) -> str | None:
    """Why a string value at a key path is an example to replace, or None."""
    host = reserved_domain(value)
    if host is not None:
        return f"at {host}, a domain reserved for examples that delivers nowhere: replace it with a real address"
    # Staff, the BI tier's people, and the QuickSight admin it names, are all people of the access roster.
    if re.search(r"(^|\.)(staff|people)\[\d+\]\.user$|(^|\.)quicksight\.admin$", path) and value in EXAMPLE_STAFF:
        return "one of the example people the stack files ship with: replace it with your staff, or remove the entry"
    return None


def placeholders(config: Mapping[str, Any], prefix: str = "") -> list[Placeholder]:
    """Every example value in a config tree (tier key -> object), by key path."""
    return list(_walk(config, prefix))


def _walk(value: Any, path: str) -> Iterator[Placeholder]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]")
    elif isinstance(value, str):
        reason = placeholder_reason(path, value)
        if reason is not None:
            yield Placeholder(path, value, reason)
