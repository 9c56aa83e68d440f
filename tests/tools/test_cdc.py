"""The drift check against a real PostgreSQL: the stack's tables, the generated mappings and schemas, the database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pg8000.dbapi
import pytest
import yaml

from settings import load_settings
from tests.support.config import cdc_section, raw_config
from tests.support.postgres import Postgres
from tools import cdc
from tools.engine.mocks import PROJECT_DIR

SCHEMA = """
CREATE TABLE documents (
    id text PRIMARY KEY, title text, category varchar(64), biz_id text, pages integer, published boolean,
    updated_at timestamp with time zone
);
CREATE TABLE business_lines (id text PRIMARY KEY, name text NOT NULL, region text);
"""


@pytest.fixture
def database(postgres: Postgres) -> Iterator[Any]:
    connection = pg8000.dbapi.connect(user=postgres.user, host=postgres.host, port=postgres.port,
                                      database=postgres.database)  # fmt: skip
    connection.autocommit = True
    cursor = connection.cursor()
    cursor.execute("DROP TABLE IF EXISTS documents, business_lines")
    for statement in SCHEMA.split(";"):
        if statement.strip():
            cursor.execute(statement)
    yield connection
    connection.close()


def settings(**changes: Any) -> Any:
    section = cdc_section()
    for path, value in changes.items():
        index, key = path.split("__")
        section["tables"][int(index)][key] = value
    return load_settings(raw_config("dev") | {"cdc": section}, "dev").cdc


def problems(connection: Any, cdc_settings: Any) -> list[str]:
    return cdc.drift(cdc_settings, cdc.read_columns(connection, [t.table for t in cdc_settings.tables]))


def test_the_example_tables_cover_the_database_exactly(database: Any) -> None:
    assert problems(database, settings()) == []


def test_a_column_added_at_the_source_is_named_with_the_setting_to_add(database: Any) -> None:
    database.cursor().execute("ALTER TABLE documents ADD COLUMN summary text")
    database.cursor().execute("ALTER TABLE business_lines ADD COLUMN headcount bigint")
    assert problems(database, settings()) == [
        "column public.documents.summary (text) is in the database but not in uba:cdc.tables[0].columns: DMS sends "
        "it, the lake and warehouse drop it; add `summary: string` (or leave it out on purpose)",
        "column public.business_lines.headcount (bigint) is in the database but not in uba:cdc.tables[1].columns: "
        "DMS sends it, the lake and warehouse drop it; add `headcount: bigint` (or leave it out on purpose)",
    ]


def test_a_dropped_column_a_wrong_type_and_a_missing_table_are_each_named(database: Any) -> None:
    database.cursor().execute("ALTER TABLE documents DROP COLUMN category")
    database.cursor().execute("ALTER TABLE documents ALTER COLUMN pages TYPE text")
    database.cursor().execute("DROP TABLE business_lines")
    found = problems(database, settings())
    assert found == [
        "column public.documents.pages is text in the database but declared bigint in uba:cdc.tables[0].columns; "
        "declare it string",
        "column public.documents.category is declared in uba:cdc.tables[0].columns but the database has no such "
        "column: the lake and warehouse would keep it empty; remove it or fix its name",
        "table public.business_lines (uba:cdc.tables[1]) does not exist in the database: DMS will replicate nothing "
        "of it; fix the name or create the table",
    ]


def test_the_command_reads_the_stack_file_and_exits_1_on_drift(
    database: Any,
    postgres: Postgres,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "Pulumi.yaml").write_text((PROJECT_DIR / "Pulumi.yaml").read_text())
    stack = yaml.safe_load((PROJECT_DIR / "Pulumi.dev.yaml").read_text())
    stack["config"]["uba:cdc"] = cdc_section()
    (tmp_path / "Pulumi.withcdc.yaml").write_text(yaml.safe_dump(stack))
    argv = ["drift", "withcdc", "--dsn", postgres.dsn, "--project-dir", str(tmp_path)]
    assert cdc.main(argv) == 0
    assert "every column of 2 replicated tables is covered" in capsys.readouterr().out
    database.cursor().execute("ALTER TABLE documents ADD COLUMN summary text")
    assert cdc.main(argv) == 1
    assert "public.documents.summary (text)" in capsys.readouterr().out


def test_a_stack_without_cdc_and_a_bad_dsn_are_refused_plainly(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cdc.main(["drift", "dev", "--dsn", "postgresql://x@localhost/app"])
    assert "replicates no database (uba:cdc is off)" in capsys.readouterr().err
    with pytest.raises(ValueError, match="expected postgresql://"):
        cdc.connect("mysql://x@localhost/app")
