"""The lake's catalog and query side: the Glue database and `events` table, the Athena workgroup
and the analyses as prepared statements in it.

The table's columns come from the event contract (`schema.glue_columns`); its
partitions are projected by Athena from the Firehose layout, so nothing ever has to
discover or register a partition. The workgroup forces every query's result location,
SSE-KMS encryption and per-query scan limit, whatever a client asks for. Each
`sql/athena/<name>.sql` becomes the prepared statement `<name>`, rendered by
`sql.athena` with positional `?` parameters.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.lake.schema import (
    PARQUET_INPUT_FORMAT,
    PARQUET_OUTPUT_FORMAT,
    PARQUET_SERDE,
    events_location,
    glue_columns,
    projection_parameters,
)
from components.shared.context import StackContext, child, stateful
from sql.athena import load_query, render_for_athena
from sql.lake import ARRIVAL_KEY, ARRIVAL_PARTITION_KEYS, PARTITION_KEYS

EVENTS_TABLE = "events"
# Redshift Spectrum reads only partitions registered in Glue and ignores partition projection,
# so a full (or first) refresh reads the same files through a table without partition keys:
# Spectrum scans every subfolder of the location, registered or not.
SPECTRUM_TABLE = "events_spectrum"
# What the hourly refresh reads instead: the same files, partitioned by the hour each object
# arrived and its event-time folder, with partitions registered as objects arrive
# (`lambdas.partitions`), so a literal bound on `arrival_hour` lets Spectrum skip the rest.
ARRIVAL_TABLE = "events_by_arrival"
ATHENA_ENGINE = "Athena engine version 3"


def glue_database_name(context: StackContext) -> str:
    """Glue and Athena want lowercase letters, digits and underscores: `uba-dev` -> `uba_dev_lake`."""
    return context.name("lake").replace("-", "_")


def glue_database(parent: pulumi.Resource, context: StackContext) -> aws.glue.CatalogDatabase:
    return aws.glue.CatalogDatabase(
        "lake-database",
        name=glue_database_name(context),
        description=f"{context.prefix}: user behaviour events delivered by Firehose",
        opts=stateful(parent, context.protect_stateful),
    )


def events_storage(lake_bucket: pulumi.Output[str]) -> aws.glue.CatalogTableStorageDescriptorArgs:
    """Parquet files under `events/` with the contract's columns: what Firehose writes."""
    return aws.glue.CatalogTableStorageDescriptorArgs(
        location=lake_bucket.apply(events_location),
        input_format=PARQUET_INPUT_FORMAT,
        output_format=PARQUET_OUTPUT_FORMAT,
        ser_de_info=aws.glue.CatalogTableStorageDescriptorSerDeInfoArgs(
            name="parquet", serialization_library=PARQUET_SERDE, parameters={"serialization.format": "1"}
        ),
        columns=[
            aws.glue.CatalogTableStorageDescriptorColumnArgs(name=c.name, type=c.type, comment=c.comment)
            for c in glue_columns()
        ],
    )


def events_table(
    parent: pulumi.Resource, context: StackContext, database: aws.glue.CatalogDatabase, lake_bucket: pulumi.Output[str]
) -> aws.glue.CatalogTable:
    """Parquet `events` over `s3://<lake>/events/`, partitioned by year/month/day/hour of event time (UTC)."""
    return aws.glue.CatalogTable(
        "events-table",
        name=EVENTS_TABLE,
        database_name=database.name,
        description="User behaviour events, one row per stored record; partitions are UTC hours of created_at",
        table_type="EXTERNAL_TABLE",
        parameters=lake_bucket.apply(
            lambda bucket: {"EXTERNAL": "TRUE", "classification": "parquet", **projection_parameters(bucket)}
        ),
        partition_keys=[
            aws.glue.CatalogTablePartitionKeyArgs(name=key, type="string", comment=f"UTC {key} of created_at")
            for key in PARTITION_KEYS
        ],
        storage_descriptor=events_storage(lake_bucket),
        # The schema Firehose converts against: protected with the database it lives in.
        opts=stateful(parent, context.protect_stateful),
    )


def spectrum_table(
    parent: pulumi.Resource, context: StackContext, database: aws.glue.CatalogDatabase, lake_bucket: pulumi.Output[str]
) -> aws.glue.CatalogTable:
    """The same Parquet files as `events`, unpartitioned, for Redshift Spectrum (`ods.events_spectrum`)."""
    return aws.glue.CatalogTable(
        "events-spectrum-table",
        name=SPECTRUM_TABLE,
        database_name=database.name,
        description="The events files without partition keys, for Redshift Spectrum (which ignores projection)",
        table_type="EXTERNAL_TABLE",
        parameters={"EXTERNAL": "TRUE", "classification": "parquet"},
        storage_descriptor=events_storage(lake_bucket),
        opts=child(parent),
    )


def arrival_table(
    parent: pulumi.Resource, context: StackContext, database: aws.glue.CatalogDatabase, lake_bucket: pulumi.Output[str]
) -> aws.glue.CatalogTable:
    """The events files, partitioned by arrival hour then event hour, for the refresh (`ods.events_by_arrival`).

    No projection: Spectrum prunes only partitions registered in the Glue Data Catalog, which the
    partition registrar does for every object that lands under `events/`.
    """
    keys = {ARRIVAL_KEY: "UTC hour (YYYYMMDDHH) the object was created in the lake"}
    return aws.glue.CatalogTable(
        "events-by-arrival-table",
        name=ARRIVAL_TABLE,
        database_name=database.name,
        description="The events files by arrival hour and event hour, partitions registered on arrival (Spectrum)",
        table_type="EXTERNAL_TABLE",
        parameters={"EXTERNAL": "TRUE", "classification": "parquet"},
        partition_keys=[
            aws.glue.CatalogTablePartitionKeyArgs(
                name=key, type="string", comment=keys.get(key, f"UTC {key} of created_at")
            )
            for key in ARRIVAL_PARTITION_KEYS
        ],
        storage_descriptor=events_storage(lake_bucket),
        # Its partitions are state: registered once, as each object arrived, and not re-creatable
        # without re-listing the lake. Protected with the catalog it lives in.
        opts=stateful(parent, context.protect_stateful),
    )


# Athena limits a prepared statement's description to 1024 characters.
_DESCRIPTION_LIMIT = 1024


def statement_description(name: str, database: str) -> str:
    """What the statement answers, and how to run it: the `?` values in order, and the database."""
    _, order = render_for_athena(name)
    usage = f" Run in database {database}: EXECUTE {name} USING " + ", ".join(order) + " (one SQL literal per ?)."
    return (load_query(name).description + usage)[:_DESCRIPTION_LIMIT]
