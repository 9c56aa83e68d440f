"""The partition registrar against moto's Glue: S3 ObjectCreated records in, Glue partitions out."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus

import boto3
import pytest
from moto import mock_aws

from lambdas import partitions
from sql.lake import ARRIVAL_PARTITION_KEYS, event_partition

REGION = "eu-west-1"
DATABASE, TABLE, BUCKET = "uba_test_lake", "events_by_arrival", "uba-test-lake"
PARQUET = {
    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"},
    "Columns": [{"Name": "event_id", "Type": "string"}, {"Name": "received_at", "Type": "timestamp"}],
}


@pytest.fixture
def glue(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    environment = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION}
    for name, value in {**environment, "GLUE_DATABASE": DATABASE, "GLUE_TABLE": TABLE}.items():
        monkeypatch.setenv(name, value)
    partitions._glue.cache_clear()
    with mock_aws():
        client = boto3.client("glue", region_name=REGION)
        client.create_database(DatabaseInput={"Name": DATABASE})
        client.create_table(
            DatabaseName=DATABASE,
            TableInput={
                "Name": TABLE,
                "TableType": "EXTERNAL_TABLE",
                "StorageDescriptor": {**PARQUET, "Location": f"s3://{BUCKET}/events/"},
                "PartitionKeys": [{"Name": key, "Type": "string"} for key in ARRIVAL_PARTITION_KEYS],
            },
        )
        yield client
    partitions._glue.cache_clear()


def created(key: str, at: str = "2026-03-02T10:15:00.000Z") -> dict[str, Any]:
    """One S3 ObjectCreated record as S3 sends it (the key URL-encoded)."""
    return {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "eventTime": at,
            "s3": {"bucket": {"name": BUCKET}, "object": {"key": quote_plus(key), "size": 1024}}}  # fmt: skip


def registered(glue: Any) -> list[tuple[list[str], str]]:
    found = glue.get_partitions(DatabaseName=DATABASE, TableName=TABLE)["Partitions"]
    return sorted((p["Values"], p["StorageDescriptor"]["Location"]) for p in found)


def test_objects_of_one_folder_and_hour_register_one_partition_once_however_often_s3_says_so(glue: Any) -> None:
    # A late event: created on 1 March, it lands in the lake on 2 March at 10:15 UTC.
    folder = event_partition(datetime(2026, 3, 1, 23, 59, tzinfo=UTC))
    event = {"Records": [created(f"{folder}part-1.parquet"), created(f"{folder}part-2.parquet")]}
    assert partitions.handler(event, None)["created"] == 1
    assert partitions.handler(event, None)["created"] == 0  # S3 retries, or delivers twice: still one partition
    expected_values = ["2026030210", "2026", "03", "01", "23"]
    assert registered(glue) == [(expected_values, f"s3://{BUCKET}/{folder}")]
    [stored] = glue.get_partitions(DatabaseName=DATABASE, TableName=TABLE)["Partitions"]
    assert stored["StorageDescriptor"]["SerdeInfo"] == PARQUET["SerdeInfo"]  # what Spectrum reads it with
    assert stored["StorageDescriptor"]["Columns"] == PARQUET["Columns"]


def test_the_same_folder_arriving_again_in_a_later_hour_is_a_partition_of_that_hour(glue: Any) -> None:
    folder = event_partition(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    partitions.handler({"Records": [created(f"{folder}a.parquet", "2026-03-02T09:59:59Z")]}, None)
    partitions.handler({"Records": [created(f"{folder}b.parquet", "2026-03-02T10:00:01Z")]}, None)
    assert [values[0] for values, _ in registered(glue)] == ["2026030209", "2026030210"]


def test_keys_outside_events_are_ignored_and_malformed_ones_reported_not_raised(glue: Any) -> None:
    good = event_partition(datetime(2026, 3, 2, 10, tzinfo=UTC)) + "ok.parquet"
    event = {"Records": [
        created("errors/format-conversion-failed/year=2026/month=03/day=02/hour=10/x"),
        created("events/year=2026/month=3/day=02/hour=10/short-month.parquet"),
        created("events/stray.parquet"),
        created(good),
    ]}  # fmt: skip
    result = partitions.handler(event, None)
    assert result["ignored"] == ["errors/format-conversion-failed/year=2026/month=03/day=02/hour=10/x"]
    assert result["malformed"] == ["events/year=2026/month=3/day=02/hour=10/short-month.parquet",
                                   "events/stray.parquet"]  # fmt: skip
    assert [values for values, _ in registered(glue)] == [["2026030210", "2026", "03", "02", "10"]]


def test_a_glue_error_other_than_already_exists_is_raised_so_s3_retries(glue: Any) -> None:
    glue.delete_table(DatabaseName=DATABASE, Name=TABLE)
    key = event_partition(datetime(2026, 3, 2, 10, tzinfo=UTC)) + "ok.parquet"
    with pytest.raises(Exception, match="EntityNotFound"):
        partitions.handler({"Records": [created(key)]}, None)


def test_the_handler_reads_the_layout_sql_lake_states() -> None:
    moment = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    key = event_partition(moment) + "f.parquet"
    found = partitions.sort_records([created(key, "2027-01-01T00:00:00Z")])
    assert found.partitions[0].values == ("2027010100", *f"{moment:%Y %m %d %H}".split())
    assert event_partition(moment).split("/", 1)[0] + "/" == partitions.EVENTS_PREFIX
