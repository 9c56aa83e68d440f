"""What every rule shares: reading properties that may not be known yet, IAM documents, messages.

During `pulumi preview` a property computed by AWS (the ARN of a key not created yet)
is *unknown*; the policy SDK raises `UnknownValueError` when a rule reads one. Rules
read properties through `lookup`, which turns that into the `UNKNOWN` marker, so a rule
can still judge what is known: an unknown KMS key ARN is still a key that is set.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
)

MANDATORY: Final = EnforcementLevel.MANDATORY
ADVISORY: Final = EnforcementLevel.ADVISORY

_SENTINELS: Final = frozenset(
    {
        UNKNOWN_ARCHIVE_VALUE,
        UNKNOWN_ARRAY_VALUE,
        UNKNOWN_ASSET_VALUE,
        UNKNOWN_BOOLEAN_VALUE,
        UNKNOWN_NUMBER_VALUE,
        UNKNOWN_OBJECT_VALUE,
        UNKNOWN_STRING_VALUE,
    }
)


class Unknown:
    """A value AWS computes during the update, so a preview cannot see it."""

    def __repr__(self) -> str:
        return "<unknown until deployed>"


UNKNOWN: Final = Unknown()


def lookup(props: Any, *path: str | int) -> Any:
    """The value at `path`: None when absent, `UNKNOWN` when the engine does not know it yet."""
    current = props
    for key in path:
        if current is None or current is UNKNOWN:
            return current
        try:
            current = current[key]
        except UnknownValueError:
            return UNKNOWN
        except (KeyError, IndexError, TypeError):
            return None
    if isinstance(current, str) and current in _SENTINELS:
        return UNKNOWN
    return current


def is_set(value: Any) -> bool:
    """Present and not empty; an unknown value is set (to something AWS computes)."""
    if value is UNKNOWN:
        return True
    return value is not None and value != "" and not (isinstance(value, Sequence | Mapping) and len(value) == 0)


def plain(value: Any) -> Any:
    """A property value as plain dicts and lists (unknown parts become `UNKNOWN`)."""
    if isinstance(value, str):
        return UNKNOWN if value in _SENTINELS else value
    if isinstance(value, Mapping):
        return {str(key): plain(lookup(value, key)) for key in list(value.keys())}
    if isinstance(value, Sequence):
        return [plain(lookup(value, index)) for index in range(len(value))]
    return value


def number(value: Any) -> str:
    """A number for a message: the engine sends every number as a float (`7.0`)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return repr(value)
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def as_list(value: Any) -> list[Any]:
    """IAM and AWS fields that take one value or a list, always as a list."""
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Sequence):
        return [value]
    return list(value)


def truthy(value: Any) -> bool:
    """Booleans that some providers send as strings (`"true"`)."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def falsy(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.lower() == "false")


# --- IAM documents ---------------------------------------------------------------------------------------


def document(value: Any) -> dict[str, Any] | Unknown | None:
    """An IAM policy document from a `policy`-like property (JSON text or an object)."""
    value = plain(value)
    if value is None or value is UNKNOWN:
        return value
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            return None
        return parsed if isinstance(parsed, dict) else None
    return value if isinstance(value, dict) else None


def statements(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [s for s in as_list(doc.get("Statement")) if isinstance(s, dict)]


# --- naming resources in messages ------------------------------------------------------------------------

# Where a resource keeps its physical name, when not in `name`.
_PHYSICAL_NAME: Final = {
    "aws:s3/bucket:Bucket": "bucket",
    "aws:redshift/cluster:Cluster": "clusterIdentifier",
    "aws:redshiftserverless/namespace:Namespace": "namespaceName",
    "aws:redshiftserverless/workgroup:Workgroup": "workgroupName",
    "aws:apigateway/stage:Stage": "stageName",
}


def label(resource_type: str, name: str, props: Any) -> str:
    """`'events-stream' (uba-dev-events)`: the logical name, and the physical one when known."""
    physical = lookup(props, _PHYSICAL_NAME.get(resource_type, "name"))
    if isinstance(physical, str) and physical and physical != name:
        return f"'{name}' ({physical})"
    return f"'{name}'"


def label_of(resource: ResourceValidationArgs | PolicyResource) -> str:
    return label(resource.resource_type, resource.name, resource.props)


# --- building policies -----------------------------------------------------------------------------------

Check = Callable[[ResourceValidationArgs, ReportViolation], None]


def for_types(*resource_types: str) -> Callable[[Check], Check]:
    """Run a resource check only on these types (CrossGuard calls every check for every resource)."""

    def decorate(check: Check) -> Check:
        def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
            if args.resource_type in resource_types:
                check(args, report)

        validate.__name__ = check.__name__
        validate.__doc__ = check.__doc__
        return validate

    return decorate


def schema(**properties: dict[str, Any]) -> PolicyConfigSchema:
    """A config schema; each property carries its `default`, which the rule also uses when unset."""
    return PolicyConfigSchema(properties=properties)


def setting(args: ResourceValidationArgs | StackValidationArgs, config: PolicyConfigSchema, key: str) -> Any:
    """A policy config value, or the default its schema declares."""
    value = args.get_config().get(key)
    return config.properties[key]["default"] if value is None else value


def of_type(args: StackValidationArgs, resource_type: str) -> list[PolicyResource]:
    return [r for r in args.resources if r.resource_type == resource_type]


def refers_to(resource: PolicyResource, prop: str, target: PolicyResource, target_values: Iterable[Any]) -> bool:
    """Whether `resource.<prop>` points at `target`.

    By value when known (a bucket's id or name, a stage's name), else by the engine's
    record of which resource the property was computed from: during a first preview the
    bucket's id is unknown, but the dependency is not.
    """
    value = lookup(resource.props, prop)
    if value is not None and value is not UNKNOWN:
        known = {v for v in target_values if isinstance(v, str | int) and v is not UNKNOWN}
        if value in known:
            return True
    return any(dependency.urn == target.urn for dependency in resource.property_dependencies.get(prop, []))


def pattern_matches(pattern: str, value: Any) -> bool:
    return isinstance(value, str) and re.search(pattern, value) is not None
