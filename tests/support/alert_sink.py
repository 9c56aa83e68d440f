"""The alert sink as deployed, in moto: the handler module, its table, topic and a subscriber queue.

`alerts` imports `lambdas.alerts` under Powertools settings as Lambda would at cold start;
`sink` builds the realtime table (the key schema the streaming tier creates), the business
topic with an SQS subscriber, and the handler's environment. Both are fixtures of every
test (see `tests/conftest.py`); the handler tests and the end-to-end test use them.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from components.streaming.tier import ALERT_TYPE, BY_TYPE_INDEX, PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE
from tests.support.kinesis_events import REGION, FakeLambdaContext

TABLE = "uba-test-realtime"
TTL_DAYS = 3


@pytest.fixture(scope="module")
def alerts() -> Iterator[ModuleType]:
    """Import the handler under Powertools settings, as Lambda would at cold start."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("POWERTOOLS_SERVICE_NAME", "alert-sink")
        patch.setenv("POWERTOOLS_METRICS_NAMESPACE", "uba-test")
        patch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
        patch.setenv("POWERTOOLS_LOG_LEVEL", "INFO")
        module = importlib.reload(importlib.import_module("lambdas.alerts"))
        yield module


@dataclass
class Sink:
    """The deployed function and the resources around it, all in moto."""

    alerts: ModuleType
    dynamodb: Any
    sqs: Any
    queue_url: str

    def handle(self, event: dict[str, Any]) -> dict[str, Any]:
        return self.alerts.handler(event, FakeLambdaContext())

    def items(self) -> dict[tuple[str, str], dict[str, Any]]:
        table = boto3.resource("dynamodb", region_name=REGION).Table(TABLE)
        return {(item["pk"], item["sk"]): item for item in table.scan(ConsistentRead=True)["Items"]}

    def notifications(self) -> list[dict[str, Any]]:
        """SNS envelopes delivered since the last call (received and deleted)."""
        received: list[dict[str, Any]] = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
            messages = batch.get("Messages", [])
            if not messages:
                return received
            for message in messages:
                received.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def fail_calls(
        self, client: Any, operation: str, when: Callable[[dict[str, Any]], bool], error: Exception
    ) -> Callable[[], None]:
        """Make the handler's `client` raise `error` on matching `operation` calls; returns the undo."""
        event_name = f"before-parameter-build.{client.meta.service_model.service_id.hyphenize()}.{operation}"

        def hook(params: dict[str, Any], **_: Any) -> None:
            if when(params):
                raise error

        client.meta.events.register(event_name, hook)
        return lambda: client.meta.events.unregister(event_name, hook)


@pytest.fixture
def sink(alerts: ModuleType, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sink]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": PARTITION_KEY, "AttributeType": "S"},
                {"AttributeName": SORT_KEY, "AttributeType": "S"},
                {"AttributeName": ALERT_TYPE, "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
                {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": BY_TYPE_INDEX,
                    "KeySchema": [
                        {"AttributeName": ALERT_TYPE, "KeyType": "HASH"},
                        {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )
        dynamodb.update_time_to_live(
            TableName=TABLE, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
        )
        sns = boto3.client("sns", region_name=REGION)
        topic_arn = sns.create_topic(Name="uba-test-business-alerts")["TopicArn"]
        sqs = boto3.client("sqs", region_name=REGION)
        queue_url = sqs.create_queue(QueueName="alert-subscriber")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
        monkeypatch.setenv("ALERTS_TABLE_NAME", TABLE)
        monkeypatch.setenv("ALERTS_TOPIC_ARN", topic_arn)
        monkeypatch.setenv("ALERTS_TTL_DAYS", str(TTL_DAYS))
        monkeypatch.setenv("ALERTS_SUBJECT_PREFIX", "[uba test]")
        alerts.reset_cached_state()
        yield Sink(alerts=alerts, dynamodb=dynamodb, sqs=sqs, queue_url=queue_url)
        alerts.reset_cached_state()


# ---------------------------------------------------------------- alert records as Flink writes them
