"""The dashboard's datasets, each under row-level security by business line, and their SPICE refreshes.

Every dataset of the specification (`sql.bi`) is built from its declared columns: a warehouse model
as a relational table of the Redshift source (schema `public`, where the deploy SQL creates it), a lake
query as custom SQL of the Athena source, its window bounded by `uba:bi.lake_window_days`. Each carries
the permissions dataset (`use_as: RLS_RULES`): custom SQL over the warehouse that lists the stack's line
groups (`people.rule_rows`), so a reader sees only the rows of the lines their groups grant; nobody
is granted the rules themselves. Authors are the datasets' viewers (never owners, whom RLS would not
filter); readers need no dataset permission to open the dashboard.

With `import_mode: spice` each dataset, the rules too, is fully refreshed on `uba:bi.refresh`'s
schedule (a change to a dataset's definition is also ingested at once by QuickSight).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import pulumi
import pulumi_aws as aws

from components.shared.context import StackContext, child
from settings.bi import BiSettings
from sql.bi import LINE_COLUMN, DataSet, render_for_quicksight

from .people import RULES_GROUP_COLUMN, rules_sql

DATASET_VIEWER_ACTIONS: Final = (
    "quicksight:DescribeDataSet",
    "quicksight:DescribeDataSetPermissions",
    "quicksight:PassDataSet",
    "quicksight:DescribeIngestion",
    "quicksight:ListIngestions",
)
WAREHOUSE_SCHEMA: Final = "public"
IMPORT_MODES: Final = {"spice": "SPICE", "direct_query": "DIRECT_QUERY"}


def rules_dataset(
    parent: pulumi.Resource,
    context: StackContext,
    settings: BiSettings,
    warehouse_source: aws.quicksight.DataSource,
    rules: Sequence[tuple[str, str | None]],
) -> aws.quicksight.DataSet:
    """The permissions dataset: which group sees which line (custom SQL over the warehouse, no table)."""
    key = "row-permissions"
    return aws.quicksight.DataSet(
        "bi-dataset-row-permissions",
        data_set_id=context.name("bi", key),
        name=f"{context.prefix} BI row-level security rules",
        import_mode=IMPORT_MODES[settings.import_mode],
        use_as="RLS_RULES",
        physical_table_maps=[
            {
                "physical_table_map_id": key,
                "custom_sql": {
                    "data_source_arn": warehouse_source.arn,
                    "name": "row_permissions",
                    "sql_query": rules_sql(rules),
                    "columns": [{"name": "groupname", "type": "STRING"}, {"name": LINE_COLUMN, "type": "STRING"}],
                },
            }
        ],
        # Redshift folds unquoted names to lower case; QuickSight reads the group column as `GroupName`.
        logical_table_maps=[
            {
                "logical_table_map_id": key,
                "alias": "row_permissions",
                "source": {"physical_table_id": key},
                "data_transforms": [
                    {"rename_column_operation": {"column_name": "groupname", "new_column_name": RULES_GROUP_COLUMN}}
                ],
            }
        ],
        opts=child(parent),
    )


def _physical_table(dataset: DataSet, source_arn: pulumi.Input[str], settings: BiSettings) -> Any:
    columns = [{"name": column.name, "type": column.type} for column in dataset.columns]
    if dataset.table is not None:
        table = {"data_source_arn": source_arn, "schema": WAREHOUSE_SCHEMA, "name": dataset.table,
                 "input_columns": columns}  # fmt: skip
        return {"physical_table_map_id": dataset.key, "relational_table": table}
    assert dataset.query is not None
    sql = render_for_quicksight(dataset.query, settings.lake_window_days)
    custom = {"data_source_arn": source_arn, "name": dataset.query, "sql_query": sql, "columns": columns}
    return {"physical_table_map_id": dataset.key, "custom_sql": custom}


def spec_dataset(
    parent: pulumi.Resource,
    context: StackContext,
    settings: BiSettings,
    dataset: DataSet,
    sources: Mapping[str, aws.quicksight.DataSource],
    rules: aws.quicksight.DataSet,
    authors_group_arn: pulumi.Input[str],
) -> aws.quicksight.DataSet:
    security: Any = {
        "arn": rules.arn,
        "permission_policy": "GRANT_ACCESS",
        "format_version": "VERSION_1",
        "namespace": settings.quicksight.namespace,
        "status": "ENABLED",
    }
    permissions: Any = [{"principal": authors_group_arn, "actions": list(DATASET_VIEWER_ACTIONS)}]
    return aws.quicksight.DataSet(
        f"bi-dataset-{dataset.key.replace('_', '-')}",
        data_set_id=context.name("bi", dataset.key.replace("_", "-")),
        name=f"{context.prefix} {dataset.title}",
        import_mode=IMPORT_MODES[settings.import_mode],
        physical_table_maps=[_physical_table(dataset, sources[dataset.source].arn, settings)],
        row_level_permission_data_set=security,
        permissions=permissions,
        opts=child(parent),
    )


def refresh_schedule(
    parent: aws.quicksight.DataSet, context: StackContext, settings: BiSettings, key: str
) -> aws.quicksight.RefreshSchedule:
    refresh = settings.refresh
    frequency: dict[str, Any] = {"interval": refresh.interval, "timezone": "UTC"}
    if refresh.interval in ("DAILY", "WEEKLY"):
        frequency["time_of_the_day"] = refresh.time_of_day
    if refresh.interval == "WEEKLY":
        frequency["refresh_on_day"] = {"day_of_week": "MONDAY"}
    schedule: Any = {"refresh_type": "FULL_REFRESH", "schedule_frequency": frequency}
    return aws.quicksight.RefreshSchedule(
        f"bi-refresh-{key}",
        data_set_id=parent.data_set_id,
        schedule_id=context.name("bi", key, "refresh"),
        schedule=schedule,
        opts=child(parent),
    )
