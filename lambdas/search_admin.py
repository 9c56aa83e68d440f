"""Search admin: sets the search index up at deploy time and, on a managed domain, applies retention daily.

Invoked by the deployment (a Lambda invocation resource, again whenever what it applies
changes) with `{"action": "setup", "endpoint": "https://..."}`, and on a managed domain by
EventBridge Scheduler once a day with `{"action": "sweep", "endpoint": ...}`. The endpoint
comes with the event (the store is created after the function, whose role it names); the
rest from the environment the search tier sets. The same functions run locally against the
local node (`tools.search`, the tests).

- setup: `PUT _index_template/uba-search` (the template derived from the contracts,
  `lambdas.search_schema`), then reads it back and fails unless it is what was sent. On a
  domain with fine-grained access control, where this function's role is the master user,
  it also maps who may do what inside the domain: the delivery role writes the search
  indices, the op and dev users read them, the admin users get `all_access`. OpenSearch
  Serverless does the same with data access policies, which the deployment writes itself.
- sweep: a domain gets one index a day from Firehose (`uba-search-YYYY-MM-DD`, UTC); every
  such index whose day is more than `retention_days` before today is deleted. (A Serverless
  collection applies the stack's retention itself, through its data lifecycle policy.)

Both are idempotent: running them twice changes nothing more. A failure raises, so the
deployment fails on a setup that did not apply and the scheduler's failure alarm fires on
a sweep that did not run.
"""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lambdas.opensearch import OpenSearch, SearchError, aws_signer
from lambdas.search_schema import INDEX_PATTERN, TEMPLATE_NAME, day_of_index, index_template

SERVICE_ENV = "SEARCH_SERVICE"  # aoss or es
REGION_ENV = "AWS_REGION"
RETENTION_ENV = "SEARCH_RETENTION_DAYS"
INDEX_SETTINGS_ENV = "SEARCH_INDEX_SETTINGS"  # JSON object of index settings; empty on Serverless
SECURITY_ENV = "SEARCH_SECURITY_MAPPINGS"  # JSON (see `SecurityMappings`); only on a domain with FGAC

READER_ROLE = "uba_search_reader"
WRITER_ROLE = "uba_search_writer"
ADMIN_ROLE = "all_access"  # the security plugin's built-in role


class SetupError(RuntimeError):
    """The template or the security mappings did not read back as applied."""


@dataclass(frozen=True)
class SecurityMappings:
    """Who gets which role inside a domain with fine-grained access control (IAM ARNs)."""

    writer_roles: tuple[str, ...]  # the delivery (Firehose) role
    reader_users: tuple[str, ...]  # op and dev staff
    admin_users: tuple[str, ...]  # admin staff
    # This function's own role, the master user: mapping all_access replaces the mapping the service made
    # for it, so it is named again (it keeps security_manager either way).
    manager_roles: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, text: str) -> SecurityMappings:
        raw = json.loads(text)
        return cls(
            tuple(raw["writer_roles"]),
            tuple(raw["reader_users"]),
            tuple(raw["admin_users"]),
            tuple(raw.get("manager_roles", ())),
        )

    def to_json(self) -> str:
        fields = ("writer_roles", "reader_users", "admin_users", "manager_roles")
        return json.dumps({name: getattr(self, name) for name in fields}, sort_keys=True)


def security_requests(mappings: SecurityMappings) -> list[tuple[str, str, dict[str, Any]]]:
    """The security plugin's REST calls that put the roles and their mappings in place (PUT replaces)."""
    security = "/_plugins/_security/api"
    reader = {
        "cluster_permissions": ["cluster_composite_ops_ro"],
        "index_permissions": [{"index_patterns": [INDEX_PATTERN], "allowed_actions": ["read"]}],
    }
    # What Firehose needs on an FGAC domain: bulk writes and index creation on its indices, and
    # the cluster's state (Firehose developer guide, "Grant Firehose access to a public OpenSearch destination").
    writer = {
        "cluster_permissions": ["cluster_composite_ops", "cluster_monitor"],
        "index_permissions": [
            {"index_patterns": [INDEX_PATTERN], "allowed_actions": ["crud", "create_index", "manage"]}
        ],
    }
    return [
        ("PUT", f"{security}/roles/{READER_ROLE}", reader),
        ("PUT", f"{security}/roles/{WRITER_ROLE}", writer),
        ("PUT", f"{security}/rolesmapping/{READER_ROLE}", {"users": list(mappings.reader_users)}),
        ("PUT", f"{security}/rolesmapping/{WRITER_ROLE}", {"backend_roles": list(mappings.writer_roles)}),
        (
            "PUT",
            f"{security}/rolesmapping/{ADMIN_ROLE}",
            {"users": list(mappings.admin_users), "backend_roles": list(mappings.manager_roles)},
        ),
    ]


def setup(
    client: OpenSearch, index_settings: Mapping[str, Any] | None = None, security: SecurityMappings | None = None
) -> dict[str, Any]:
    """Apply the index template (and, on an FGAC domain, the security mappings); check it reads back."""
    applied: list[str] = []
    if security is not None:
        for method, path, body in security_requests(security):
            client.request(method, path, body)
            applied.append(path)
    template = index_template(index_settings)
    client.put_index_template(TEMPLATE_NAME, template)
    stored = client.index_template(TEMPLATE_NAME)
    if stored is None or stored.get("index_patterns") != template["index_patterns"]:
        raise SetupError(f"index template {TEMPLATE_NAME} did not read back as applied: {stored}")
    stored_fields = set(stored.get("template", {}).get("mappings", {}).get("properties", {}))
    wanted_fields = set(template["template"]["mappings"]["properties"])
    if stored_fields != wanted_fields:
        raise SetupError(f"index template {TEMPLATE_NAME} reads back with fields {sorted(stored_fields)}")
    applied.append(f"/_index_template/{TEMPLATE_NAME}")
    return {"applied": applied, "fields": len(wanted_fields)}


def expired(indices: Iterable[str], today: datetime.date, retention_days: int) -> list[str]:
    """The daily indices whose day lies more than `retention_days` before `today` (any other name is kept)."""
    if retention_days < 1:
        raise ValueError(f"retention_days must be at least 1, got {retention_days}")
    oldest_kept = today - datetime.timedelta(days=retention_days)
    return sorted(name for name in indices if (day := day_of_index(name)) is not None and day < oldest_kept)


def sweep(client: OpenSearch, today: datetime.date, retention_days: int) -> dict[str, Any]:
    """Delete the expired daily indices; what was deleted and what is kept."""
    indices = client.indices(INDEX_PATTERN)
    deleted = expired(indices, today, retention_days)
    for name in deleted:
        client.delete_index(name)
    return {"deleted": deleted, "kept": sorted(set(indices) - set(deleted))}


def _client(event: Mapping[str, Any]) -> OpenSearch:
    endpoint = event.get("endpoint")
    if not isinstance(endpoint, str) or not endpoint.startswith("https://"):
        raise ValueError(f"the event must name the store's https endpoint, got {endpoint!r}")
    return OpenSearch(endpoint, aws_signer(os.environ[REGION_ENV], os.environ[SERVICE_ENV]))


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Entry point: `{"action": "setup" | "sweep", "endpoint": ...}`; anything else is refused."""
    if not isinstance(event, Mapping) or event.get("action") not in ("setup", "sweep"):
        raise ValueError(f"unknown event {event!r}; expected action 'setup' or 'sweep' with the endpoint")
    action = event["action"]
    client = _client(event)
    try:
        if action == "setup":
            settings = json.loads(os.environ.get(INDEX_SETTINGS_ENV) or "{}")
            security_json = os.environ.get(SECURITY_ENV)
            security = SecurityMappings.from_json(security_json) if security_json else None
            return {"action": action, **setup(client, settings, security)}
        if action == "sweep":
            today = datetime.datetime.now(datetime.UTC).date()
            return {"action": action, **sweep(client, today, int(os.environ[RETENTION_ENV]))}
    except SearchError as error:
        raise SetupError(f"{action} failed: {error}") from None
    raise AssertionError("unreachable: the action was checked above")
