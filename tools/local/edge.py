"""The edge, here: what CloudFront, the ingest API and the edge-log Lambda do, on loopback and moto.

`LocalEdge` is an HTTP server on 127.0.0.1 (a port the OS picks) that plays the distribution:

- every request first goes through the real viewer-request function
  (`components/edge/viewer_request.js`, rendered with the stack's settings, run by node);
- what the function answers itself (beacons, CORS preflights, 404s) is answered, and a beacon
  is written to the local `edge-logs` stream as the real-time log line CloudFront would write
  (`tools.local.edge_logs`);
- what it lets through (`POST /events`) reaches the real ingest handler as an API Gateway proxy
  event, against a moto Kinesis `events` stream, and its answer carries the CORS headers the
  distribution's response headers policy adds for an allowed origin;
- `deliver_edge_logs()` plays the event source mapping: it reads the new log lines and hands them
  to the real edge-log handler, which writes their events to the same `events` stream.

`throttle_events(n)` makes the stream refuse the next n writes of the ingest handler, which then
answers 503 with `Retry-After`, as it does in AWS when Kinesis takes none of a request's events.
The caller owns moto (`mock_aws()`); the browser tests start one edge per session.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from components.edge.distribution import FORWARDED_HEADERS, PREFLIGHT_MAX_AGE_SECONDS, RETRY_AFTER, function_code
from lambdas.edge_logs import REQUIRED_FIELDS
from tools.local import REGION
from tools.local.edge_logs import log_line, request_values
from tools.local.lambdas import FakeLambdaContext, create_stream, read_stream, rest_api_event

EVENTS_STREAM = "uba-local-events"
LOGS_STREAM = "uba-local-edge-logs"
INVALID_QUEUE = "uba-local-edge-invalid-events"
RUNNER = Path(__file__).with_name("cloudfront_function.mjs")
EDGE_LOCATION = "LOC50-P1"
INGEST_ENVIRONMENT = {
    "EVENTS_STREAM_NAME": EVENTS_STREAM,
    "INGEST_MAX_ATTEMPTS": "1",
    "INGEST_RETRY_AFTER_SECONDS": "1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "uba-local",
}


class FunctionRunner:
    """A CloudFront Function's code, run by node, one viewer-request event at a time."""

    def __init__(self, code: str) -> None:
        self._file = tempfile.NamedTemporaryFile("w", suffix=".js", delete=False)  # noqa: SIM115 - lives with the runner
        self._file.write(code)
        self._file.close()
        self._process = subprocess.Popen(
            ["node", str(RUNNER), self._file.name],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._lock = threading.Lock()

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        assert self._process.stdin is not None and self._process.stdout is not None
        with self._lock:
            self._process.stdin.write(json.dumps(event) + "\n")
            self._process.stdin.flush()
            answer = json.loads(self._process.stdout.readline())
        if "error" in answer:
            raise RuntimeError(f"the viewer-request function failed: {answer['error']}")
        result: dict[str, Any] = answer["result"]
        return result

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.wait(timeout=10)
        Path(self._file.name).unlink(missing_ok=True)


def viewer_request_event(method: str, path: str, query: str, headers: dict[str, str]) -> dict[str, Any]:
    """The event CloudFront hands a viewer-request function: lowercase header names, a repeated
    query parameter as its first value plus `multiValue`."""
    values: dict[str, list[str]] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        values.setdefault(name, []).append(value)
    querystring = {
        name: {"value": found[0], **({"multiValue": [{"value": v} for v in found]} if len(found) > 1 else {})}
        for name, found in values.items()
    }
    return {
        "version": "1.0",
        "context": {"eventType": "viewer-request", "distributionId": "ELOCAL", "requestId": "local"},
        "viewer": {"ip": "127.0.0.1"},
        "request": {
            "method": method,
            "uri": path,
            "querystring": querystring,
            "headers": {name.lower(): {"value": value} for name, value in headers.items()},
            "cookies": {},
        },
    }


class LocalEdge:
    def __init__(
        self, allowed_origins: list[str], beacon_path: str = "/collect", static: dict[str, Path] | None = None
    ) -> None:
        import boto3

        from lambdas import edge_logs, ingest

        self.beacon_path = beacon_path
        self.allowed_origins = allowed_origins
        self.static = static or {}
        self.kinesis = boto3.client("kinesis", region_name=REGION)
        self.sqs = boto3.client("sqs", region_name=REGION)
        create_stream(self.kinesis, EVENTS_STREAM, shard_count=2)
        create_stream(self.kinesis, LOGS_STREAM, shard_count=1)
        self.queue_url = self.sqs.create_queue(QueueName=INVALID_QUEUE)["QueueUrl"]
        self._throttled_writes = 0
        self._lock = threading.Lock()
        self._ingest, self._edge_logs = ingest, edge_logs
        ingest.use_kinesis_client(_Throttling(self))
        edge_logs.use_clients(kinesis=self.kinesis, sqs=self.sqs)
        self.config = edge_logs.EdgeConfig(
            EVENTS_STREAM, self.queue_url, edge_logs.LogFormat.of(REQUIRED_FIELDS), beacon_path
        )
        self.function = FunctionRunner(function_code(beacon_path, allowed_origins))
        self._iterator: str | None = None
        self._saved_environment: dict[str, str | None] = {}
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status) of every viewer request
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> LocalEdge:
        # The ingest handler reads its configuration from the environment, as in Lambda: one attempt at
        # the stream per request, so a throttled write is a 503 at once, with a short Retry-After.
        for name, value in INGEST_ENVIRONMENT.items():
            self._saved_environment[name] = os.environ.get(name)
            os.environ[name] = value
        self._thread.start()
        return self

    def stop(self) -> None:
        for name, value in self._saved_environment.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._server.shutdown()
        self._server.server_close()
        self.function.close()
        self._ingest.use_kinesis_client(None)
        self._edge_logs.use_clients()

    # --- what tests look at ------------------------------------------------------------------------------

    def throttle_events(self, writes: int) -> None:
        """The next `writes` PutRecords calls of the ingest handler are throttled whole."""
        with self._lock:
            self._throttled_writes = writes

    def stored_events(self) -> list[dict[str, Any]]:
        return [record.json() for record in read_stream(self.kinesis, EVENTS_STREAM)]

    def deliver_edge_logs(self) -> Any:
        """One poll of the event source mapping: the log lines written since the last poll, through the
        edge-log Lambda's processing (`lambdas.edge_logs.process_lines`); what it came to."""
        if self._iterator is None:
            shard = self.kinesis.list_shards(StreamName=LOGS_STREAM)["Shards"][0]["ShardId"]
            self._iterator = self.kinesis.get_shard_iterator(
                StreamName=LOGS_STREAM, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
        page = self.kinesis.get_records(ShardIterator=self._iterator, Limit=10_000)
        self._iterator = page["NextShardIterator"]
        lines = [(r["SequenceNumber"], r["Data"].decode("utf-8")) for r in page["Records"]]
        return self._edge_logs.process_lines(lines, self.config, lambda: 30_000, self.kinesis, self.sqs)

    def dead_letters(self) -> list[dict[str, Any]]:
        """What the edge-log processing sent to the invalid-events queue (received and deleted)."""
        letters: list[dict[str, Any]] = []
        while messages := self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages"):
            for message in messages:
                letters.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return letters

    # --- serving -----------------------------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        edge = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return  # quiet: tests read `edge.requests`

            def do_GET(self) -> None:
                edge._serve(self)

            def do_POST(self) -> None:
                edge._serve(self)

            def do_OPTIONS(self) -> None:
                edge._serve(self)

        return Handler

    def _serve(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        length = int(request.headers.get("content-length") or 0)
        body = request.rfile.read(length) if length else b""
        if parts.path in self.static and request.command == "GET":
            return self._send(request, 200, {"content-type": _content_type(parts.path)},
                              self.static[parts.path].read_bytes())  # fmt: skip
        headers = {name: value for name, value in request.headers.items()}
        result = self.function(viewer_request_event(request.command, parts.path, parts.query, headers))
        if "statusCode" in result:  # answered at the edge
            status = int(result["statusCode"])
            if parts.path == self.beacon_path:
                self._log_beacon(request.command, parts.path, parts.query, status, headers)
            answer = {name: value["value"] for name, value in result.get("headers", {}).items()}
            return self._send(request, status, answer, b"")
        self._forward(request, parts.path, headers, body)

    def _forward(self, request: BaseHTTPRequestHandler, path: str, headers: dict[str, str], body: bytes) -> None:
        """To the ingest handler, as the origin request policy forwards it; CORS added on the way back."""
        forwarded = {name.lower(): value for name, value in headers.items() if name.lower() in FORWARDED_HEADERS}
        event = rest_api_event(
            body.decode("utf-8", "replace"),
            content_type=forwarded.get("content-type"),
            user_agent=forwarded.get("user-agent"),
            source_ip="127.0.0.1",
            path=path,
        )
        answer = self._ingest.handler(event, FakeLambdaContext(timeout_ms=10_000))
        out = {name.lower(): value for name, value in (answer.get("headers") or {}).items()}
        origin = headers.get("Origin") or headers.get("origin")
        if origin in self.allowed_origins:  # the response headers policy's CORS
            out |= {"access-control-allow-origin": origin, "access-control-expose-headers": RETRY_AFTER,
                    "access-control-max-age": str(PREFLIGHT_MAX_AGE_SECONDS), "vary": "Origin"}  # fmt: skip
        self._send(request, int(answer["statusCode"]), out, str(answer.get("body") or "").encode())

    def _log_beacon(self, method: str, path: str, query: str, status: int, headers: dict[str, str]) -> None:
        """The real-time log line CloudFront writes for the beacon, on the edge-logs stream."""
        values = request_values(
            path=path,
            query=query or None,
            method=method,
            status=status,
            at=datetime.now(UTC),
            client_ip="127.0.0.1",
            user_agent=headers.get("User-Agent"),
            location=EDGE_LOCATION,
        )
        line = log_line(REQUIRED_FIELDS, values)
        self.kinesis.put_record(StreamName=LOGS_STREAM, Data=line.encode("utf-8"), PartitionKey=values["c-ip"])

    def _send(self, request: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: bytes) -> None:
        self.requests.append((request.command, urlsplit(request.path).path, status))
        request.send_response(status, HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "")
        for name, value in headers.items():
            if name.lower() != "content-length":
                request.send_header(name, value)
        request.send_header("content-length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)


class _Throttling:
    """The ingest handler's Kinesis client: the local stream, refusing writes while the edge says so."""

    def __init__(self, edge: LocalEdge) -> None:
        self._edge = edge

    def put_records(self, *, StreamName: str, Records: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        with self._edge._lock:
            throttled = self._edge._throttled_writes > 0
            self._edge._throttled_writes -= throttled
        if throttled:
            error = {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "Rate exceeded for shard"}
            return {"FailedRecordCount": len(Records), "Records": [dict(error) for _ in Records]}
        return dict(self._edge.kinesis.put_records(StreamName=StreamName, Records=Records))


def _content_type(path: str) -> str:
    return {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8"}.get(
        Path(path).suffix, "application/octet-stream"
    )


@contextmanager
def local_edge(allowed_origins: list[str], static: dict[str, Path] | None = None) -> Iterator[LocalEdge]:
    """A running local edge inside moto; stopped on exit."""
    from moto import mock_aws

    with mock_aws():
        edge = LocalEdge(allowed_origins, static=static).start()
        try:
            yield edge
        finally:
            edge.stop()
