"""Type tokens the tests look resources up by, each named once and derived from the SDK class it names.

`type_token(aws.kinesis.Stream)` is `"aws:kinesis/stream:Stream"`, read from pulumi-aws's own
registration of its resource modules, so a misspelt class fails at import instead of
silently matching nothing. The platform's own components are named here too.
"""

from __future__ import annotations

import functools

from pulumi.runtime import rpc


@functools.cache
def _registered() -> dict[tuple[str, str], str]:
    """(Python module, class name) -> type token, for every pulumi-aws resource class."""
    tokens: dict[tuple[str, str], str] = {}
    for modules in rpc._RESOURCE_MODULES.values():
        for module in modules:
            info = getattr(module, "mod_info", None)
            if not info or info.get("pkg") != "aws":
                continue
            for type_token, class_name in info["classes"].items():
                tokens[(info["fqn"], class_name)] = type_token
    return tokens


def type_token(resource_class: type) -> str:
    """The type token of a pulumi-aws resource class."""
    package = resource_class.__module__.rsplit(".", 1)[0]
    try:
        return _registered()[(package, resource_class.__name__)]
    except KeyError:
        raise LookupError(
            f"{resource_class.__module__}.{resource_class.__name__} is not a pulumi-aws resource"
        ) from None


# The platform's components.
PLATFORM = "uba:platform:Platform"
CORE = "uba:core:Core"
INGEST = "uba:ingest:Ingest"
EDGE = "uba:edge:Edge"
STREAMING = "uba:streaming:Streaming"
LAKE = "uba:lake:Lake"
WAREHOUSE = "uba:warehouse:Warehouse"
SEARCH = "uba:search:Search"
BI = "uba:bi:Bi"
# The one resource of another SDK: the QuickSight dashboard of the Cloud Control provider (pulumi-aws-native).
NATIVE_DASHBOARD = "aws-native:quicksight:Dashboard"
ACCESS = "uba:access:Access"
OBSERVABILITY = "uba:observability:Observability"
CDC = "uba:cdc:Cdc"
LIVE = "uba:live:Live"
COST = "uba:cost:Cost"
PYTHON_FUNCTION = "uba:compute:PythonFunction"
SECURE_BUCKET = "uba:storage:SecureBucket"
