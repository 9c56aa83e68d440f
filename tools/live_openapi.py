"""`python -m tools.live_openapi [--write]`: the realtime API's OpenAPI document, generated from the handler.

The routes, their parameters (with bounds), the answers and the alert shapes are the handler's own
(`lambdas/live_api.py`, whose signatures Powertools turns into OpenAPI 3.1; the alert shapes are
`lambdas/live_view.py`'s, which a test holds to the alert contract). This adds what the handler
cannot know: the bearer token every route needs, the API's address, and that a request the
handler refuses is answered 400, not Powertools' default 422. `--write` replaces
`docs/live-api.openapi.json`; `tests/lambdas/test_live_api.py` fails when the file and the handler
disagree, and checks the handler's real answers against the file.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from lambdas import live_api

DOCUMENT = Path(__file__).resolve().parent.parent / "docs" / "live-api.openapi.json"
TITLE = "Realtime API (live tier)"
DESCRIPTION = (
    "Read-only live results for the dashboard page: the latest alerts, per-action counts of the latest windows "
    "and one action's history, newest first, a bounded page at a time. Every route but the CORS preflight needs "
    "a Cognito access token of the stack's user pool, issued to the dashboard's app client with the "
    "`<prefix>-live/read` scope (`Authorization: Bearer <token>`)."
)
UNUSED_BY_US = ("HTTPValidationError", "ValidationError", "ResponseValidationError")


def document() -> dict[str, Any]:
    generated: dict[str, Any] = json.loads(
        live_api.app.get_openapi_json_schema(title=TITLE, version="1.0.0", description=DESCRIPTION)
    )
    for path in generated["paths"].values():
        for operation in path.values():
            operation["responses"].pop("422", None)  # refused requests are answered 400 (the handler's own)
            operation["security"] = [{"cognito": ["<prefix>-live/read"]}]
    schemas = generated["components"]["schemas"]
    for name in UNUSED_BY_US:
        schemas.pop(name, None)
    generated["components"]["securitySchemes"] = {
        "cognito": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "An access token of the stack's user pool (authorization code grant with PKCE); "
            "API Gateway's JWT authorizer checks its signature, issuer, client and expiry.",
        }
    }
    variables = {"apiId": {"default": "abc123"}, "region": {"default": "eu-west-1"}}
    generated["servers"] = [{"url": "https://{apiId}.execute-api.{region}.amazonaws.com", "variables": variables}]
    return generated


def rendered() -> str:
    return json.dumps(document(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.live_openapi", description="The realtime API's OpenAPI.")
    parser.add_argument("--write", action="store_true", help=f"write {DOCUMENT.relative_to(DOCUMENT.parents[1])}")
    arguments = parser.parse_args(argv)
    if arguments.write:
        DOCUMENT.write_text(rendered())
        print(f"wrote {DOCUMENT}")
    else:
        sys.stdout.write(rendered())
    return 0


if __name__ == "__main__":
    sys.exit(main())
