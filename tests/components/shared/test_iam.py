"""Every condition a service principal meets in a policy is one that service documents sending.

A condition key the service does not put in the request context fails the request: an
`aws:SourceAccount` on a trust policy that Lambda never fills in stops every invocation
at the first real `pulumi up`, and mocks cannot see it. The tables below are the spec,
one row per service, each with the documentation that settled it; a service the program
starts to trust fails here until someone adds its row from that service's documentation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pulumi_aws as aws
import pytest

from tests.support.harness import Resource, StackRun, run_stack
from tests.support.tokens import type_token

# AssumeRole: service principal -> (condition keys it documents for its role's trust policy, source).
TRUST_CONDITIONS: dict[str, tuple[frozenset[str], str]] = {
    "lambda.amazonaws.com": (
        frozenset(),
        "Lambda Developer Guide, 'Defining Lambda function permissions with an execution role': the trust "
        "policy must name lambda.amazonaws.com; no condition key is documented",
    ),
    "apigateway.amazonaws.com": (
        frozenset(),
        "API Gateway Developer Guide, 'Set up CloudWatch logging for REST APIs': the account's CloudWatch role "
        "trusts apigateway.amazonaws.com, no condition",
    ),
    "kinesisanalytics.amazonaws.com": (
        frozenset({"aws:SourceAccount", "aws:SourceArn"}),
        "Managed Service for Apache Flink Developer Guide, 'Cross-service confused deputy prevention': "
        "aws:SourceArn and aws:SourceAccount in the role trust policy",
    ),
    "scheduler.amazonaws.com": (
        frozenset({"aws:SourceAccount", "aws:SourceArn"}),
        "EventBridge Scheduler User Guide, 'Confused deputy prevention': aws:SourceAccount, and aws:SourceArn "
        "of the schedule group, in the execution role's trust policy",
    ),
    "firehose.amazonaws.com": (
        frozenset({"sts:ExternalId"}),
        "Amazon Data Firehose Developer Guide, 'Controlling access': the trust policy pins sts:ExternalId to "
        "the account ID",
    ),
    "cloudfront.amazonaws.com": (
        frozenset(),
        "CloudFront Developer Guide, 'Real-time logs', IAM role: the role CloudFront writes real-time logs with "
        "trusts cloudfront.amazonaws.com, no condition",
    ),
    "quicksight.amazonaws.com": (
        frozenset(),
        "Amazon QuickSight User Guide, 'Configuring the VPC connection' and 'Passing IAM roles to Amazon "
        "QuickSight': the role trusts quicksight.amazonaws.com; the BI tier's roles carry no condition",
    ),
    "redshift.amazonaws.com": (
        frozenset(),
        "Amazon Redshift Management Guide, 'Authorizing Amazon Redshift to access AWS services': the Spectrum "
        "role trusts the service; no aws:SourceAccount is documented for its AssumeRole",
    ),
    "redshift-serverless.amazonaws.com": (
        frozenset(),
        "Amazon Redshift Management Guide, 'Permissions for Redshift Serverless': trusted beside "
        "redshift.amazonaws.com, with no condition key documented",
    ),
}

# Resource policies (key, bucket, topic, queue): service principal -> (documented condition keys, source).
RESOURCE_POLICY_CONDITIONS: dict[str, tuple[frozenset[str], str]] = {
    "cloudwatch.amazonaws.com": (
        frozenset({"aws:SourceAccount", "aws:SourceArn"}),
        "SNS Developer Guide, 'Key management: enable compatibility between event sources from AWS services "
        "and encrypted topics', and 'Example cases for Amazon SNS access control': alarms publish with "
        "aws:SourceArn/aws:SourceAccount",
    ),
    "logs.<region>.amazonaws.com": (
        frozenset({"kms:EncryptionContext:aws:logs:arn"}),
        "CloudWatch Logs User Guide, 'Encrypt log data in CloudWatch Logs using AWS KMS': the key policy scopes "
        "the service by kms:EncryptionContext:aws:logs:arn",
    ),
    "logging.s3.amazonaws.com": (
        frozenset({"aws:SourceAccount", "aws:SourceArn"}),
        "S3 User Guide, 'Permissions for log delivery': the bucket policy for the logging service principal "
        "uses aws:SourceArn and aws:SourceAccount",
    ),
    "budgets.amazonaws.com": (
        frozenset({"aws:SourceAccount", "aws:SourceArn"}),
        "AWS Cost Management User Guide, 'Creating an Amazon SNS topic for budget notifications': the topic "
        "policy pins aws:SourceAccount and aws:SourceArn arn:aws:budgets::<account>:*; the key statement keeps "
        "aws:SourceAccount alone, as CloudWatch's does",
    ),
    "cloudfront.amazonaws.com": (
        frozenset({"AWS:SourceArn"}),
        "CloudFront Developer Guide, 'Restrict access to an Amazon S3 origin': the bucket policy and, for SSE-KMS "
        "objects, the key policy let cloudfront.amazonaws.com in only with AWS:SourceArn naming the distribution",
    ),
    "delivery.logs.amazonaws.com": (
        frozenset({"aws:SourceAccount", "aws:SourceArn", "s3:x-amz-acl"}),
        "CloudWatch Logs User Guide, 'Logs sent to Amazon S3' and 'Amazon S3 bucket server-side encryption': the "
        "bucket policy and the key policy let log delivery in only for the account's delivery sources, and the "
        "bucket's PutObject statement asks for the bucket-owner-full-control ACL",
    ),
    "costalerts.amazonaws.com": (
        frozenset({"aws:SourceAccount"}),
        "AWS Cost Management User Guide, 'Creating an Amazon SNS topic for anomaly notifications': "
        "aws:SourceAccount limits Cost Anomaly Detection to the subscription's account",
    ),
}

RESOURCE_POLICY_TYPES = [
    type_token(aws.kms.Key),
    type_token(aws.s3.BucketPolicy),
    type_token(aws.sns.TopicPolicy),
    type_token(aws.sqs.QueuePolicy),
]


def condition_keys(statement: dict[str, Any]) -> set[str]:
    return {key for operator in statement.get("Condition", {}).values() for key in operator}


def service_statements(document: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(service principal with its region generalised, statement) for each statement naming a service."""
    for statement in json.loads(document)["Statement"]:
        principal = statement.get("Principal")
        services = principal.get("Service", []) if isinstance(principal, dict) else []
        for service in [services] if isinstance(services, str) else services:
            yield re.sub(r"^logs\.[a-z0-9-]+\.", "logs.<region>.", service), statement


def undocumented(resources: list[Resource], prop: str, table: dict[str, tuple[frozenset[str], str]]) -> list[str]:
    """One line per statement whose service is not in the table or meets a key it does not document."""
    problems = []
    for resource in resources:
        for service, statement in service_statements(resource.inputs[prop]):
            if service not in table:
                problems.append(f"{resource.name}: {service} has no row; add one from its documentation")
                continue
            extra = condition_keys(statement) - table[service][0]
            if extra:
                problems.append(f"{resource.name}: {service} documents no {sorted(extra)} ({table[service][1]})")
    return problems


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_role_trusts_its_service_only_under_conditions_that_service_documents(stack: str) -> None:
    roles = run_stack(stack).of_type(type_token(aws.iam.Role))
    assert len(roles) >= 6
    assert undocumented(roles, "assumeRolePolicy", TRUST_CONDITIONS) == []


def resource_policies(run: StackRun) -> list[Resource]:
    return [r for t in RESOURCE_POLICY_TYPES for r in run.of_type(t) if "policy" in r.inputs]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_resource_policy_conditions_a_service_only_on_keys_that_service_documents(stack: str) -> None:
    assert undocumented(resource_policies(run_stack(stack)), "policy", RESOURCE_POLICY_CONDITIONS) == []


def test_every_row_of_the_resource_policy_table_is_a_service_some_stack_grants() -> None:
    """The table stays the spec of what the program does: no row outlives the statement it was written for."""
    met = {
        service
        for stack in ("dev", "prod")
        for r in resource_policies(run_stack(stack))
        for service, _ in service_statements(r.inputs["policy"])
    }
    assert met == set(RESOURCE_POLICY_CONDITIONS)


def test_lambda_execution_roles_carry_no_condition_and_documented_guards_stay(dev: StackRun) -> None:
    by_service: dict[str, list[set[str]]] = {}
    for role in dev.of_type(type_token(aws.iam.Role)):
        for service, statement in service_statements(role.inputs["assumeRolePolicy"]):
            by_service.setdefault(service, []).append(condition_keys(statement))
    functions = dev.of_type(type_token(aws.lambda_.Function))  # ingest, alert sink, partition registrar
    assert by_service["lambda.amazonaws.com"] == [set()] * len(functions) and len(functions) >= 3
    assert by_service["kinesisanalytics.amazonaws.com"] == [{"aws:SourceAccount"}]
    assert by_service["scheduler.amazonaws.com"] == [{"aws:SourceAccount"}, {"aws:SourceAccount"}]
    assert by_service["firehose.amazonaws.com"] == [{"sts:ExternalId"}]


def test_the_check_names_an_undocumented_key_and_an_unknown_service(dev: StackRun) -> None:
    lambda_source = TRUST_CONDITIONS["lambda.amazonaws.com"][1]
    role = dev.one(type_token(aws.iam.Role), "ingest-role")
    pinned = json.dumps({"Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole",
         "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}},
        {"Effect": "Allow", "Principal": {"Service": "glue.amazonaws.com"}, "Action": "sts:AssumeRole"},
    ]})  # fmt: skip
    broken = Resource(**{**role.__dict__, "inputs": {**role.inputs, "assumeRolePolicy": pinned}})
    assert undocumented([broken], "assumeRolePolicy", TRUST_CONDITIONS) == [
        f"ingest-role: lambda.amazonaws.com documents no ['aws:SourceAccount'] ({lambda_source})",
        "ingest-role: glue.amazonaws.com has no row; add one from its documentation",
    ]


@pytest.fixture(scope="module")
def dev() -> StackRun:
    return run_stack("dev")
