"""Sign-in as the live tier's handlers check it: real signatures, every claim, and the local token kept local.

Tokens are signed like a Cognito user pool's (RS256, `kid` in the header) by `tests.support.live.Issuer`,
whose JWKS the handlers fetch over HTTP, so verification runs end to end with PyJWT as in the
authorizer's layer. Each forged or unfit token is refused, and the WebSocket authorizer answers
API Gateway with a Deny for it.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any, cast

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from lambdas import live_auth, live_authorizer
from tests.support.harness import run_stack
from tests.support.kinesis_events import FakeLambdaContext
from tests.support.live import CLIENT_ID, LOCAL_TOKEN, SCOPE, Issuer
from tests.support.tokens import type_token

METHOD_ARN = "arn:aws:execute-api:eu-west-1:123456789012:abc123/live/$connect"


def config_for(issuer: Issuer) -> live_auth.AuthConfig:
    return live_auth.AuthConfig.from_env(issuer.environment())


def authorize(token: str | None) -> dict[str, Any]:
    event = {"type": "REQUEST", "methodArn": METHOD_ARN, "queryStringParameters": {"token": token} if token else {}}
    context: Any = FakeLambdaContext(function_name="uba-test-live-authorizer")
    return live_authorizer.handler(event, context)


@pytest.fixture
def cognito(issuer: Issuer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Issuer]:
    for name, value in issuer.environment().items():
        monkeypatch.setenv(name, value)
    live_auth.config.cache_clear()
    yield issuer
    live_auth.config.cache_clear()


def test_an_access_token_of_the_pool_for_the_page_is_a_viewer_with_their_groups(issuer: Issuer) -> None:
    groups = cast(dict[str, Any], {"cognito:groups": ["op", "bizUser"]})
    viewer = live_auth.verify_token(issuer.token(**groups), config_for(issuer))
    assert viewer.subject == "3f1b2c4d-0000-4000-8000-000000000001"
    assert viewer.username == "bo@example.com"
    assert viewer.groups == ("op", "bizUser")
    assert viewer.context() == {"sub": viewer.subject, "username": "bo@example.com", "groups": "op,bizUser",
                                "via": "cognito"}  # fmt: skip


def test_a_key_the_pool_rotated_in_is_found_by_its_kid(issuer: Issuer) -> None:
    assert live_auth.verify_token(issuer.token(kid="kid-2"), config_for(issuer)).via == "cognito"


def _unsigned(issuer: Issuer) -> str:
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "kid": "kid-1"}).encode()).rstrip(b"=").decode()
    payload = base64.urlsafe_b64encode(json.dumps(issuer.claims()).encode()).rstrip(b"=").decode()
    return f"{header}.{payload}."


def _hmac_with_the_public_key(issuer: Issuer) -> str:
    """The classic confusion attack: HS256 keyed with the RSA public key the JWKS publishes."""
    import hmac

    public = json.dumps(issuer.jwks()["keys"][0], sort_keys=True).encode()
    header = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "kid": "kid-1"}).encode()).rstrip(b"=")
    payload = base64.urlsafe_b64encode(json.dumps(issuer.claims()).encode()).rstrip(b"=")
    signature = base64.urlsafe_b64encode(hmac.digest(public, header + b"." + payload, "sha256")).rstrip(b"=")
    return (header + b"." + payload + b"." + signature).decode()


FORGED: dict[str, Any] = {
    "signed by another key": lambda i: i.token(key=rsa.generate_private_key(public_exponent=65537, key_size=2048)),
    "a kid the pool never published": lambda i: i.token(kid="kid-9", key=i.keys["kid-1"]),
    "no signature at all (alg none)": _unsigned,
    "HS256 keyed with the public key": _hmac_with_the_public_key,
    "expired": lambda i: i.token(exp=int(time.time()) - 120, iat=int(time.time()) - 3720),
    "issued by another pool": lambda i: i.token(iss="https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other"),
    "issued to another app client": lambda i: i.token(client_id="someotherclient0000000000"),
    "an ID token, not an access token": lambda i: i.token(token_use="id", aud=CLIENT_ID, client_id=None),
    "without the read scope": lambda i: i.token(scope="openid email"),
    "without an expiry": lambda i: i.token(exp=None),
    "a tampered payload": lambda i: _tamper(i.token()),
    "not a JWT": lambda i: "hello",
    "far too long": lambda i: "a" * 9000,
    "the local token": lambda i: LOCAL_TOKEN,
}


def _tamper(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["cognito:groups"] = ["admin"]
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


@pytest.mark.parametrize("kind", list(FORGED))
def test_forged_and_unfit_tokens_are_refused(issuer: Issuer, kind: str) -> None:
    with pytest.raises(live_auth.UnauthorizedViewerError):
        live_auth.verify_token(FORGED[kind](issuer), config_for(issuer))


def test_the_websocket_authorizer_allows_a_viewer_on_connect_and_passes_who_they_are(cognito: Issuer) -> None:
    answer = authorize(cognito.token())
    assert answer["policyDocument"]["Statement"] == [
        {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": METHOD_ARN}
    ]
    assert answer["principalId"] == "3f1b2c4d-0000-4000-8000-000000000001"
    assert answer["context"]["username"] == "bo@example.com"


@pytest.mark.parametrize("token", [None, "", "the local token", "expired"])
def test_the_websocket_authorizer_denies_a_missing_or_bad_token(cognito: Issuer, token: str | None) -> None:
    value = {"the local token": LOCAL_TOKEN, "expired": FORGED["expired"](cognito)}.get(token or "", token)
    answer = authorize(value)
    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert answer["principalId"] == "anonymous" and "context" not in answer


def test_local_mode_accepts_only_its_own_token() -> None:
    cfg = live_auth.AuthConfig.from_env({"LIVE_AUTH_MODE": "local", "LIVE_LOCAL_TOKEN": LOCAL_TOKEN})
    assert live_auth.verify_token(LOCAL_TOKEN, cfg).via == "local"
    for wrong in ("", LOCAL_TOKEN[:-1], LOCAL_TOKEN + "x", LOCAL_TOKEN.upper()):
        with pytest.raises(live_auth.UnauthorizedViewerError):
            live_auth.verify_token(wrong, cfg)


@pytest.mark.parametrize("marker", live_auth.LAMBDA_MARKERS)
def test_a_function_running_in_lambda_refuses_local_mode_whatever_its_environment_says(marker: str) -> None:
    environment = {"LIVE_AUTH_MODE": "local", "LIVE_LOCAL_TOKEN": LOCAL_TOKEN, marker: "uba-prod-live-api"}
    with pytest.raises(RuntimeError, match="refused in a deployed function"):
        live_auth.AuthConfig.from_env(environment)


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({}, "LIVE_AUTH_MODE must be 'cognito'"),
        ({"LIVE_AUTH_MODE": "none"}, "LIVE_AUTH_MODE must be 'cognito'"),
        ({"LIVE_AUTH_MODE": "cognito"}, "LIVE_TOKEN_ISSUER, LIVE_CLIENT_ID, LIVE_REQUIRED_SCOPE"),
        (
            {
                "LIVE_AUTH_MODE": "cognito",
                "LIVE_TOKEN_ISSUER": "http://insecure",
                "LIVE_CLIENT_ID": "c",
                "LIVE_REQUIRED_SCOPE": "s",
            },
            "must be an https:// issuer",
        ),
        ({"LIVE_AUTH_MODE": "local", "LIVE_LOCAL_TOKEN": "short"}, "at least 32 characters"),
    ],
)
def test_a_misconfigured_function_fails_naming_what_is_missing(environment: dict[str, str], message: str) -> None:
    with pytest.raises(RuntimeError, match=message):
        live_auth.AuthConfig.from_env(environment)


def _deployed_environment(stack: str, function: str) -> dict[str, str]:
    """A function's environment exactly as the stack deploys it, plus what Lambda itself sets."""
    import pulumi_aws as aws

    run = run_stack(stack)
    deployed = run.one(type_token(aws.lambda_.Function), f"{function}-function")
    variables = dict(deployed.inputs["environment"]["variables"])
    return {**variables, "AWS_LAMBDA_FUNCTION_NAME": deployed.inputs["name"]}


@pytest.mark.parametrize("stack", ["dev", "prod"])
@pytest.mark.parametrize("function", ["live-api", "live-authorizer"])
def test_a_deployed_stack_configures_cognito_and_refuses_the_local_token(
    stack: str, function: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    environment = _deployed_environment(stack, function)
    assert environment["LIVE_AUTH_MODE"] == "cognito"
    assert "LIVE_LOCAL_TOKEN" not in environment
    cfg = live_auth.AuthConfig.from_env(environment)
    assert cfg.scope.endswith("-live/read") and cfg.issuer.startswith("https://cognito-idp.eu-west-1.amazonaws.com/")
    with pytest.raises(live_auth.UnauthorizedViewerError):
        live_auth.verify_token(LOCAL_TOKEN, cfg) if function == "live-authorizer" else live_auth.viewer_from_claims(
            {}, cfg
        )
    # Even told to run locally, with a token, a function that runs in Lambda refuses.
    with pytest.raises(RuntimeError, match="refused in a deployed function"):
        live_auth.AuthConfig.from_env({**environment, "LIVE_AUTH_MODE": "local", "LIVE_LOCAL_TOKEN": LOCAL_TOKEN})
    if function == "live-authorizer":
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        live_auth.config.cache_clear()
        try:
            assert authorize(LOCAL_TOKEN)["policyDocument"]["Statement"][0]["Effect"] == "Deny"
        finally:
            live_auth.config.cache_clear()


def test_the_claims_api_gateway_passes_on_are_checked_too(issuer: Issuer) -> None:
    cfg = config_for(issuer)
    claims = {k: str(v) for k, v in issuer.claims().items()}
    assert live_auth.viewer_from_claims({**claims, "cognito:groups": "[op dev]"}, cfg).groups == ("op", "dev")
    for unfit in ({"token_use": "id"}, {"client_id": "other"}, {"scope": "openid"}, {"iss": "https://elsewhere"}):
        with pytest.raises(live_auth.UnauthorizedViewerError):
            live_auth.viewer_from_claims({**claims, **unfit}, cfg)


def test_bearer_headers_are_read_strictly() -> None:
    assert live_auth.bearer_token("Bearer abc") == "abc"
    assert live_auth.bearer_token("bearer  abc ") == "abc"
    for bad in (None, "", "abc", "Basic abc", "Bearer ", "Token abc"):
        with pytest.raises(live_auth.UnauthorizedViewerError):
            live_auth.bearer_token(bad)


def test_scope_constant_matches_the_client_the_fixture_issues_for() -> None:
    assert SCOPE.endswith("/read") and len(CLIENT_ID) == 26
