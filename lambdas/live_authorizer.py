"""The WebSocket API's `$connect` authorizer: a Lambda REQUEST authorizer that verifies the viewer's token.

API Gateway offers JWT authorizers to HTTP APIs only, so the WebSocket API verifies the
Cognito access token here, with `lambdas.live_auth.verify_token` (PyJWT, from the layer).
Browsers cannot set headers on a WebSocket, so the page passes the token as the `token`
query parameter of the connection URL; the API's access log format leaves the query string
out, so tokens are never logged.

The answer is an IAM policy on the `$connect` method (API Gateway Developer Guide, "Control
access to WebSocket APIs with AWS Lambda REQUEST authorizers"): Allow with the viewer in the
context, which the connect handler stores with the connection, or Deny (API Gateway answers
403 and never opens the connection).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambdas import live_auth

logger = Logger(service="live-authorizer")
TOKEN_PARAMETER = "token"


def policy(effect: str, method_arn: str, principal: str, context: dict[str, str] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": method_arn}],
        },
    }
    if context:
        answer["context"] = context
    return answer


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    cfg = live_auth.config()  # misconfigured: the invocation fails, and API Gateway refuses the connection
    method_arn = str(event.get("methodArn", ""))
    token = (event.get("queryStringParameters") or {}).get(TOKEN_PARAMETER)
    try:
        viewer = live_auth.verify_token(token, cfg)
    except live_auth.UnauthorizedViewerError as refusal:
        logger.info("connection refused", reason=str(refusal)[:300])
        return policy("Deny", method_arn, "anonymous")
    return policy("Allow", method_arn, viewer.subject, viewer.context())
