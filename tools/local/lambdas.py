"""Run the ingest Lambda here: API Gateway events, a Lambda context, a moto Kinesis stream.

Shared by the tests, the local producer (`python -m tools.produce --local`) and the
benchmark, so all three drive the handler the way API Gateway and Lambda do.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tools.local import ACCOUNT_ID as ACCOUNT
from tools.local import REGION


@dataclass
class FakeLambdaContext:
    """The parts of the Lambda context the handler and Powertools read; the clock is real."""

    timeout_ms: int = 15_000
    function_name: str = "uba-ingest"
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        elapsed_ms = (time.monotonic() - self._started) * 1000
        return max(0, int(self.timeout_ms - elapsed_ms))


def rest_api_event(
    body: str | bytes | None,
    *,
    content_type: str | None = "application/json",
    base64_encoded: bool = False,
    source_ip: str = "203.0.113.10",
    user_agent: str | None = "uba-producer/1.0",
    method: str = "POST",
    path: str = "/events",
) -> dict[str, Any]:
    """A REST API (v1) Lambda proxy integration event, as API Gateway sends it."""
    headers: dict[str, str] = {"Host": "abc123.execute-api.eu-west-1.amazonaws.com", "X-Api-Key": "local"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    if user_agent is not None:
        headers["User-Agent"] = user_agent
    if isinstance(body, bytes):
        body = base64.b64encode(body).decode("ascii") if base64_encoded else body.decode("utf-8")
    elif body is not None and base64_encoded:
        body = base64.b64encode(body.encode("utf-8")).decode("ascii")
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": path,
            "httpMethod": method,
            "path": f"/prod{path}",
            "stage": "prod",
            "requestId": str(uuid.uuid4()),
            "accountId": ACCOUNT,
            "apiId": "abc123",
            "identity": {"sourceIp": source_ip, "userAgent": user_agent, "apiKey": "local"},
            "requestTimeEpoch": int(time.time() * 1000),
        },
        "body": body,
        "isBase64Encoded": base64_encoded,
    }


@dataclass(frozen=True)
class HttpAnswer:
    """A proxy integration response, read back the way a client would."""

    status: int
    headers: dict[str, str]
    body: dict[str, Any]


def read_answer(response: dict[str, Any]) -> HttpAnswer:
    headers = {name: values[-1] for name, values in response.get("multiValueHeaders", {}).items()}
    headers.update(response.get("headers") or {})
    return HttpAnswer(response["statusCode"], headers, json.loads(response["body"]))


@dataclass(frozen=True)
class StreamRecord:
    shard_id: str
    sequence_number: str
    partition_key: str
    data: bytes

    def json(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.data.decode("utf-8"))
        return parsed


def create_stream(client: Any, name: str, shard_count: int = 4) -> None:
    client.create_stream(StreamName=name, ShardCount=shard_count)
    client.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0, "MaxAttempts": 5})


def read_stream(client: Any, name: str) -> list[StreamRecord]:
    """Every record in the stream, shard by shard, each shard in sequence order."""
    records: list[StreamRecord] = []
    for shard in client.list_shards(StreamName=name)["Shards"]:
        iterator = client.get_shard_iterator(
            StreamName=name, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = client.get_records(ShardIterator=iterator, Limit=10_000)
            records.extend(
                StreamRecord(shard["ShardId"], r["SequenceNumber"], r["PartitionKey"], r["Data"])
                for r in page["Records"]
            )
            if not page["Records"]:
                break
            iterator = page.get("NextShardIterator")
    return records


class ApiCallCounter:
    """Counts a client's API calls by operation, from botocore's `before-call` event.

    `before-call` fires once per operation the caller makes, before any HTTP send, so
    moto's in-process responses are counted exactly like calls to AWS would be.
    """

    def __init__(self, client: Any) -> None:
        self.calls: Counter[str] = Counter()
        client.meta.events.register(f"before-call.{client.meta.service_model.service_name}", self._count)

    def _count(self, event_name: str, **_: Any) -> None:
        self.calls[event_name.rsplit(".", 1)[-1]] += 1

    @property
    def total(self) -> int:
        return sum(self.calls.values())


@contextmanager
def local_kinesis(stream_name: str, shard_count: int = 4) -> Iterator[Any]:
    """A moto Kinesis endpoint with one stream, in this process; yields a boto3 client."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.client(
            "kinesis", region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        create_stream(client, stream_name, shard_count)
        yield client
