"""The search tier as each stack builds it: prod's VPC-only collection, a domain, a public collection.

The program runs under the mock engine from the real stack files (variants in
tests/support/search.py, shared with the schema conformance test, so each runs once).
"""

from __future__ import annotations

import json
from typing import Any

import pulumi_aws as aws
import pytest

from components.search.store import TLS_POLICY
from lambdas.search_schema import INDEX_NAME
from tests.support.harness import StackRun, run_stack
from tests.support.search import public_search_collection, search_domain
from tests.support.tokens import type_token
from tools.engine.policy import evaluate, stack_policy_config
from tools.local import ACCOUNT_ID

COLLECTION = type_token(aws.opensearch.ServerlessCollection)
SECURITY_POLICY = type_token(aws.opensearch.ServerlessSecurityPolicy)
ACCESS_POLICY = type_token(aws.opensearch.ServerlessAccessPolicy)
LIFECYCLE_POLICY = type_token(aws.opensearch.ServerlessLifecyclePolicy)
FIREHOSE = type_token(aws.kinesis.FirehoseDeliveryStream)
DOMAIN = type_token(aws.opensearch.Domain)


@pytest.fixture(scope="module")
def prod() -> StackRun:
    return run_stack("prod")


@pytest.fixture(scope="module")
def domain() -> StackRun:
    return run_stack("dev", search_domain())


@pytest.fixture(scope="module")
def public() -> StackRun:
    return run_stack("dev", public_search_collection())


def user(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT_ID}:user/{name}"


def role_arn(run: StackRun, name: str) -> str:
    return str(run.one(type_token(aws.iam.Role), name).state["arn"])


def policies(run: StackRun, kind: str) -> Any:
    (policy,) = [p for p in run.of_type(SECURITY_POLICY) if p.inputs["type"] == kind]
    return json.loads(policy.inputs["policy"])


def test_dev_builds_no_search_tier() -> None:
    assert not run_stack("dev").of_type("uba:search:Search")


def test_the_collection_is_a_time_series_encrypted_with_the_platform_key(prod: StackRun) -> None:
    collection = prod.one(COLLECTION)
    assert (collection.inputs["type"], collection.inputs["standbyReplicas"]) == ("TIMESERIES", "ENABLED")
    encryption = policies(prod, "encryption")
    key = prod.one(type_token(aws.kms.Key), "platform-key").state["arn"]
    assert encryption == {"Rules": [{"ResourceType": "collection", "Resource": ["collection/uba-prod-search"]}],
                          "AWSOwnedKey": False, "KmsARN": key}  # fmt: skip
    assert collection.protect is True  # prod protects what it keeps


def test_prod_reaches_the_collection_only_through_its_vpc_endpoint(prod: StackRun) -> None:
    (network,) = policies(prod, "network")
    endpoint = prod.one(type_token(aws.opensearch.ServerlessVpcEndpoint))
    assert network["AllowFromPublic"] is False and network["SourceVPCEs"] == [endpoint.state["id"]]
    assert {rule["ResourceType"] for rule in network["Rules"]} == {"collection", "dashboard"}
    vpc = prod.one(type_token(aws.ec2.Vpc), "warehouse-vpc").state["id"]
    assert endpoint.inputs["vpcId"] == vpc
    ingress = [r.inputs for r in prod.of_type(type_token(aws.vpc.SecurityGroupIngressRule))
               if r.name.startswith("search-endpoint")]  # fmt: skip
    assert {(r.get("cidrIpv4"), r["fromPort"]) for r in ingress} == {(None, 443), ("10.0.0.0/8", 443)}


def test_the_data_access_policy_grants_each_group_its_part_and_bizuser_nothing(prod: StackRun) -> None:
    (policy,) = prod.of_type(ACCESS_POLICY)
    rules = {tuple(rule["Principal"]): rule["Rules"] for rule in json.loads(policy.inputs["policy"])}
    firehose, admin_fn = role_arn(prod, "search-firehose"), role_arn(prod, "search-admin-role")
    assert set(rules) == {(firehose,), (admin_fn,), (user("dana.dev"), user("omar.ops")), (user("alice.admin"),)}
    readers = {rule["ResourceType"]: rule["Permission"] for rule in rules[(user("dana.dev"), user("omar.ops"))]}
    assert readers == {"index": ["aoss:ReadDocument", "aoss:DescribeIndex"],
                       "collection": ["aoss:DescribeCollectionItems"]}  # fmt: skip
    writer = {rule["ResourceType"]: rule for rule in rules[(firehose,)]}
    assert writer["index"]["Resource"] == ["index/uba-prod-search/uba-search*"]
    assert "aoss:WriteDocument" in writer["index"]["Permission"]
    assert all(perm == ["aoss:*"] for perm in (r["Permission"] for r in rules[(user("alice.admin"),)]))
    assert user("bo.analyst") not in policy.inputs["policy"]


def test_retention_is_the_stacks_lifecycle_policy(prod: StackRun) -> None:
    policy = prod.one(LIFECYCLE_POLICY)
    assert policy.inputs["type"] == "retention"
    assert json.loads(policy.inputs["policy"])["Rules"] == [
        {"ResourceType": "index", "Resource": ["index/uba-prod-search/uba-search*"], "MinIndexRetention": "30d"}
    ]


def test_firehose_reads_the_jobs_feed_and_keeps_what_fails(prod: StackRun) -> None:
    stream = prod.one(FIREHOSE, "search-feed-to-index")
    feed = prod.one(type_token(aws.kinesis.Stream), "search-feed-stream")
    assert stream.inputs["destination"] == "opensearchserverless"
    assert stream.inputs["kinesisSourceConfiguration"]["kinesisStreamArn"] == feed.state["arn"]
    config = stream.inputs["opensearchserverlessConfiguration"]
    assert config["collectionEndpoint"] == prod.one(COLLECTION).state["collectionEndpoint"]
    assert (config["indexName"], config["s3BackupMode"]) == (INDEX_NAME, "FailedDocumentsOnly")
    assert (config["bufferingInterval"], config["retryDuration"]) == (5, 900)
    bucket = prod.one(type_token(aws.s3.Bucket), "search-dead-letters-bucket")
    assert config["s3Configuration"]["bucketArn"] == bucket.state["arn"]
    assert config["s3Configuration"]["kmsKeyArn"] == prod.one(type_token(aws.kms.Key), "platform-key").state["arn"]
    assert config["vpcConfig"]["securityGroupIds"] == [
        prod.one(type_token(aws.ec2.SecurityGroup), "search-clients-sg").state["id"]
    ]


def test_the_flink_job_writes_the_feed_and_may_only_put_records_there(prod: StackRun) -> None:
    app = prod.one(type_token(aws.kinesisanalyticsv2.Application))
    groups = app.inputs["applicationConfiguration"]["environmentProperties"]["propertyGroups"]
    feed = prod.one(type_token(aws.kinesis.Stream), "search-feed-stream").state["arn"]
    assert groups[0]["propertyMap"]["search.stream.arn"] == feed
    grants = prod.policy(prod.one(type_token(aws.iam.RolePolicy), "flink-role-policy"))["Statement"]
    (write,) = [g for g in grants if g["Sid"] == "WriteSearchFeed"]
    assert (write["Action"], write["Resource"]) == (["kinesis:PutRecords"], feed)


def test_the_index_template_is_applied_by_the_deployment_and_again_when_it_changes(prod: StackRun) -> None:
    setup = prod.one(type_token(aws.lambda_.Invocation))
    assert json.loads(setup.inputs["input"]) == {
        "action": "setup",
        "endpoint": prod.one(COLLECTION).state["collectionEndpoint"],
    }
    assert len(setup.inputs["triggers"]["applied"]) == 64  # the digest of what it applies
    function = prod.one(type_token(aws.lambda_.Function), "search-admin-function")
    assert function.inputs["vpcConfig"]["subnetIds"]  # reaches the VPC-only collection from inside
    assert function.inputs["tracingConfig"]["mode"] == "Active"


def test_alarms_watch_indexing_errors_and_the_backlog(prod: StackRun) -> None:
    alarms = {a.name: a.inputs for a in prod.of_type(type_token(aws.cloudwatch.MetricAlarm))}
    errors, backlog = alarms["search-indexing-errors"], alarms["search-backlog"]
    assert (errors["metricName"], errors["comparisonOperator"]) == (
        "DeliveryToAmazonOpenSearchServerless.Success",
        "LessThanThreshold",
    )
    assert backlog["metricName"] == "DeliveryToAmazonOpenSearchServerless.DataFreshness"
    assert backlog["threshold"] == 300
    body = json.loads(prod.one(type_token(aws.cloudwatch.Dashboard)).inputs["dashboardBody"])
    titles = {widget["properties"].get("title") for widget in body["widgets"]}
    assert "Search: age of the oldest document not yet indexed (s)" in titles


def test_a_domain_is_private_encrypted_and_under_fine_grained_access_control(domain: StackRun) -> None:
    es = domain.one(DOMAIN)
    inputs = es.inputs
    key = domain.one(type_token(aws.kms.Key), "platform-key").state["arn"]
    assert inputs["encryptAtRest"] == {"enabled": True, "kmsKeyId": key}
    assert inputs["nodeToNodeEncryption"] == {"enabled": True}
    assert inputs["domainEndpointOptions"] == {"enforceHttps": True, "tlsSecurityPolicy": TLS_POLICY}
    security = inputs["advancedSecurityOptions"]
    assert security["enabled"] and not security["internalUserDatabaseEnabled"]
    assert security["masterUserOptions"]["masterUserArn"] == role_arn(domain, "search-admin-role")
    assert len(inputs["vpcOptions"]["subnetIds"]) == 2 and inputs["clusterConfig"]["zoneAwarenessEnabled"]
    policy = json.loads(inputs["accessPolicies"])
    readers = next(s for s in policy["Statement"] if s["Sid"] == "SearchingStaff")
    # bizuser_search is on in this variant: bo.analyst reads too, and only reads.
    assert set(readers["Principal"]["AWS"]) == {user("dana.dev"), user("omar.ops"), user("bo.analyst")}
    assert readers["Action"] == ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost"]


def test_a_domain_rotates_daily_and_sweeps_past_retention(domain: StackRun) -> None:
    config = domain.one(FIREHOSE, "search-feed-to-index").inputs["opensearchConfiguration"]
    assert (config["indexRotationPeriod"], config["indexName"]) == ("OneDay", INDEX_NAME)
    schedule = domain.one(type_token(aws.scheduler.Schedule), "search-sweep-schedule")
    assert json.loads(schedule.inputs["target"]["input"])["action"] == "sweep"
    function = domain.one(type_token(aws.lambda_.Function), "search-admin-function")
    assert function.inputs["environment"]["variables"]["SEARCH_RETENTION_DAYS"] == "7"
    mappings = json.loads(function.inputs["environment"]["variables"]["SEARCH_SECURITY_MAPPINGS"])
    assert mappings["writer_roles"] == [role_arn(domain, "search-firehose")]
    assert mappings["admin_users"] == [user("alice.admin")]
    assert mappings["manager_roles"] == [role_arn(domain, "search-admin-role")]  # the master keeps all_access
    alarms = {a.name for a in domain.of_type(type_token(aws.cloudwatch.MetricAlarm))}
    assert {"search-domain-red", "search-domain-storage"} <= alarms


def test_a_public_collection_still_admits_only_signed_principals(public: StackRun) -> None:
    (network,) = policies(public, "network")
    assert network["AllowFromPublic"] is True and "SourceVPCEs" not in network
    assert not public.of_type(type_token(aws.opensearch.ServerlessVpcEndpoint))
    config = public.one(FIREHOSE, "search-feed-to-index").inputs["opensearchserverlessConfiguration"]
    assert "vpcConfig" not in config
    assert "vpcConfig" not in public.one(type_token(aws.lambda_.Function), "search-admin-function").inputs
    assert public.one(COLLECTION).inputs["standbyReplicas"] == "DISABLED"
    (policy,) = public.of_type(ACCESS_POLICY)
    assert "*" not in json.dumps([rule["Principal"] for rule in json.loads(policy.inputs["policy"])])


def search_violations(run: StackRun) -> set[tuple[str, str, str]]:
    """Every violation (policy, enforcement, resource name) on the search tier's resources, and every mandatory one."""
    found = evaluate(run.snapshot, stack_policy_config("dev"))
    return {(v.policy, v.enforcement, v.urn.rsplit("::", 1)[-1]) for v in found
            if v.enforcement == "mandatory" or "::search-" in v.urn}  # fmt: skip


def test_a_domain_and_a_public_collection_pass_the_policy_pack(domain: StackRun, public: StackRun) -> None:
    """Prod's collection is judged with the real stacks (tests/policies); these are the other two shapes the
    tier takes. The warnings allowed are the advisory rules their settings chose: no tracing on the admin
    function (`search.tracing` is off by default, as every tier's), and a public collection."""
    untraced = ("xray-tracing", "advisory", "search-admin-function")
    assert search_violations(domain) == {untraced}
    public_network = ("opensearch-collection-network-private", "advisory", "search-network-policy")
    assert search_violations(public) == {untraced, public_network}
