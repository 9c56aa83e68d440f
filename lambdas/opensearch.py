"""A small OpenSearch REST client: the calls the search tier makes, signed with SigV4 in AWS, plain locally.

Used by the search-admin Lambda (index template, retention sweep), by `tools.search` (the
saved searches, against a deployed collection or domain or the local node) and by the
local feed that stands in for Firehose. It speaks only the core REST API, which OpenSearch
Serverless, a managed domain and the local node all serve.

Requests to AWS are signed with SigV4 by botocore (the Lambda runtime's own), for the
service `aoss` (Serverless) or `es` (a domain), from the caller's credentials; Serverless
also needs the payload's SHA-256 in `x-amz-content-sha256`, which is signed with the
rest. HTTP is urllib3 (botocore's own dependency), so the Lambda needs no package of ours.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import urllib3

Signer = Callable[[str, str, bytes, dict[str, str]], dict[str, str]]
"""(method, url, body, headers) -> headers with the signature added."""

SERVICES = ("aoss", "es")  # OpenSearch Serverless, OpenSearch Service domains
_RETRYABLE = frozenset({429, 502, 503, 504})


class SearchError(RuntimeError):
    """OpenSearch answered a request with an error status; `status` and `body` say what."""

    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        self.status, self.body = status, body
        reason = body.get("error", body) if isinstance(body, dict) else body
        super().__init__(f"{method} {path} answered {status}: {json.dumps(reason)[:500]}")


def aws_signer(region: str, service: str) -> Signer:
    """SigV4 signing with the caller's AWS credentials (environment, profile or the function's role)."""
    if service not in SERVICES:
        raise ValueError(f"service must be one of {SERVICES}, got {service!r}")
    import botocore.session  # type: ignore[import-untyped, unused-ignore]
    from botocore.auth import SigV4Auth  # type: ignore[import-untyped, unused-ignore]
    from botocore.awsrequest import AWSRequest  # type: ignore[import-untyped, unused-ignore]

    credentials = botocore.session.get_session().get_credentials()
    if credentials is None:
        raise SearchError("SIGN", "-", 0, "no AWS credentials found to sign the request with")

    def sign(method: str, url: str, body: bytes, headers: dict[str, str]) -> dict[str, str]:
        signed_headers = {**headers, "x-amz-content-sha256": hashlib.sha256(body).hexdigest()}
        request = AWSRequest(method=method, url=url, data=body, headers=signed_headers)
        SigV4Auth(credentials.get_frozen_credentials(), service, region).add_auth(request)
        return dict(request.headers.items())

    return sign


@dataclass(frozen=True)
class BulkItem:
    """One document's outcome in a bulk request: its HTTP status and, when refused, OpenSearch's error."""

    status: int
    error: Mapping[str, Any] | None

    @property
    def retryable(self) -> bool:
        return self.status in _RETRYABLE

    def reason(self) -> str:
        if self.error is None:
            return ""
        reason = f"{self.error.get('type', 'error')}: {self.error.get('reason', '')}"
        caused = self.error.get("caused_by")
        return f"{reason} ({caused.get('type')}: {caused.get('reason')})" if isinstance(caused, dict) else reason


class OpenSearch:
    """One endpoint (`https://...aoss.amazonaws.com`, a domain's endpoint, or `http://127.0.0.1:<port>`)."""

    def __init__(self, endpoint: str, signer: Signer | None = None, timeout_seconds: float = 30.0) -> None:
        parts = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"endpoint must be an http(s) URL or a host name, got {endpoint!r}")
        self.base = f"{parts.scheme}://{parts.netloc}"
        self.signer = signer
        self.http = urllib3.PoolManager(
            timeout=urllib3.Timeout(total=timeout_seconds), retries=urllib3.Retry(total=2, status_forcelist=[])
        )

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: Mapping[str, str] | None = None,
        ndjson: bytes | None = None,
        allow: Iterable[int] = (),
    ) -> Any:
        """Send one request; the parsed JSON answer, or SearchError for a status not below 400 or in `allow`."""
        url = self.base + path + (f"?{urlencode(params)}" if params else "")
        payload = ndjson if ndjson is not None else (b"" if body is None else json.dumps(body).encode())
        headers = {"content-type": "application/x-ndjson" if ndjson is not None else "application/json"}
        if self.signer is not None:
            headers = self.signer(method, url, payload, headers)
        response = self.http.request(method, url, body=payload or None, headers=headers)
        text = response.data.decode("utf-8", errors="replace")
        try:
            answer: Any = json.loads(text) if text else None
        except json.JSONDecodeError:
            answer = text
        if response.status >= 400 and response.status not in set(allow):
            raise SearchError(method, path, response.status, answer)
        return answer

    # --- the calls the platform makes ----------------------------------------------------------------

    def put_index_template(self, name: str, template: Mapping[str, Any]) -> None:
        self.request("PUT", f"/_index_template/{quote(name, safe='')}", template)

    def index_template(self, name: str) -> dict[str, Any] | None:
        answer = self.request("GET", f"/_index_template/{quote(name, safe='')}", allow=[404])
        templates = answer.get("index_templates", []) if isinstance(answer, dict) else []
        return templates[0]["index_template"] if templates else None

    def bulk(self, actions: Sequence[tuple[str, Mapping[str, Any] | str]], refresh: bool = False) -> list[BulkItem]:
        """Index each (index, document) pair; one outcome per document, in order.

        A document given as text is sent as it is (the feed's records are JSON text already),
        so what OpenSearch judges is exactly what the stream carried.
        """
        if not actions:
            return []
        lines: list[str] = []
        for index, document in actions:
            lines.append(json.dumps({"index": {"_index": index}}))
            lines.append(document if isinstance(document, str) else json.dumps(document))
        params = {"refresh": "wait_for"} if refresh else None
        answer = self.request("POST", "/_bulk", params=params, ndjson=("\n".join(lines) + "\n").encode())
        items = answer.get("items", []) if isinstance(answer, dict) else []
        if len(items) != len(actions):
            raise SearchError("POST", "/_bulk", 200, f"answered {len(items)} items for {len(actions)} documents")
        outcomes = []
        for item in items:
            (result,) = item.values()
            outcomes.append(BulkItem(status=int(result.get("status", 500)), error=result.get("error")))
        return outcomes

    def search(self, index: str, body: Mapping[str, Any]) -> dict[str, Any]:
        answer = self.request("POST", f"/{quote(index, safe='*,')}/_search", body)
        return answer if isinstance(answer, dict) else {}

    def refresh(self, index: str) -> None:
        self.request("POST", f"/{quote(index, safe='*,')}/_refresh", allow=[404])

    def indices(self, pattern: str) -> list[str]:
        answer = self.request(
            "GET", f"/_cat/indices/{quote(pattern, safe='*,')}", params={"format": "json", "h": "index"}, allow=[404]
        )
        return sorted(row["index"] for row in answer) if isinstance(answer, list) else []

    def delete_index(self, name: str) -> None:
        self.request("DELETE", f"/{quote(name, safe='')}", allow=[404])
