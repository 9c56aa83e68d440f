"""CloudFront's side of the edge here: real-time log lines as CloudFront writes them, and beacon URLs.

Shared by the edge-log tests, the local edge (`tools.local.edge`) and the benchmark, so
all three feed the edge-log Lambda lines of the documented format:

- one record per request, the configured fields in the order CloudFront documents (not
  the order the configuration lists them), separated by tabs;
- each value URL-encoded the way CloudFront's logs encode values: ASCII 0-32, 127 and
  above, and `<>"#%{}|\\^~[]`'` as `%XX` (CloudFront Developer Guide, log file format);
- `-` for a field without a value.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from lambdas.edge_logs import BEACON_PARAMETER, DOCUMENTED_FIELDS, EMPTY

# Characters CloudFront writes as %XX in log values, besides ASCII 0-32 and 127 and above.
_ENCODED = frozenset("<>\"#%{}|\\^~[]`'")


def log_value(value: object) -> str:
    """One field's value as CloudFront writes it into a log line."""
    if value is None or value == "":
        return EMPTY
    text = str(value)
    encoded: list[str] = []
    for character in text:
        code = ord(character)
        if code <= 32 or code >= 127 or character in _ENCODED:
            encoded.extend(f"%{byte:02X}" for byte in character.encode("utf-8"))
        else:
            encoded.append(character)
    return "".join(encoded)


def log_line(configured: Sequence[str], values: Mapping[str, object]) -> str:
    """The log record of one request, for a configuration listing `configured` (in any order)."""
    ordered = sorted(configured, key=DOCUMENTED_FIELDS.index)
    return "\t".join(log_value(values.get(name)) for name in ordered) + "\n"


def encode_payload(document: Any) -> str:
    """A beacon payload: the base64url (no padding) of the document's UTF-8 JSON, as the web tracker sends it."""
    raw = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def beacon_query(document: Any) -> str:
    return f"{BEACON_PARAMETER}={encode_payload(document)}"


def request_values(
    *,
    path: str,
    query: str | None,
    method: str = "GET",
    status: int = 204,
    at: datetime | None = None,
    client_ip: str = "198.51.100.23",
    user_agent: str | None = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0",
    location: str = "FRA56-P4",
    request_id: str | None = None,
    host: str = "d111111abcdef8.cloudfront.net",
) -> dict[str, object]:
    """A value for every documented field, as one beacon (or any request) to the distribution would log them."""
    moment = at or datetime.now(UTC)
    request_id = request_id or base64.urlsafe_b64encode(uuid.uuid4().bytes * 2).decode("ascii")[:56]
    return {
        "timestamp": f"{moment.timestamp():.3f}",
        "c-ip": client_ip,
        "time-to-first-byte": "0.001",
        "sc-status": f"{status:03d}",
        "sc-bytes": 320,
        "cs-method": method,
        "cs-protocol": "https",
        "cs-host": host,
        "cs-uri-stem": path,
        "cs-bytes": 600 + len(query or ""),
        "x-edge-location": location,
        "x-edge-request-id": request_id,
        "x-host-header": host,
        "time-taken": "0.001",
        "cs-protocol-version": "HTTP/2.0",
        "c-ip-version": "IPv6" if ":" in client_ip else "IPv4",
        "cs-user-agent": user_agent,
        "cs-referer": "https://www.example.com/docs/intro?lang=en",
        "cs-cookie": None,
        "cs-uri-query": query,
        "x-edge-response-result-type": "FunctionGeneratedResponse",
        "x-forwarded-for": None,
        "ssl-protocol": "TLSv1.3",
        "ssl-cipher": "TLS_AES_128_GCM_SHA256",
        "x-edge-result-type": "FunctionGeneratedResponse",
        "fle-encrypted-fields": None,
        "fle-status": None,
        "sc-content-type": "image/gif" if method == "GET" else None,
        "sc-content-len": 43 if method == "GET" else None,
        "sc-range-start": None,
        "sc-range-end": None,
        "c-port": 51234,
        "x-edge-detailed-result-type": "FunctionGeneratedResponse",
        "c-country": "DE",
        "cs-accept-encoding": "gzip, deflate, br",
        "cs-accept": "*/*",
        "cache-behavior-path-pattern": path,
        "cs-headers": f"host:{host}\naccept:*/*",
        "cs-header-names": "host\naccept",
        "cs-headers-count": 2,
    }
