"""Change processor: Firehose's transformation of the `changes` stream into the lake's rows.

Firehose (the lake's `changes-to-lake` delivery stream) invokes this function with batches of
`changes` stream records, each one DMS message (`lambdas.change_records`). For each it answers:

- `Ok`, with the flat row (`flatten()`) as JSON and the partition keys `schema`, `table` and
  `day`, from which Firehose writes Parquet under `changes/<schema>/<table>/day=<YYYY-MM-DD>/`;
- `ProcessingFailed` for a record that is not a DMS change of a replicated table (not JSON, a
  table the stack does not replicate, a value of the wrong type): Firehose keeps it, as it
  arrived, under `errors/changes/processing-failed/`, and the failure is counted. Nothing is
  dropped.

A row whose source carries columns the stack does not list (a column added to the table) is
delivered with the columns it knows, and each such column is logged and counted as schema drift
(metric `UnmappedColumns` per table): `python -m tools.cdc drift` names the fix.

The table list comes from the environment (`CHANGE_TABLES`, written by the lake tier from the
stack's `uba:cdc.tables`). Standard library only, like the other handlers' archive; metrics are
CloudWatch embedded-metric-format log lines.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import time
from collections import Counter
from collections.abc import Mapping
from functools import cache
from typing import Any

from lambdas.change_records import ChangeRecordError, TableSpec, flatten, parse_tables

LOGGER = logging.getLogger(__name__)
LOGGER.setLevel(logging.INFO)

TABLES_ENV = "CHANGE_TABLES"
METRICS_NAMESPACE = "uba/changes"


@cache
def tables() -> dict[str, TableSpec]:
    return parse_tables(os.environ[TABLES_ENV])


Answer = tuple[dict[str, Any], str | None, tuple[str, ...]]


def transform(record: Mapping[str, Any], specs: Mapping[str, TableSpec]) -> Answer:
    """Firehose's answer for one record, the reason it failed (if it did) and its unmapped columns."""
    record_id = record.get("recordId")
    data = str(record.get("data", ""))
    try:
        message = json.loads(base64.b64decode(data, validate=True))
        if not isinstance(message, dict):
            raise ChangeRecordError("not a JSON object")
        flat = flatten(message, specs)
    except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError) as error:
        return {"recordId": record_id, "result": "ProcessingFailed", "data": data}, f"not JSON: {error}", ()
    except ChangeRecordError as error:
        return {"recordId": record_id, "result": "ProcessingFailed", "data": data}, str(error), ()
    encoded = base64.b64encode((json.dumps(flat.row, separators=(",", ":")) + "\n").encode()).decode()
    answer = {
        "recordId": record_id,
        "result": "Ok",
        "data": encoded,
        "metadata": {"partitionKeys": {"schema": flat.schema, "table": flat.table, "day": flat.day}},
    }
    return answer, None, tuple(f"{flat.schema}.{flat.table}.{column}" for column in flat.unmapped)


def _metric(name: str, value: int, **properties: str) -> dict[str, Any]:
    """One embedded-metric-format document, per function (`FunctionName`, as the alarms name it)."""
    function = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "local")
    return {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {"Namespace": METRICS_NAMESPACE, "Dimensions": [["FunctionName"]], "Metrics": [{"Name": name}]}
            ],
        },
        "FunctionName": function,
        name: value,
        **properties,
    }


def _metrics(failed: int, unmapped: Counter[str]) -> None:
    """CloudWatch reads embedded-metric-format lines from the log output: metrics without an API call."""
    documents = [_metric("RecordsRejected", failed)]
    by_table: Counter[str] = Counter()
    for column, count in unmapped.items():
        by_table[column.rsplit(".", 1)[0]] += count
    documents += [_metric("UnmappedColumns", count, Table=table) for table, count in sorted(by_table.items())]
    for document in documents:
        print(json.dumps(document))


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    specs = tables()
    answers: list[dict[str, Any]] = []
    failures: list[str] = []
    unmapped: Counter[str] = Counter()
    for record in event.get("records", []):
        answer, reason, drift = transform(record, specs)
        answers.append(answer)
        if reason is not None:
            failures.append(f"{answer['recordId']}: {reason}")
        unmapped.update(drift)
    if failures:
        LOGGER.error("changes kept under errors/changes/processing-failed/: %s", json.dumps(failures[:20]))
    if unmapped:
        LOGGER.warning(
            "schema drift: the source sends columns the stack does not list (run `python -m tools.cdc drift`): %s",
            json.dumps(sorted(unmapped)),
        )
    _metrics(len(failures), unmapped)
    return {"records": answers}
