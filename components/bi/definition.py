"""The QuickSight dashboard definition, rendered from the one specification in `sql.bi`: pure functions.

The definition is plain data in the input shape of `pulumi_aws_native.quicksight.Dashboard`'s
`definition` (pulumi-aws 7 has no `definition` on its QuickSight Dashboard, Analysis or Template:
the property is left out of the classic provider's schema, so a dashboard built in code needs the
Cloud Control provider). `tests/test_schema_conformance.py` checks it against that SDK's own input
types, and `tests/components/bi` against the QuickSight API's model in botocore.

How the specification maps:

- each dataset is a `data_set_identifier_declarations` entry named by its key;
- a date axis is a date dimension at the axis's granularity, a category axis a categorical
  dimension (a numerical one for INTEGER columns), sorted and cut to its limit by the first measure;
- a distinct count is a DISTINCT_COUNT measure, or `distinct_countIf` when it counts matching rows;
  a sum a SUM measure; a ratio the calculated measure `sum(a) / sum(b)`;
- the dashboard's filters: business lines (a multi-select of the stack's lines) and the date range
  (days ending today) both apply across datasets by column name (`biz_id`, `event_day`); retention
  cohorts keep the same window on `cohort_day`; a visual's own conditions are filters on it alone.

Row-level security is not here: it belongs to the datasets (`datasets.py`), so no filter a reader
clears can show another line.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

from sql.bi import (
    LINE_COLUMN,
    Axis,
    CategoryAxis,
    Dashboard,
    DataSet,
    DateAxis,
    DistinctCount,
    Equals,
    Measure,
    Ratio,
    Sum,
    Visual,
)

Data = dict[str, Any]

SHEET_ID: Final = "overview"
GRID_COLUMNS: Final = 36  # QuickSight's grid is 36 columns wide
VISUAL_COLUMNS: Final = 18
VISUAL_ROWS: Final = 12
VIEWER_ACTIONS: Final = (
    "quicksight:DescribeDashboard",
    "quicksight:ListDashboardVersions",
    "quicksight:QueryDashboard",
)


def _column(dataset: str, name: str) -> Data:
    return {"data_set_identifier": dataset, "column_name": name}


def _title(text: str) -> Data:
    return {"visibility": "VISIBLE", "format_text": {"plain_text": text}}


def _dimension(field_id: str, dataset: DataSet, axis: Axis) -> Data:
    column = _column(dataset.key, axis.column)
    if isinstance(axis, DateAxis):
        return {"date_dimension_field": {"field_id": field_id, "column": column, "date_granularity": axis.granularity}}
    if dataset.column(axis.column).type in ("INTEGER", "DECIMAL"):
        return {"numerical_dimension_field": {"field_id": field_id, "column": column}}
    return {"categorical_dimension_field": {"field_id": field_id, "column": column}}


def _literal(value: str | int) -> str:
    return str(value) if isinstance(value, int) else "'" + value.replace("'", "\\'") + "'"


def measure_expression(measure: Measure) -> str | None:
    """The QuickSight calculation of a measure that needs one (None for a plain aggregation)."""
    if isinstance(measure, Ratio):
        return f"sum({{{measure.numerator}}}) / sum({{{measure.denominator}}})"
    if isinstance(measure, DistinctCount) and measure.where is not None:
        condition = f"{{{measure.where.column}}} = {_literal(measure.where.value)}"
        return f"distinct_countIf({{{measure.column}}}, {condition})"
    return None


def _measure(field_id: str, dataset: DataSet, measure: Measure) -> Data:
    expression = measure_expression(measure)
    if expression is not None:
        return {"calculated_measure_field": {"field_id": field_id, "expression": expression}}
    if isinstance(measure, DistinctCount):
        return {
            "categorical_measure_field": {
                "field_id": field_id,
                "column": _column(dataset.key, measure.column),
                "aggregation_function": "DISTINCT_COUNT",
            }
        }
    assert isinstance(measure, Sum)
    return {
        "numerical_measure_field": {
            "field_id": field_id,
            "column": _column(dataset.key, measure.column),
            "aggregation_function": {"simple_numerical_aggregation": "SUM"},
        }
    }


def _sorting(visual: Visual, measure_ids: Sequence[str]) -> Data | None:
    if not isinstance(visual.x, CategoryAxis) or visual.x.limit is None:
        return None
    return {
        "category_sort": [{"field_sort": {"field_id": measure_ids[0], "direction": "DESC"}}],
        "category_items_limit": {"items_limit": visual.x.limit, "other_categories": "EXCLUDE"},
    }


def visual_definition(visual: Visual, dataset: DataSet) -> Data:
    """One visual of the sheet, in the definition's shape."""
    x = _dimension(f"{visual.key}.x", dataset, visual.x)
    measure_ids = [f"{visual.key}.m{index}" for index in range(len(visual.measures))]
    values = [_measure(field_id, dataset, m) for field_id, m in zip(measure_ids, visual.measures, strict=True)]
    common: Data = {"visual_id": visual.key, "title": _title(visual.title)}
    if visual.note:
        common["subtitle"] = {"visibility": "VISIBLE", "format_text": {"plain_text": visual.note}}
    if visual.kind == "line":
        wells = {"line_chart_aggregated_field_wells": {"category": [x], "values": values}}
        return {"line_chart_visual": {**common, "chart_configuration": {"field_wells": wells}}}
    if visual.kind == "heat_map":
        assert visual.columns is not None
        columns = _dimension(f"{visual.key}.columns", dataset, visual.columns)
        wells = {"heat_map_aggregated_field_wells": {"rows": [x], "columns": [columns], "values": values}}
        return {"heat_map_visual": {**common, "chart_configuration": {"field_wells": wells}}}
    configuration: Data = {
        "field_wells": {"bar_chart_aggregated_field_wells": {"category": [x], "values": values}},
        "orientation": "HORIZONTAL" if visual.kind == "horizontal_bar" else "VERTICAL",
    }
    sorting = _sorting(visual, measure_ids)
    if sorting is not None:
        configuration["sort_configuration"] = sorting
    return {"bar_chart_visual": {**common, "chart_configuration": configuration}}


def _layout(visuals: Sequence[Visual]) -> Data:
    elements = [
        {
            "element_id": visual.key,
            "element_type": "VISUAL",
            "column_index": (index % (GRID_COLUMNS // VISUAL_COLUMNS)) * VISUAL_COLUMNS,
            "row_index": (index // (GRID_COLUMNS // VISUAL_COLUMNS)) * VISUAL_ROWS,
            "column_span": VISUAL_COLUMNS,
            "row_span": VISUAL_ROWS,
        }
        for index, visual in enumerate(visuals)
    ]
    return {"configuration": {"grid_layout": {"elements": elements}}}


def _rolling_range(days: int) -> Data:
    return {
        "range_minimum_value": {
            "rolling_date": {"expression": f"addDateTime(-{days - 1}, 'DD', truncDate('DD', now()))"}
        },
        "range_maximum_value": {"rolling_date": {"expression": "truncDate('DD', now())"}},
    }


def _scope(visual_ids: Sequence[str] | None = None) -> Data:
    sheet: Data = {"sheet_id": SHEET_ID, "scope": "ALL_VISUALS"}
    if visual_ids is not None:
        sheet = {"sheet_id": SHEET_ID, "scope": "SELECTED_VISUALS", "visual_ids": list(visual_ids)}
    return {"selected_sheets": {"sheet_visual_scoping_configurations": [sheet]}}


def _filter_group(group_id: str, filter_: Data, scope: Data, cross_dataset: str) -> Data:
    return {
        "filter_group_id": group_id,
        "filters": [filter_],
        "scope_configuration": scope,
        "status": "ENABLED",
        "cross_dataset": cross_dataset,
    }


def _condition_filter(filter_id: str, dataset: str, condition: Equals) -> Data:
    return {
        "category_filter": {
            "filter_id": filter_id,
            "column": _column(dataset, condition.column),
            "configuration": {
                "filter_list_configuration": {"match_operator": "CONTAINS", "category_values": [str(condition.value)]}
            },
        }
    }


def filter_groups(spec: Dashboard, primary: DataSet) -> list[Data]:
    """The dashboard's business-line and date filters, and each visual's own conditions."""
    groups = [
        _filter_group(
            "business-lines",
            {
                "category_filter": {
                    "filter_id": "business-lines",
                    "column": _column(primary.key, LINE_COLUMN),
                    "configuration": {
                        "filter_list_configuration": {
                            "match_operator": "CONTAINS",
                            "select_all_options": "FILTER_ALL_VALUES",
                        }
                    },
                }
            },
            _scope(),
            "ALL_DATASETS",
        ),
        _filter_group(
            "days",
            {
                "time_range_filter": {
                    "filter_id": "days",
                    "column": _column(primary.key, primary.date_column),
                    "null_option": "NON_NULLS_ONLY",
                    "include_minimum": True,
                    "include_maximum": True,
                    "time_granularity": "DAY",
                    **_rolling_range(spec.default_days),
                }
            },
            _scope(),
            "ALL_DATASETS",
        ),
    ]
    # A dataset whose date column has another name keeps the same window on it.
    for dataset in spec.datasets:
        if dataset.date_column == primary.date_column:
            continue
        users = [visual.key for visual in spec.visuals if visual.dataset == dataset.key]
        if users:
            time_filter = {
                "time_range_filter": {
                    "filter_id": f"days-{dataset.key}",
                    "column": _column(dataset.key, dataset.date_column),
                    "null_option": "NON_NULLS_ONLY",
                    "include_minimum": True,
                    "include_maximum": True,
                    "time_granularity": "DAY",
                    **_rolling_range(spec.default_days),
                }
            }
            groups.append(_filter_group(f"days-{dataset.key}", time_filter, _scope(users), "SINGLE_DATASET"))
    for visual in spec.visuals:
        for index, condition in enumerate(visual.where):
            filter_id = f"{visual.key}-where-{index}"
            groups.append(
                _filter_group(
                    filter_id, _condition_filter(filter_id, visual.dataset, condition), _scope([visual.key]),
                    "SINGLE_DATASET",
                )
            )  # fmt: skip
    return groups


def filter_controls(spec: Dashboard, business_lines: Sequence[str]) -> list[Data]:
    return [
        {
            "dropdown": {
                "filter_control_id": "business-lines-control",
                "source_filter_id": "business-lines",
                "title": spec.line_filter_title,
                "type": "MULTI_SELECT",
                "selectable_values": {"values": list(business_lines)},
            }
        },
        {
            "date_time_picker": {
                "filter_control_id": "days-control",
                "source_filter_id": "days",
                "title": spec.date_filter_title,
                "type": "DATE_RANGE",
            }
        },
    ]


def dashboard_definition(spec: Dashboard, data_set_arns: Mapping[str, Any], business_lines: Sequence[str]) -> Data:
    """The whole `definition` of the dashboard; `data_set_arns` maps each dataset key to its ARN."""
    problems = spec.problems()
    if problems:
        raise ValueError("the dashboard specification is inconsistent: " + "; ".join(problems))
    primary = spec.dataset(spec.visuals[0].dataset)
    sheet = {
        "sheet_id": SHEET_ID,
        "name": spec.title,
        "title": spec.title,
        "visuals": [visual_definition(visual, spec.dataset(visual.dataset)) for visual in spec.visuals],
        "filter_controls": filter_controls(spec, business_lines),
        "layouts": [_layout(spec.visuals)],
    }
    return {
        "data_set_identifier_declarations": [
            {"identifier": dataset.key, "data_set_arn": data_set_arns[dataset.key]} for dataset in spec.datasets
        ],
        "sheets": [sheet],
        "filter_groups": filter_groups(spec, primary),
        "options": {"timezone": "UTC", "week_start": "MONDAY"},
    }


def definition_digest(spec: Dashboard, business_lines: Sequence[str]) -> str:
    """A short digest of what the definition says (dataset ARNs aside): the dashboard's version description."""
    placeholder = {dataset.key: f"<{dataset.key}>" for dataset in spec.datasets}
    text = json.dumps(dashboard_definition(spec, placeholder, business_lines), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]
