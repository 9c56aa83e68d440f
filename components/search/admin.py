"""The search-admin function: the index template at deploy time, and a domain's daily retention sweep.

The function (`lambdas/search_admin.py`) is invoked by the deployment itself (a Lambda
invocation resource) with `{"action": "setup", "endpoint": ...}`: it applies the index
template derived from the contracts and, on a domain, the roles inside it. The invocation's
triggers hold a digest of everything it applies, so a changed template or a changed list of
staff runs it again; a failed setup fails the deployment. On a domain EventBridge Scheduler
invokes it daily with `{"action": "sweep", ...}` to delete the days past retention; its
errors raise the function's error alarm.

In the VPC (a domain, or a collection behind its VPC endpoint) the function runs in the
warehouse subnets with the search clients' security group: HTTPS to search and nothing else.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.search.network import SearchNetwork
from components.search.store import SearchStore, index_settings
from components.shared.context import StackContext, child
from components.shared.functions import FunctionVpc, PythonFunction, PythonFunctionArgs
from components.shared.iam import policy_json, role_with_policy
from lambdas import search_admin
from lambdas.search_schema import index_template
from settings import SearchSettings

ADMIN_FUNCTION = "search-admin"  # the function's logical name; its role is `<prefix>-search-admin-role`
SWEEP_SCHEDULE = "cron(15 0 * * ? *)"  # 00:15 UTC, just after a day's index is complete
SCHEDULER = "scheduler.amazonaws.com"
DOMAIN_ADMIN_ACTIONS = ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut", "es:ESHttpDelete"]


@dataclass(frozen=True)
class SearchAdmin:
    function: PythonFunction
    setup: aws.lambda_.Invocation | None = None
    sweep: aws.scheduler.Schedule | None = None


def admin_function(
    parent: pulumi.Resource,
    context: StackContext,
    settings: SearchSettings,
    powertools_version: str,
    network: SearchNetwork | None,
    security: pulumi.Input[str] | None,
) -> PythonFunction:
    """The function and its role; its grants on the store are added once the store exists (`grant_store`)."""
    environment: dict[str, pulumi.Input[str]] = {
        search_admin.SERVICE_ENV: "aoss" if settings.mode == "serverless" else "es",
        search_admin.RETENTION_ENV: str(settings.retention_days),
        search_admin.INDEX_SETTINGS_ENV: json.dumps(index_settings(settings), sort_keys=True),
        "POWERTOOLS_SERVICE_NAME": "search-admin",
    }
    if security is not None:
        environment[search_admin.SECURITY_ENV] = security
    return PythonFunction(
        ADMIN_FUNCTION,
        PythonFunctionArgs(
            context=context,
            function_name=ADMIN_FUNCTION,
            handler="lambdas.search_admin.handler",
            description="Applies the search index template; on a domain, its roles and the daily retention sweep",
            powertools_version=powertools_version,
            statements=[],
            environment=environment,
            memory_mb=256,
            timeout_seconds=120,
            tracing=settings.tracing,
            vpc=None
            if network is None
            else FunctionVpc(subnet_ids=network.subnet_ids, security_group_ids=[network.clients_group.id]),
        ),
        opts=child(parent),
    )


def grant_store(function: PythonFunction, store: SearchStore) -> aws.iam.RolePolicy:
    """What the function calls on the store, as a second policy of its role (the store names the role first)."""
    statement: Mapping[str, Any] = (
        {"Sid": "ManageTheCollection", "Effect": "Allow", "Action": "aoss:APIAccessAll", "Resource": store.arn}
        if store.service == "aoss"
        else {"Sid": "ManageTheDomain", "Effect": "Allow", "Action": DOMAIN_ADMIN_ACTIONS,
              "Resource": pulumi.Output.concat(store.arn, "/*")}
    )  # fmt: skip
    return aws.iam.RolePolicy(
        "search-admin-store-policy",
        role=function.role.id,
        name="search-admin-store",
        policy=policy_json([statement]),
        opts=child(function.role),
    )


def setup_digest(settings: SearchSettings, security: str | None) -> str:
    """What the setup applies, hashed: the invocation runs again exactly when this changes."""
    applied = {"template": index_template(index_settings(settings)), "security": security}
    return hashlib.sha256(json.dumps(applied, sort_keys=True).encode()).hexdigest()


def run_setup(
    parent: pulumi.Resource,
    function: PythonFunction,
    store: SearchStore,
    settings: SearchSettings,
    security: pulumi.Input[str] | None,
    after: Sequence[pulumi.Resource],
) -> aws.lambda_.Invocation:
    digest = pulumi.Output.from_input(security).apply(lambda text: setup_digest(settings, text))
    return aws.lambda_.Invocation(
        "search-setup",
        function_name=function.function_name,
        input=store.endpoint.apply(lambda endpoint: json.dumps({"action": "setup", "endpoint": endpoint})),
        triggers={"applied": digest},
        opts=child(parent, depends_on=[function, *after]),
    )


def daily_sweep(
    parent: pulumi.Resource, context: StackContext, function: PythonFunction, store: SearchStore
) -> aws.scheduler.Schedule:
    """The domain's retention: EventBridge Scheduler invokes the sweep once a day."""
    invoker, policy = role_with_policy(
        parent,
        context,
        "search-sweep-scheduler",
        SCHEDULER,
        [{"Sid": "InvokeTheSweep", "Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": function.arn}],
        "EventBridge Scheduler: the search index's daily retention sweep",
    )
    group = aws.scheduler.ScheduleGroup("search-schedules", name=context.name("search"), opts=child(parent))
    return aws.scheduler.Schedule(
        "search-sweep-schedule",
        name=context.name("search-sweep"),
        group_name=group.name,
        description="Deletes the search feed's daily indices past the stack's retention",
        schedule_expression=SWEEP_SCHEDULE,
        flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
        kms_key_arn=context.kms_key_arn,
        target=aws.scheduler.ScheduleTargetArgs(
            arn=function.arn,
            role_arn=invoker.arn,
            input=store.endpoint.apply(lambda endpoint: json.dumps({"action": "sweep", "endpoint": endpoint})),
            retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(
                maximum_retry_attempts=3, maximum_event_age_in_seconds=3600
            ),
        ),
        opts=child(parent, depends_on=[policy]),
    )
