"""Decide one request against a set of identity policies, with moto's IAM policy engine.

`evaluate(documents, action, resource, context)` answers as IAM would for an identity
whose permissions are exactly these policy documents: an explicit Deny wins, else an
Allow grants, else the request is implicitly denied. moto's `IAMPolicy` does the
matching of actions and resource ARNs (with `*` wildcards) and the deny-wins logic.

moto gets conditions wrong for this purpose: it treats a statement whose Condition does
not match as an explicit deny (for Allow statements too), and it knows only
`StringEquals`, treating every other operator as matched. So conditions never reach
moto. Each conditioned statement is checked here against the request context
(`condition_holds`, which knows the few operators the program uses and refuses any
other); a statement whose condition holds goes to moto without it, and one whose
condition fails does not apply at all, which is what IAM does.

Not modelled (see the README): resource-based policies (bucket, key and topic
policies), SCPs, permission boundaries, session policies, condition operators other
than those in `_COMPARATORS`, tag-based conditions unless the context supplies the tag,
`NotResource` (refused), negated operators with a set qualifier (refused),
`?` wildcards and case-insensitive action names (actions must
be spelled as AWS spells them), and service-specific authorisation (e.g. an API method
whose authorisation is an API key, not IAM).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, Literal

from moto.iam.access_control import IAMPolicy, PermissionResult

ContextValue = str | Sequence[str]
RequestContext = Mapping[str, ContextValue]
Outcome = Literal["allowed", "explicit deny", "implicit deny"]

# moto turns a pattern into a regex by replacing `*` with `.*` and escaping nothing else; these
# characters would change its meaning (`.` only widens a match by one character, which we accept).
_REGEX_SPECIALS = re.compile(r"[\^$+?()\[\]{}|\\]")
_POLICY_VARIABLE = re.compile(r"\$\{([^}]+)\}")


class UnmodelledPolicyError(ValueError):
    """The policy uses something this evaluator cannot decide faithfully; refuse rather than guess."""


@dataclass(frozen=True)
class Decision:
    outcome: Outcome

    @property
    def allowed(self) -> bool:
        return self.outcome == "allowed"


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _bool_equals(actual: str, expected: str) -> bool:
    return actual.lower() == str(expected).lower()


_COMPARATORS: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": lambda actual, expected: actual == expected,
    "StringLike": lambda actual, expected: fnmatchcase(actual, expected),
    "ArnLike": lambda actual, expected: fnmatchcase(actual, expected),
    "Bool": _bool_equals,
}


# Negated operators: IAM evaluates them as true when the key is absent from the request.
_NEGATED: dict[str, str] = {"StringNotEquals": "StringEquals", "StringNotLike": "StringLike", "ArnNotLike": "ArnLike"}


def _null_holds(expected: list[str], actual: ContextValue | None) -> bool:
    """`Null: {key: "true"}` holds when the key is absent, `"false"` when it is present."""
    return all((actual is None) == (value.lower() == "true") for value in expected)


def _operator_holds(operator: str, expected: list[str], actual: ContextValue | None) -> bool:
    if operator == "Null":
        return _null_holds(expected, actual)
    if operator in _NEGATED:
        return actual is None or not _operator_holds(_NEGATED[operator], expected, actual)
    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    compare = _COMPARATORS.get(base.removesuffix("IfExists"))
    if compare is None or qualifier not in ("", "ForAnyValue", "ForAllValues"):
        raise UnmodelledPolicyError(f"condition operator {operator} is not modelled")
    if actual is None:
        return if_exists  # a missing key satisfies only ...IfExists (and never ForAnyValue)
    values = _as_list(actual)
    if qualifier == "ForAnyValue":
        return any(compare(value, e) for value in values for e in expected)
    if qualifier == "ForAllValues":
        return all(any(compare(value, e) for e in expected) for value in values)
    if len(values) != 1:
        raise UnmodelledPolicyError(f"{operator} needs a single-valued key, the context has {values}")
    return any(compare(values[0], e) for e in expected)


def condition_holds(condition: Mapping[str, Mapping[str, Any]], context: RequestContext) -> bool:
    """IAM's rule: every operator, and every key within it, must hold (values within a key: any)."""
    by_key = {key.lower(): value for key, value in context.items()}  # condition keys are case-insensitive
    return all(
        _operator_holds(operator, [str(e) for e in _as_list(expected)], by_key.get(key.lower()))
        for operator, block in condition.items()
        for key, expected in block.items()
    )


def _substitute(pattern: str, context: RequestContext) -> str:
    def value(match: re.Match[str]) -> str:
        found = context.get(match.group(1))
        if not isinstance(found, str):
            raise UnmodelledPolicyError(f"policy variable ${{{match.group(1)}}} has no single value in the context")
        return found

    resolved = _POLICY_VARIABLE.sub(value, pattern)
    if _REGEX_SPECIALS.search(resolved):
        raise UnmodelledPolicyError(f"moto's matcher would misread {resolved!r}")
    return resolved


def _applicable(statement: Mapping[str, Any], context: RequestContext) -> dict[str, Any] | None:
    """The statement as moto should see it for this request, or None when its condition fails."""
    unsupported = {"NotResource", "Principal", "NotPrincipal"} & set(statement)
    if unsupported:
        raise UnmodelledPolicyError(f"identity-policy evaluation does not model {sorted(unsupported)}")
    condition = statement.get("Condition")
    if condition and not condition_holds(condition, context):
        return None
    plain = {key: value for key, value in statement.items() if key != "Condition"}
    plain["Resource"] = [_substitute(pattern, context) for pattern in _as_list(statement["Resource"])]
    return plain


def evaluate(documents: Sequence[Mapping[str, Any]], action: str, resource: str, context: RequestContext) -> Decision:
    """The decision for `action` on `resource` by an identity holding exactly these policies."""
    applicable = []
    for document in documents:
        for statement in _as_list(document["Statement"]):
            plain = _applicable(statement, context)
            if plain is not None:
                applicable.append(plain)
    _substitute(resource, {})  # the requested ARN must be matchable too
    policy = IAMPolicy(json.dumps({"Version": "2012-10-17", "Statement": applicable}))
    result = policy.is_action_permitted(action, resource)
    if result == PermissionResult.DENIED:
        return Decision("explicit deny")
    return Decision("allowed" if result == PermissionResult.PERMITTED else "implicit deny")
