"""What every settings model is built from: the frozen base models, and value types that explain themselves.

A tier's settings model derives from `TierSettings`: it has `enabled`, and a tier switched
off (`enabled: false`) needs no other key. Keys left in place beside `enabled: false` are
still checked one by one (an unknown key, a value of the wrong type or out of range), so
switching the tier back on brings no surprise, but the tier's required keys and its
cross-field rules wait until it is on.

Values constrained by a pattern say what they accept in words (`matching`), never as a
regular expression: a settings error is read by a person.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Self, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    ValidatorFunctionWrapHandler,
    model_validator,
)
from pydantic_core import CoreSchema, InitErrorDetails, core_schema

from settings.formats import control_character_problem, ipv4_network_problem, schedule_problem, tag_text_problem

PROJECT = "uba"

# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
                      2922, 3288, 3653)  # fmt: skip
# The four staff groups of every stack, in the order reports list them (the access tier creates them).
Persona = Literal["admin", "op", "dev", "bizUser"]
PERSONAS: tuple[Persona, ...] = get_args(Persona)
# What the dev group may do: `builder` sends test events and writes dev data; `read_only` reads.
DevAccess = Literal["builder", "read_only"]


def refuse(problem: Callable[[str], str | None]) -> AfterValidator:
    """A validator that raises `problem(value)`, with the value, when there is one."""

    def check(value: str) -> str:
        reason = problem(value)
        if reason is not None:
            raise ValueError(f"{reason}, got {value!r}")
        return value

    return AfterValidator(check)


@dataclass(frozen=True)
class Matching:
    """Annotation metadata for text that must match `pattern` whole.

    Refused as `must be <description>, got '<value>'`: the description says in words what the
    pattern accepts, and the configuration reference shows it.
    """

    pattern: str
    description: str

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        compiled = re.compile(self.pattern)

        def check(value: str) -> str:
            if not compiled.fullmatch(value):
                raise ValueError(f"must be {self.description}, got {value!r}")
            return value

        return core_schema.no_info_after_validator_function(check, handler(source))


Email = Annotated[
    str,
    StringConstraints(max_length=254),
    Matching(r"[^@\s]+@[^@\s]+\.[^@\s]+", "an email address such as ops@example.com"),
]
Cidr = Annotated[str, refuse(ipv4_network_problem)]
# Markers reach the Flink job as SQL string literals; a control character there stops it at start.
Marker = Annotated[str, StringConstraints(min_length=1, max_length=64), refuse(control_character_problem)]
TagValue = Annotated[str, refuse(lambda text: tag_text_problem(text, key=False))]
ScheduleExpression = Annotated[str, refuse(schedule_problem)]
# An event action as the warehouse can put it in a Redshift string literal: no backslash or control characters.
ActionName = Annotated[
    str,
    Matching(r"[^\\\x00-\x1f\x7f]{1,256}", "an event action of 1-256 characters, no backslash or control character"),
]
IamUserName = Annotated[
    str, Matching(r"[A-Za-z0-9+=,.@_-]{1,64}", "an IAM user name of 1-64 letters, digits and +=,.@_-")
]
VpcId = Annotated[str, Matching(r"vpc-[0-9a-f]+", "a VPC id such as vpc-0a1b2c3d")]
SubnetId = Annotated[str, Matching(r"subnet-[0-9a-f]+", "a subnet id such as subnet-0a1b2c3d")]
SecurityGroupId = Annotated[str, Matching(r"sg-[0-9a-f]+", "a security group id such as sg-0a1b2c3d")]


class Model(BaseModel):
    """Base for every settings model: frozen, strict about unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, use_attribute_docstrings=True)


class TierSettings(Model):
    """A tier's settings: `enabled: false` switches the tier off and makes every other key optional."""

    enabled: bool = True
    """Build this tier."""

    @model_validator(mode="wrap")
    @classmethod
    def _switched_off(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Self:
        if not (isinstance(data, dict) and data.get("enabled") is False):
            return handler(data)
        return cls._off(data)

    @classmethod
    def _off(cls, data: dict[str, Any]) -> Self:
        """The settings of a switched-off tier: each key given is checked alone; none is required."""
        values: dict[str, Any] = {}
        errors: list[InitErrorDetails] = []
        for key, value in data.items():
            field = cls.model_fields.get(key)
            if field is None:
                errors.append(InitErrorDetails(type="extra_forbidden", loc=(key,), input=value))
                continue
            try:
                values[key] = TypeAdapter(Annotated[field.annotation, field]).validate_python(value)
            except ValidationError as error:
                errors.extend(
                    InitErrorDetails(type=e["type"], loc=(key, *e["loc"]), input=e["input"], ctx=e.get("ctx", {}))
                    for e in error.errors(include_url=False)
                )
        if errors:
            raise ValidationError.from_exception_data(cls.__name__, errors)
        return cls.model_construct(**values)

    @model_validator(mode="after")
    def _check_when_on(self) -> Self:
        if self.enabled:
            self.check_when_on()
        return self

    def check_when_on(self) -> None:
        """The tier's cross-field rules, checked only while it is on: raise `ValueError("key: reason")`.

        A tier writes its rules here rather than in a model validator of its own, which would run
        for a switched-off tier too (whose required keys may be absent).
        """


class StreamSettings(Model):
    """A Kinesis data stream's capacity and retention (the events, alerts and other streams)."""

    mode: Literal["on_demand", "provisioned"] = Field(description="Kinesis capacity mode.")
    shard_count: int | None = Field(default=None, ge=1, le=500, description="Shards; provisioned mode only.")
    retention_hours: int = Field(default=24, ge=24, le=8760, description="Record retention, 24 to 8760 hours.")

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.mode == "provisioned" and self.shard_count is None:
            raise ValueError("shard_count: required when mode is provisioned")
        if self.mode == "on_demand" and self.shard_count is not None:
            raise ValueError("shard_count: must be omitted when mode is on_demand")
        return self
