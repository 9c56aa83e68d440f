"""Sign-in for the dashboard page: a Cognito user pool, its hosted sign-in domain, the page's app client.

- The pool: people are invited by an administrator (no self sign-up unless the stack says
  so), sign in with their email, MFA with an authenticator app per stack setting, a strong
  password policy, email account recovery, deletion protection where the stack protects data,
  and threat protection (`advanced_security`) on the Plus feature plan where the stack enables
  it (Essentials otherwise).
- A resource server `<prefix>-live` with one scope, `read`: the realtime API's routes require
  it, so only access tokens issued for the page reach them (ID tokens carry no scope).
- The page's app client: authorization code grant with PKCE (a public client, no secret), the
  dashboard as its only callback, token revocation on, short-lived access tokens.
- Who is invited comes from the access tier's staff list (`uba:access.staff`): everyone with an
  `email` in an invited group gets a user (Cognito emails a temporary password) and joins the
  pool group of each of their IAM groups, so a token says which groups its bearer is in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.shared.context import StackContext, child, stateful
from settings import StaffMember
from settings.live import SignInSettings

READ_SCOPE = "read"
# The feature plan that carries threat protection (Cognito Developer Guide, "User pool feature plans").
PLAN_WITH_THREAT_PROTECTION = "PLUS"
PLAN_WITHOUT = "ESSENTIALS"
MFA = {"off": "OFF", "optional": "OPTIONAL", "required": "ON"}


@dataclass(frozen=True)
class SignIn:
    pool: aws.cognito.UserPool
    client: aws.cognito.UserPoolClient
    domain: aws.cognito.UserPoolDomain
    issuer: pulumi.Output[str]  # what a token's `iss` says: https://cognito-idp.<region>.amazonaws.com/<pool id>
    scope: str  # `<prefix>-live/read`
    auth_url: pulumi.Output[str]  # https://<domain>.auth.<region>.amazoncognito.com


def domain_prefix(context: StackContext) -> pulumi.Output[str]:
    """The hosted sign-in domain's prefix, unique per region across accounts: `uba-dev-live-<account>`."""
    return context.account_id.apply(lambda account: f"{context.name('live')}-{account}")


def auth_url(context: StackContext) -> pulumi.Output[str]:
    return domain_prefix(context).apply(lambda prefix: f"https://{prefix}.auth.{context.region}.amazoncognito.com")


def invited(staff: Sequence[StaffMember], settings: SignInSettings) -> list[StaffMember]:
    """Staff with an email who are in at least one invited group."""
    return [m for m in staff if m.email and set(m.groups) & set(settings.invited_personas)]


def build_sign_in(
    parent: pulumi.Resource,
    context: StackContext,
    settings: SignInSettings,
    staff: Sequence[StaffMember],
    site_url: pulumi.Input[str],
) -> SignIn:
    pool = _user_pool(parent, context, settings, site_url)
    identifier = context.name("live")
    server = aws.cognito.ResourceServer(
        "resource-server",
        identifier=identifier,
        name=f"{context.prefix} realtime API",
        user_pool_id=pool.id,
        scopes=[aws.cognito.ResourceServerScopeArgs(scope_name=READ_SCOPE, scope_description="Read live results")],
        opts=child(pool),
    )
    scope = f"{identifier}/{READ_SCOPE}"
    domain = aws.cognito.UserPoolDomain(
        "sign-in-domain", domain=domain_prefix(context), user_pool_id=pool.id, opts=child(pool)
    )
    callback = pulumi.Output.concat(site_url, "/")
    client = aws.cognito.UserPoolClient(
        "page-client",
        name=context.name("live-page"),
        user_pool_id=pool.id,
        generate_secret=False,  # a browser keeps no secret: the code grant is protected by PKCE instead
        allowed_oauth_flows=["code"],
        allowed_oauth_flows_user_pool_client=True,
        allowed_oauth_scopes=["openid", "email", scope],
        supported_identity_providers=["COGNITO"],
        callback_urls=[callback],
        logout_urls=[callback],
        # Only refresh through the API; passwords are typed into the hosted sign-in page, never the dashboard.
        explicit_auth_flows=["ALLOW_REFRESH_TOKEN_AUTH"],
        prevent_user_existence_errors="ENABLED",
        enable_token_revocation=True,
        access_token_validity=settings.access_token_minutes,
        id_token_validity=settings.access_token_minutes,
        refresh_token_validity=settings.refresh_token_hours,
        token_validity_units=aws.cognito.UserPoolClientTokenValidityUnitsArgs(
            access_token="minutes", id_token="minutes", refresh_token="hours"
        ),
        opts=child(pool, depends_on=[server]),
    )
    _viewers(pool, settings, staff)
    issuer = pulumi.Output.concat(f"https://cognito-idp.{context.region}.amazonaws.com/", pool.id)
    return SignIn(pool=pool, client=client, domain=domain, issuer=issuer, scope=scope, auth_url=auth_url(context))


def _user_pool(
    parent: pulumi.Resource, context: StackContext, settings: SignInSettings, site_url: pulumi.Input[str]
) -> aws.cognito.UserPool:
    threat_protection = settings.advanced_security != "off"
    invitation = pulumi.Output.concat(
        "You are invited to the ", context.prefix, " live dashboard, ", site_url, " . ",
        "Sign in with your email address {username} and the temporary password {####} within ",
        str(settings.temporary_password_days), " days; you will choose your own password",
        " and set up an authenticator app." if settings.mfa == "required" else ".",
    )  # fmt: skip
    return aws.cognito.UserPool(
        "user-pool",
        name=context.name("live"),
        user_pool_tier=PLAN_WITH_THREAT_PROTECTION if threat_protection else PLAN_WITHOUT,
        username_attributes=["email"],
        auto_verified_attributes=["email"],
        username_configuration=aws.cognito.UserPoolUsernameConfigurationArgs(case_sensitive=False),
        admin_create_user_config=aws.cognito.UserPoolAdminCreateUserConfigArgs(
            allow_admin_create_user_only=not settings.self_sign_up,
            invite_message_template=aws.cognito.UserPoolAdminCreateUserConfigInviteMessageTemplateArgs(
                email_subject=f"Your {context.prefix} live dashboard account",
                email_message=invitation,
                sms_message="Your username is {username} and temporary password is {####}.",
            ),
        ),
        password_policy=aws.cognito.UserPoolPasswordPolicyArgs(
            minimum_length=settings.password_min_length,
            require_lowercase=True,
            require_uppercase=True,
            require_numbers=True,
            require_symbols=True,
            temporary_password_validity_days=settings.temporary_password_days,
        ),
        mfa_configuration=MFA[settings.mfa],
        software_token_mfa_configuration=aws.cognito.UserPoolSoftwareTokenMfaConfigurationArgs(enabled=True)
        if settings.mfa != "off"
        else None,
        account_recovery_setting=aws.cognito.UserPoolAccountRecoverySettingArgs(
            recovery_mechanisms=[
                aws.cognito.UserPoolAccountRecoverySettingRecoveryMechanismArgs(name="verified_email", priority=1)
            ]
        ),
        user_pool_add_ons=aws.cognito.UserPoolUserPoolAddOnsArgs(
            advanced_security_mode=settings.advanced_security.upper()
        ),
        deletion_protection="ACTIVE" if context.protect_stateful else "INACTIVE",
        opts=stateful(parent, context.protect_stateful),
    )


def _viewers(pool: aws.cognito.UserPool, settings: SignInSettings, staff: Sequence[StaffMember]) -> None:
    groups = {
        persona: aws.cognito.UserGroup(
            f"viewers-{persona.lower()}",
            name=persona,
            description=f"Staff in the {persona} group of the access tier",
            user_pool_id=pool.id,
            opts=child(pool),
        )
        for persona in settings.invited_personas
    }
    for member in invited(staff, settings):
        user = aws.cognito.User(
            f"viewer-{member.user}",
            user_pool_id=pool.id,
            username=str(member.email),
            attributes={"email": str(member.email), "email_verified": "true"},
            desired_delivery_mediums=["EMAIL"],
            opts=child(pool),
        )
        for persona in member.groups:
            if persona in groups:
                aws.cognito.UserInGroup(
                    f"viewer-{member.user}-{persona.lower()}",
                    user_pool_id=pool.id,
                    group_name=groups[persona].name,
                    username=user.username,
                    opts=child(user),
                )
