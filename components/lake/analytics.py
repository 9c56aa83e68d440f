"""The lake's Athena workgroups: one per persona that queries, each with its own results prefix.

Within one workgroup Athena writes every result to the workgroup's location, named by query
id, and whoever may use the workgroup may list and fetch all its executions: no IAM policy
variable tells one person's executions from another's, and with "Override client-side
settings" a client cannot choose its own location (AWS, Athena User Guide: "Override
client-side settings"). So the unit that separates results is the workgroup: `op`, `dev` and
`bizUser` each query in their own, whose enforced location is `results/<persona>/` of the
results bucket, and the access tier grants each group its own workgroup and prefix only.
Every workgroup enforces the same SSE-KMS encryption and scan cap, and holds every
`sql/athena/<name>.sql` as prepared statement `<name>`.

The op workgroup is the one the lake always had (`<prefix>-analytics`, same URN), so a
deployed stack keeps its query history; the others are `<prefix>-analytics-<persona>`.
"""

from __future__ import annotations

from typing import Final

import pulumi
import pulumi_aws as aws

from components.lake.catalog import ATHENA_ENGINE, glue_database_name, statement_description
from components.shared.context import StackContext, child
from settings import Persona
from sql.athena import query_names, render_for_athena

# The personas that query the lake in a workgroup of their own; admin may use any of them.
QUERYING_PERSONAS: Final[tuple[Persona, ...]] = ("op", "dev", "bizUser")
RESULTS_PREFIX: Final = "results"


def persona_key(persona: Persona) -> str:
    """`bizUser` -> `bizuser`: Athena names and S3 prefixes in lowercase."""
    return persona.lower()


def results_prefix(persona: Persona) -> str:
    """The key prefix under which the persona's workgroup writes results: `results/bizuser/`."""
    return f"{RESULTS_PREFIX}/{persona_key(persona)}/"


def workgroup_name(context: StackContext, persona: Persona) -> str:
    # op keeps the workgroup's original name (a name change replaces it and loses its history).
    return context.name("analytics") if persona == "op" else context.name(f"analytics-{persona_key(persona)}")


def _resource_name(persona: Persona) -> str:
    return "athena-workgroup" if persona == "op" else f"athena-workgroup-{persona_key(persona)}"


def _description(context: StackContext, persona: Persona) -> str:
    # op's workgroup keeps the description it was created with; the others name their persona.
    by = "" if persona == "op" else f" by {persona}"
    return f"{context.prefix}: analyses of the event lake{by}; settings override clients"


def persona_workgroup(
    parent: pulumi.Resource,
    context: StackContext,
    persona: Persona,
    results_bucket: pulumi.Output[str],
    bytes_scanned_cutoff: int,
) -> aws.athena.Workgroup:
    prefix = results_prefix(persona)
    return aws.athena.Workgroup(
        _resource_name(persona),
        name=workgroup_name(context, persona),
        description=_description(context, persona),
        configuration=aws.athena.WorkgroupConfigurationArgs(
            enforce_workgroup_configuration=True,
            publish_cloudwatch_metrics_enabled=True,
            bytes_scanned_cutoff_per_query=bytes_scanned_cutoff,
            engine_version=aws.athena.WorkgroupConfigurationEngineVersionArgs(selected_engine_version=ATHENA_ENGINE),
            result_configuration=aws.athena.WorkgroupConfigurationResultConfigurationArgs(
                output_location=results_bucket.apply(lambda bucket: f"s3://{bucket}/{prefix}"),
                encryption_configuration=aws.athena.WorkgroupConfigurationResultConfigurationEncryptionConfigurationArgs(
                    encryption_option="SSE_KMS", kms_key_arn=context.kms_key_arn
                ),
            ),
        ),
        opts=child(parent),
    )


def workgroup_statements(
    context: StackContext, persona: Persona, athena_workgroup: aws.athena.Workgroup
) -> dict[str, aws.athena.PreparedStatement]:
    """Every analysis in `sql/athena/`, as written there, ready to EXECUTE in the persona's workgroup."""
    # op's statements keep the names they had when its workgroup was the only one.
    suffix = "" if persona == "op" else f"-{persona_key(persona)}"
    statements: dict[str, aws.athena.PreparedStatement] = {}
    for name in query_names():
        text, _ = render_for_athena(name)
        statements[name] = aws.athena.PreparedStatement(
            f"athena-query-{name}{suffix}",
            name=name,
            workgroup=athena_workgroup.name,
            query_statement=text,
            description=statement_description(name, glue_database_name(context)),
            opts=child(athena_workgroup),
        )
    return statements


def persona_workgroups(
    parent: pulumi.Resource, context: StackContext, results_bucket: pulumi.Output[str], bytes_scanned_cutoff: int
) -> tuple[dict[Persona, aws.athena.Workgroup], dict[Persona, dict[str, aws.athena.PreparedStatement]]]:
    """The workgroup of each querying persona, and the prepared analyses in each."""
    workgroups = {
        persona: persona_workgroup(parent, context, persona, results_bucket, bytes_scanned_cutoff)
        for persona in QUERYING_PERSONAS
    }
    statements = {persona: workgroup_statements(context, persona, wg) for persona, wg in workgroups.items()}
    return workgroups, statements
