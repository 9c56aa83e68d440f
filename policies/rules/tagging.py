"""Every taggable resource carries the platform's tags, so cost and ownership reports miss nothing.

Tags come from the provider's `default_tags` (set once in `__main__.py` from
`uba:platform`) merged with the resource's own `tags`, exactly as AWS computes
`tags_all`. A type is taggable when its pulumi-aws class takes a `tags` argument: the
same test the provider applies to decide which resources receive default tags.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import warnings
from typing import Any, Final

from pulumi_policy import PolicyProviderResource, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from .common import MANDATORY, UNKNOWN, label_of, lookup, plain, schema, setting

REQUIRED_TAGS: Final = ["Project", "Environment", "Owner", "CostCenter"]


@functools.cache
def accepts_tags(type_token: str) -> bool:
    """Whether a pulumi-aws resource type has a `tags` input (and so receives default tags)."""
    parts = type_token.split(":")
    if len(parts) != 3 or parts[0] != "aws" or parts[1].startswith("index/"):
        return False
    module, class_name = parts[1].split("/")[0].lower(), parts[2]
    for candidate in (module, f"{module}_"):  # `lambda` is `pulumi_aws.lambda_`
        try:
            with warnings.catch_warnings():
                # Importing a module also defines its deprecated classes; those notices are for programs.
                warnings.simplefilter("ignore", DeprecationWarning)
                resource_class = getattr(importlib.import_module(f"pulumi_aws.{candidate}"), class_name)
        except (ImportError, AttributeError):
            continue
        return "tags" in inspect.signature(resource_class._internal_init).parameters
    return False


def default_tags(provider: PolicyProviderResource | None) -> dict[str, Any] | None:
    """The provider's default tags; None while unknown. Providers receive nested config as JSON text."""
    if provider is None:
        return {}
    value = plain(lookup(provider.props, "defaultTags"))
    if value is UNKNOWN:
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return {}
    tags = value.get("tags") if isinstance(value, dict) else None
    return dict(tags) if isinstance(tags, dict) else {}


TAGS_CONFIG: Final = schema(
    requiredTags={
        "type": "array",
        "items": {"type": "string"},
        "default": REQUIRED_TAGS,
        "description": "Tag keys every taggable resource must carry with a non-empty value.",
    }
)


def check_required_tags(args: ResourceValidationArgs, report: ReportViolation) -> None:
    own = plain(lookup(args.props, "tags"))
    if not (accepts_tags(args.resource_type) or isinstance(own, dict)):
        return
    inherited = default_tags(args.provider)
    if own is UNKNOWN or inherited is None:
        return  # computed during the update; judged on the next preview
    merged = {**inherited, **(own if isinstance(own, dict) else {})}
    missing = [key for key in setting(args, TAGS_CONFIG, "requiredTags") if not merged.get(key)]
    if missing:
        report(
            f"{args.resource_type} {label_of(args)} lacks the required tags {', '.join(missing)}: create it with "
            f"the stack's aws provider (children of the Platform component inherit it), whose default_tags come "
            f"from `uba:platform` (environment, owner, cost_center), or set tags= on the resource.",
            None,
        )


POLICIES: Final = [
    ResourceValidationPolicy(
        name="required-tags",
        description="Every taggable resource carries the platform's required tags (provider defaults + own tags).",
        enforcement_level=MANDATORY,
        config_schema=TAGS_CONFIG,
        validate=check_required_tags,
    ),
]
