"""The dashboard definition against the QuickSight API's own model (botocore), besides the SDK's types.

The schema-conformance test holds the definition to pulumi-aws-native's input types, which are
generated from CloudFormation's resource schema. This test holds the same definition to the
shapes `CreateDashboard` takes (the service model botocore ships): every member name, required
member, type, enum value and length, so a definition both SDKs accept but QuickSight refuses
fails here, offline.
"""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest
from botocore.model import Shape
from botocore.validate import ParamValidator

from components.bi.definition import dashboard_definition, filter_groups, visual_definition
from sql.bi import CategoryAxis, Dashboard, DateAxis, Ratio, Sum, Visual, dashboard

LINES = ["biz-news", "biz-shop"]


def definition_shape() -> Shape:
    model = botocore.session.get_session().get_service_model("quicksight")
    return model.operation_model("CreateDashboard").input_shape.members["Definition"]


def api_problems(value: Any, shape: Shape, path: str = "Definition") -> tuple[Any, list[str]]:
    """The value in the API's PascalCase, and what the model's validator does not check itself (enums)."""
    problems: list[str] = []
    if shape.type_name == "structure":
        by_lower = {name.lower(): name for name in shape.members}
        converted: dict[str, Any] = {}
        for key, item in value.items():
            name = by_lower.get(key.replace("_", "").lower())
            if name is None:
                problems.append(f"{path}.{key}: not a member of {shape.name}")
                continue
            converted[name], found = api_problems(item, shape.members[name], f"{path}.{name}")
            problems += found
        return converted, problems
    if shape.type_name == "list":
        items = [api_problems(item, shape.member, f"{path}[{index}]") for index, item in enumerate(value)]
        return [item for item, _ in items], [problem for _, found in items for problem in found]
    if shape.type_name == "string" and shape.enum and value not in shape.enum:
        problems.append(f"{path}: {value!r} is not one of {shape.enum}")
    if shape.type_name in ("integer", "long") and isinstance(value, float) and value.is_integer():
        value = int(value)
    return value, problems


def check(definition: dict[str, Any]) -> list[str]:
    shape = definition_shape()
    converted, problems = api_problems(definition, shape)
    report = ParamValidator().validate(converted, shape)
    return problems + ([report.generate_report()] if report.has_errors() else [])


ARNS = {key: f"arn:aws:quicksight:eu-west-1:123456789012:dataset/uba-prod-bi-{key}" for key in
        ("user_daily", "retention", "lake_events")}  # fmt: skip


def test_the_dashboard_definition_is_what_the_quicksight_api_takes() -> None:
    assert check(dashboard_definition(dashboard(), ARNS, LINES)) == []


def test_the_check_catches_what_quicksight_would_refuse() -> None:
    definition = dashboard_definition(dashboard(), ARNS, LINES)
    definition["filter_groups"][0]["cross_dataset"] = "EVERY_DATASET"
    definition["sheets"][0]["visuals"][0]["line_chart_visual"]["colour"] = "blue"
    del definition["sheets"][0]["visuals"][1]["bar_chart_visual"]["visual_id"]
    problems = "\n".join(check(definition))
    assert "'EVERY_DATASET' is not one of" in problems
    assert "colour: not a member of LineChartVisual" in problems
    assert "VisualId" in problems


def test_every_visual_of_the_specification_is_on_the_sheet_with_its_title() -> None:
    spec = dashboard()
    sheet = dashboard_definition(spec, ARNS, LINES)["sheets"][0]
    rendered = {next(iter(v.values()))["visual_id"]: next(iter(v.values())) for v in sheet["visuals"]}
    assert list(rendered) == [visual.key for visual in spec.visuals]
    for visual in spec.visuals:
        assert rendered[visual.key]["title"]["format_text"]["plain_text"] == visual.title
    layout = sheet["layouts"][0]["configuration"]["grid_layout"]["elements"]
    assert [element["element_id"] for element in layout] == list(rendered)


def test_measures_map_to_quicksight_aggregations_and_calculations() -> None:
    spec = dashboard()
    fields = {v.key: visual_definition(v, spec.dataset(v.dataset)) for v in spec.visuals}
    dau = fields["dau"]["line_chart_visual"]["chart_configuration"]["field_wells"]["line_chart_aggregated_field_wells"]
    assert dau["category"][0]["date_dimension_field"]["date_granularity"] == "DAY"
    assert dau["values"][0]["categorical_measure_field"]["aggregation_function"] == "DISTINCT_COUNT"
    new_users = fields["new_users"]["line_chart_visual"]["chart_configuration"]["field_wells"]
    assert new_users["line_chart_aggregated_field_wells"]["values"][0]["calculated_measure_field"]["expression"] == (
        "distinct_countIf({user_id}, {new_user} = 1)"
    )
    retention = fields["retention"]["heat_map_visual"]["chart_configuration"]["field_wells"]
    wells = retention["heat_map_aggregated_field_wells"]
    assert wells["values"][0]["calculated_measure_field"]["expression"] == "sum({retained_users}) / sum({cohort_users})"
    assert "numerical_dimension_field" in wells["columns"][0]  # days_after is a number
    top = fields["top_objects"]["bar_chart_visual"]["chart_configuration"]
    assert top["orientation"] == "HORIZONTAL"
    assert top["sort_configuration"]["category_items_limit"] == {"items_limit": 10, "other_categories": "EXCLUDE"}


def test_the_filters_cover_every_dataset_and_the_visual_conditions() -> None:
    spec = dashboard()
    groups = {g["filter_group_id"]: g for g in filter_groups(spec, spec.dataset("user_daily"))}
    assert groups["business-lines"]["cross_dataset"] == "ALL_DATASETS"
    assert groups["days"]["cross_dataset"] == "ALL_DATASETS"
    # Retention is dated by cohort_day, a column of another name: it keeps the same window by a filter of its own.
    cohorts = groups["days-retention"]
    assert cohorts["filters"][0]["time_range_filter"]["column"] == {
        "data_set_identifier": "retention",
        "column_name": "cohort_day",
    }
    assert cohorts["scope_configuration"]["selected_sheets"]["sheet_visual_scoping_configurations"][0][
        "visual_ids"
    ] == ["retention"]
    top = groups["top_objects-where-0"]["filters"][0]["category_filter"]
    assert top["configuration"]["filter_list_configuration"]["category_values"] == ["viewDoc"]


def test_an_inconsistent_specification_is_refused_before_rendering() -> None:
    spec = dashboard()
    broken = Dashboard(
        spec.title,
        spec.datasets,
        (
            *spec.visuals,
            Visual("x", "x", "bar", "user_daily", CategoryAxis("object_id"), (Sum("events", "events"),)),
            Visual("dau", "again", "line", "nowhere", DateAxis("event_day", "DAY"), (Ratio("r", "a", "b"),)),
        ),
    )
    with pytest.raises(ValueError) as caught:
        dashboard_definition(broken, ARNS, LINES)
    message = str(caught.value)
    assert "visual key 'dau' is used twice" in message
    assert "visual x: dataset user_daily has no column 'object_id'" in message
    assert "visual dau: no dataset 'nowhere'" in message
