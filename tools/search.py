"""Log search from the command line: the saved searches, against a deployed collection or domain or the local node.

    python -m tools.search list
    python -m tools.search run alert-events --endpoint URL --param action=buy \
        --param from=2026-01-15T08:00:00Z --param to=2026-01-15T08:01:00Z [--format table|json]
    python -m tools.search run user-errors --endpoint URL --aws aoss --region eu-west-1 --param user=u-42

A deployed stack exports `search_endpoint` and `search_signing_service` (`aoss` for a
Serverless collection, `es` for a managed domain): pass them as `--endpoint` and `--aws`,
and the request is signed with SigV4 from your AWS credentials (the data access policy or
the domain's role mappings decide what your user may read). Without `--aws` the endpoint is
called unsigned, as the local node is. Working locally:

    python -m tools.local.opensearch_node run                                  # a node; prints its URL
    python -m tools.search setup --endpoint http://127.0.0.1:PORT             # the index template
    streaming/.venv/bin/python -m streaming.run_local --events events.jsonl --output search > feed.jsonl
    python -m tools.search index --endpoint http://127.0.0.1:PORT --documents feed.jsonl
    python -m tools.search sweep --endpoint http://127.0.0.1:PORT --retention-days 7   # a domain's daily retention

Exit codes: 0 done, 1 OpenSearch refused or could not be reached, 2 bad input (the message
names it); `index` exits 1 when any document went to the dead-letter file.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

import urllib3

from lambdas.opensearch import SERVICES, OpenSearch, SearchError, aws_signer
from lambdas.search_admin import setup, sweep
from lambdas.search_schema import INDEX_PATTERN
from sql.search import SearchParameterError, saved_search, saved_searches
from tools.local.search_feed import DEFAULT_BATCH_SIZE, LocalFeed

TABLE_COLUMNS = ("@timestamp", "kind", "level", "action", "userId", "objectId", "eventId", "errorMsg")


def client_for(endpoint: str, service: str | None, region: str | None) -> OpenSearch:
    if service is None:
        return OpenSearch(endpoint)
    if not region:
        raise ValueError("--aws needs --region (the stack's aws:region)")
    return OpenSearch(endpoint, aws_signer(region, service))


def run_search(client: OpenSearch, name: str, values: Mapping[str, str]) -> dict[str, Any]:
    """Run one saved search; `{"total": n, "hits": [documents...]}` (each thing once: collapsed on feedKey)."""
    body = saved_search(name).render(values)
    answer = client.search(INDEX_PATTERN, body)
    hits = answer.get("hits", {})
    return {"total": hits.get("total", {}).get("value", 0), "hits": [hit["_source"] for hit in hits.get("hits", [])]}


def _parameters(pairs: Sequence[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator or not key.strip():
            raise SearchParameterError(f"--param expects name=value, got {pair!r}")
        values[key.strip()] = value
    return values


def _print_table(result: Mapping[str, Any], out: TextIO) -> None:
    rows = [[str(hit.get(column, "")) for column in TABLE_COLUMNS] for hit in result["hits"]]
    widths = [min(60, max([len(column), *(len(row[i]) for row in rows)])) for i, column in enumerate(TABLE_COLUMNS)]
    out.write("  ".join(column.ljust(width) for column, width in zip(TABLE_COLUMNS, widths, strict=True)) + "\n")
    for row in rows:
        out.write("  ".join(cell[:width].ljust(width) for cell, width in zip(row, widths, strict=True)) + "\n")
    shown = len(result["hits"])
    out.write(f"{shown} shown (each thing once); {result['total']} matching documents counting copies\n")


def _list(out: TextIO) -> None:
    for name, search in saved_searches().items():
        out.write(f"{name}: {search.description}\n")
        for parameter in search.parameters.values():
            default = "required" if parameter.required else f"default {parameter.default}"
            out.write(f"    --param {parameter.name}=...  {parameter.type}, {default}: {parameter.description}\n")


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.search", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="the saved searches and their parameters")

    def with_endpoint(name: str, help_text: str) -> argparse.ArgumentParser:
        command = commands.add_parser(name, help=help_text)
        command.add_argument("--endpoint", required=True, help="collection, domain or local node URL")
        command.add_argument("--aws", choices=SERVICES, help="sign with SigV4 for this service (aoss or es)")
        command.add_argument("--region", help="the stack's region, with --aws")
        return command

    run = with_endpoint("run", "run one saved search")
    run.add_argument("search", help="e.g. alert-events, user-errors, object-errors")
    run.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    run.add_argument("--format", choices=["table", "json"], default="table")
    with_endpoint("setup", "apply the index template (the deployment does this itself in AWS)")
    index = with_endpoint("index", "deliver a file of search feed documents as Firehose would")
    index.add_argument("--documents", type=Path, required=True, help="JSON lines (run_local --output search)")
    index.add_argument("--rotation", choices=["none", "daily"], default="none", help="daily: as a domain")
    index.add_argument("--dead-letter", type=Path, default=Path("search-dead-letters.jsonl"))
    index.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    retention = with_endpoint("sweep", "delete daily indices past retention, as a domain's daily sweep does")
    retention.add_argument("--retention-days", type=int, required=True)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    arguments = _arguments(argv)
    if arguments.command == "list":
        _list(out)
        return 0
    try:
        client = client_for(arguments.endpoint, arguments.aws, arguments.region)
        if arguments.command == "run":
            result = run_search(client, arguments.search, _parameters(arguments.param))
            if arguments.format == "json":
                out.write(json.dumps(result, sort_keys=True) + "\n")
            else:
                _print_table(result, out)
        elif arguments.command == "setup":
            out.write(json.dumps(setup(client, {"number_of_replicas": 0})) + "\n")
        elif arguments.command == "sweep":
            today = datetime.datetime.now(datetime.UTC).date()
            out.write(json.dumps(sweep(client, today, arguments.retention_days)) + "\n")
        else:
            if not arguments.documents.is_file():
                raise ValueError(f"no documents file at {arguments.documents}")
            feed = LocalFeed(client, arguments.dead_letter, arguments.rotation, arguments.batch_size)
            with arguments.documents.open(encoding="utf-8") as lines:
                report = feed.deliver((line for line in lines if line.strip()), refresh=True)
            out.write(
                f"{report.indexed} indexed, {report.dead_lettered} dead-lettered to {arguments.dead_letter} "
                f"in {report.bulk_requests} bulk requests {report.errors or ''}\n"
            )
            return 1 if report.dead_lettered else 0
        return 0
    except (SearchParameterError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (SearchError, urllib3.exceptions.HTTPError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
