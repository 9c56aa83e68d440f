"""The live tier on this machine: the dashboard page against the same handlers, fed by the real pipeline.

    POST /events ──▶ lambdas.ingest ──▶ Kinesis "events" (moto)
        ──▶ files in a watched directory ──▶ Flink SQL on the local mini-cluster (streaming.follow_local)
        ──▶ Kinesis "alerts" (moto) ──▶ lambdas.alerts ──▶ DynamoDB realtime table (moto, with its stream)
        ──▶ lambdas.live_push ──PostToConnection──▶ the WebSocket server ──▶ the page
    GET /api/... ──▶ lambdas.live_api ──Query──▶ the realtime table

Everything AWS runs is the repository's own code: the Lambda handlers, called with the events
their event source mappings and API Gateway would send, and the job's SQL. What stands in for
AWS is moto's server (Kinesis, DynamoDB and its streams, SNS), a small HTTP server in place of
CloudFront and the HTTP API (it serves the page with the deployed security headers), a
WebSocket server in place of the WebSocket API (it calls the `$connect` authorizer and the
connection routes, and answers the pusher's `PostToConnection` on its management path), and
pollers in place of the event source mappings (the table stream's one applies the deployed
filter). The Flink Kinesis connector is not available here, so a poller copies each batch of
events-stream records into the watched directory, as `streaming.follow_local` documents.

One difference of moto's shows: an UpdateItem that creates an item is recorded on the table's
stream as two INSERTs, the first with the key attributes alone (DynamoDB records one, with the
whole item). The pusher skips the first as "not an alert", with a warning, and pushes the second.

Sign-in is replaced by one random token (`LIVE_AUTH_MODE=local`), which only this process's
handlers accept; the page takes it from the address `page_url` prints (`#token=...`).

One stack per process: the handlers read their configuration from the environment, as in Lambda.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import os
import secrets
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from components.live.headers import security_headers
from components.live.site import CONTENT_TYPES, SITE_DIR
from components.streaming.tier import ALERT_TYPE, BY_TYPE_INDEX, PARTITION_KEY, SORT_KEY, STREAM_VIEW_TYPE
from lambdas.live_view import ITEM_PREFIX
from tools.local import ACCOUNT_ID, REGION
from tools.local.lambdas import FakeLambdaContext, rest_api_event

REPO = Path(__file__).resolve().parents[2]
FLINK_PYTHON = REPO / "streaming" / ".venv" / "bin" / "python"
PREFIX = "uba-local"
EVENTS_STREAM = f"{PREFIX}-events"
ALERTS_STREAM = f"{PREFIX}-alerts"
REALTIME_TABLE = f"{PREFIX}-realtime-results"
CONNECTIONS_TABLE = f"{PREFIX}-live-connections"
PUSH_STAGE = "live"
POLL_SECONDS = 0.05
TRAFFIC_ACTIONS = ("viewDoc", "search", "addToCart", "checkout", "buy")

log = logging.getLogger("uba.live")
# Lambda runs one invocation at a time per instance, and Powertools' resolvers keep the current request in the
# module: one instance of each function here, so each handler is called by one thread at a time.
_INSTANCES = {name: threading.Lock() for name in ("live-api", "ingest", "authorizer", "connections", "sink", "push")}


def invoke(
    function: str, handler: Callable[[dict[str, Any], Any], dict[str, Any]], event: dict[str, Any]
) -> dict[str, Any]:
    """Call a handler as its one local instance, with a Lambda context named after the function."""
    with _INSTANCES[function]:
        return handler(event, FakeLambdaContext(function_name=f"{PREFIX}-{function}"))


@dataclass(frozen=True)
class LiveOptions:
    window_seconds: int = 10
    watermark_seconds: int = 2
    warn_threshold: int = 10
    traffic_per_second: float = 0.0  # steady, harmless events through the ingest handler: windows keep closing
    port: int = 0  # the page and API; 0 asks the OS
    push_port: int = 0
    flink_ready_timeout_s: float = 180.0
    workdir: Path | None = None


# ------------------------------------------------------------------ Lambda events


def kinesis_event(stream_arn: str, shard_id: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    """What a Kinesis event source mapping hands the function."""
    return {
        "Records": [
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": record["PartitionKey"],
                    "sequenceNumber": record["SequenceNumber"],
                    "data": base64.b64encode(record["Data"]).decode("ascii"),
                    "approximateArrivalTimestamp": record["ApproximateArrivalTimestamp"].timestamp(),
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{shard_id}:{record['SequenceNumber']}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": f"arn:aws:iam::{ACCOUNT_ID}:role/{PREFIX}-alert-sink-role",
                "awsRegion": REGION,
                "eventSourceARN": stream_arn,
            }
            for record in records
        ]
    }


def passes_push_filter(record: dict[str, Any]) -> bool:
    """The deployed mapping's filter (components.live.push.STREAM_FILTER): inserts and changes of alert items."""
    keys = (record.get("dynamodb") or {}).get("Keys") or {}
    return record.get("eventName") in ("INSERT", "MODIFY") and keys.get("pk", {}).get("S", "").startswith(ITEM_PREFIX)


def http_api_event(method: str, path: str, query: str, headers: dict[str, str], source_ip: str) -> dict[str, Any]:
    """An HTTP API (payload 2.0) event, as API Gateway sends it to the realtime API's function."""
    parameters = {name: ",".join(values) for name, values in parse_qs(query, keep_blank_values=True).items()}
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {name.lower(): value for name, value in headers.items()},
        "queryStringParameters": parameters or None,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": "local",
            "domainName": "127.0.0.1",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": source_ip,
                     "userAgent": headers.get("User-Agent", "")},
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": datetime.now(UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(time.time() * 1000),
        },
        "isBase64Encoded": False,
    }  # fmt: skip


def websocket_event(route: str, connection_id: str, authorizer: dict[str, Any] | None = None,
                    body: str | None = None) -> dict[str, Any]:  # fmt: skip
    context: dict[str, Any] = {
        "routeKey": route,
        "eventType": {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route, "MESSAGE"),
        "connectionId": connection_id,
        "stage": PUSH_STAGE,
        "apiId": "local",
        "requestId": str(uuid.uuid4()),
        "connectedAt": int(time.time() * 1000),
    }
    if authorizer is not None:
        context["authorizer"] = authorizer
    return {"requestContext": context, "body": body, "isBase64Encoded": False}


# ------------------------------------------------------------------ the WebSocket API


class PushServer:
    """The WebSocket API: `$connect` through the authorizer, the connection routes, and the management API."""

    def __init__(self, port: int) -> None:
        self._requested_port = port
        self._connections: dict[str, Any] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="live-push-server", daemon=True)
        self._ready = threading.Event()
        self.port = 0

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the local WebSocket server did not start within 10 s")

    def stop(self) -> None:
        if self._loop is not None and self._stopped is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join(10)

    @property
    def open_connections(self) -> int:
        return len(self._connections)

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        from websockets.asyncio.server import serve

        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        async with serve(
            self._connection, "127.0.0.1", self._requested_port, process_request=self._authorize
        ) as server:
            self.port = server.sockets[0].getsockname()[1]
            self._ready.set()
            await self._stopped.wait()

    async def _authorize(self, connection: Any, request: Any) -> Any:
        from lambdas import live_authorizer, live_connections

        connection_id = base64.b64encode(secrets.token_bytes(9)).decode()
        token = parse_qs(urlsplit(request.path).query).get("token", [None])[0]
        event = {
            "type": "REQUEST",
            "methodArn": f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:local/{PUSH_STAGE}/$connect",
            "headers": dict(request.headers.raw_items()),
            "queryStringParameters": {"token": token} if token else {},
            "requestContext": websocket_event("$connect", connection_id)["requestContext"],
        }
        answer = await asyncio.to_thread(invoke, "authorizer", live_authorizer.handler, event)
        statement = answer["policyDocument"]["Statement"][0]
        if statement["Effect"] != "Allow":
            return connection.respond(403, "Forbidden\n")
        authorizer = {**answer.get("context", {}), "principalId": answer["principalId"]}
        connected = await asyncio.to_thread(
            invoke, "connections", live_connections.handler, websocket_event("$connect", connection_id, authorizer)
        )
        if connected.get("statusCode") != 200:
            return connection.respond(int(connected.get("statusCode", 500)), "Refused\n")
        connection.uba_connection_id = connection_id
        return None

    async def _connection(self, connection: Any) -> None:
        from lambdas import live_connections

        connection_id = connection.uba_connection_id
        self._connections[connection_id] = connection
        try:
            async for message in connection:
                text = message if isinstance(message, str) else message.decode("utf-8", "replace")
                await asyncio.to_thread(
                    invoke,
                    "connections",
                    live_connections.handler,
                    websocket_event("$default", connection_id, body=text),
                )
        except Exception:  # a dropped connection ends like a closed one
            log.debug("connection %s ended abruptly", connection_id)
        finally:
            self._connections.pop(connection_id, None)
            await asyncio.to_thread(
                invoke, "connections", live_connections.handler, websocket_event("$disconnect", connection_id)
            )

    def post(self, connection_id: str, data: bytes) -> int:
        """`PostToConnection`: 200, or 410 when API Gateway would no longer know the connection."""
        connection = self._connections.get(connection_id)
        if connection is None or self._loop is None:
            return 410
        future = asyncio.run_coroutine_threadsafe(connection.send(data.decode("utf-8")), self._loop)
        try:
            future.result(timeout=5)
        except Exception:
            return 410
        return 200

    def delete(self, connection_id: str) -> int:
        connection = self._connections.get(connection_id)
        if connection is None or self._loop is None:
            return 410
        asyncio.run_coroutine_threadsafe(connection.close(), self._loop).result(timeout=5)
        return 204


# ------------------------------------------------------------------ the page, the realtime API, ingest


class PageServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, stack: LiveStack) -> None:
        super().__init__(("127.0.0.1", port), _PageHandler)
        self.stack = stack


class _PageHandler(BaseHTTPRequestHandler):
    server: PageServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("page server: " + format, *args)

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_DELETE(self) -> None:
        self._route("DELETE")

    def do_OPTIONS(self) -> None:
        self._route("OPTIONS")

    def _route(self, method: str) -> None:
        stack = self.server.stack
        url = urlsplit(self.path)
        try:
            if url.path.startswith("/@connections/"):
                self._management(method, unquote(url.path.removeprefix("/@connections/")))
            elif url.path == "/api" or url.path.startswith("/api/"):
                self._api(method, url.path.removeprefix("/api") or "/", url.query)
            elif url.path == "/events" and method == "POST":
                self._ingest()
            elif method == "GET":
                self._page(url.path)
            else:
                self._send(405, b"", {"Allow": "GET"})
        except Exception as error:  # the local server reports, never dies
            log.exception("local live server: %s %s failed", method, self.path)
            self._send(500, json.dumps({"message": f"{type(error).__name__}: {error}"}).encode(), {})
        stack.requests += 1

    def _page(self, path: str) -> None:
        stack = self.server.stack
        name = "index.html" if path in ("", "/") else path.lstrip("/")
        headers = {**stack.page_headers, "Cache-Control": "no-cache"}
        if name == "config.json":
            self._send(
                200, json.dumps(stack.page_config()).encode(), {**headers, "Content-Type": CONTENT_TYPES[".json"]}
            )
            return
        file = (SITE_DIR / name).resolve()
        if file.parent != SITE_DIR or not file.is_file() or file.suffix not in CONTENT_TYPES:
            self._send(404, b"Not found\n", {**headers, "Content-Type": "text/plain"})
            return
        self._send(200, file.read_bytes(), {**headers, "Content-Type": CONTENT_TYPES[file.suffix]})

    def _api(self, method: str, path: str, query: str) -> None:
        from lambdas import live_api

        event = http_api_event(method, path, query, dict(self.headers.items()), self.client_address[0])
        answer = invoke("live-api", live_api.handler, event)
        self._send(int(answer["statusCode"]), str(answer.get("body") or "").encode(), dict(answer.get("headers") or {}))

    def _ingest(self) -> None:
        from lambdas import ingest

        body = self._body()
        event = rest_api_event(body, content_type=self.headers.get("Content-Type"), source_ip=self.client_address[0],
                               user_agent=self.headers.get("User-Agent"))  # fmt: skip
        answer = invoke("ingest", ingest.handler, event)
        self._send(int(answer["statusCode"]), str(answer.get("body") or "").encode(), dict(answer.get("headers") or {}))

    def _management(self, method: str, connection_id: str) -> None:
        push = self.server.stack.push_server
        body = self._body()
        status = push.post(connection_id, body) if method == "POST" else push.delete(connection_id)
        if status == 410:
            error = json.dumps({"message": f"connection {connection_id} is gone"}).encode()
            self._send(410, error, {"Content-Type": "application/json", "x-amzn-ErrorType": "GoneException"})
            return
        self._send(status if method == "POST" else 204, b"", {})


# ------------------------------------------------------------------ the stack


@dataclass
class LiveStack:
    """Everything of the local live tier; `with LiveStack(options) as stack:` starts and stops it."""

    options: LiveOptions = field(default_factory=LiveOptions)
    token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    requests: int = 0
    alerts_sunk: int = 0
    pushes: int = 0

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._flink: subprocess.Popen[str] | None = None
        self._flink_ready = threading.Event()
        self._moto: Any = None
        self._page: PageServer | None = None
        self.push_server = PushServer(self.options.push_port)
        self._scratch: contextlib.ExitStack = contextlib.ExitStack()
        self.problems: list[str] = []

    # --- addresses

    @property
    def base_url(self) -> str:
        assert self._page is not None, "the stack is not started"
        return f"http://127.0.0.1:{self._page.server_address[1]}"

    @property
    def page_url(self) -> str:
        """The page, signed in: the fragment carries the local token and never reaches a server."""
        return f"{self.base_url}/#token={self.token}"

    @property
    def push_url(self) -> str:
        return f"ws://127.0.0.1:{self.push_server.port}/{PUSH_STAGE}"

    @property
    def ingest_url(self) -> str:
        return f"{self.base_url}/events"

    @property
    def page_headers(self) -> dict[str, str]:
        return security_headers([f"ws://127.0.0.1:{self.push_server.port}"], https=False)

    def page_config(self) -> dict[str, Any]:
        return {"mode": "local", "region": REGION, "apiUrl": f"{self.base_url}/api", "pushUrl": self.push_url,
                "redirectUri": f"{self.base_url}/"}  # fmt: skip

    # --- lifecycle

    def __enter__(self) -> LiveStack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> None:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        workdir = self.options.workdir or Path(self._scratch.enter_context(_tempdir()))
        self._events_dir = workdir / "events"
        self._events_dir.mkdir(parents=True, exist_ok=True)
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._moto.start()
        host, port = self._moto.get_host_and_port()
        self.push_server.start()
        self._page = PageServer(self.options.port, self)
        self._configure_handlers(f"http://{host}:{port}")
        self._create_resources()
        self._spawn(self._page.serve_forever, "live-page-server")
        self._start_flink()
        self._spawn(self._forward_events, "live-events-to-flink")
        self._spawn(self._sink_alerts, "live-alert-sink")
        self._spawn(self._push_changes, "live-pusher")
        if self.options.traffic_per_second > 0:
            self._spawn(self._traffic, "live-traffic")
        if not self._flink_ready.wait(self.options.flink_ready_timeout_s):
            raise RuntimeError(
                f"the local Flink job did not start within {self.options.flink_ready_timeout_s:.0f} s "
                f"(is streaming/.venv set up? `make setup`): {' | '.join(self.problems[-3:])}"
            )

    def stop(self) -> None:
        self._stop.set()
        if self._flink is not None and self._flink.poll() is None:
            self._flink.terminate()
            try:
                self._flink.wait(15)
            except subprocess.TimeoutExpired:
                self._flink.kill()
                self._flink.wait(5)
        if self._page is not None:
            self._page.shutdown()
            self._page.server_close()
        self.push_server.stop()
        for thread in self._threads:
            thread.join(10)
        if self._moto is not None:
            self._moto.stop()
            self._moto = None
        from lambdas import ingest

        ingest.use_kinesis_client(None)
        before = getattr(self, "_environment_before", None)
        if before is not None:  # the handlers' environment pointed at a moto that is gone now
            os.environ.clear()
            os.environ.update(before)
        self._scratch.close()

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    # --- AWS stand-ins

    def _configure_handlers(self, moto_url: str) -> None:
        """The environment each function has in AWS, pointing at moto; then every handler forgets what it cached."""
        self._clients = _Clients(moto_url)
        self._environment_before = dict(os.environ)
        os.environ.update({
            "AWS_ENDPOINT_URL": moto_url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
            "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
            "EVENTS_STREAM_NAME": EVENTS_STREAM,
            "ALERTS_TABLE_NAME": REALTIME_TABLE,
            "ALERTS_TOPIC_ARN": f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:{PREFIX}-business",
            "ALERTS_TTL_DAYS": "3", "ALERTS_SUBJECT_PREFIX": f"[{PREFIX}]",
            "LIVE_TABLE_NAME": REALTIME_TABLE, "LIVE_BY_TYPE_INDEX": BY_TYPE_INDEX,
            "LIVE_ALLOWED_ORIGIN": self.base_url,
            "LIVE_AUTH_MODE": "local", "LIVE_LOCAL_TOKEN": self.token,
            "LIVE_CONNECTIONS_TABLE": CONNECTIONS_TABLE, "LIVE_CONNECTION_TTL_HOURS": "3",
            "LIVE_CONNECTIONS_URL": self.base_url,
        })  # fmt: skip
        # Imported after the environment is set, as Lambda imports a handler: Powertools reads it at import.
        from lambdas import alerts, ingest, live_api, live_connections, live_push

        for module in (alerts, live_api, live_connections, live_push):
            module.reset_cached_state()
        ingest.use_kinesis_client(self._clients.kinesis)

    def _create_resources(self) -> None:
        kinesis, dynamodb = self._clients.kinesis, self._clients.dynamodb
        for stream in (EVENTS_STREAM, ALERTS_STREAM):
            kinesis.create_stream(StreamName=stream, ShardCount=1)
        self._clients.sns.create_topic(Name=f"{PREFIX}-business")
        # The realtime table as the streaming tier creates it: keys, the byType index, the stream.
        dynamodb.create_table(
            TableName=REALTIME_TABLE, BillingMode="PAY_PER_REQUEST",
            KeySchema=_keys(PARTITION_KEY, SORT_KEY),
            AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"}
                                  for name in (PARTITION_KEY, SORT_KEY, ALERT_TYPE)],
            GlobalSecondaryIndexes=[{"IndexName": BY_TYPE_INDEX, "Projection": {"ProjectionType": "ALL"},
                                     "KeySchema": _keys(ALERT_TYPE, SORT_KEY)}],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": STREAM_VIEW_TYPE},
        )  # fmt: skip
        dynamodb.create_table(
            TableName=CONNECTIONS_TABLE, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "connectionId", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "connectionId", "AttributeType": "S"}],
        )  # fmt: skip

    # --- the pipeline

    def _start_flink(self) -> None:
        if not FLINK_PYTHON.is_file():
            raise RuntimeError(f"no PyFlink interpreter at {FLINK_PYTHON}: run `make setup`")
        command = [
            str(FLINK_PYTHON), "-m", "streaming.follow_local", "--input", str(self._events_dir),
            "--window-seconds", str(self.options.window_seconds), "--watermark-seconds",
            str(self.options.watermark_seconds), "--threshold", str(self.options.warn_threshold),
        ]  # fmt: skip
        self._flink = subprocess.Popen(
            command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1
        )
        self._spawn(self._read_flink, "live-flink-output")
        self._spawn(self._read_flink_errors, "live-flink-errors")

    def _read_flink(self) -> None:
        assert self._flink is not None and self._flink.stdout is not None
        for line in self._flink.stdout:
            line = line.strip()
            if not line:
                continue
            if line == '{"ready": true}':
                self._flink_ready.set()
                continue
            # As the Kinesis sink writes it: the record is its own partition key, cut to 256 characters.
            self._clients.kinesis.put_record(StreamName=ALERTS_STREAM, Data=line.encode(), PartitionKey=line[:256])

    def _read_flink_errors(self) -> None:
        assert self._flink is not None and self._flink.stderr is not None
        for line in self._flink.stderr:
            if "Exception" in line or "Error" in line:
                self.problems.append(line.strip()[:500])

    def _shard_records(self, stream: str) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        """Batches of new records of a one-shard stream, as a polling event source mapping reads them."""
        kinesis = self._clients.kinesis
        shard = kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
        iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
            "ShardIterator"
        ]
        while not self._stop.is_set():
            page = kinesis.get_records(ShardIterator=iterator, Limit=1000)
            iterator = page["NextShardIterator"]
            if page["Records"]:
                yield shard, page["Records"]
            else:
                self._stop.wait(POLL_SECONDS)

    def _forward_events(self) -> None:
        """The Flink source's stand-in: each batch of events-stream records becomes one new file in the watched dir."""
        for index, (_, records) in enumerate(self._guarded(self._shard_records(EVENTS_STREAM))):
            lines = b"".join(record["Data"] + b"\n" for record in records)
            hidden = self._events_dir / f".batch-{index:08d}.jsonl"
            hidden.write_bytes(lines)
            hidden.rename(self._events_dir / f"batch-{index:08d}.jsonl")

    def _sink_alerts(self) -> None:
        """The alert sink's event source mapping: batches in order; from a failed record on, retried, then given up."""
        from lambdas import alerts

        stream_arn = f"arn:aws:kinesis:{REGION}:{ACCOUNT_ID}:stream/{ALERTS_STREAM}"
        for shard, records in self._guarded(self._shard_records(ALERTS_STREAM)):
            pending = records
            for _attempt in range(3):
                answer = invoke("sink", alerts.handler, kinesis_event(stream_arn, shard, pending))
                failed = {failure["itemIdentifier"] for failure in answer.get("batchItemFailures", [])}
                if not failed:
                    break
                first = min(i for i, record in enumerate(pending) if record["SequenceNumber"] in failed)
                pending = pending[first:]
            else:
                self.problems.append(f"alert sink gave up on {len(pending)} record(s)")
            self.alerts_sunk += len(records)

    def _push_changes(self) -> None:
        """The pusher's event source mapping on the realtime table's stream, with the deployed filter."""
        from lambdas import live_push

        streams = self._clients.dynamodbstreams
        stream_arn = self._clients.dynamodb.describe_table(TableName=REALTIME_TABLE)["Table"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
            "ShardIterator"
        ]
        while not self._stop.is_set():
            try:
                page = streams.get_records(ShardIterator=iterator, Limit=1000)
                iterator = page.get("NextShardIterator") or iterator
                records = [{**r, "eventSourceARN": stream_arn} for r in page["Records"] if passes_push_filter(r)]
                if records:
                    invoke("push", live_push.handler, {"Records": records})
                    self.pushes += 1
                elif not page["Records"]:
                    self._stop.wait(POLL_SECONDS)
            except Exception as error:
                if self._stop.is_set():
                    return
                self.problems.append(f"pusher: {type(error).__name__}: {error}"[:500])
                self._stop.wait(1)

    def _traffic(self) -> None:
        """Ordinary events at a steady rate, so windows keep closing and the chart keeps moving."""
        interval = 1 / self.options.traffic_per_second
        index = 0
        while not self._stop.wait(interval):
            index += 1
            action = TRAFFIC_ACTIONS[index % len(TRAFFIC_ACTIONS)]
            self.send_events([self.event(action, user=f"visitor-{index % 37}")])

    def _guarded(
        self, batches: Iterator[tuple[str, list[dict[str, Any]]]]
    ) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        try:
            yield from batches
        except Exception as error:
            if not self._stop.is_set():
                self.problems.append(f"{type(error).__name__}: {error}"[:500])
                log.exception("local pipeline stage failed")

    # --- sending events, as a client would

    @staticmethod
    def event(action: str, error_msg: str | None = None, user: str = "local-user",
              created_at: datetime | None = None) -> dict[str, Any]:  # fmt: skip
        event: dict[str, Any] = {
            "eventId": str(uuid.uuid4()), "action": action, "userId": user, "objectId": "doc-1", "bizId": "biz-1",
            "createdAt": (created_at or datetime.now(UTC)).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }  # fmt: skip
        if error_msg is not None:
            event["errorMsg"] = error_msg
        return event

    def send_events(self, events: list[dict[str, Any]]) -> dict[str, Any]:
        """POST the events to the local ingest route, as a client does; the handler's answer."""
        import urllib.request

        request = urllib.request.Request(
            self.ingest_url, data=json.dumps({"events": events}).encode(), method="POST",
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=30) as answer:
            result: dict[str, Any] = json.loads(answer.read())
        return result


def _keys(hash_key: str, range_key: str) -> list[dict[str, str]]:
    return [{"AttributeName": hash_key, "KeyType": "HASH"}, {"AttributeName": range_key, "KeyType": "RANGE"}]


class _Clients:
    """boto3 clients of the stand-ins, for the stack's own plumbing (the handlers make their own)."""

    def __init__(self, endpoint: str) -> None:
        import boto3

        def client(service: str) -> Any:
            return boto3.client(service, endpoint_url=endpoint, region_name=REGION,
                                aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip

        self.kinesis = client("kinesis")
        self.dynamodb = client("dynamodb")
        self.dynamodbstreams = client("dynamodbstreams")
        self.sns = client("sns")


@contextlib.contextmanager
def _tempdir() -> Iterator[str]:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="uba-live-") as directory:
        yield directory
