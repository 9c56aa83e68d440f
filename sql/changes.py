"""The lake's layout of replicated tables: where Firehose writes each table's changes, and their Glue schema.

Stated once, for everything that writes or reads them: the lake tier (Firehose prefixes, the
Glue tables and their projection, the warehouse's Spectrum grants), the local change lake
(`tools.local.changes`) and the warehouse's entity SQL (`sql.redshift.entities`).

    changes/<schema>/<table>/day=YYYY-MM-DD/<file>.parquet   (UTC day of the change's commit)
    errors/changes/<error type>/day=YYYY-MM-DD/               (arrival day; records kept as they came)

Each replicated table has two Glue tables over its prefix: `changes_<schema>_<table>`,
partitioned by `day` and found by Athena's partition projection, and
`changes_<schema>_<table>_spectrum`, the same files without partition keys, which Redshift
Spectrum reads (Spectrum ignores projection). Their columns are the change metadata
(`lambdas.change_records.METADATA_COLUMNS`), the table's own columns, and its key before an
update that changed it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from lambdas.change_records import METADATA_COLUMNS, ColumnType, TableSpec, union_columns
from lambdas.events import stored_columns
from settings.cdc import ReplicatedTable

CHANGES_PREFIX = "changes/"
ERRORS_PREFIX = "errors/changes/"
PARTITION_KEY = "day"
# Days Athena projects partitions for: from the first day the platform could replicate to today.
PROJECTED_DAYS = "2020-01-01,NOW"

GLUE_TYPES: dict[ColumnType, str] = {
    "string": "string",
    "bigint": "bigint",
    "double": "double",
    "boolean": "boolean",
    "timestamp": "timestamp",
}


@dataclass(frozen=True)
class ChangeTable:
    """A replicated table as the lake and the warehouse see it."""

    schema: str
    table: str
    entity: str
    spec: TableSpec
    event_column: str | None = None  # the dwd_events column naming a row (`object_id`, `biz_id`), if any
    label_column: str | None = None

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.table}"

    @property
    def prefix(self) -> str:
        """`changes/<schema>/<table>/`."""
        return f"{CHANGES_PREFIX}{self.schema}/{self.table}/"

    @property
    def glue_table(self) -> str:
        """The projected table Athena queries: `changes_<schema>_<table>`."""
        return f"changes_{self.schema}_{self.table}"

    @property
    def spectrum_table(self) -> str:
        """The unpartitioned table Redshift Spectrum reads: `changes_<schema>_<table>_spectrum`."""
        return f"{self.glue_table}_spectrum"

    def lake_columns(self) -> list[tuple[str, str]]:
        """(name, Glue type) of every column of the table's lake rows, in order."""
        own = [(name, GLUE_TYPES[column_type]) for name, column_type in self.spec.lake_columns()]
        return [(c.name, GLUE_TYPES[c.type]) for c in METADATA_COLUMNS] + own


def conversion_columns(tables: Sequence[ChangeTable]) -> list[tuple[str, str]]:
    """The one Parquet schema Firehose converts every table's rows with: the union of their columns."""
    union = union_columns({t.qualified: t.spec for t in tables})
    return [(name, GLUE_TYPES[column_type]) for name, column_type in union]


def delivery_prefix() -> str:
    """Firehose's S3 prefix: the partition keys the change processor returns for each record."""
    keys = "!{partitionKeyFromLambda:schema}/!{partitionKeyFromLambda:table}"
    return f"{CHANGES_PREFIX}{keys}/{PARTITION_KEY}=!{{partitionKeyFromLambda:day}}/"


def error_prefix() -> str:
    """Where records the processor or the conversion refused are kept, by failure type and arrival day."""
    return ERRORS_PREFIX + "!{firehose:error-output-type}/day=!{timestamp:yyyy-MM-dd}/"


def change_partition(schema: str, table: str, day: str) -> str:
    """`changes/<schema>/<table>/day=<day>/`: the folder Firehose writes a day's changes of a table to."""
    return f"{CHANGES_PREFIX}{schema}/{table}/{PARTITION_KEY}={day}/"


def projection_parameters(bucket: str, table: ChangeTable) -> dict[str, str]:
    """Glue table parameters for Athena's partition projection over a table's days."""
    return {
        "projection.enabled": "true",
        f"projection.{PARTITION_KEY}.type": "date",
        f"projection.{PARTITION_KEY}.format": "yyyy-MM-dd",
        f"projection.{PARTITION_KEY}.range": PROJECTED_DAYS,
        f"projection.{PARTITION_KEY}.interval": "1",
        f"projection.{PARTITION_KEY}.interval.unit": "DAYS",
        "storage.location.template": f"s3://{bucket}/{table.prefix}{PARTITION_KEY}=${{{PARTITION_KEY}}}/",
    }


def tables_by_name(tables: Sequence[ChangeTable]) -> Mapping[str, TableSpec]:
    return {t.qualified: t.spec for t in tables}


def change_table(table: ReplicatedTable) -> ChangeTable:
    """A replicated table of the stack's settings, as the lake and the warehouse see it."""
    event_columns = {c.wire_name: c.column_name for c in stored_columns()}
    return ChangeTable(
        schema=table.schema_name,
        table=table.table_name,
        entity=table.entity,
        spec=TableSpec(key=tuple(table.primary_key), columns=dict(table.columns)),
        event_column=event_columns[table.event_field] if table.event_field else None,
        label_column=table.label_column,
    )


def change_tables(tables: Sequence[ReplicatedTable]) -> list[ChangeTable]:
    return [change_table(table) for table in tables]
