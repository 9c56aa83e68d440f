"""Check what the program registered against the input types of the installed pulumi-aws SDKs.

Mocks accept any property map; the provider does not. This walks every custom resource's
recorded inputs (the wire form the mocks see: camelCase names, numbers as floats, assets in
the snapshot's JSON form) against the resource's `<Resource>Args` class and the nested `*Args`
input types of pulumi-aws, at every depth, and reports each property the provider would
refuse: a name the type does not declare, a list where an object is expected (or the other
way round), a required property left out, a primitive of the wrong type.

pulumi-aws ships no package schema (its `pulumi-plugin.json` names only the plugin), so the
SDK's own metadata is the source of truth: `pulumi.getter(name=...)` gives each property's wire
name, the getters' return annotations its type (read through `pulumi._types.input_type_types`,
the same table the SDK serialises with), and an `Args.__init__` parameter without a default
marks a required property.

A resource type the checker cannot resolve to an SDK class is itself a finding, so a type is
never skipped silently. Values that cannot be judged (the engine's unknown sentinel, `Any`,
free-form documents typed as a `TypedDict`) are accepted.
"""

from __future__ import annotations

import collections.abc as abc
import contextlib
import difflib
import enum
import functools
import importlib
import inspect
import json
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi import _types as pulumi_types
from pulumi import asset as pulumi_asset

from tools.engine.mocks import RegisteredResource, Snapshot

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the engine's "unknown during preview" (pulumi.runtime.rpc.UNKNOWN)
SECRET_KEY, SECRET_SIG = "4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270"  # a wrapped secret
PROVIDER_PREFIX = "pulumi:providers:"

# How the snapshot records assets and archives (`tools.engine.mocks._describe_asset`).
_ASSET_KEYS = {"fileAsset", "stringAsset", "remoteAsset", "asset"}
_ARCHIVE_KEYS = {"fileArchive", "assetArchive", "remoteArchive"}


class UnresolvedTypeError(LookupError):
    """A type token with no resource class and `Args` input type in the installed SDK."""


@dataclass(frozen=True)
class Problem:
    """One property the provider would refuse: its wire path and what is wrong with it."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path or '<inputs>'}: {self.message}"


# --- from type token to the SDK's input type ------------------------------------------------------------


# The SDKs whose resources the program registers: pulumi-aws, and the Cloud Control provider for the one
# resource the classic provider cannot express (the BI tier's QuickSight dashboard definition).
SDK_PACKAGES = {"aws": "pulumi_aws", "aws-native": "pulumi_aws_native"}


@functools.cache
def _resource_classes() -> dict[str, tuple[str, str]]:
    """Type token -> (Python module, class name), from each SDK's registration of its resource modules."""
    from pulumi.runtime import rpc

    for package in SDK_PACKAGES.values():
        importlib.import_module(package)  # importing the package registers its modules
    classes: dict[str, tuple[str, str]] = {}
    for modules in rpc._RESOURCE_MODULES.values():
        for module in modules:
            info = getattr(module, "mod_info", None)
            if info and info.get("pkg") in SDK_PACKAGES:
                for token, class_name in info["classes"].items():
                    classes[token] = (info["fqn"], class_name)
    for pkg, package in SDK_PACKAGES.items():
        classes[f"{PROVIDER_PREFIX}{pkg}"] = (f"{package}.provider", "Provider")
    return classes


@functools.cache
def args_class(type_token: str) -> type:
    """The `<Resource>Args` input type of a pulumi-aws (or pulumi-aws-native) type token."""
    try:
        module_name, class_name = _resource_classes()[type_token]
    except KeyError:
        raise UnresolvedTypeError(f"no pulumi-aws resource class has the type token {type_token}") from None
    resource_class = getattr(importlib.import_module(module_name), class_name)
    # The resource's own module exports it and its Args class. The Args class is `<Class>InitArgs` where
    # `<Class>Args` already names a nested input type (S3's `BucketVersioningArgs` is `Bucket`'s block).
    module = importlib.import_module(resource_class.__module__)
    exported = [getattr(module, name) for name in getattr(module, "__all__", ()) if name.endswith("Args")]
    inputs = [cls for cls in exported if inspect.isclass(cls) and pulumi_types.is_input_type(cls)]
    if len(inputs) != 1:
        raise UnresolvedTypeError(f"{module.__name__} exports {len(inputs)} Args input types for {class_name}, not one")
    return inputs[0]


@dataclass(frozen=True)
class _ObjectType:
    name: str
    types: Mapping[str, Any]  # wire name -> annotation (Output/Optional already unwrapped at the top)
    required: frozenset[str]  # wire names
    python_names: Mapping[str, str]  # python name -> wire name, to name a snake_case slip


@functools.cache
def _object_type(cls: type) -> _ObjectType:
    python_names = pulumi_types.input_type_py_to_pulumi_names(cls)
    parameters = inspect.signature(cls).parameters.values()  # the `__init__` an Args object is built with
    required = {
        python_names.get(p.name, p.name)
        for p in parameters
        if p.default is inspect.Parameter.empty and p.kind is inspect.Parameter.KEYWORD_ONLY
    }
    return _ObjectType(cls.__name__, pulumi_types.input_type_types(cls), frozenset(required), python_names)


# --- the walk ------------------------------------------------------------------------------------------


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a bool"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__}"


def _shown(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_plumbing(member: Any) -> bool:
    """`Input[T]` is `Union[T, Awaitable[T], Output[T]]`: only T says what goes on the wire."""
    origin = typing.get_origin(member)
    if member is type(None) or member is pulumi.Output or origin is pulumi.Output:
        return True
    if origin in (abc.Awaitable, abc.Coroutine):
        return True
    return isinstance(member, typing.ForwardRef) and member.__forward_arg__.startswith("Output[")


def _members(annotation: Any) -> list[Any]:
    if not pulumi_types._is_union_type(annotation):
        return [annotation]
    members = [m for m in typing.get_args(annotation) if not _is_plumbing(m)]
    if any(inspect.isclass(m) and pulumi_types.is_input_type(m) for m in members):
        # A `TypedDict` beside an Args class is its dict spelling; it would let any object through.
        members = [m for m in members if not typing.is_typeddict(m)]
    return members


def _describe(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin in (list, abc.Sequence):
        return "a list"
    if origin in (dict, abc.Mapping):
        return "a map"
    if inspect.isclass(annotation):
        if pulumi_types.is_input_type(annotation) or typing.is_typeddict(annotation):
            return f"an object ({annotation.__name__})"
        if issubclass(annotation, enum.Enum):
            return f"one of {annotation.__name__}"
        return {str: "a string", bool: "a bool", int: "an integer", float: "a number"}.get(
            annotation, annotation.__name__
        )
    return str(annotation)


def _shape_fits(value: Any, annotation: Any) -> bool:
    """Whether the value has the annotation's outer shape (object, list, scalar), whatever its content."""
    origin = typing.get_origin(annotation)
    if origin in (list, abc.Sequence):
        return isinstance(value, list | tuple)
    if origin in (dict, abc.Mapping) or (
        inspect.isclass(annotation) and (pulumi_types.is_input_type(annotation) or typing.is_typeddict(annotation))
    ):
        return isinstance(value, Mapping)
    return not isinstance(value, Mapping | list | tuple)


def check_value(value: Any, annotation: Any, path: str = "") -> list[Problem]:
    """Problems of one wire value against one SDK annotation, recursively."""
    if isinstance(value, Mapping) and value.get(SECRET_KEY) == SECRET_SIG:
        return check_value(value.get("value"), annotation, path)
    if value is None or value == UNKNOWN or annotation is Any:
        return []
    members = _members(annotation)
    if len(members) == 1:
        return _check_member(value, members[0], path)
    outcomes = [_check_member(value, member, path) for member in members]
    if any(not problems for problems in outcomes):
        return []
    fitting = [problems for member, problems in zip(members, outcomes, strict=True) if _shape_fits(value, member)]
    if len(fitting) == 1:
        return fitting[0]  # the one member of that shape says exactly what is wrong inside
    expected = " or ".join(_describe(m) for m in members)
    return [Problem(path, f"expected {expected}, got {_kind(value)} {_shown(value)}")]


def _check_member(value: Any, annotation: Any, path: str) -> list[Problem]:
    origin = typing.get_origin(annotation)
    if origin in (list, abc.Sequence):
        if not isinstance(value, list | tuple):
            return [Problem(path, f"expected a list, got {_kind(value)} {_shown(value)}")]
        (item,) = typing.get_args(annotation) or (Any,)
        return [p for i, v in enumerate(value) for p in check_value(v, item, f"{path}[{i}]")]
    if origin in (dict, abc.Mapping):
        if not isinstance(value, Mapping):
            return [Problem(path, f"expected a map, got {_kind(value)} {_shown(value)}")]
        _, item = typing.get_args(annotation) or (str, Any)
        return [p for k, v in value.items() for p in check_value(v, item, f"{path}[{json.dumps(k)}]")]
    if inspect.isclass(annotation):
        return _check_class(value, annotation, path)
    return [Problem(path, f"the checker cannot read the SDK annotation {annotation!r}")]


def _check_class(value: Any, cls: type, path: str) -> list[Problem]:
    if pulumi_types.is_input_type(cls):
        return check_object(value, cls, path)
    if typing.is_typeddict(cls):
        return [] if isinstance(value, Mapping) else [Problem(path, f"expected an object, got {_kind(value)}")]
    if issubclass(cls, enum.Enum):
        allowed = [member.value for member in cls]
        return [] if value in allowed else [Problem(path, f"{_shown(value)} is not one of {allowed}")]
    if issubclass(cls, pulumi_asset.Archive | pulumi_asset.Asset):
        keys = _ARCHIVE_KEYS if issubclass(cls, pulumi_asset.Archive) else _ASSET_KEYS
        if isinstance(value, Mapping) and value.keys() & keys:
            return []
        return [Problem(path, f"expected {'an archive' if keys is _ARCHIVE_KEYS else 'an asset'}, got {_shown(value)}")]
    return _check_scalar(value, cls, path)


def _check_scalar(value: Any, cls: type, path: str) -> list[Problem]:
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if cls is bool:
        fits = isinstance(value, bool)
    elif cls is int:
        fits = is_number and float(value).is_integer()  # every wire number is a float; 24.0 is an int
    elif cls is float:
        fits = is_number
    elif cls is str:
        fits = isinstance(value, str)
    elif issubclass(cls, pulumi.Resource):
        fits = isinstance(value, str)  # a resource reference, recorded as `<resource Class>`
    else:
        return [Problem(path, f"the checker cannot check values of SDK type {cls.__module__}.{cls.__name__}")]
    return [] if fits else [Problem(path, f"expected {_describe(cls)}, got {_kind(value)} {_shown(value)}")]


def check_object(value: Any, cls: type, path: str = "") -> list[Problem]:
    """Problems of a wire object against an SDK input type: names, required properties, then each value."""
    if not isinstance(value, Mapping):
        return [Problem(path, f"expected an object ({cls.__name__}), got {_kind(value)} {_shown(value)}")]
    schema = _object_type(cls)
    problems: list[Problem] = []
    for key in value:
        if key not in schema.types:
            problems.append(
                Problem(_join(path, str(key)), f"{schema.name} has no property {key!r}{_hint(key, schema)}")
            )
    for key in sorted(schema.required):
        if value.get(key) is None:
            problems.append(Problem(_join(path, key), f"required by {schema.name}, missing"))
    for key, item in value.items():
        if key in schema.types:
            problems.extend(check_value(item, schema.types[key], _join(path, key)))
    return problems


def _hint(key: str, schema: _ObjectType) -> str:
    if key in schema.python_names:
        return f" (the Python name of {schema.python_names[key]!r})"
    close = difflib.get_close_matches(key, list(schema.types), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


# --- resources and snapshots ---------------------------------------------------------------------------


def _provider_inputs(inputs: Mapping[str, Any], cls: type) -> dict[str, Any]:
    """A provider's inputs arrive as strings (`"false"`, nested config as JSON text); decode what is not a string."""
    types = _object_type(cls).types
    decoded: dict[str, Any] = {}
    for key, value in inputs.items():
        wants_string = str in _members(types.get(key, str))
        if isinstance(value, str) and not wants_string:
            with contextlib.suppress(json.JSONDecodeError):  # if not JSON, it stays a string and is reported as one
                value = json.loads(value)
        decoded[key] = value
    return decoded


def check_inputs(type_token: str, inputs: Mapping[str, Any]) -> list[Problem]:
    """Problems of one resource's recorded inputs against its SDK `Args` class (raises UnresolvedTypeError)."""
    cls = args_class(type_token)
    if type_token.startswith(PROVIDER_PREFIX):
        inputs = _provider_inputs(inputs, cls)
    return check_object(inputs, cls)


def check_resource(resource: RegisteredResource) -> list[str]:
    """Each problem of a registered custom resource as `<type> <name>: <path>: <message>`."""
    try:
        problems = check_inputs(resource.type, resource.inputs)
    except UnresolvedTypeError as unresolved:
        return [f"{resource.type} {resource.name}: cannot be checked: {unresolved}"]
    return [f"{resource.type} {resource.name}: {problem}" for problem in problems]


def custom_resources(snapshot: Snapshot) -> Iterator[RegisteredResource]:
    return (resource for resource in snapshot.resources if resource.custom)


def check_snapshot(snapshot: Snapshot) -> list[str]:
    """Every problem of every custom resource (providers included) a run of the program registered."""
    return [finding for resource in custom_resources(snapshot) for finding in check_resource(resource)]
