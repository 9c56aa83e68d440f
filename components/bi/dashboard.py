"""The dashboard itself, defined in code: `aws-native` QuickSight Dashboard with the rendered definition.

pulumi-aws 7 leaves `definition` out of its QuickSight Dashboard (and Analysis and Template): the only
classic way to a dashboard is from a template made by clicking. The Cloud Control provider
(`pulumi-aws-native`) carries `AWS::QuickSight::Dashboard` whole, typed, so the definition rendered
from `sql.bi` is deployed as written. It gets its own provider instance, in the stack's region with
the platform's tags, created only in stacks with the BI tier on.

The version description is a digest of the definition, so each change to the specification publishes
a new dashboard version whose description says which definition it is (`definition_digest`), and the
validation strategy is STRICT: QuickSight refuses a definition with an error instead of publishing a
dashboard with a broken visual.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws_native as aws_native

from components.shared.context import StackContext, child
from sql.bi import Dashboard

from .definition import VIEWER_ACTIONS, dashboard_definition, definition_digest


def native_provider(parent: pulumi.Resource, context: StackContext, tags: Mapping[str, str]) -> aws_native.Provider:
    return aws_native.Provider(
        "bi-aws-native",
        region=context.region,
        default_tags=aws_native.ProviderDefaultTagsArgs(tags=dict(tags)),
        opts=child(parent),
    )


def deploy_dashboard(
    parent: pulumi.Resource,
    context: StackContext,
    spec: Dashboard,
    data_set_arns: Mapping[str, pulumi.Input[str]],
    business_lines: Sequence[str],
    viewer_group_arns: Sequence[pulumi.Input[str]],
    tags: Mapping[str, str],
) -> aws_native.quicksight.Dashboard:
    provider = native_provider(parent, context, tags)
    definition: Any = dashboard_definition(spec, data_set_arns, business_lines)
    name = context.name("user-behaviour")
    return aws_native.quicksight.Dashboard(
        "bi-dashboard",
        aws_account_id=context.account_id,
        dashboard_id=name,
        name=f"{spec.title} ({context.prefix})",
        definition=definition,
        version_description=f"definition {definition_digest(spec, business_lines)}",
        validation_strategy={"mode": "STRICT"},
        permissions=[{"principal": arn, "actions": list(VIEWER_ACTIONS)} for arn in viewer_group_arns],
        dashboard_publish_options={
            # Readers filter by the sheet's controls; ad hoc filters and CSV export stay off.
            "ad_hoc_filtering_option": {"availability_status": "DISABLED"},
            "export_to_csv_option": {"availability_status": "DISABLED"},
            "sheet_controls_option": {"visibility_state": "EXPANDED"},
        },
        opts=child(parent, provider=provider),
    )
