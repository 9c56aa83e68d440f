"""Build Lambda events exactly as a Kinesis event source mapping delivers them.

Each record's payload is base64 in `kinesis.data`; sequence numbers are the long decimal
strings Kinesis assigns, increasing within the shard, and are what a partial batch
response reports back as `itemIdentifier`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tools.local import ACCOUNT_ID as ACCOUNT
from tools.local import REGION

STREAM_ARN = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/alerts"
SHARD_ID = "shardId-000000000000"
_FIRST_SEQUENCE = 49_654_837_260_532_497_911_452_071_201_982_441_232_155_462_716_383_297_538


def _as_bytes(payload: bytes | str | dict[str, Any]) -> bytes:
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        return payload.encode()
    return json.dumps(payload).encode()


def kinesis_record(
    payload: bytes | str | dict[str, Any], sequence_number: str, partition_key: str = "alerts"
) -> dict[str, Any]:
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": partition_key,
            "sequenceNumber": sequence_number,
            "data": base64.b64encode(_as_bytes(payload)).decode("ascii"),
            "approximateArrivalTimestamp": 1_767_225_660.123,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{SHARD_ID}:{sequence_number}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": f"arn:aws:iam::{ACCOUNT}:role/alert-sink",
        "awsRegion": REGION,
        "eventSourceARN": STREAM_ARN,
    }


def kinesis_event(payloads: Iterable[bytes | str | dict[str, Any]], first_offset: int = 0) -> dict[str, Any]:
    """One batch; dict payloads become JSON, bytes/str are sent as they are (for bad input)."""
    records = [
        kinesis_record(payload, str(_FIRST_SEQUENCE + (first_offset + index) * 1_000))
        for index, payload in enumerate(payloads)
    ]
    return {"Records": records}


def sequence_numbers(event: dict[str, Any]) -> list[str]:
    return [record["kinesis"]["sequenceNumber"] for record in event["Records"]]


def failed_sequence_numbers(response: dict[str, Any]) -> list[str]:
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


@dataclass(frozen=True)
class FakeLambdaContext:
    """The attributes Powertools' Logger reads from the real context object."""

    function_name: str = "uba-test-alert-sink"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:uba-test-alert-sink"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"
    log_group_name: str = "/aws/lambda/uba-test-alert-sink"
    log_stream_name: str = "2026/01/01/[$LATEST]abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000
