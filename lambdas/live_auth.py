"""Who is asking: the live tier's one definition of a signed-in viewer, deployed and local.

Deployed (`LIVE_AUTH_MODE=cognito`, the only mode the program ever configures), a viewer holds
an access token of the stack's Cognito user pool, issued to the page's app client:

- the realtime HTTP API is guarded by API Gateway's own JWT authorizer, which checks the
  token's signature against the pool's JWKS, its issuer, its `client_id` (Cognito access
  tokens carry no `aud`; API Gateway then matches `client_id` against the audience), its
  expiry and the route's scope. The API function reads the claims API Gateway passes on and
  checks, besides, that the token is an access token of the page's client
  (`viewer_from_claims`): a request that did not come through that authorizer has none and is
  refused;
- the WebSocket API takes no JWT authorizer (API Gateway offers them to HTTP APIs only): its
  `$connect` route has a Lambda REQUEST authorizer that verifies the token itself
  (`verify_token`), with PyJWT and its `crypto` extra, which reach that function in a layer
  built from `layers/jwt/requirements.txt` (pinned, with hashes): the signature against the
  pool's JWKS (RS256 only), `iss`, `exp`, `iat`, `token_use == "access"`, `client_id` and
  the scope.

Locally (`LIVE_AUTH_MODE=local`, set only by `tools.live`), sign-in is replaced by one random
token the local runner prints; the handlers compare it in constant time. A function running
in Lambda refuses local mode outright, whatever its environment says, so a deployed stack
never accepts the local token (`tests/lambdas/test_live_auth.py`).
"""

from __future__ import annotations

import hmac
import os
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

MODE_ENV = "LIVE_AUTH_MODE"
ISSUER_ENV = "LIVE_TOKEN_ISSUER"  # https://cognito-idp.<region>.amazonaws.com/<pool id>
CLIENT_ID_ENV = "LIVE_CLIENT_ID"  # the page's app client
SCOPE_ENV = "LIVE_REQUIRED_SCOPE"  # e.g. uba-dev-live/read
JWKS_URL_ENV = "LIVE_JWKS_URL"  # defaults to <issuer>/.well-known/jwks.json
LOCAL_TOKEN_ENV = "LIVE_LOCAL_TOKEN"
# Set by the Lambda runtime in every function (Lambda Developer Guide, "Defined runtime environment variables").
LAMBDA_MARKERS = ("AWS_LAMBDA_FUNCTION_NAME", "AWS_EXECUTION_ENV", "AWS_LAMBDA_RUNTIME_API")
LOCAL_TOKEN_MIN_LENGTH = 32
MAX_TOKEN_LENGTH = 8192
CLOCK_LEEWAY_SECONDS = 30

Mode = Literal["cognito", "local"]


class UnauthorizedViewerError(Exception):
    """The request carries no acceptable token; the message says why (logged, never shown in full)."""


@dataclass(frozen=True)
class Viewer:
    """A signed-in person, as the handlers know them."""

    subject: str
    username: str
    groups: tuple[str, ...] = ()
    via: Mode = "cognito"

    def context(self) -> dict[str, str]:
        """An authorizer's context: string values only (API Gateway drops anything else)."""
        return {"sub": self.subject, "username": self.username, "groups": ",".join(self.groups), "via": self.via}


@dataclass(frozen=True)
class AuthConfig:
    mode: Mode
    issuer: str = ""
    client_id: str = ""
    scope: str = ""
    jwks_url: str = ""
    local_token: str = field(default="", repr=False)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> AuthConfig:
        env = dict(os.environ if environ is None else environ)
        mode = env.get(MODE_ENV, "")
        if mode == "local":
            return cls._local(env)
        if mode != "cognito":
            raise RuntimeError(f"{MODE_ENV} must be 'cognito' (or 'local' outside AWS), got {mode!r}")
        missing = [name for name in (ISSUER_ENV, CLIENT_ID_ENV, SCOPE_ENV) if not env.get(name)]
        if missing:
            raise RuntimeError(f"live sign-in is missing environment variable(s): {', '.join(missing)}")
        issuer = env[ISSUER_ENV].rstrip("/")
        if not issuer.startswith("https://"):
            raise RuntimeError(f"{ISSUER_ENV} must be an https:// issuer, got {issuer!r}")
        jwks_url = env.get(JWKS_URL_ENV) or f"{issuer}/.well-known/jwks.json"
        return cls("cognito", issuer, env[CLIENT_ID_ENV], env[SCOPE_ENV], jwks_url)

    @classmethod
    def _local(cls, env: dict[str, str]) -> AuthConfig:
        running_in_lambda = [name for name in LAMBDA_MARKERS if env.get(name)]
        if running_in_lambda:
            raise RuntimeError(
                f"{MODE_ENV}=local is refused in a deployed function ({running_in_lambda[0]} is set): "
                "the local token is for `python -m tools.live` only"
            )
        token = env.get(LOCAL_TOKEN_ENV, "")
        if len(token) < LOCAL_TOKEN_MIN_LENGTH:
            raise RuntimeError(
                f"{LOCAL_TOKEN_ENV} must hold a random token of at least {LOCAL_TOKEN_MIN_LENGTH} characters"
            )
        return cls("local", local_token=token)


@cache
def config() -> AuthConfig:
    return AuthConfig.from_env()


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header."""
    if not authorization:
        raise UnauthorizedViewerError("no Authorization header")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthorizedViewerError("the Authorization header is not 'Bearer <token>'")
    return token.strip()


def verify_token(token: str | None, cfg: AuthConfig) -> Viewer:
    """The viewer a token stands for; UnauthorizedViewerError when it is missing, malformed, forged or expired."""
    if not token:
        raise UnauthorizedViewerError("no token")
    if len(token) > MAX_TOKEN_LENGTH:
        raise UnauthorizedViewerError("token too long")
    if cfg.mode == "local":
        if not hmac.compare_digest(token.encode(), cfg.local_token.encode()):
            raise UnauthorizedViewerError("not the local token")
        return Viewer(subject="local", username="local", groups=("local",), via="local")
    return _verify_cognito(token, cfg)


def _verify_cognito(token: str, cfg: AuthConfig) -> Viewer:
    import jwt  # PyJWT: in the authorizer's layer; the other functions never verify signatures themselves

    try:
        signing_key = _jwks_client(cfg.jwks_url).get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            signing_key.key,
            algorithms=["RS256"],  # Cognito signs with RS256; never "none", never an HMAC with a public key
            issuer=cfg.issuer,
            leeway=CLOCK_LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "iss", "sub", "token_use", "client_id"], "verify_aud": False},
        )
    except jwt.PyJWTError as error:
        raise UnauthorizedViewerError(f"token refused: {type(error).__name__}: {error}") from None
    return viewer_from_claims(claims, cfg)


@cache
def _jwks_client(url: str) -> Any:
    from jwt import PyJWKClient

    # Keys are cached for an hour; a token with an unknown `kid` makes the client fetch the set again.
    return PyJWKClient(url, cache_keys=True, lifespan=3600, timeout=5)


def viewer_from_claims(claims: dict[str, Any], cfg: AuthConfig) -> Viewer:
    """Checks the claims of a verified token (by PyJWT, or by API Gateway's JWT authorizer)."""
    if claims.get("token_use") != "access":
        raise UnauthorizedViewerError(f"token_use must be 'access', got {claims.get('token_use')!r}")
    if claims.get("client_id") != cfg.client_id:
        raise UnauthorizedViewerError("token issued to another app client")
    if cfg.issuer and str(claims.get("iss", "")).rstrip("/") != cfg.issuer:
        raise UnauthorizedViewerError("token issued by another user pool")
    scopes = _scopes(claims.get("scope"))
    if cfg.scope not in scopes:
        raise UnauthorizedViewerError(f"token lacks the scope {cfg.scope}")
    subject = str(claims.get("sub") or "")
    if not subject:
        raise UnauthorizedViewerError("token has no subject")
    return Viewer(
        subject=subject,
        username=str(claims.get("username") or subject),
        groups=tuple(_groups(claims.get("cognito:groups"))),
        via="cognito",
    )


def _scopes(value: Any) -> set[str]:
    if isinstance(value, str):
        return set(value.split())
    if isinstance(value, list):
        return {str(scope) for scope in value}
    return set()


def _groups(value: Any) -> list[str]:
    # A verified token carries a JSON list; API Gateway passes claims on as text: "[admin op]".
    if isinstance(value, list):
        return [str(group) for group in value]
    if isinstance(value, str):
        return [group for group in value.strip("[]").replace(",", " ").split() if group]
    return []
