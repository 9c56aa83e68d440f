"""The live tier's handlers as deployed, in moto: a Cognito-like token issuer, the realtime API, its alerts.

- `Issuer` signs tokens the way a Cognito user pool does (RS256, a `kid` from its JWKS, the
  claims of an access token) and serves its JWKS over HTTP on a port of its own, so the
  handlers verify signatures exactly as in AWS, keys fetched by PyJWT's client.
- `live_api` (a fixture) is the realtime API's handler over the alert sink's moto table
  (`tests/support/alert_sink.py`): alerts are stored by the real alert sink, read by the real
  API handler, with the environment the live tier gives the function.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.alert_sink import TABLE, Sink
from tests.support.kinesis_events import FakeLambdaContext
from tools.local.live import http_api_event

CLIENT_ID = "4h5k1l2m3n4o5p6q7r8s9t0u1v"
SCOPE = "uba-test-live/read"
ORIGIN = "https://d111111abcdef8.cloudfront.net"
LOCAL_TOKEN = "local-" + "x" * 40


@dataclass
class Issuer:
    """A user pool's signing side: its keys, its JWKS endpoint, and the tokens it would issue."""

    pool_id: str = "eu-west-1_TestPool1"
    keys: dict[str, Any] = field(default_factory=dict)  # kid -> private key
    port: int = 0

    def __post_init__(self) -> None:
        self.keys = {f"kid-{n}": rsa.generate_private_key(public_exponent=65537, key_size=2048) for n in (1, 2)}

    @property
    def issuer(self) -> str:
        # The value of `iss` is the pool's URL; JWKS is fetched from the URL the config names.
        return f"https://cognito-idp.eu-west-1.amazonaws.com/{self.pool_id}"

    @property
    def jwks_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{self.pool_id}/.well-known/jwks.json"

    def jwks(self) -> dict[str, Any]:
        found = []
        for kid, key in self.keys.items():
            public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
            found.append({**public, "kid": kid, "alg": "RS256", "use": "sig"})
        return {"keys": found}

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "sub": "3f1b2c4d-0000-4000-8000-000000000001",
            "cognito:groups": ["bizUser"],
            "iss": self.issuer,
            "version": 2,
            "client_id": CLIENT_ID,
            "origin_jti": str(uuid.uuid4()),
            "token_use": "access",
            "scope": f"openid email {SCOPE}",
            "auth_time": now,
            "exp": now + 3600,
            "iat": now,
            "jti": str(uuid.uuid4()),
            "username": "bo@example.com",
        }
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not None}

    def token(self, kid: str = "kid-1", key: Any = None, algorithm: str = "RS256", **claims: Any) -> str:
        signing_key = key if key is not None else self.keys[kid]
        return jwt.encode(self.claims(**claims), signing_key, algorithm=algorithm, headers={"kid": kid})

    def environment(self) -> dict[str, str]:
        """What the live tier sets on its functions (components/live/tier.py), with the local JWKS address."""
        return {
            "LIVE_AUTH_MODE": "cognito",
            "LIVE_TOKEN_ISSUER": self.issuer,
            "LIVE_CLIENT_ID": CLIENT_ID,
            "LIVE_REQUIRED_SCOPE": SCOPE,
            "LIVE_JWKS_URL": self.jwks_url,
        }


@pytest.fixture(scope="session")
def issuer() -> Iterator[Issuer]:
    """A token issuer whose JWKS answers on a local port for the whole session."""
    pool = Issuer()
    body = json.dumps(pool.jwks()).encode()

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path.endswith("/.well-known/jwks.json") else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Jwks)
    pool.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield pool
    server.shutdown()
    server.server_close()


@dataclass
class LiveApi:
    """The realtime API's handler over the sink's table; requests as API Gateway forwards them."""

    module: ModuleType
    sink: Sink

    def request(
        self,
        path: str,
        query: str = "",
        *,
        claims: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        method: str = "GET",
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        event = http_api_event(method, path, query, headers or {}, "203.0.113.7")
        if claims is not None:  # API Gateway's JWT authorizer passes the verified claims on, as strings
            event["requestContext"]["authorizer"] = {
                "jwt": {"claims": {k: _as_text(v) for k, v in claims.items()}, "scopes": None}
            }
        answer = self.module.handler(event, FakeLambdaContext(function_name="uba-test-live-api"))
        body = json.loads(answer["body"]) if answer.get("body") else {}
        return int(answer["statusCode"]), dict(answer.get("headers") or {}), body

    def store(self, *alerts: dict[str, Any]) -> None:
        """Write alerts through the real alert sink, as Flink's records reach it."""
        for index, alert in enumerate(alerts):
            self.sink.alerts.sink_alert(json.dumps(alert).encode(), str(index + 1), self.sink.alerts.config())


def _as_text(value: Any) -> str:
    if isinstance(value, list):
        return "[" + " ".join(str(v) for v in value) + "]"
    return str(value)


@pytest.fixture
def live_api(sink: Sink, issuer: Issuer, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveApi]:
    from lambdas import live_api as module

    for name, value in {
        **issuer.environment(),
        "LIVE_TABLE_NAME": TABLE,
        "LIVE_ALLOWED_ORIGIN": ORIGIN,
        "POWERTOOLS_SERVICE_NAME": "live-api",
    }.items():
        monkeypatch.setenv(name, value)
    module.reset_cached_state()
    yield LiveApi(module, sink)
    module.reset_cached_state()
