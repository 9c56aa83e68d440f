"""API Gateway stages are throttled and access-logged; traced where the stack pays for tracing."""

from __future__ import annotations

from typing import Any, Final

from pulumi_policy import (
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from .common import ADVISORY, MANDATORY, UNKNOWN, for_types, is_set, label_of, lookup, of_type, refers_to, truthy
from .remedies import TRACING_SETTINGS, remedy

STAGE: Final = "aws:apigateway/stage:Stage"
STAGE_V2: Final = "aws:apigatewayv2/stage:Stage"  # HTTP and WebSocket APIs
METHOD_SETTINGS: Final = "aws:apigateway/methodSettings:MethodSettings"
USAGE_PLAN: Final = "aws:apigateway/usagePlan:UsagePlan"


def _positive(value: Any) -> bool:
    return value is UNKNOWN or (isinstance(value, int | float) and value > 0)


def _same_api(resource: PolicyResource, prop: str, stage: PolicyResource) -> bool:
    mine, theirs = lookup(resource.props, prop), lookup(stage.props, "restApi")
    return mine is UNKNOWN or theirs is UNKNOWN or mine == theirs


def _throttled_by_method_settings(args: StackValidationArgs, stage: PolicyResource) -> bool:
    stage_names = (lookup(stage.props, "stageName"),)
    for settings in of_type(args, METHOD_SETTINGS):
        if not (refers_to(settings, "stageName", stage, stage_names) and _same_api(settings, "restApi", stage)):
            continue
        limits = lookup(settings.props, "settings")
        if lookup(settings.props, "methodPath") == "*/*" and all(
            _positive(lookup(limits, key)) for key in ("throttlingRateLimit", "throttlingBurstLimit")
        ):
            return True
    return False


def _throttled_by_usage_plan(args: StackValidationArgs, stage: PolicyResource) -> bool:
    stage_name, api = lookup(stage.props, "stageName"), lookup(stage.props, "restApi")
    for plan in of_type(args, USAGE_PLAN):
        stages = lookup(plan.props, "apiStages") or []
        covers = any(
            lookup(entry, "stage") in (stage_name, UNKNOWN) and lookup(entry, "apiId") in (api, UNKNOWN)
            for entry in (lookup(stages, i) for i in range(len(stages)))
        ) or any(d.urn == stage.urn for d in plan.property_dependencies.get("apiStages", []))
        throttle = lookup(plan.props, "throttleSettings")
        if covers and _positive(lookup(throttle, "rateLimit")) and _positive(lookup(throttle, "burstLimit")):
            return True
    return False


def _throttled_by_route_settings(stage: PolicyResource) -> bool:
    limits = lookup(stage.props, "defaultRouteSettings")
    return all(_positive(lookup(limits, key)) for key in ("throttlingRateLimit", "throttlingBurstLimit"))


def check_throttled(args: StackValidationArgs, report: ReportViolation) -> None:
    for stage in of_type(args, STAGE_V2):
        if not _throttled_by_route_settings(stage):
            report(
                f"API Gateway v2 stage {label_of(stage)} is not throttled: set default_route_settings with positive "
                f"throttling_rate_limit and throttling_burst_limit (`uba:live.api.rate_limit_rps`, `burst_limit`).",
                stage.urn,
            )
    for stage in of_type(args, STAGE):
        if _throttled_by_method_settings(args, stage) or _throttled_by_usage_plan(args, stage):
            continue
        report(
            f"API Gateway stage {label_of(stage)} is not throttled: add an aws.apigateway.MethodSettings for the "
            f"stage with method_path='*/*' and positive throttling_rate_limit and throttling_burst_limit, or a "
            f"usage plan with throttle_settings that lists the stage (`uba:ingest.api.rate_limit_rps`, "
            f"`burst_limit`).",
            stage.urn,
        )


@for_types(STAGE, STAGE_V2)
def check_access_logged(args: ResourceValidationArgs, report: ReportViolation) -> None:
    settings = lookup(args.props, "accessLogSettings")
    if is_set(lookup(settings, "destinationArn")) and is_set(lookup(settings, "format")):
        return
    report(
        f"API Gateway stage {label_of(args)} writes no access logs: set access_log_settings with destination_arn "
        f"(a KMS-encrypted log group from components.shared.logs.log_group) and a JSON format.",
        None,
    )


@for_types(STAGE, "aws:lambda/function:Function")
def check_tracing(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == STAGE:
        traced = lookup(args.props, "xrayTracingEnabled")
        fix = "set xray_tracing_enabled=True"
    else:
        traced = lookup(args.props, "tracingConfig", "mode")
        traced = traced == "Active" or traced is UNKNOWN
        fix = "set tracing_config=FunctionTracingConfigArgs(mode='Active')"
    if not (truthy(traced) or traced is UNKNOWN):
        report(
            f"{args.resource_type} {label_of(args)} is not traced with X-Ray, so a slow or failing request cannot "
            f"be followed end to end: {remedy(TRACING_SETTINGS, args.name, True, fix)}.",
            None,
        )


POLICIES: Final = [
    StackValidationPolicy(
        name="apigateway-stage-throttled",
        description="API Gateway stages are throttled (method settings for the whole stage, or a usage plan).",
        enforcement_level=MANDATORY,
        validate=check_throttled,
    ),
    ResourceValidationPolicy(
        name="apigateway-stage-access-logging",
        description="API Gateway stages write access logs.",
        enforcement_level=MANDATORY,
        validate=check_access_logged,
    ),
    # Advisory: tracing is deliberately off in dev (X-Ray costs per trace).
    ResourceValidationPolicy(
        name="xray-tracing",
        description="API stages and Lambda functions are traced with X-Ray.",
        enforcement_level=ADVISORY,
        validate=check_tracing,
    ),
]
