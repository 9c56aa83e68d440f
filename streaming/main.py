"""Entry point of the Flink application on Managed Service for Apache Flink.

Managed Flink runs this file as a script (run options group
`kinesis.analytics.flink.run.options`, key `python` = `streaming/main.py`) from the
unpacked application zip, with the Kinesis connector JAR on the classpath (key
`jarfile`). It reads the runtime properties from `/etc/flink/application_properties.json`,
renders the SQL files for Kinesis and submits the job.

To run it yourself against real streams (needs AWS credentials, the connector JAR and an
enhanced fan-out consumer registered on the events stream, which the job reads through):

    streaming/.venv/bin/python streaming/main.py --properties my_properties.json \
        --set events.stream.arn=arn:aws:kinesis:... --set events.consumer.name=<consumer> \
        --jar streaming/lib/<jar> --wait
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

# Run as a script, Python puts only streaming/ on sys.path; the application zip's root
# (the repository root locally) must be there too so `streaming.*` imports resolve.
_APP_ROOT = Path(__file__).resolve().parent.parent
if str(_APP_ROOT) not in sys.path:
    sys.path.insert(0, str(_APP_ROOT))

from streaming.job import create_table_env, run_statements  # noqa: E402
from streaming.properties import (  # noqa: E402
    MANAGED_FLINK_PROPERTIES_FILE,
    PropertyError,
    read_property_groups,
    settings_from_groups,
)
from streaming.statements import kinesis_statements, table_config  # noqa: E402

PROPERTIES_FILE_VARIABLE = "UBA_FLINK_PROPERTIES_FILE"


def parse_overrides(pairs: list[str]) -> dict[str, str]:
    """`key=value` pairs given with --set; a pair without `=` is an error that names it."""
    overrides: dict[str, str] = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator or not key.strip():
            raise PropertyError(f"--set expects key=value, got {pair!r}")
        overrides[key.strip()] = value
    return overrides


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m streaming.main", description="Start the UBA Flink SQL job against Kinesis."
    )
    parser.add_argument(
        "--properties",
        type=Path,
        default=Path(os.environ.get(PROPERTIES_FILE_VARIABLE, str(MANAGED_FLINK_PROPERTIES_FILE))),
        help=f"application_properties.json (default: ${PROPERTIES_FILE_VARIABLE} or the Managed Flink one)",
    )
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a uba property")
    parser.add_argument("--jar", type=Path, help="connector JAR to put on the pipeline (outside Managed Flink)")
    parser.add_argument("--wait", action="store_true", help="block until the job ends (outside Managed Flink)")
    # Managed Flink may pass options of its own; they are not ours to reject.
    arguments, _ = parser.parse_known_args(argv)
    return arguments


def main(argv: list[str] | None = None) -> None:
    arguments = _arguments(argv)
    groups = read_property_groups(arguments.properties)
    settings = settings_from_groups(groups, parse_overrides(arguments.set))
    statements = kinesis_statements(settings)  # fails on missing stream ARNs before the JVM starts
    config = table_config(settings)
    if arguments.jar:
        config["pipeline.jars"] = arguments.jar.resolve().as_uri()
    env = create_table_env(config)
    result = run_statements(env, statements)
    # On Managed Flink main() must return once the job is submitted; locally it must not.
    if arguments.wait:
        result.wait()


if __name__ == "__main__":
    main()
