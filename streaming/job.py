"""The PyFlink side shared by the Managed Flink entry point and the local runner."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pyflink.table import EnvironmentSettings, TableEnvironment, TableResult


def create_table_env(config: Mapping[str, str]) -> TableEnvironment:
    """A streaming Table environment with `config` applied (table.* and pipeline.* keys)."""
    env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    configuration = env.get_config()
    for key, value in config.items():
        configuration.set(key, value)
    return env


def run_statements(env: TableEnvironment, statements: Sequence[str]) -> TableResult:
    """Run DDL and views in order; the last statement (INSERT or SELECT) is what starts the job."""
    *definitions, job = statements
    for statement in definitions:
        env.execute_sql(statement)
    return env.execute_sql(job)
