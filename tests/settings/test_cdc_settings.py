"""`uba:cdc`: off unless a stack names a source database; every contradiction named by its key."""

from __future__ import annotations

from typing import Any

import pytest

from settings import load_settings
from settings.cdc import PROCESSOR_CONFIG_LIMIT
from tests.support.config import cdc_section, config_with, problems_for, raw_config


def with_cdc(**changes: Any) -> dict[str, Any]:
    """Dev's config with the example `uba:cdc` section and each dotted path (below `cdc.`) set."""
    raw = raw_config("dev") | {"cdc": cdc_section()}
    return config_with({f"cdc.{path.replace('__', '.')}": value for path, value in changes.items()}, raw=raw)


def test_a_stack_without_a_cdc_section_replicates_nothing() -> None:
    settings = load_settings(raw_config("dev"), "dev")
    assert settings.cdc.enabled is False
    assert load_settings(config_with({"cdc": {"enabled": False}}), "dev").cdc.enabled is False


def test_a_cdc_section_names_the_database_its_tables_and_their_columns() -> None:
    cdc = load_settings(with_cdc(), "dev").cdc
    assert cdc.enabled and cdc.source.database_port == 5432 and cdc.source.is_postgres
    documents, business = cdc.tables
    assert (documents.schema_name, documents.table_name, documents.entity) == ("public", "documents", "object")
    assert cdc.table_for("bizId") is business and cdc.table_for("objectId") is documents
    assert cdc.processor_config().startswith('{"public.documents":{"key":["id"],"columns":{"id":"string"')


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"source__password": "hunter2"}, "cdc.source.password: unknown key"),
        ({"source__secret_arn": "app-db"}, "cdc.source.secret_arn: must be a Secrets Manager secret ARN such as"),
        ({"source__ssl_mode": "none"}, "cdc.source.ssl_mode: must be one of"),
        ({"source__engine": "oracle"}, "cdc.source.engine: must be one of"),
        ({"network__subnet_ids": ["subnet-0a1b2c3d"]}, "cdc.network.subnet_ids: must have at least 2 items"),
        ({"tables__0__table": "documents"}, "cdc.tables[0].table: must be schema.table"),
        ({"tables__0__columns__pages": "int"}, "cdc.tables[0].columns.pages: must be one of"),
        ({"tables__0__primary_key": ["uuid"]}, "cdc.tables[0].primary_key: ['uuid'] must be listed in columns"),
        ({"tables__0__primary_key": ["id", "title"]},
         "cdc.tables[0].event_field: an event names one value, so the primary key must be one column"),
        ({"tables__1__label_column": ...}, "cdc.tables[1].label_column: required with event_field"),
        ({"tables__1__label_column": "title"}, "cdc.tables[1].label_column: 'title' must be listed in columns"),
        ({"tables__1__entity": "object"}, "cdc.tables: entity 'object' is listed twice"),
        ({"tables__1__event_field": "objectId"}, "cdc.tables: event_field 'objectId' is listed twice"),
        ({"tables__1__columns__id": "bigint"},
         "cdc.tables: column 'id' is string in public.documents but bigint in public.business_lines"),
        ({"tables__0__columns__cdc_version": "bigint"}, "cdc.tables[0].columns: 'cdc_version' starts with 'cdc_'"),
        ({"replication__min_capacity_units": 8, "replication__max_capacity_units": 2},
         "cdc.replication.max_capacity_units: must be >= min_capacity_units (8), got 2"),
        ({"replication__max_capacity_units": 3}, "cdc.replication.max_capacity_units: must be one of"),
    ],
)  # fmt: skip
def test_a_contradiction_is_refused_by_its_key(changes: dict[str, Any], expected: str) -> None:
    found = problems_for(with_cdc(**changes))
    assert any(p.startswith(expected) for p in found), found


def test_tables_whose_columns_would_not_fit_the_processors_environment_are_refused() -> None:
    wide = {f"column_with_a_long_descriptive_name_{i:03d}": "string" for i in range(80)}
    found = problems_for(with_cdc(tables__0__columns={"id": "string", "title": "string", **wide}))
    assert any(f"over the {PROCESSOR_CONFIG_LIMIT} Lambda leaves room for" in p for p in found), found


def test_cdc_needs_the_lake_its_entity_tables_live_in() -> None:
    raw = with_cdc()
    raw["lake"] = {"enabled": False}
    raw["warehouse"] = {"enabled": False}
    assert "cdc.enabled: needs the lake tier (the entity tables live in it), but lake is off" in problems_for(raw)


def test_a_switched_off_cdc_section_keeps_its_keys_checked_but_not_required() -> None:
    parked = {key: value for key, value in cdc_section().items() if key != "tables"}
    off = load_settings(config_with({"cdc": {"enabled": False, **parked}}), "dev")
    assert off.cdc.enabled is False  # the tables it would need wait until it is on
    found = problems_for(config_with({"cdc": {"enabled": False, "source": {"engine": "db2"}}}))
    assert any(p.startswith("cdc.source.engine: must be one of") for p in found), found
