"""The dashboard page's security headers, one definition for CloudFront and for the local page server.

The page loads nothing but its own files: no inline script or style, no third-party origin.
It talks to three origins of its own stack, named exactly: the realtime API, the WebSocket
API and (deployed) the Cognito sign-in domain, whose token endpoint it calls after the
redirect. Pure Python: `tools.live` serves the same headers over the local page.
"""

from __future__ import annotations

from collections.abc import Sequence

HSTS_SECONDS = 63_072_000  # two years, as the HSTS preload list asks
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


def content_security_policy(connect_origins: Sequence[str]) -> str:
    """`default-src 'none'`, then exactly what the page uses: its own script, style and images, and these origins."""
    connect = " ".join(["'self'", *connect_origins])
    directives = [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        f"connect-src {connect}",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ]
    return "; ".join(directives)


def security_headers(connect_origins: Sequence[str], https: bool) -> dict[str, str]:
    """Every header CloudFront's response headers policy adds, as a plain mapping (the local server sends these)."""
    headers = {
        "Content-Security-Policy": content_security_policy(connect_origins),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Permissions-Policy": PERMISSIONS_POLICY,
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if https:
        headers["Strict-Transport-Security"] = f"max-age={HSTS_SECONDS}; includeSubDomains"
    return headers


def origin_of(url: str) -> str:
    """`https://abc.execute-api.eu-west-1.amazonaws.com/live` -> `https://abc.execute-api.eu-west-1.amazonaws.com`."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"
