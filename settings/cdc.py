"""Settings of the change-data-capture tier (`uba:cdc`): which database DMS reads, and what becomes of its tables.

The tier is off unless a stack names a source database: without a `uba:cdc` section (or with
`enabled: false`) nothing of it is built. With one, DMS Serverless replicates the listed tables
(full load, then ongoing changes) from an existing RDS/Aurora MySQL or PostgreSQL database into
the Kinesis `changes` stream. The database's credentials stay in the Secrets Manager secret the
stack names (`source.secret_arn`); no password is ever a setting.

Each replicated table declares its columns and primary key here, because everything downstream
is generated from them: the DMS table mappings, the lake's Glue tables, the warehouse's
`dim_<entity>` tables and the Flink job's entity views. `python -m tools.cdc drift` compares them
with the live database, so a column added at the source is a clear message, not a silent miss.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import Field

from settings.base import Matching, Model, SecurityGroupId, StreamSettings, SubnetId, TierSettings, VpcId

# The column types a replicated table may declare. DMS writes each as JSON (numbers for integers and
# floats, text for timestamps); the lake, the warehouse and the Flink job each map them to their own.
ColumnType = Literal["string", "bigint", "double", "boolean", "timestamp"]
COLUMN_TYPES: tuple[ColumnType, ...] = ("string", "bigint", "double", "boolean", "timestamp")
# Which field of a user event names a row of a table: the Flink job joins on it, the warehouse's DWS views too.
EventField = Literal["objectId", "bizId"]
EVENT_FIELDS: tuple[EventField, ...] = ("objectId", "bizId")
Engine = Literal["postgres", "aurora-postgresql", "mysql", "aurora-mysql"]
# DMS's `EngineName` of each source engine (CreateEndpoint): Aurora MySQL is `aurora`.
DMS_ENGINE_NAMES: dict[Engine, str] = {
    "postgres": "postgres",
    "aurora-postgresql": "aurora-postgresql",
    "mysql": "mysql",
    "aurora-mysql": "aurora",
}
DEFAULT_PORTS: dict[Engine, int] = {"postgres": 5432, "aurora-postgresql": 5432, "mysql": 3306, "aurora-mysql": 3306}
# DMS Serverless capacity units (ReplicationConfig ComputeConfig).
CapacityUnits = Literal[1, 2, 4, 8, 16, 32, 64, 128, 192, 256, 384]
# Columns the lake and the warehouse add to every replicated row start with this; a source column may not.
METADATA_PREFIX = "cdc_"
# The table list reaches the change processor Lambda as an environment variable; Lambda allows 4 KB for all
# of a function's variables together, and Powertools' own take a few hundred bytes of it.
PROCESSOR_CONFIG_LIMIT = 3072

Identifier = Annotated[
    str,
    Matching(r"[a-z_][a-z0-9_]{0,62}", "1-63 lowercase letters, digits and underscores, not starting with a digit"),
]
TableName = Annotated[
    str,
    Matching(
        r"[a-z_][a-z0-9_]{0,62}\.[a-z_][a-z0-9_]{0,62}",
        "schema.table, each 1-63 lowercase letters, digits and underscores (for MySQL the schema is the database)",
    ),
]
EntityName = Annotated[
    str,
    Matching(r"[a-z][a-z0-9_]{0,29}", "1-30 lowercase letters, digits and underscores, starting with a letter"),
]
SecretArn = Annotated[
    str,
    Matching(
        r"arn:aws[a-z-]*:secretsmanager:[a-z]{2}(-gov)?-[a-z]+-\d:\d{12}:secret:[A-Za-z0-9/_+=.@-]+",
        "a Secrets Manager secret ARN such as arn:aws:secretsmanager:eu-west-1:123456789012:secret:app-db-AbCdEf",
    ),
]
KmsKeyArn = Annotated[
    str,
    Matching(
        r"arn:aws[a-z-]*:kms:[a-z]{2}(-gov)?-[a-z]+-\d:\d{12}:key/[0-9a-f-]{36}",
        "a KMS key ARN such as arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ),
]
DatabaseName = Annotated[
    str,
    Matching(
        r"[A-Za-z_][A-Za-z0-9_$-]{0,62}",
        "1-63 letters, digits, underscores, dollar signs and hyphens, not starting with a digit",
    ),
]


class SourceSettings(Model):
    engine: Engine = Field(description="The source database's engine (an existing RDS or Aurora database).")
    database: DatabaseName = Field(description="The database DMS connects to (PostgreSQL: the database name; "
                                   "MySQL: any database the replication user may use).")  # fmt: skip
    secret_arn: SecretArn = Field(
        description="Secrets Manager secret holding the replication user's `username`, `password`, `host` and "
        "`port` (the JSON DMS reads); only its ARN is ever in the stack file."
    )
    secret_kms_key_arn: KmsKeyArn | None = Field(
        default=None,
        description="The customer-managed KMS key that encrypts the secret, if not Secrets Manager's own key: "
        "DMS's secret role may decrypt with it.",
    )
    port: int | None = Field(default=None, ge=1, le=65535, description="Database port; the engine's default if unset.")
    security_group_id: SecurityGroupId = Field(
        description="The database's security group: it gains one rule admitting DMS on the database port."
    )
    ssl_mode: Literal["require", "verify-ca", "verify-full"] = Field(
        default="require", description="TLS to the database; DMS's `none` is not offered."
    )

    @property
    def database_port(self) -> int:
        return self.port if self.port is not None else DEFAULT_PORTS[self.engine]

    @property
    def is_postgres(self) -> bool:
        return self.engine in ("postgres", "aurora-postgresql")


class CdcNetworkSettings(Model):
    vpc_id: VpcId = Field(description="The VPC of the source database.")
    subnet_ids: list[SubnetId] = Field(
        min_length=2,
        description="Private subnets DMS runs in, in at least two Availability Zones, with a route to the database.",
    )
    vpc_endpoints: bool = Field(
        default=True,
        description="Create interface endpoints for Kinesis Data Streams and Secrets Manager in the subnets, so "
        "DMS reaches both without the internet. Set false when the VPC already has them (or a NAT route): a "
        "second endpoint with private DNS for the same service is refused.",
    )


class ReplicatedTable(Model):
    table: TableName = Field(description="`schema.table` in the source database.")
    entity: EntityName = Field(description="What a row is, e.g. `object`: names `dim_<entity>` in the warehouse.")
    primary_key: list[Identifier] = Field(min_length=1, description="The table's primary-key columns.")
    columns: dict[Identifier, ColumnType] = Field(
        min_length=1,
        description="Every column to replicate and its type (`string`, `bigint`, `double`, `boolean`, "
        "`timestamp`); `.venv/bin/python -m tools.cdc drift` compares them with the database.",
    )
    event_field: EventField | None = Field(
        default=None,
        description="The user-event field that names a row of this table (`objectId` or `bizId`): alerts and "
        "counts carry its label, and the warehouse joins its dimension on it.",
    )
    label_column: Identifier | None = Field(
        default=None, description="The column alerts carry as the entity's name (required with `event_field`)."
    )

    @property
    def schema_name(self) -> str:
        return self.table.split(".", 1)[0]

    @property
    def table_name(self) -> str:
        return self.table.split(".", 1)[1]

    def problems(self, where: str) -> list[str]:
        """This table's own contradictions, each `<where>.<key>: reason`."""
        found: list[str] = []
        for column in self.columns:
            if column.startswith(METADATA_PREFIX):
                found.append(
                    f"{where}.columns: {column!r} starts with {METADATA_PREFIX!r}, which the lake and warehouse "
                    f"reserve for change metadata; rename it at the source or leave it out"
                )
        missing = [key for key in self.primary_key if key not in self.columns]
        if missing:
            found.append(f"{where}.primary_key: {missing} must be listed in columns")
        if len(set(self.primary_key)) != len(self.primary_key):
            found.append(f"{where}.primary_key: lists a column twice")
        if self.event_field is not None:
            if len(self.primary_key) != 1:
                found.append(f"{where}.event_field: an event names one value, so the primary key must be one "
                             f"column, got {self.primary_key}")  # fmt: skip
            if self.label_column is None:
                found.append(f"{where}.label_column: required with event_field (the name alerts carry)")
        if self.label_column is not None and self.label_column not in self.columns:
            found.append(f"{where}.label_column: {self.label_column!r} must be listed in columns")
        return found


class ReplicationSettings(Model):
    min_capacity_units: CapacityUnits = Field(default=1, description="DMS Serverless minimum DCUs (1 DCU = 2 GB).")
    max_capacity_units: CapacityUnits = Field(default=4, description="DMS Serverless maximum DCUs.")
    multi_az: bool = Field(default=False, description="Run the replication with a standby in a second AZ.")
    start: bool = Field(
        default=True,
        description="Start the replication on deploy (full load, then ongoing changes); false creates it stopped.",
    )


class CdcAlarmSettings(Model):
    latency_seconds: int = Field(
        default=300, ge=1, description="Seconds DMS lags behind the source (CDCLatencySource/Target) that alarm."
    )
    iterator_age_ms: int = Field(
        default=600_000, ge=1000, description="Age (ms) of the oldest unread `changes` stream record that alarms."
    )


class CdcSettings(TierSettings):
    enabled: bool = True
    """Build the change-data-capture tier; leave the section out (or set false) unless a database is named."""
    source: SourceSettings
    """The source database (an existing RDS or Aurora MySQL or PostgreSQL database)."""
    network: CdcNetworkSettings
    """Where DMS runs: private subnets with a route to the database."""
    tables: list[ReplicatedTable] = Field(min_length=1)
    """The tables to replicate (full load plus changes), with their columns and primary keys."""
    replication: ReplicationSettings = ReplicationSettings()
    """DMS Serverless capacity."""
    changes_stream: StreamSettings = StreamSettings(mode="on_demand")
    """The Kinesis `changes` stream DMS writes to."""
    enrichment_ttl_days: int = Field(
        default=7,
        ge=1,
        le=365,
        description="How long the Flink job keeps an entity it has neither seen changed nor named by an event; "
        "after that an event naming it alerts as unknown until the entity changes again.",
    )
    manage_dms_account_roles: bool = Field(
        default=False,
        description="This stack creates DMS's account-wide roles (`dms-vpc-role`, which subnet groups need, and "
        "`dms-cloudwatch-logs-role`, which replication logs need) and leaves them in place when destroyed. "
        "Exactly one stack per account sets this; the others need the roles to exist first.",
    )
    processor_tracing: bool = False
    """X-Ray active tracing on the change processor Lambda (Firehose's transformation of changes)."""
    alarms: CdcAlarmSettings = CdcAlarmSettings()
    """Alarm thresholds; alarms notify the ops topic."""

    def check_when_on(self) -> None:
        problems: list[str] = []
        for index, table in enumerate(self.tables):
            problems += table.problems(f"tables[{index}]")
        problems += _duplicates("table", [t.table for t in self.tables])
        problems += _duplicates("entity", [t.entity for t in self.tables])
        problems += _duplicates("event_field", [t.event_field for t in self.tables if t.event_field is not None])
        problems += _conflicting_types(self.tables)
        if self.replication.max_capacity_units < self.replication.min_capacity_units:
            problems.append(
                f"replication.max_capacity_units: must be >= min_capacity_units "
                f"({self.replication.min_capacity_units}), got {self.replication.max_capacity_units}"
            )
        size = len(self.processor_config())
        if size > PROCESSOR_CONFIG_LIMIT:
            problems.append(
                f"tables: their columns take {size} characters in the change processor's environment, over the "
                f"{PROCESSOR_CONFIG_LIMIT} Lambda leaves room for; replicate fewer columns"
            )
        if problems:
            # Pydantic reports one error per model validator: the first problem, by its key; fixing it shows the next.
            raise ValueError(problems[0])

    def processor_config(self) -> str:
        """The change processor's table list (`CHANGE_TABLES`): `{"schema.table": {"key": [...], "columns": {...}}}`."""
        return json.dumps(
            {t.table: {"key": t.primary_key, "columns": t.columns} for t in self.tables}, separators=(",", ":")
        )

    def table_for(self, event_field: EventField) -> ReplicatedTable | None:
        """The replicated table whose key the event field names, if one does."""
        return next((t for t in self.tables if t.event_field == event_field), None)


def _duplicates(key: str, values: list[str]) -> list[str]:
    repeated = sorted({value for value in values if values.count(value) > 1})
    return [f"tables: {key} {value!r} is listed twice" for value in repeated]


def _conflicting_types(tables: list[ReplicatedTable]) -> list[str]:
    """Every replicated table's rows share one Parquet schema in the lake, so a column name has one type."""
    first: dict[str, tuple[str, str]] = {}
    problems: list[str] = []
    for table in tables:
        for column, column_type in table.columns.items():
            earlier = first.setdefault(column, (table.table, column_type))
            if earlier[1] != column_type:
                problems.append(
                    f"tables: column {column!r} is {earlier[1]} in {earlier[0]} but {column_type} in {table.table}; "
                    f"the lake converts every table's rows with one schema, so a name has one type"
                )
    return problems
