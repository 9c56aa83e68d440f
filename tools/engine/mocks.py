"""Run the real Pulumi program offline, under Pulumi's mocks, and capture what it registers.

This is the engine behind both the stack test harness (`tests/harness.py`) and
`python -m tools.synth`. It loads a stack's config exactly as the CLI would (project
defaults from `Pulumi.yaml`, then `Pulumi.<stack>.yaml`), runs `__main__.py` inside a
mocked runtime, and returns every registered resource with its URN, type, logical
name, parent, options, inputs (the property map the engine would send to the
provider: camelCase, Outputs resolved) and mock state.

The mocks answer like AWS would: physical names autonamed the way Pulumi does
(`<name>-<7 hex>`), ARNs in each service's real format with a fixed account id and
the stack's region, and `tagsAll` merged from the provider's default tags, so IAM
documents and tag checks built from them look exactly as they would in AWS.

`run_isolated` runs each program in a fresh interpreter with a hard timeout, so
tests can run many stacks in one session with no runtime state leaking between
them and a stuck program fails with a clear message instead of hanging.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import hashlib
import importlib
import inspect
import json
import keyword
import os
import re
import runpy
import subprocess
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pulumi import asset as pulumi_asset

from settings import Settings, load_settings
from streaming.fetch_connector import DEFAULT_JAR_PATH as DEFAULT_CONNECTOR_JAR
from tools.local import ACCOUNT_ID

PROJECT_DIR = Path(__file__).resolve().parents[2]
PARTITION = "aws"
DEFAULT_TIMEOUT_SECONDS = 120.0


class ProgramError(RuntimeError):
    """The program failed (bad config, an exception, or a timeout)."""


# --- config ----------------------------------------------------------------------------------------------


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """A Pulumi YAML file as a mapping; a syntax error is one line naming the file, line and column."""
    try:
        document = yaml.safe_load(path.read_text())
    except yaml.MarkedYAMLError as error:
        raise ProgramError(_yaml_problem(path, error)) from None
    except yaml.YAMLError as error:
        raise ProgramError(f"{path.name}: not valid YAML: {error}") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ProgramError(
            f"{path.name}: must be a YAML mapping (e.g. `config:` at the top), got {type(document).__name__}"
        )
    return document


def _yaml_problem(path: Path, error: yaml.MarkedYAMLError) -> str:
    """`Pulumi.dev.yaml:18:11: not valid YAML: expected ',' or ']', but got ':' (in a flow sequence from 17:15)`."""
    mark, context = error.problem_mark or error.context_mark, error.context_mark
    where = f"{path.name}:{mark.line + 1}:{mark.column + 1}" if mark is not None else path.name
    problem = error.problem or error.context or "unreadable"
    inside = re.fullmatch(r"while (?:parsing|scanning) (an? .+)", error.context or "")
    if error.problem and inside is not None:
        started = f" from {context.line + 1}:{context.column + 1}" if context is not None and context != mark else ""
        problem += f" (in {inside.group(1)}{started})"
    return f"{where}: not valid YAML: {problem}"


def _project_file(project_dir: Path) -> dict[str, Any]:
    return read_yaml_mapping(project_dir / "Pulumi.yaml")


def available_stacks(project_dir: Path = PROJECT_DIR) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))


def load_stack_config(
    stack: str, project_dir: Path = PROJECT_DIR, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Config as the CLI would hand it to the program: `namespace:key` -> value.

    Project-level values in `Pulumi.yaml` come first, the stack file overrides them,
    and `overrides` (tests only) replace whole keys last. A key without a namespace
    belongs to the project, as in the CLI.
    """
    project = _project_file(project_dir)
    name = str(project["name"])
    stack_file = project_dir / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        raise ProgramError(f"no stack file {stack_file.name}; stacks here: {', '.join(available_stacks(project_dir))}")

    def qualify(key: str) -> str:
        return key if ":" in key else f"{name}:{key}"

    config: dict[str, Any] = {}
    for key, spec in (project.get("config") or {}).items():
        if isinstance(spec, Mapping) and ("value" in spec or "default" in spec):
            config[qualify(key)] = spec.get("value", spec.get("default"))
    stack_config = read_yaml_mapping(stack_file).get("config") or {}
    if not isinstance(stack_config, Mapping):
        raise ProgramError(f"{stack_file.name}: `config:` must be a mapping of keys such as uba:platform")
    for key, value in stack_config.items():
        config[qualify(key)] = value
    for key, value in (overrides or {}).items():
        if value is None:
            config.pop(qualify(key), None)
        else:
            config[qualify(key)] = value
    return config


def stack_settings(stack: str, project_dir: Path = PROJECT_DIR) -> Settings:
    """The stack file's settings as the program validates them (`uba:<tier>` keys, plus the region)."""
    config = load_stack_config(stack, project_dir)
    raw: dict[str, Any] = {"region": config.get("aws:region")}
    raw |= {key.removeprefix("uba:"): value for key, value in config.items() if key.startswith("uba:")}
    return load_settings(raw, stack)


# --- realistic mock values -------------------------------------------------------------------------------


def _short_hash(*parts: str, length: int = 7) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def _uuid(*parts: str) -> str:
    h = hashlib.sha256("/".join(parts).encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


@dataclass(frozen=True)
class _Ctx:
    region: str
    name: str  # physical name
    inputs: Mapping[str, Any]
    urn: str

    def arn(self, service: str, resource: str, region: bool = True, account: bool = True) -> str:
        return f"arn:{PARTITION}:{service}:{self.region if region else ''}:{ACCOUNT_ID if account else ''}:{resource}"


def _iam_path(ctx: _Ctx) -> str:
    return str(ctx.inputs.get("path") or "/")


def _api_state(ctx: _Ctx) -> dict[str, Any]:
    api_id = _short_hash(ctx.urn, length=10)
    return {
        "id": api_id,
        "rootResourceId": _short_hash(ctx.urn, "root", length=10),
        "executionArn": ctx.arn("execute-api", api_id),
        "arn": f"arn:{PARTITION}:apigateway:{ctx.region}::/restapis/{api_id}",
    }


def _stage_state(ctx: _Ctx) -> dict[str, Any]:
    api_id = str(ctx.inputs.get("restApi", "api"))
    stage = str(ctx.inputs.get("stageName", ctx.name))
    return {
        "arn": f"arn:{PARTITION}:apigateway:{ctx.region}::/restapis/{api_id}/stages/{stage}",
        "invokeUrl": f"https://{api_id}.execute-api.{ctx.region}.amazonaws.com/{stage}",
        "executionArn": ctx.arn("execute-api", f"{api_id}/{stage}"),
    }


def _event_source_mapping_state(ctx: _Ctx) -> dict[str, Any]:
    mapping = _uuid(ctx.urn)  # Lambda names a mapping by its UUID: `event-source-mapping:<uuid>`
    return {"id": mapping, "uuid": mapping, "arn": ctx.arn("lambda", f"event-source-mapping:{mapping}")}


def _usage_plan_state(ctx: _Ctx) -> dict[str, Any]:
    plan_id = _short_hash(ctx.urn, length=6)
    return {"id": plan_id, "arn": f"arn:{PARTITION}:apigateway:{ctx.region}::/usageplans/{plan_id}"}


def _lambda_state(ctx: _Ctx) -> dict[str, Any]:
    arn = ctx.arn("lambda", f"function:{ctx.name}")
    return {
        "arn": arn,
        "qualifiedArn": f"{arn}:$LATEST",
        "invokeArn": f"arn:{PARTITION}:apigateway:{ctx.region}:lambda:path/2015-03-31/functions/{arn}/invocations",
        "version": "$LATEST",
    }


def _kms_key_state(ctx: _Ctx) -> dict[str, Any]:
    key_id = _uuid(ctx.urn)
    return {"id": key_id, "keyId": key_id, "arn": ctx.arn("kms", f"key/{key_id}")}


def _queue_state(ctx: _Ctx) -> dict[str, Any]:
    url = f"https://sqs.{ctx.region}.amazonaws.com/{ACCOUNT_ID}/{ctx.name}"
    return {"id": url, "url": url, "arn": ctx.arn("sqs", ctx.name)}


def _table_state(ctx: _Ctx) -> dict[str, Any]:
    arn = ctx.arn("dynamodb", f"table/{ctx.name}")
    return {"arn": arn, "streamArn": f"{arn}/stream/2026-01-01T00:00:00.000"}


def _ec2_state(prefix: str, kind: str) -> Callable[[_Ctx], dict[str, Any]]:
    def state(ctx: _Ctx) -> dict[str, Any]:
        resource_id = f"{prefix}-{_short_hash(ctx.urn, length=17)}"
        return {"id": resource_id, "arn": ctx.arn("ec2", f"{kind}/{resource_id}")}

    return state


def _uuid_arn(service: str, kind: str) -> Callable[[_Ctx], dict[str, Any]]:
    def state(ctx: _Ctx) -> dict[str, Any]:
        return {"arn": ctx.arn(service, f"{kind}/{_uuid(ctx.urn)}")}

    return state


def _uuid_arn_global(service: str, kind: str) -> Callable[[_Ctx], dict[str, Any]]:
    def state(ctx: _Ctx) -> dict[str, Any]:
        return {"arn": ctx.arn(service, f"{kind}/{_uuid(ctx.urn)}", region=False)}

    return state


def _named_arn(service: str, template: str, region: bool = True) -> Callable[[_Ctx], dict[str, Any]]:
    def state(ctx: _Ctx) -> dict[str, Any]:
        return {"arn": ctx.arn(service, template.format(name=ctx.name, path=_iam_path(ctx)), region=region)}

    return state


def _bucket_state(ctx: _Ctx) -> dict[str, Any]:
    return {
        "id": ctx.name,
        "bucket": ctx.name,
        "arn": f"arn:{PARTITION}:s3:::{ctx.name}",
        "bucketDomainName": f"{ctx.name}.s3.amazonaws.com",
        "bucketRegionalDomainName": f"{ctx.name}.s3.{ctx.region}.amazonaws.com",
        "region": ctx.region,
    }


def _glue_table_state(ctx: _Ctx) -> dict[str, Any]:
    database = str(ctx.inputs.get("databaseName", "db"))
    return {"arn": ctx.arn("glue", f"table/{database}/{ctx.name}")}


def _redshift_workgroup_state(ctx: _Ctx) -> dict[str, Any]:
    workgroup = _uuid(ctx.urn)
    return {
        "arn": ctx.arn("redshift-serverless", f"workgroup/{workgroup}"),
        "workgroupId": workgroup,
        "endpoints": [{"address": f"{ctx.name}.{ACCOUNT_ID}.{ctx.region}.redshift-serverless.amazonaws.com",
                       "port": 5439}],
    }  # fmt: skip


def _redshift_namespace_state(ctx: _Ctx) -> dict[str, Any]:
    namespace = _uuid(ctx.urn)
    return {
        "arn": ctx.arn("redshift-serverless", f"namespace/{namespace}"),
        "namespaceId": namespace,
        "adminPasswordSecretArn": ctx.arn("secretsmanager", f"secret:redshift!{ctx.name}-admin-AbCdEf"),
    }


def _redshift_cluster_state(ctx: _Ctx) -> dict[str, Any]:
    identifier = str(ctx.inputs.get("clusterIdentifier", ctx.name))
    return {
        "arn": ctx.arn("redshift", f"cluster:{identifier}"),
        "clusterIdentifier": identifier,
        "masterPasswordSecretArn": ctx.arn("secretsmanager", f"secret:redshift!{identifier}-admin-AbCdEf"),
        "endpoint": f"{identifier}.abc123.{ctx.region}.redshift.amazonaws.com:5439",
    }


def _stream_consumer_state(ctx: _Ctx) -> dict[str, Any]:
    # `<stream ARN>/consumer/<name>:<registration epoch seconds>`, as Kinesis answers RegisterStreamConsumer.
    stream_arn = str(ctx.inputs.get("streamArn") or ctx.arn("kinesis", "stream/unknown"))
    return {"arn": f"{stream_arn}/consumer/{ctx.name}:1767225600", "creationTimestamp": "2026-01-01T00:00:00Z"}


def _flink_state(ctx: _Ctx) -> dict[str, Any]:
    return {"arn": ctx.arn("kinesisanalytics", f"application/{ctx.name}"), "versionId": 1}


def _dms_resource_id(ctx: _Ctx) -> str:
    """DMS names what it creates by a 26-character upper-case id unless a resource identifier is given."""
    return hashlib.sha256(ctx.urn.encode()).hexdigest()[:26].upper()


def _dms_endpoint_state(ctx: _Ctx) -> dict[str, Any]:
    return {"id": ctx.name, "endpointArn": ctx.arn("dms", f"endpoint:{_dms_resource_id(ctx)}")}


def _dms_replication_config_state(ctx: _Ctx) -> dict[str, Any]:
    identifier = str(ctx.inputs.get("resourceIdentifier") or _dms_resource_id(ctx))
    arn = ctx.arn("dms", f"replication-config:{identifier}")
    return {"id": arn, "arn": arn}


def _dms_subnet_group_state(ctx: _Ctx) -> dict[str, Any]:
    return {"id": ctx.name, "replicationSubnetGroupArn": ctx.arn("dms", f"subgrp:{ctx.name}")}


def _schedule_state(ctx: _Ctx) -> dict[str, Any]:
    group = str(ctx.inputs.get("groupName") or "default")
    return {"arn": ctx.arn("scheduler", f"schedule/{group}/{ctx.name}")}


def _log_stream_state(ctx: _Ctx) -> dict[str, Any]:
    group = str(ctx.inputs.get("logGroupName", "group"))
    return {"arn": ctx.arn("logs", f"log-group:{group}:log-stream:{ctx.name}")}


def _bucket_object_state(ctx: _Ctx) -> dict[str, Any]:
    # A versioned bucket gives each upload a version id; the Flink application pins it.
    key = str(ctx.inputs.get("key", ctx.name))
    return {"id": key, "versionId": _short_hash(ctx.urn, "version", length=32), "etag": _short_hash(ctx.urn, length=32)}


def _collection_state(ctx: _Ctx) -> dict[str, Any]:
    # OpenSearch Serverless collection ids are 20 lowercase letters and digits; the endpoint is per id.
    collection_id = _short_hash(ctx.urn, length=20)
    endpoint = f"https://{collection_id}.{ctx.region}.aoss.amazonaws.com"
    return {
        "id": collection_id,
        "arn": ctx.arn("aoss", f"collection/{collection_id}"),
        "collectionEndpoint": endpoint,
        "dashboardEndpoint": f"{endpoint}/_dashboards",
    }


def _serverless_policy_state(ctx: _Ctx) -> dict[str, Any]:
    return {"policyVersion": _short_hash(ctx.urn, length=24)}


def _domain_state(ctx: _Ctx) -> dict[str, Any]:
    name = str(ctx.inputs.get("domainName", ctx.name))
    host = f"vpc-{name}-{_short_hash(ctx.urn, length=26)}.{ctx.region}.es.amazonaws.com"
    return {
        "arn": ctx.arn("es", f"domain/{name}"),
        "domainId": f"{ACCOUNT_ID}/{name}",
        "domainName": name,
        "endpoint": host,
        "dashboardEndpoint": f"{host}/_dashboards",
    }


def _alnum(*parts: str, length: int, alphabet: str = "abcdefghijklmnopqrstuvwxyz0123456789") -> str:
    digest = hashlib.sha256("/".join(parts).encode()).digest()
    return "".join(alphabet[byte % len(alphabet)] for byte in digest[:length])


def _http_api_state(ctx: _Ctx) -> dict[str, Any]:
    api_id = _alnum(ctx.urn, length=10)
    scheme = "wss" if ctx.inputs.get("protocolType") == "WEBSOCKET" else "https"
    return {
        "id": api_id,
        "apiEndpoint": f"{scheme}://{api_id}.execute-api.{ctx.region}.amazonaws.com",
        "executionArn": ctx.arn("execute-api", api_id),
        "arn": f"arn:{PARTITION}:apigateway:{ctx.region}::/apis/{api_id}",
    }


def _http_api_stage_state(ctx: _Ctx) -> dict[str, Any]:
    api_id = str(ctx.inputs.get("apiId", "api"))
    stage = str(ctx.inputs.get("name", ctx.name))
    path = "" if stage == "$default" else stage
    return {
        "arn": f"arn:{PARTITION}:apigateway:{ctx.region}::/apis/{api_id}/stages/{stage}",
        "invokeUrl": f"https://{api_id}.execute-api.{ctx.region}.amazonaws.com/{path}",
        "executionArn": ctx.arn("execute-api", f"{api_id}/{stage}"),
    }


def _user_pool_state(ctx: _Ctx) -> dict[str, Any]:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    pool_id = f"{ctx.region}_{_alnum(ctx.urn, length=9, alphabet=letters)}"
    return {
        "id": pool_id,
        "arn": ctx.arn("cognito-idp", f"userpool/{pool_id}"),
        "endpoint": f"cognito-idp.{ctx.region}.amazonaws.com/{pool_id}",
    }


def _distribution_state(ctx: _Ctx) -> dict[str, Any]:
    distribution_id = "E" + _short_hash(ctx.urn, length=13).upper()
    return {
        "id": distribution_id,
        "arn": ctx.arn("cloudfront", f"distribution/{distribution_id}", region=False),
        "domainName": f"d{_short_hash(ctx.urn, 'domain', length=13)}.cloudfront.net",
        "hostedZoneId": "Z2FDTNDATAQYW2",  # CloudFront's own zone for alias records, the same for every distribution
        "etag": _short_hash(ctx.urn, "etag", length=14).upper(),
        "status": "Deployed",
    }


def _layer_state(ctx: _Ctx) -> dict[str, Any]:
    layer = str(ctx.inputs.get("layerName", ctx.name))
    layer_arn = ctx.arn("lambda", f"layer:{layer}")
    return {"arn": f"{layer_arn}:1", "layerArn": layer_arn, "version": "1"}


def _cloudfront_named(kind: str) -> Callable[[_Ctx], dict[str, Any]]:
    def state(ctx: _Ctx) -> dict[str, Any]:
        return {"arn": ctx.arn("cloudfront", f"{kind}/{ctx.name}", region=False),
                "etag": _short_hash(ctx.urn, "etag", length=14).upper()}  # fmt: skip

    return state


def _quicksight_region(ctx: _Ctx) -> str:
    """QuickSight users and groups live in the account's identity region (the resource's `region` input)."""
    return str(ctx.inputs.get("region") or ctx.region)


def _quicksight_arn(kind: str, id_property: str) -> Callable[[_Ctx], dict[str, Any]]:
    def state(ctx: _Ctx) -> dict[str, Any]:
        resource_id = str(ctx.inputs.get(id_property) or ctx.name)
        return {"arn": ctx.arn("quicksight", f"{kind}/{resource_id}"), "id": f"{ACCOUNT_ID},{resource_id}"}

    return state


def _uuid_id(ctx: _Ctx) -> dict[str, Any]:
    return {"id": _uuid(ctx.urn), "etag": _short_hash(ctx.urn, "etag", length=14).upper()}


def _web_acl_state(ctx: _Ctx) -> dict[str, Any]:
    acl_id = _uuid(ctx.urn)
    scope = "global" if ctx.inputs.get("scope") == "CLOUDFRONT" else "regional"
    return {"id": acl_id, "arn": ctx.arn("wafv2", f"{scope}/webacl/{ctx.name}/{acl_id}"), "capacity": 1000}


def _certificate_state(ctx: _Ctx) -> dict[str, Any]:
    domain = str(ctx.inputs.get("domainName", "example.com"))
    token = _short_hash(ctx.urn, "validation", length=32)
    return {
        "arn": ctx.arn("acm", f"certificate/{_uuid(ctx.urn)}"),
        "status": "PENDING_VALIDATION",
        "domainValidationOptions": [
            {
                "domainName": domain,
                "resourceRecordName": f"_{token}.{domain}.",
                "resourceRecordType": "CNAME",
                "resourceRecordValue": f"_{_short_hash(ctx.urn, 'value', length=32)}.abcdefgh.acm-validations.aws.",
            }
        ],
    }


def _record_state(ctx: _Ctx) -> dict[str, Any]:
    zone, name, kind = (str(ctx.inputs.get(key, "")) for key in ("zoneId", "name", "type"))
    return {"id": f"{zone}_{name}_{kind}", "fqdn": name.rstrip(".")}


def _response_headers_policy_state(ctx: _Ctx) -> dict[str, Any]:
    state = _uuid_id(ctx)
    return {**state, "arn": ctx.arn("cloudfront", f"response-headers-policy/{state['id']}", region=False)}


def _quicksight_group_state(ctx: _Ctx) -> dict[str, Any]:
    namespace = str(ctx.inputs.get("namespace") or "default")
    group = str(ctx.inputs.get("groupName") or ctx.name)
    arn = f"arn:{PARTITION}:quicksight:{_quicksight_region(ctx)}:{ACCOUNT_ID}:group/{namespace}/{group}"
    return {"arn": arn, "id": f"{ACCOUNT_ID}/{namespace}/{group}", "awsAccountId": ACCOUNT_ID}


def _quicksight_user_state(ctx: _Ctx) -> dict[str, Any]:
    # An IAM identity registers under its IAM user name.
    namespace = str(ctx.inputs.get("namespace") or "default")
    user = str(ctx.inputs.get("userName") or str(ctx.inputs.get("iamArn") or ctx.name).rsplit("/", 1)[-1])
    arn = f"arn:{PARTITION}:quicksight:{_quicksight_region(ctx)}:{ACCOUNT_ID}:user/{namespace}/{user}"
    return {"arn": arn, "id": f"{ACCOUNT_ID}/{namespace}/{user}", "userName": user, "awsAccountId": ACCOUNT_ID}


def _quicksight_membership_state(ctx: _Ctx) -> dict[str, Any]:
    namespace = str(ctx.inputs.get("namespace") or "default")
    group, member = ctx.inputs.get("groupName"), ctx.inputs.get("memberName")
    arn = f"arn:{PARTITION}:quicksight:{_quicksight_region(ctx)}:{ACCOUNT_ID}:user/{namespace}/{member}"
    return {"arn": arn, "id": f"{ACCOUNT_ID}/{namespace}/{group}/{member}"}


def _quicksight_refresh_schedule_state(ctx: _Ctx) -> dict[str, Any]:
    data_set, schedule = ctx.inputs.get("dataSetId"), ctx.inputs.get("scheduleId")
    return {"arn": ctx.arn("quicksight", f"dataset/{data_set}/refresh-schedule/{schedule}")}


_STATE_BUILDERS: dict[str, Callable[[_Ctx], dict[str, Any]]] = {
    "aws:apigatewayv2/api:Api": _http_api_state,
    "aws:apigatewayv2/stage:Stage": _http_api_stage_state,
    "aws:apigatewayv2/authorizer:Authorizer": lambda ctx: {"id": _alnum(ctx.urn, length=6)},
    "aws:apigatewayv2/integration:Integration": lambda ctx: {"id": _alnum(ctx.urn, length=7)},
    "aws:apigatewayv2/route:Route": lambda ctx: {"id": _alnum(ctx.urn, length=7)},
    "aws:cognito/userPool:UserPool": _user_pool_state,
    "aws:cognito/userPoolClient:UserPoolClient": lambda ctx: {"id": _alnum(ctx.urn, length=26)},
    "aws:cognito/user:User": lambda ctx: {"sub": _uuid(ctx.urn), "status": "FORCE_CHANGE_PASSWORD"},
    "aws:cloudfront/distribution:Distribution": _distribution_state,
    "aws:cloudfront/originAccessControl:OriginAccessControl": lambda ctx: {
        "id": "E" + _alnum(ctx.urn, length=13, alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"),
        "etag": _short_hash(ctx.urn, "etag", length=14).upper(),
    },
    "aws:cloudfront/function:Function": _cloudfront_named("function"),
    "aws:cloudfront/realtimeLogConfig:RealtimeLogConfig": _cloudfront_named("realtime-log-config"),
    "aws:cloudfront/originRequestPolicy:OriginRequestPolicy": _uuid_id,
    "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": _response_headers_policy_state,
    "aws:lambda/layerVersion:LayerVersion": _layer_state,
    "aws:cloudwatch/logDeliverySource:LogDeliverySource": lambda ctx: {
        "arn": ctx.arn("logs", f"delivery-source:{ctx.inputs.get('name', ctx.name)}"),
        "service": "cloudfront",
    },
    "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination": lambda ctx: {
        "arn": ctx.arn("logs", f"delivery-destination:{ctx.inputs.get('name', ctx.name)}"),
        "deliveryDestinationType": "S3",
    },
    "aws:cloudwatch/logDelivery:LogDelivery": lambda ctx: {
        "id": _alnum(ctx.urn, length=16),
        "arn": ctx.arn("logs", f"delivery:{_alnum(ctx.urn, length=16)}"),
    },
    "aws:wafv2/webAcl:WebAcl": _web_acl_state,
    "aws:acm/certificate:Certificate": _certificate_state,
    "aws:acm/certificateValidation:CertificateValidation": lambda ctx: {"id": str(ctx.inputs.get("certificateArn"))},
    "aws:route53/record:Record": _record_state,
    "aws:opensearch/serverlessCollection:ServerlessCollection": _collection_state,
    "aws:opensearch/serverlessSecurityPolicy:ServerlessSecurityPolicy": _serverless_policy_state,
    "aws:opensearch/serverlessAccessPolicy:ServerlessAccessPolicy": _serverless_policy_state,
    "aws:opensearch/serverlessLifecyclePolicy:ServerlessLifecyclePolicy": _serverless_policy_state,
    "aws:opensearch/serverlessVpcEndpoint:ServerlessVpcEndpoint": _ec2_state("vpce", "vpc-endpoint"),
    "aws:opensearch/domain:Domain": _domain_state,
    "aws:lambda/invocation:Invocation": lambda ctx: {"result": json.dumps({"action": "setup", "applied": []})},
    "aws:s3/bucket:Bucket": _bucket_state,
    "aws:kinesis/stream:Stream": _named_arn("kinesis", "stream/{name}"),
    "aws:kinesis/streamConsumer:StreamConsumer": _stream_consumer_state,
    "aws:kms/key:Key": _kms_key_state,
    "aws:kms/alias:Alias": _named_arn("kms", "{name}"),
    "aws:sns/topic:Topic": _named_arn("sns", "{name}"),
    "aws:sqs/queue:Queue": _queue_state,
    "aws:dynamodb/table:Table": _table_state,
    "aws:lambda/function:Function": _lambda_state,
    "aws:lambda/eventSourceMapping:EventSourceMapping": _event_source_mapping_state,
    "aws:iam/role:Role": _named_arn("iam", "role{path}{name}", region=False),
    "aws:iam/group:Group": _named_arn("iam", "group{path}{name}", region=False),
    "aws:iam/user:User": _named_arn("iam", "user{path}{name}", region=False),
    "aws:iam/policy:Policy": _named_arn("iam", "policy{path}{name}", region=False),
    "aws:cloudwatch/logGroup:LogGroup": _named_arn("logs", "log-group:{name}"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": _named_arn("cloudwatch", "alarm:{name}"),
    "aws:cloudwatch/dashboard:Dashboard": _named_arn("cloudwatch", "dashboard/{name}", region=False),
    "aws:apigateway/restApi:RestApi": _api_state,
    "aws:apigateway/stage:Stage": _stage_state,
    "aws:apigateway/usagePlan:UsagePlan": _usage_plan_state,
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": _named_arn("firehose", "deliverystream/{name}"),
    "aws:glue/catalogDatabase:CatalogDatabase": _named_arn("glue", "database/{name}"),
    "aws:glue/catalogTable:CatalogTable": _glue_table_state,
    "aws:athena/workgroup:Workgroup": _named_arn("athena", "workgroup/{name}"),
    "aws:kinesisanalyticsv2/application:Application": _flink_state,
    "aws:redshiftserverless/namespace:Namespace": _redshift_namespace_state,
    "aws:redshiftserverless/workgroup:Workgroup": _redshift_workgroup_state,
    "aws:redshift/cluster:Cluster": _redshift_cluster_state,
    "aws:ec2/vpc:Vpc": _ec2_state("vpc", "vpc"),
    "aws:ec2/subnet:Subnet": _ec2_state("subnet", "subnet"),
    "aws:ec2/securityGroup:SecurityGroup": _ec2_state("sg", "security-group"),
    "aws:ec2/routeTable:RouteTable": _ec2_state("rtb", "route-table"),
    "aws:ec2/vpcEndpoint:VpcEndpoint": _ec2_state("vpce", "vpc-endpoint"),
    "aws:scheduler/schedule:Schedule": _schedule_state,
    "aws:scheduler/scheduleGroup:ScheduleGroup": _named_arn("scheduler", "schedule-group/{name}"),
    "aws:secretsmanager/secret:Secret": _named_arn("secretsmanager", "secret:{name}-AbCdEf"),
    "aws:cloudwatch/eventRule:EventRule": _named_arn("events", "rule/{name}"),
    "aws:redshiftserverless/usageLimit:UsageLimit": _uuid_arn("redshift-serverless", "usagelimit"),
    "aws:redshift/subnetGroup:SubnetGroup": _named_arn("redshift", "subnetgroup:{name}"),
    "aws:redshift/parameterGroup:ParameterGroup": _named_arn("redshift", "parametergroup:{name}"),
    "aws:redshiftdata/statement:Statement": lambda ctx: {"id": _uuid(ctx.urn)},  # the Data API statement id
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": _ec2_state("sg", "security-group"),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": _ec2_state("rtbassoc", "route-table-association"),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _ec2_state("sgr", "security-group-rule"),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": _ec2_state("sgr", "security-group-rule"),
    "aws:cloudwatch/logStream:LogStream": _log_stream_state,
    "aws:s3/bucketObjectv2:BucketObjectv2": _bucket_object_state,
    "aws:quicksight/dataSource:DataSource": _quicksight_arn("datasource", "dataSourceId"),
    "aws:quicksight/dataSet:DataSet": _quicksight_arn("dataset", "dataSetId"),
    "aws:quicksight/vpcConnection:VpcConnection": _quicksight_arn("vpcConnection", "vpcConnectionId"),
    "aws:quicksight/group:Group": _quicksight_group_state,
    "aws:quicksight/user:User": _quicksight_user_state,
    "aws:quicksight/groupMembership:GroupMembership": _quicksight_membership_state,
    "aws:quicksight/refreshSchedule:RefreshSchedule": _quicksight_refresh_schedule_state,
    "aws-native:quicksight:Dashboard": _quicksight_arn("dashboard", "dashboardId"),
    "aws:dms/endpoint:Endpoint": _dms_endpoint_state,
    "aws:dms/replicationConfig:ReplicationConfig": _dms_replication_config_state,
    "aws:dms/replicationSubnetGroup:ReplicationSubnetGroup": _dms_subnet_group_state,
    # Budgets and Cost Explorer are global: their ARNs carry no region.
    "aws:budgets/budget:Budget": _named_arn("budgets", "budget/{name}", region=False),
    "aws:costexplorer/anomalyMonitor:AnomalyMonitor": _uuid_arn_global("ce", "anomalymonitor"),
    "aws:costexplorer/anomalySubscription:AnomalySubscription": _uuid_arn_global("ce", "anomalysubscription"),
    "aws:costexplorer/costAllocationTag:CostAllocationTag": lambda ctx: {
        "id": str(ctx.inputs.get("tagKey")),
        "type": "UserDefined",
    },
}

# Resources whose physical name lives in another property than `name`.
_NAME_PROPERTIES: dict[str, str] = {
    "aws:s3/bucket:Bucket": "bucket",
    "aws:redshift/cluster:Cluster": "clusterIdentifier",
    "aws:redshiftserverless/namespace:Namespace": "namespaceName",
    "aws:redshiftserverless/workgroup:Workgroup": "workgroupName",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "name",
    "aws:cloudwatch/dashboard:Dashboard": "dashboardName",
    "aws:apigateway/stage:Stage": "stageName",
    "aws:lambda/layerVersion:LayerVersion": "layerName",
    "aws:cognito/userPoolDomain:UserPoolDomain": "domain",
    "aws:cognito/user:User": "username",
    "aws:kinesisanalyticsv2/application:Application": "name",
    "aws:opensearch/domain:Domain": "domainName",
    "aws:quicksight/group:Group": "groupName",
    "aws:dms/endpoint:Endpoint": "endpointId",
    "aws:dms/replicationConfig:ReplicationConfig": "replicationConfigIdentifier",
    "aws:dms/replicationSubnetGroup:ReplicationSubnetGroup": "replicationSubnetGroupId",
}


@functools.cache
def accepts_tags(type_token: str) -> bool:
    """Whether a pulumi-aws resource type has a `tags` input (and so receives default tags)."""
    package, module_path, class_name = type_token.split(":")
    if package != "aws" or module_path.startswith("index/"):
        return False
    module_name = module_path.split("/")[0].lower()
    if keyword.iskeyword(module_name):
        module_name += "_"  # `lambda` is `pulumi_aws.lambda_`
    try:
        module = importlib.import_module(f"pulumi_aws.{module_name}")
        cls = getattr(module, class_name)
    except (ImportError, AttributeError):
        return False
    return "tags" in inspect.signature(cls._internal_init).parameters


def _physical_name(type_token: str, logical: str, inputs: Mapping[str, Any], urn: str) -> str:
    explicit = inputs.get(_NAME_PROPERTIES.get(type_token, "name"))
    if isinstance(explicit, str) and explicit:
        return explicit
    name = f"{logical}-{_short_hash(urn)}"
    return name.lower() if type_token == "aws:s3/bucket:Bucket" else name


# --- the mocked runtime ----------------------------------------------------------------------------------


@dataclass
class RegisteredResource:
    urn: str
    type: str
    name: str
    parent: str | None
    custom: bool
    provider: str | None
    protect: bool
    retain_on_delete: bool
    depends_on: list[str]
    inputs: dict[str, Any]
    state: dict[str, Any]
    aliases: list[str] = field(default_factory=list)  # earlier URNs this resource answers to


@dataclass
class Snapshot:
    project: str
    stack: str
    resources: list[RegisteredResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    engine_errors: list[str] = field(default_factory=list)
    invokes: list[str] = field(default_factory=list)  # every data-source token the program called, sorted

    def to_json(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "stack": self.stack,
            "resources": [asdict(r) for r in self.resources],
            "outputs": self.outputs,
            "invokes": self.invokes,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Snapshot:
        return cls(
            project=doc["project"],
            stack=doc["stack"],
            resources=[RegisteredResource(**r) for r in doc["resources"]],
            outputs=dict(doc["outputs"]),
            invokes=list(doc.get("invokes") or []),
        )


def _plain(value: Any) -> Any:
    """Make a deserialized property value JSON-friendly (resource references become URNs)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, pulumi_asset.Asset | pulumi_asset.Archive):
        return _describe_asset(value)
    urn = getattr(value, "urn", None)
    if urn is not None:
        return f"<resource {type(value).__name__}>"
    return str(value)


def _describe_asset(value: Any) -> dict[str, Any]:
    """Assets and archives as stable JSON: what they contain, not where they sit in memory."""
    if isinstance(value, pulumi_asset.AssetArchive):
        return {"assetArchive": {name: _plain(item) for name, item in sorted(value.assets.items())}}
    if isinstance(value, pulumi_asset.FileAsset | pulumi_asset.FileArchive):
        path = Path(str(value.path))
        with contextlib.suppress(ValueError):
            path = path.resolve().relative_to(PROJECT_DIR)
        kind = "fileAsset" if isinstance(value, pulumi_asset.FileAsset) else "fileArchive"
        described: dict[str, Any] = {kind: str(path)}
        source = Path(str(value.path))
        if kind == "fileAsset" and source.is_file():
            # The engine diffs assets by content: a changed file is an update even at the same path.
            described["sha256"] = hashlib.sha256(source.read_bytes()).hexdigest()
        return described
    if isinstance(value, pulumi_asset.StringAsset):
        return {"stringAsset": value.text}
    return {"asset": type(value).__name__}


def _build_runtime(project: str, stack: str, region: str, snapshot: Snapshot) -> Any:
    """Create the mocks and a monitor that records every registration with its options."""
    import pulumi
    from pulumi.runtime import mocks as pulumi_mocks

    providers_tags: dict[str, dict[str, str]] = {}
    providers_region: dict[str, str] = {}  # a provider's own region (the edge tier's us-east-1 provider)
    engine_errors = snapshot.engine_errors
    invoked: set[str] = set()
    registration_lock = threading.Lock()
    registered_urns: set[str] = set()

    class PlatformMocks(pulumi.runtime.Mocks):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
            raise AssertionError("RecordingMonitor calls _new_resource instead")

        def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
            with registration_lock:
                invoked.add(args.token)
                snapshot.invokes = sorted(invoked)
            return _invoke(args.token, dict(args.args), region), []

    class RecordingMonitor(pulumi_mocks.MockMonitor):
        def RegisterResource(self, request: Any) -> Any:
            from pulumi.runtime import rpc
            from pulumi.runtime.proto import resource_pb2
            from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

            urn = self.make_urn(request.parent, request.type, request.name)
            if request.type == "pulumi:pulumi:Stack":
                return resource_pb2.RegisterResourceResponse(urn=urn)
            with registration_lock:  # the SDK registers from several threads at once
                duplicate = urn in registered_urns
                registered_urns.add(urn)
            if duplicate:
                # The real engine refuses this too; children must be named uniquely per parent type chain.
                # Recorded as well as raised: an exception in this callback can be lost by the SDK.
                problem = f"duplicate resource URN {urn}"
                engine_errors.append(problem)
                raise ProgramError(problem)
            _ensure_event_loop()
            raw_inputs = dict(rpc.deserialize_properties(request.object))
            inputs = _plain(raw_inputs)
            # The SDK needs assets back as assets; only the recorded copy is made JSON-friendly.
            resource_id, state = _new_resource(request, urn, raw_inputs)
            self.resources[urn] = pulumi_mocks.MockMonitor.ResourceRegistration(urn, resource_id, state)
            snapshot.resources.append(
                RegisteredResource(
                    urn=urn,
                    type=request.type,
                    name=request.name,
                    parent=request.parent or None,
                    custom=bool(request.custom),
                    provider=request.provider or None,
                    protect=bool(request.protect),
                    retain_on_delete=bool(request.retainOnDelete),
                    depends_on=sorted(request.dependencies),
                    inputs=inputs,
                    state=_plain(state),
                    aliases=self.alias_urns(request),
                )
            )
            obj = _sync_await(rpc.serialize_properties(state, {}))
            return resource_pb2.RegisterResourceResponse(urn=urn, id=resource_id, object=obj)

        def alias_urns(self, request: Any) -> list[str]:
            """The URNs a registration's aliases stand for, as the engine would resolve them."""
            urns = list(request.aliasURNs)
            for alias in request.aliases:
                if alias.urn:
                    urns.append(alias.urn)
                    continue
                spec = alias.spec
                parent = spec.parentUrn or ("" if spec.noParent else request.parent)
                urns.append(self.make_urn(parent, spec.type or request.type, spec.name or request.name))
            return sorted(set(urns))

        def RegisterResourceOutputs(self, request: Any) -> Any:
            from pulumi.runtime import rpc

            if request.urn.split("::")[2] == "pulumi:pulumi:Stack":
                snapshot.outputs = _plain(rpc.deserialize_properties(request.outputs))
            return super().RegisterResourceOutputs(request)

    def _new_resource(request: Any, urn: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        token = request.type
        if not request.custom:
            return "", {}
        if token.startswith("pulumi:providers:"):
            # Provider inputs carry nested config as JSON text, as the engine sends it.
            default_tags = inputs.get("defaultTags") or {}
            if isinstance(default_tags, str):
                default_tags = json.loads(default_tags)
            providers_tags[urn] = dict(default_tags.get("tags") or {})
            if inputs.get("region"):
                providers_region[urn] = str(inputs["region"])
            return _uuid(urn), dict(inputs)
        name = _physical_name(token, request.name, inputs, urn)
        # A provider reference is `<provider urn>::<provider id>`.
        provider_urn = str(request.provider).rsplit("::", 1)[0]
        resource_region = str(inputs.get("region") or providers_region.get(provider_urn, region))
        ctx = _Ctx(region=resource_region, name=name, inputs=inputs, urn=urn)
        extra = _STATE_BUILDERS.get(token, _generic_state)(ctx)
        state: dict[str, Any] = {**inputs, "name": name, **extra}
        if accepts_tags(token):
            state["tagsAll"] = {**providers_tags.get(provider_urn, {}), **(inputs.get("tags") or {})}
        resource_id = str(extra.get("id") or name)
        state.setdefault("id", resource_id)
        return resource_id, state

    return PlatformMocks(), RecordingMonitor


def _generic_state(ctx: _Ctx) -> dict[str, Any]:
    return {}


def _invoke(token: str, args: dict[str, Any], region: str) -> dict[str, Any]:
    if token == "aws:index/getCallerIdentity:getCallerIdentity":
        return {
            "accountId": ACCOUNT_ID,
            "arn": f"arn:{PARTITION}:iam::{ACCOUNT_ID}:user/deployer",
            "userId": "AIDAEXAMPLE",
            "id": ACCOUNT_ID,
        }
    if token == "aws:index/getRegion:getRegion":
        return {"name": region, "region": region, "id": region, "endpoint": f"ec2.{region}.amazonaws.com"}
    if token == "aws:index/getPartition:getPartition":
        return {"partition": PARTITION, "dnsSuffix": "amazonaws.com", "id": PARTITION}
    if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
        names = [f"{region}{suffix}" for suffix in "abc"]
        return {"names": names, "zoneIds": [f"az{i}" for i in range(1, 4)], "id": region}
    if token == "aws:ssm/getParameter:getParameter":
        return _ssm_parameter(str(args["name"]), region)
    if token == "aws:ec2/getPrefixList:getPrefixList":
        prefix_list_id = f"pl-{_short_hash(str(args.get('name')), length=8)}"
        return {"id": prefix_list_id, "prefixListId": prefix_list_id, "name": args.get("name"),
                "cidrBlocks": ["52.218.0.0/17"]}  # fmt: skip
    if token == "aws:quicksight/getQuicksightUser:getQuicksightUser":
        # The account's QuickSight admin, as an account subscribed to QuickSight answers.
        namespace, user = str(args.get("namespace") or "default"), str(args["userName"])
        user_region = str(args.get("region") or region)
        arn = f"arn:{PARTITION}:quicksight:{user_region}:{ACCOUNT_ID}:user/{namespace}/{user}"
        return {
            "arn": arn,
            "userName": user,
            "userRole": "ADMIN",
            "active": True,
            "identityType": "IAM",
            "email": f"{user}@example.com",
            "namespace": namespace,
            "principalId": f"federated/iam/{user}",
            "awsAccountId": ACCOUNT_ID,
            "region": user_region,
            "id": f"{ACCOUNT_ID}/{namespace}/{user}",
        }
    if token == "aws:ec2/getVpc:getVpc":
        vpc_id = str(args["id"])
        arn = f"arn:{PARTITION}:ec2:{region}:{ACCOUNT_ID}:vpc/{vpc_id}"
        return {"id": vpc_id, "cidrBlock": "10.99.0.0/16", "arn": arn, "state": "available", "default": False}
    raise ProgramError(f"the offline engine has no mock for invoke {token}; add one to tools/engine/mocks.py")


# Public SSM parameters the program reads, answered as AWS publishes them.
_POWERTOOLS_LAYER_ACCOUNT = "017000801446"


def _ssm_parameter(name: str, region: str) -> dict[str, Any]:
    parts = name.split("/")
    if name.startswith("/aws/service/powertools/python/") and len(parts) == 8:
        _, _, _, _, _, architecture, runtime, release = parts
        layer_version = 10 + int(release.split(".")[1])  # any stable number: the mock only needs a real shape
        value = (
            f"arn:{PARTITION}:lambda:{region}:{_POWERTOOLS_LAYER_ACCOUNT}:layer:"
            f"AWSLambdaPowertoolsPythonV3-{runtime.replace('.', '')}-{architecture}:{layer_version}"
        )
        arn = f"arn:{PARTITION}:ssm:{region}::parameter{name}"
        return {"name": name, "value": value, "insecureValue": value, "type": "String", "id": name, "arn": arn}
    raise ProgramError(f"the offline engine knows no public SSM parameter {name}")


def run_program(
    stack: str,
    project_dir: Path = PROJECT_DIR,
    overrides: Mapping[str, Any] | None = None,
) -> Snapshot:
    """Run `__main__.py` for `stack` in this interpreter and return what it registered.

    Use once per process (the Pulumi runtime keeps per-process state); tests use
    `run_isolated`.
    """
    import pulumi
    from pulumi.runtime import mocks as pulumi_mocks
    from pulumi.runtime.settings import configure
    from pulumi.runtime.stack import run_in_stack
    from pulumi.runtime.sync_await import _sync_await

    config = load_stack_config(stack, project_dir, overrides)
    project = str(_project_file(project_dir)["name"])
    region = str(config.get("aws:region") or "")
    snapshot = Snapshot(project=project, stack=stack)
    mocks, monitor_class = _build_runtime(project, stack, region, snapshot)

    pulumi.runtime.set_all_config({k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()})
    monitor = monitor_class(mocks)
    configure(
        pulumi_mocks.MockSettings(
            monitor=monitor,
            monitor_features=set(monitor.GetDeploymentInfo(None).supportedFeatures),
            engine=pulumi_mocks.MockEngine(None),
            project=project,
            stack=stack,
            dry_run=False,
            organization="organization",
            callbacks=None,
            root_directory=str(project_dir),
        )
    )
    main = project_dir / "__main__.py"
    sys.path.insert(0, str(project_dir))
    previous = Path.cwd()
    os.chdir(project_dir)
    try:
        _sync_await(run_in_stack(lambda: _run_main(main)))
    finally:
        os.chdir(previous)
    if snapshot.engine_errors:
        raise ProgramError("; ".join(snapshot.engine_errors))
    # Registration order depends on how Outputs resolve; URN order is stable run to run.
    snapshot.resources.sort(key=lambda resource: resource.urn)
    return snapshot


# The name the offline engine runs the entry point under: not `__main__`, so the entry point's
# `if __name__ == "__main__": main()` stays idle and the engine calls `main()` itself.
OFFLINE_RUN_NAME = "uba_offline_program"


def _run_main(main: Path) -> None:
    """Run the entry point; then call its `main()` with the Flink application's file list and the JWT layer's
    directory, neither verified nor built.

    The real engine runs `__main__.py` as `__main__`, whose `main()` takes the application from the
    streaming package's build step (which refuses a missing connector JAR). This engine never opens
    an asset, so it hands `main()` the same file list without that check. A program without a `main`
    (the policy probe) does all its work at import.
    """
    from layers.build import JWT_LAYER_DIR
    from streaming.package import application_files

    namespace = runpy.run_path(str(main), run_name=OFFLINE_RUN_NAME)
    entry = namespace.get("main")
    if callable(entry):
        entry(flink_application=application_files(DEFAULT_CONNECTOR_JAR), jwt_layer=JWT_LAYER_DIR)


def run_isolated(
    stack: str,
    project_dir: Path = PROJECT_DIR,
    overrides: Mapping[str, Any] | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> Snapshot:
    """Run the program for `stack` in a fresh interpreter, failing clearly on error or timeout."""
    load_stack_config(stack, project_dir, overrides)  # a missing or unreadable stack file: one line, no traceback
    with tempfile.TemporaryDirectory(prefix="uba-mockengine-") as scratch:
        out = Path(scratch) / "snapshot.json"
        command = [sys.executable, "-m", "tools.engine.mocks", stack, "--project-dir", str(project_dir)]
        command += ["--out", str(out)]
        if overrides:
            command += ["--overrides", json.dumps(overrides)]
        try:
            completed = subprocess.run(
                command, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            raise ProgramError(
                f"the program for stack '{stack}' did not finish within {timeout:.0f} s under mocks "
                "(an Output that never resolves, or a blocking call?)"
            ) from None
        if completed.returncode != 0:
            raise ProgramError(f"the program for stack '{stack}' failed:\n{completed.stderr.strip()}")
        return Snapshot.from_json(json.loads(out.read_text()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.engine.mocks", description="Run the program under mocks and print its snapshot as JSON."
    )
    parser.add_argument("stack")
    parser.add_argument("--project-dir", type=Path, default=PROJECT_DIR)
    parser.add_argument("--overrides", type=json.loads, default=None, help="JSON object of config keys")
    parser.add_argument("--out", type=Path, required=True, help="where to write the snapshot JSON")
    args = parser.parse_args(argv)
    try:
        snapshot = run_program(args.stack, args.project_dir, args.overrides)
    except Exception as error:  # report every failure as one readable message
        print(describe_error(error), file=sys.stderr)
        return 1
    args.out.write_text(json.dumps(snapshot.to_json()))
    return 0


def describe_error(error: BaseException) -> str:
    """A readable message for a failed run.

    The program's own refusals (`pulumi.RunError`, e.g. invalid config) are shown as
    their message alone; anything else is a bug and keeps its traceback.
    """
    import pulumi

    if isinstance(error, pulumi.RunError | ProgramError):
        return str(error).strip()
    return "".join(traceback.format_exception(error)).strip()


if __name__ == "__main__":
    sys.exit(main())
