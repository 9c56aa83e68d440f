"""The live tier as the stack files build it: APIs behind Cognito, pushes from the table, the page on CloudFront."""

from __future__ import annotations

import json
from typing import Any

import pulumi_aws as aws
import pytest

from lambdas.live_api import PREFLIGHT_ROUTE_KEY, ROUTE_KEYS
from tests.support.harness import Resource, StackRun, run_stack
from tests.support.tokens import LIVE, STREAMING, type_token
from tools.engine.mocks import load_stack_config

ROUTE = type_token(aws.apigatewayv2.Route)
API = type_token(aws.apigatewayv2.Api)
FUNCTION = type_token(aws.lambda_.Function)
POOL = type_token(aws.cognito.UserPool)
CUSTOM_DOMAIN = {  # as tests/test_schema_conformance.py's live variant
    "domain_name": "live.example.com",
    "price_class": "PriceClass_All",
    "certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
}


def live_with(**sections: Any) -> dict[str, Any]:
    return {"uba:live": {**load_stack_config("dev")["uba:live"], **sections}}


def env(run: StackRun, function: str) -> dict[str, Any]:
    return dict(run.one(FUNCTION, f"{function}-function").inputs["environment"]["variables"])


def statements(run: StackRun, role: str) -> dict[str, dict[str, Any]]:
    policy = run.one(type_token(aws.iam.RolePolicy), f"{role}-role-policy")
    return {s["Sid"]: s for s in run.policy(policy)["Statement"]}


@pytest.fixture(scope="module", params=["dev", "prod"])
def run(request: pytest.FixtureRequest) -> StackRun:
    return run_stack(request.param)


def test_both_stacks_carry_the_tier_and_export_its_addresses(run: StackRun) -> None:
    live = run.component(LIVE)
    assert live.parent == run.component("uba:platform:Platform").urn
    site = run.one(type_token(aws.cloudfront.Distribution), "site-distribution")
    http_api, push_api = run.one(API, "realtime-api"), run.one(API, "push-api")
    # Prod serves the page under its own name (its policy config refuses CloudFront's default certificate).
    own_name = (site.inputs.get("aliases") or [site.state["domainName"]])[0]
    assert run.outputs["live_dashboard_url"] == f"https://{own_name}"
    assert bool(site.inputs.get("aliases")) == (run.stack == "prod")
    assert run.outputs["live_api_url"] == http_api.state["apiEndpoint"]
    assert run.outputs["live_push_url"] == f"{push_api.state['apiEndpoint']}/live"
    assert run.outputs["live_user_pool_id"] == run.one(POOL).state["id"]


def test_the_realtime_table_publishes_its_changes_to_the_pusher(run: StackRun) -> None:
    table = run.one(type_token(aws.dynamodb.Table), "realtime-results")
    assert table.parent == run.component(STREAMING).urn, "the table stays the streaming tier's"
    assert table.inputs["streamEnabled"] is True and table.inputs["streamViewType"] == "NEW_AND_OLD_IMAGES"
    mapping = run.one(type_token(aws.lambda_.EventSourceMapping), "live-push-mapping")
    assert mapping.inputs["eventSourceArn"] == table.state["streamArn"]
    assert mapping.inputs["functionName"] == run.one(FUNCTION, "live-push-function").state["arn"]
    assert mapping.inputs["bisectBatchOnFunctionError"] is True
    assert mapping.inputs["maximumRetryAttempts"] == (5 if run.stack == "prod" else 3)
    assert mapping.inputs["maximumRecordAgeInSeconds"] == 600
    queue = run.one(type_token(aws.sqs.Queue), "live-push-dlq")
    assert mapping.inputs["destinationConfig"]["onFailure"]["destinationArn"] == queue.state["arn"]
    assert queue.inputs["kmsMasterKeyId"].startswith("arn:aws:kms:")
    (pattern,) = [json.loads(f["pattern"]) for f in mapping.inputs["filterCriteria"]["filters"]]
    assert pattern == {"eventName": ["INSERT", "MODIFY"], "dynamodb": {"Keys": {"pk": {"S": [{"prefix": "ALERT#"}]}}}}
    grants = statements(run, "live-push")
    assert grants["ReadRealtimeTableChanges"]["Resource"] == table.state["streamArn"]
    push_api = run.one(API, "push-api")
    assert grants["PostToConnectedPages"]["Resource"] == f"{push_api.state['executionArn']}/live/POST/@connections/*"
    assert env(run, "live-push")["LIVE_CONNECTIONS_URL"] == (
        f"https://{push_api.state['id']}.execute-api.eu-west-1.amazonaws.com/live"
    )


def test_every_api_route_is_behind_the_user_pools_jwt_authorizer(run: StackRun) -> None:
    api = run.one(API, "realtime-api")
    routes = {r.inputs["routeKey"]: r for r in run.of_type(ROUTE) if r.inputs["apiId"] == api.state["id"]}
    assert set(routes) == {*ROUTE_KEYS, PREFLIGHT_ROUTE_KEY}
    authorizer = run.one(type_token(aws.apigatewayv2.Authorizer), "realtime-api-cognito")
    pool = run.one(POOL)
    client = run.one(type_token(aws.cognito.UserPoolClient), "page-client")
    assert authorizer.inputs["authorizerType"] == "JWT"
    assert authorizer.inputs["jwtConfiguration"] == {
        "issuer": f"https://cognito-idp.eu-west-1.amazonaws.com/{pool.state['id']}",
        "audiences": [client.state["id"]],
    }
    prefix = run.snapshot.stack
    for key in ROUTE_KEYS:
        route = routes[key].inputs
        assert route["authorizationType"] == "JWT" and route["authorizerId"] == authorizer.state["id"], key
        assert route["authorizationScopes"] == [f"uba-{prefix}-live/read"], key
    assert routes[PREFLIGHT_ROUTE_KEY].inputs["authorizationType"] == "NONE"
    environment = env(run, "live-api")
    assert environment["LIVE_AUTH_MODE"] == "cognito" and environment["LIVE_CLIENT_ID"] == client.state["id"]
    assert environment["LIVE_ALLOWED_ORIGIN"] == run.outputs["live_dashboard_url"]
    grants = statements(run, "live-api")
    table = run.one(type_token(aws.dynamodb.Table), "realtime-results").state["arn"]
    assert grants["QueryRealtimeResults"]["Action"] == ["dynamodb:Query"]
    assert grants["QueryRealtimeResults"]["Resource"] == [table, f"{table}/index/byType"]


def test_the_websocket_connects_only_through_the_token_authorizer_with_the_jwt_layer(run: StackRun) -> None:
    api = run.one(API, "push-api")
    routes = {r.inputs["routeKey"]: r.inputs for r in run.of_type(ROUTE) if r.inputs["apiId"] == api.state["id"]}
    assert set(routes) == {"$connect", "$disconnect", "$default"}
    authorizer = run.one(type_token(aws.apigatewayv2.Authorizer), "push-api-token")
    assert authorizer.inputs["authorizerType"] == "REQUEST"
    assert authorizer.inputs["identitySources"] == ["route.request.querystring.token"]
    assert routes["$connect"]["authorizationType"] == "CUSTOM"
    assert routes["$connect"]["authorizerId"] == authorizer.state["id"]
    function = run.one(FUNCTION, "live-authorizer-function")
    layer = run.one(type_token(aws.lambda_.LayerVersion), "jwt-layer")
    assert function.inputs["layers"][1] == layer.state["arn"]
    assert layer.inputs["code"] == {"fileArchive": "build/layers/jwt"}
    assert layer.inputs["compatibleArchitectures"] == ["arm64"]
    assert statements(run, "live-authorizer").keys() == {"WriteOwnLogs"} | (
        {"SendTraces"} if run.stack == "prod" else set()
    )


def test_stages_throttle_and_log_without_query_strings(run: StackRun) -> None:
    for stage in run.of_type(type_token(aws.apigatewayv2.Stage)):
        settings = stage.inputs["defaultRouteSettings"]
        assert settings["throttlingRateLimit"] > 0 and settings["throttlingBurstLimit"] > 0
        log_format = stage.inputs["accessLogSettings"]["format"]
        assert "querystring" not in log_format.lower() and "$request" not in log_format, "tokens travel in the query"
        json.loads(log_format)


def test_the_user_pool_follows_each_stacks_sign_in_settings(run: StackRun) -> None:
    pool = run.one(POOL)
    inputs = pool.inputs
    assert inputs["adminCreateUserConfig"]["allowAdminCreateUserOnly"] is True
    assert "{username}" in inputs["adminCreateUserConfig"]["inviteMessageTemplate"]["emailMessage"]
    assert run.outputs["live_dashboard_url"] in inputs["adminCreateUserConfig"]["inviteMessageTemplate"]["emailMessage"]
    policy = inputs["passwordPolicy"]
    assert policy["minimumLength"] == 12 and all(policy[k] for k in ("requireLowercase", "requireUppercase",
                                                                      "requireNumbers", "requireSymbols"))  # fmt: skip
    if run.stack == "prod":
        assert (inputs["mfaConfiguration"], inputs["userPoolTier"]) == ("ON", "PLUS")
        assert inputs["userPoolAddOns"]["advancedSecurityMode"] == "ENFORCED"
        assert inputs["deletionProtection"] == "ACTIVE" and pool.protect and pool.retain_on_delete
    else:
        assert (inputs["mfaConfiguration"], inputs["userPoolTier"]) == ("OPTIONAL", "ESSENTIALS")
        assert inputs["userPoolAddOns"]["advancedSecurityMode"] == "OFF"
        assert inputs["deletionProtection"] == "INACTIVE" and not pool.protect


def test_the_staff_list_invites_each_person_into_their_groups(run: StackRun) -> None:
    users = {u.name: u.inputs for u in run.of_type(type_token(aws.cognito.User))}
    assert set(users) == {"viewer-alice.admin", "viewer-omar.ops", "viewer-dana.dev", "viewer-bo.analyst"}
    assert users["viewer-bo.analyst"]["username"] == "bo@example.com"
    assert users["viewer-bo.analyst"]["desiredDeliveryMediums"] == ["EMAIL"]
    memberships = {m.name: m.inputs["groupName"] for m in run.of_type(type_token(aws.cognito.UserInGroup))}
    assert memberships["viewer-bo.analyst-bizuser"] == "bizUser"
    assert {g.inputs["name"] for g in run.of_type(type_token(aws.cognito.UserGroup))} == {"admin", "op", "dev",
                                                                                         "bizUser"}  # fmt: skip


def test_the_page_client_is_a_public_code_flow_client_for_the_dashboard_only(run: StackRun) -> None:
    client = run.one(type_token(aws.cognito.UserPoolClient), "page-client").inputs
    site = run.outputs["live_dashboard_url"]
    assert client["generateSecret"] is False
    assert client["allowedOauthFlows"] == ["code"] and client["allowedOauthFlowsUserPoolClient"] is True
    assert client["allowedOauthScopes"] == ["openid", "email", f"uba-{run.stack}-live/read"]
    assert client["callbackUrls"] == [f"{site}/"] and client["logoutUrls"] == [f"{site}/"]
    assert client["explicitAuthFlows"] == ["ALLOW_REFRESH_TOKEN_AUTH"]
    assert client["preventUserExistenceErrors"] == "ENABLED" and client["enableTokenRevocation"] is True


def _csp(run: StackRun) -> str:
    policy = run.one(type_token(aws.cloudfront.ResponseHeadersPolicy), "site-headers").inputs
    return str(policy["securityHeadersConfig"]["contentSecurityPolicy"]["contentSecurityPolicy"])


def test_the_page_is_private_behind_cloudfront_with_a_strict_policy(run: StackRun) -> None:
    distribution = run.one(type_token(aws.cloudfront.Distribution), "site-distribution")
    behavior = distribution.inputs["defaultCacheBehavior"]
    assert behavior["viewerProtocolPolicy"] == "redirect-to-https"
    headers = run.one(type_token(aws.cloudfront.ResponseHeadersPolicy), "site-headers")
    assert behavior["responseHeadersPolicyId"] == headers.state["id"]
    (origin,) = distribution.inputs["origins"]
    access = run.one(type_token(aws.cloudfront.OriginAccessControl), "site-origin-access")
    assert origin["originAccessControlId"] == access.state["id"]
    bucket = run.one(type_token(aws.s3.Bucket), "live-site-bucket")
    assert origin["domainName"] == f"{bucket.inputs['bucket']}.s3.eu-west-1.amazonaws.com"
    csp = _csp(run)
    http_api, push_api = run.one(API, "realtime-api"), run.one(API, "push-api")
    assert csp.startswith("default-src 'none'; script-src 'self'; style-src 'self'")
    assert f"connect-src 'self' {http_api.state['apiEndpoint']} {push_api.state['apiEndpoint']} " in csp
    assert f"https://uba-{run.stack}-live-123456789012.auth.eu-west-1.amazoncognito.com" in csp
    assert "unsafe" not in csp and "*" not in csp
    # Only this distribution reads the bucket; only it decrypts with the site key.
    policy = run.policy(run.one(type_token(aws.s3.BucketPolicy), "live-site-policy"))
    (reads,) = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert reads["Principal"] == {"Service": "cloudfront.amazonaws.com"} and reads["Action"] == "s3:GetObject"
    assert reads["Condition"] == {"StringEquals": {"AWS:SourceArn": distribution.state["arn"]}}
    key = run.one(type_token(aws.kms.Key), "site-key")
    (decrypt,) = [s for s in run.policy(key)["Statement"] if s["Sid"] == "TheDashboardDistributionDecryptsThePage"]
    assert decrypt["Condition"] == {"StringEquals": {"AWS:SourceArn": distribution.state["arn"]}}
    assert key.inputs["enableKeyRotation"] is True
    encryption = run.one(type_token(aws.s3.BucketServerSideEncryptionConfiguration), "live-site-encryption")
    assert encryption.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"] == key.state["arn"]


def test_every_request_to_the_page_is_logged_to_a_bucket_only_this_stacks_delivery_writes(run: StackRun) -> None:
    distribution = run.one(type_token(aws.cloudfront.Distribution), "site-distribution")
    source = run.one(type_token(aws.cloudwatch.LogDeliverySource), "site-log-source")
    destination = run.one(type_token(aws.cloudwatch.LogDeliveryDestination), "site-log-destination")
    delivery = run.one(type_token(aws.cloudwatch.LogDelivery), "site-log-delivery")
    logs = run.one(type_token(aws.s3.Bucket), "live-site-logs-bucket")
    # CloudFront's delivery sources live in us-east-1 whatever the stack's region.
    assert {r.inputs["region"] for r in (source, destination, delivery)} == {"us-east-1"}
    assert source.inputs["logType"] == "ACCESS_LOGS" and source.inputs["resourceArn"] == distribution.state["arn"]
    assert destination.inputs["deliveryDestinationConfiguration"] == {"destinationResourceArn": logs.state["arn"]}
    assert delivery.inputs["deliverySourceName"] == source.inputs["name"]
    assert delivery.inputs["deliveryDestinationArn"] == destination.state["arn"]
    only_this_source = {"aws:SourceArn": source.state["arn"]}
    writes = [s for s in run.policy(run.one(type_token(aws.s3.BucketPolicy), "live-site-logs-policy"))["Statement"]
              if s.get("Principal") == {"Service": "delivery.logs.amazonaws.com"}]  # fmt: skip
    assert {s["Sid"] for s in writes} == {"LogDeliveryChecksTheBucket", "LogDeliveryWritesTheDashboardsAccessLogs"}
    assert all(s["Condition"]["ArnLike"] == only_this_source for s in writes)
    assert all(s["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012" for s in writes)
    key = run.one(type_token(aws.kms.Key), "site-key")
    (encrypts,) = [s for s in run.policy(key)["Statement"] if s["Sid"] == "LogDeliveryEncryptsTheAccessLogs"]
    assert encrypts["Condition"]["ArnLike"] == only_this_source
    rules = run.one(type_token(aws.s3.BucketLifecycleConfiguration), "live-site-logs-lifecycle").inputs["rules"]
    assert [r["expiration"]["days"] for r in rules if r["id"] == "access-logs"] == [90]


def test_the_page_shares_the_edges_web_acl_where_the_edge_has_one(run: StackRun) -> None:
    distribution = run.one(type_token(aws.cloudfront.Distribution), "site-distribution").inputs
    acls = run.of_type(type_token(aws.wafv2.WebAcl))
    assert distribution.get("webAclId") == (acls[0].state["arn"] if acls else None)
    if run.stack == "prod":
        assert acls, "prod's policy config requires a web ACL in front of every distribution"


def test_the_pages_files_and_its_config_are_written_by_the_program(run: StackRun) -> None:
    objects = {o.inputs["key"]: o.inputs for o in run.of_type(type_token(aws.s3.BucketObjectv2))
               if o.name.startswith("site-")}  # fmt: skip
    assert set(objects) == {"index.html", "app.js", "style.css", "config.json"}
    assert objects["app.js"]["contentType"] == "text/javascript; charset=utf-8"
    assert all(o["serverSideEncryption"] == "aws:kms" and o["cacheControl"] == "no-cache" for o in objects.values())
    config = json.loads(objects["config.json"]["content"])
    client = run.one(type_token(aws.cognito.UserPoolClient), "page-client")
    assert config == {
        "mode": "cognito",
        "region": "eu-west-1",
        "apiUrl": run.outputs["live_api_url"],
        "pushUrl": run.outputs["live_push_url"],
        "userPoolId": run.outputs["live_user_pool_id"],
        "clientId": client.state["id"],
        "authUrl": f"https://uba-{run.stack}-live-123456789012.auth.eu-west-1.amazoncognito.com",
        "scopes": ["openid", "email", f"uba-{run.stack}-live/read"],
        "redirectUri": f"{run.outputs['live_dashboard_url']}/",
    }


def test_alarms_watch_the_api_and_the_pusher_and_join_the_ops_dashboard(run: StackRun) -> None:
    alarms = {
        a.name: a.inputs for a in run.of_type(type_token(aws.cloudwatch.MetricAlarm)) if a.name.startswith("live-")
    }
    assert set(alarms) == {"live-api-5xx-rate", "live-api-latency", "live-push-errors", "live-push-iterator-age",
                           "live-push-dead-letters"}  # fmt: skip
    latency = alarms["live-api-latency"]
    assert latency["extendedStatistic"] == "p95" and "statistic" not in latency
    assert latency["threshold"] == (800 if run.stack == "prod" else 1000)
    assert alarms["live-api-5xx-rate"]["metricName"] == "5xx"  # HTTP APIs name it in lower case
    body = run.one(type_token(aws.cloudwatch.Dashboard)).inputs["dashboardBody"]
    for name in alarms:
        assert f":alarm:uba-{run.stack}-{name}" in body


def test_a_custom_domain_brings_its_certificate_and_tls_1_2() -> None:
    run = run_stack("dev", overrides=live_with(site=CUSTOM_DOMAIN))
    distribution = run.one(type_token(aws.cloudfront.Distribution), "site-distribution").inputs
    assert distribution["aliases"] == ["live.example.com"]
    assert distribution["viewerCertificate"] == {
        "acmCertificateArn": CUSTOM_DOMAIN["certificate_arn"],
        "sslSupportMethod": "sni-only",
        "minimumProtocolVersion": "TLSv1.2_2021",
    }
    assert run.outputs["live_dashboard_url"] == "https://live.example.com"
    client = run.one(type_token(aws.cognito.UserPoolClient), "page-client").inputs
    assert client["callbackUrls"] == ["https://live.example.com/"]


def test_switched_off_the_tier_builds_nothing_and_leaves_streaming_as_it_was() -> None:
    run = run_stack("dev", overrides={"uba:live": {"enabled": False}})
    assert not run.of_type(LIVE) and not run.of_type(POOL) and not run.of_type(API)
    assert "live_dashboard_url" not in run.outputs
    table = run.one(type_token(aws.dynamodb.Table), "realtime-results")
    assert table.inputs["streamEnabled"] is True  # the table publishes its changes whoever reads them


def _children_types(run: StackRun, component: Resource) -> set[str]:
    return {r.type for r in run.children(component, recursive=True)}


def test_every_resource_of_the_tier_is_parented_under_it(run: StackRun) -> None:
    live = run.component(LIVE)
    mine = _children_types(run, live)
    for token in (POOL, API, type_token(aws.cloudfront.Distribution), type_token(aws.lambda_.EventSourceMapping),
                  type_token(aws.s3.Bucket), type_token(aws.dynamodb.Table)):  # fmt: skip
        assert token in mine, token
