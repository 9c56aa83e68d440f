"""What people reach from a browser: user pools, CloudFront distributions and API Gateway v2 routes.

- User pools: a strong password policy always; MFA and invitation-only sign-up where the stack
  chooses them (advisory, with the setting that clears each; prod's policy config makes MFA
  mandatory); app clients never use the implicit grant (tokens in URL fragments) or plain
  password authentication, and never tell a caller which users exist.
- Distributions (HTTPS to viewers, TLS, logging and WAF are `cloudfront.py`'s): every S3 origin
  read through origin access control, and every cache behavior
  of a distribution serving files from S3 (a page) with a response headers policy; such a policy,
  and any policy that sets a Content-Security-Policy, allows no inline or evaluated script, has
  HSTS for a year or more, `nosniff` and a frame denial. Distributions in front of an API or a
  collector (custom origins) answer scripts, not documents: their CORS policies are not held to it.
- API Gateway v2 routes need authorization, except where API Gateway allows none: a CORS
  preflight (`OPTIONS ...`) and a WebSocket's `$disconnect` and `$default`, which run on a
  connection its `$connect` authorised. A JWT authorizer names its issuer and audience.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Final

from pulumi_policy import (
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from .common import ADVISORY, MANDATORY, UNKNOWN, falsy, for_types, is_set, label_of, lookup, number, of_type, schema
from .common import setting as config_setting
from .remedies import MFA_SETTINGS, SIGN_UP_SETTINGS, remedy

USER_POOL: Final = "aws:cognito/userPool:UserPool"
USER_POOL_CLIENT: Final = "aws:cognito/userPoolClient:UserPoolClient"
DISTRIBUTION: Final = "aws:cloudfront/distribution:Distribution"
HEADERS_POLICY: Final = "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy"
ROUTE: Final = "aws:apigatewayv2/route:Route"
AUTHORIZER: Final = "aws:apigatewayv2/authorizer:Authorizer"

ONE_YEAR_SECONDS: Final = 31_536_000
# Routes API Gateway runs without an authorizer of their own (authorizers exist for $connect only).
UNAUTHORIZED_ROUTES: Final = ("$disconnect", "$default")

PASSWORD_CONFIG: Final = schema(
    minimumLength={
        "type": "integer",
        "minimum": 8,
        "maximum": 99,
        "default": 12,
        "description": "Shortest password a user pool may accept.",
    }
)


def _sequence(value: Any) -> list[Any]:
    """A list field as a list (the policy engine hands lists over as read-only proxies: sequences, not lists);
    nothing when it is absent or unknown."""
    return list(value) if isinstance(value, Sequence) and not isinstance(value, str) else []


# --- user pools --------------------------------------------------------------------------------------------


@for_types(USER_POOL)
def check_password_policy(args: ResourceValidationArgs, report: ReportViolation) -> None:
    policy = lookup(args.props, "passwordPolicy")
    minimum = config_setting(args, PASSWORD_CONFIG, "minimumLength")
    problems = []
    length = lookup(policy, "minimumLength")
    if length is not UNKNOWN and not (isinstance(length, int | float) and length >= minimum):
        problems.append(f"minimum length {number(length) if length is not None else 'unset (8)'}, not {minimum}")
    for key, what in (("requireLowercase", "lower case"), ("requireUppercase", "upper case"),
                      ("requireNumbers", "digits"), ("requireSymbols", "symbols")):  # fmt: skip
        value = lookup(policy, key)
        if value is not UNKNOWN and value is not True:
            problems.append(f"{what} not required")
    if problems:
        report(
            f"User pool {label_of(args)} accepts weak passwords ({'; '.join(problems)}): set password_policy with "
            f"minimum_length >= {minimum} and require_lowercase, require_uppercase, require_numbers and "
            f"require_symbols all True (`uba:live.sign_in.password_min_length`).",
            None,
        )


@for_types(USER_POOL)
def check_mfa(args: ResourceValidationArgs, report: ReportViolation) -> None:
    mode = lookup(args.props, "mfaConfiguration")
    if mode in ("ON", UNKNOWN):
        return
    fix = "set mfa_configuration='ON' with software_token_mfa_configuration enabled"
    report(
        f"User pool {label_of(args)} lets people sign in without a second factor (mfa_configuration={mode!r}): "
        f"{remedy(MFA_SETTINGS, args.name, 'required', fix)}.",
        None,
    )


@for_types(USER_POOL)
def check_invite_only(args: ResourceValidationArgs, report: ReportViolation) -> None:
    admin_only = lookup(args.props, "adminCreateUserConfig", "allowAdminCreateUserOnly")
    if admin_only is True or admin_only is UNKNOWN:
        return
    fix = "set admin_create_user_config.allow_admin_create_user_only=True"
    report(
        f"User pool {label_of(args)} lets anyone on the internet create an account: "
        f"{remedy(SIGN_UP_SETTINGS, args.name, False, fix)}.",
        None,
    )


@for_types(USER_POOL_CLIENT)
def check_app_client(args: ResourceValidationArgs, report: ReportViolation) -> None:
    problems = []
    flows = _sequence(lookup(args.props, "allowedOauthFlows"))
    if "implicit" in flows:
        problems.append("the implicit grant hands tokens over in the URL: use the code grant with PKCE")
    auth_flows = _sequence(lookup(args.props, "explicitAuthFlows"))
    if any(f in auth_flows for f in ("ALLOW_USER_PASSWORD_AUTH", "USER_PASSWORD_AUTH")):
        problems.append("USER_PASSWORD_AUTH sends passwords in the clear to Cognito's API: drop it")
    if lookup(args.props, "preventUserExistenceErrors") not in ("ENABLED", UNKNOWN):
        problems.append("sign-in errors reveal which users exist: set prevent_user_existence_errors='ENABLED'")
    if falsy(lookup(args.props, "enableTokenRevocation")):
        problems.append("refresh tokens cannot be revoked: leave enable_token_revocation on")
    if problems:
        report(f"User pool app client {label_of(args)}: {'; '.join(problems)}.", None)


# --- CloudFront --------------------------------------------------------------------------------------------


def _behaviors(props: Any) -> list[tuple[str, Any]]:
    behaviors = [("default_cache_behavior", lookup(props, "defaultCacheBehavior"))]
    ordered = _sequence(lookup(props, "orderedCacheBehaviors"))
    behaviors += [(f"ordered_cache_behaviors[{i}]", behavior) for i, behavior in enumerate(ordered)]
    return [(where, behavior) for where, behavior in behaviors if behavior is not None]


S3_ORIGIN: Final = re.compile(r"\.s3[.-]([a-z0-9-]+\.)?amazonaws\.com$")


def _s3_origins(props: Any) -> list[str]:
    """The S3 domains a distribution reads: an S3 origin serves files (pages), a custom origin an API or a collector."""
    domains = [lookup(origin, "domainName") for origin in _sequence(lookup(props, "origins"))]
    return [domain for domain in domains if isinstance(domain, str) and S3_ORIGIN.search(domain)]


@for_types(DISTRIBUTION)
def check_origin_access(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for origin in _sequence(lookup(args.props, "origins")):
        domain = lookup(origin, "domainName")
        if domain in _s3_origins(args.props) and not is_set(lookup(origin, "originAccessControlId")):
            report(
                f"Distribution {label_of(args)} reads S3 origin {domain} without origin access control, so the bucket "
                f"must be public or use the legacy access identity: set origin_access_control_id to an "
                f"aws.cloudfront.OriginAccessControl (signing_behavior='always') and let only this distribution read "
                f"the bucket (AWS:SourceArn).",
                None,
            )


def check_security_headers(args: StackValidationArgs, report: ReportViolation) -> None:
    """Pages need security headers: a distribution serving files from S3, the headers policies it uses, and any
    policy that sets a Content-Security-Policy (a CSP only governs documents). A distribution in front of an API
    or a collector answers JSON to scripts, where a CSP means nothing; its CORS policy is not held to these."""
    page_policies: set[str] = set()
    for distribution in of_type(args, DISTRIBUTION):
        if not _s3_origins(distribution.props):
            continue
        page_policies |= {d.urn for d in distribution.dependencies if d.resource_type == HEADERS_POLICY}
        for where, behavior in _behaviors(distribution.props):
            if not is_set(lookup(behavior, "responseHeadersPolicyId")):
                report(
                    f"Distribution {label_of(distribution)} serves files from S3, and its {where} adds no security "
                    f"headers: set response_headers_policy_id to an aws.cloudfront.ResponseHeadersPolicy with a strict "
                    f"Content-Security-Policy, HSTS, nosniff and frame options (components.live.site).",
                    distribution.urn,
                )
    for policy in of_type(args, HEADERS_POLICY):
        sets_csp = lookup(policy.props, "securityHeadersConfig", "contentSecurityPolicy") is not None
        problems = _header_problems(policy) if policy.urn in page_policies or sets_csp else []
        if problems:
            report(
                f"Response headers policy {label_of(policy)}: {'; '.join(problems)}: build it as "
                f"components.live.site does from components.live.headers.",
                policy.urn,
            )


def _header_problems(policy: PolicyResource) -> list[str]:
    headers = lookup(policy.props, "securityHeadersConfig")
    problems = []
    csp = lookup(headers, "contentSecurityPolicy", "contentSecurityPolicy")
    if csp is not UNKNOWN:
        if not isinstance(csp, str) or "default-src" not in csp:
            problems.append("no Content-Security-Policy with a default-src")
        elif re.search(r"'unsafe-(inline|eval)'|(script-src|default-src)[^;]*\*", csp):
            problems.append("its Content-Security-Policy allows inline, evaluated or wildcard script")
    max_age = lookup(headers, "strictTransportSecurity", "accessControlMaxAgeSec")
    if max_age is not UNKNOWN and not (isinstance(max_age, int | float) and max_age >= ONE_YEAR_SECONDS):
        problems.append(f"HSTS max-age is {number(max_age) if max_age is not None else 'unset'}, not a year or more")
    if lookup(headers, "contentTypeOptions") is None:
        problems.append("no X-Content-Type-Options: nosniff")
    if lookup(headers, "frameOptions", "frameOption") not in ("DENY", "SAMEORIGIN", UNKNOWN):
        problems.append("no X-Frame-Options")
    return problems


# --- API Gateway v2 ----------------------------------------------------------------------------------------


@for_types(ROUTE)
def check_route_authorized(args: ResourceValidationArgs, report: ReportViolation) -> None:
    key = lookup(args.props, "routeKey")
    if key is UNKNOWN or (isinstance(key, str) and (key.startswith("OPTIONS ") or key in UNAUTHORIZED_ROUTES)):
        return
    kind = lookup(args.props, "authorizationType")
    if kind in ("JWT", "CUSTOM", "AWS_IAM", UNKNOWN) and (
        kind == "AWS_IAM" or is_set(lookup(args.props, "authorizerId"))
    ):
        return
    report(
        f"Route {label_of(args)} ({key}) answers anyone: set authorization_type='JWT' with the user pool's authorizer "
        f"(HTTP APIs) or 'CUSTOM' with a token authorizer ($connect of a WebSocket API), and its authorizer_id.",
        None,
    )


@for_types(AUTHORIZER)
def check_jwt_authorizer(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if lookup(args.props, "authorizerType") != "JWT":
        return
    configuration = lookup(args.props, "jwtConfiguration")
    if is_set(lookup(configuration, "issuer")) and is_set(lookup(configuration, "audiences")):
        return
    report(
        f"JWT authorizer {label_of(args)} accepts tokens meant for any client: set jwt_configuration with the user "
        f"pool's issuer and audiences=[the app client's id].",
        None,
    )


POLICIES: Final = [
    ResourceValidationPolicy(
        name="cognito-password-policy",
        description="User pools require long passwords of every character class.",
        enforcement_level=MANDATORY,
        validate=check_password_policy,
        config_schema=PASSWORD_CONFIG,
    ),
    # Advisory: dev lets MFA be optional; prod's policy config makes it mandatory.
    ResourceValidationPolicy(
        name="cognito-mfa",
        description="User pools require a second factor.",
        enforcement_level=ADVISORY,
        validate=check_mfa,
    ),
    ResourceValidationPolicy(
        name="cognito-invite-only",
        description="User pools take only users an administrator invites.",
        enforcement_level=ADVISORY,
        validate=check_invite_only,
    ),
    ResourceValidationPolicy(
        name="cognito-app-client-flows",
        description="App clients use no implicit grant nor plain password auth, and hide which users exist.",
        enforcement_level=MANDATORY,
        validate=check_app_client,
    ),
    ResourceValidationPolicy(
        name="cloudfront-s3-origin-access-control",
        description="Distributions read S3 origins through origin access control.",
        enforcement_level=MANDATORY,
        validate=check_origin_access,
    ),
    StackValidationPolicy(
        name="cloudfront-security-headers",
        description="Every cache behavior adds security headers: strict CSP, HSTS, nosniff, frame options.",
        enforcement_level=MANDATORY,
        validate=check_security_headers,
    ),
    ResourceValidationPolicy(
        name="apigatewayv2-route-authorized",
        description="API Gateway v2 routes need authorization (CORS preflights, WebSocket $disconnect/$default aside).",
        enforcement_level=MANDATORY,
        validate=check_route_authorized,
    ),
    ResourceValidationPolicy(
        name="apigatewayv2-jwt-authorizer-audience",
        description="JWT authorizers name the issuer and the audience they accept.",
        enforcement_level=MANDATORY,
        validate=check_jwt_authorizer,
    ),
]
