"""Facts about AWS names that both the program and the offline policy analysis use: pure, no Pulumi."""

from __future__ import annotations

PARTITION = "aws"


def service_endpoints(region: str, *services: str) -> list[str]:
    """The regional endpoints of AWS services, as `kms:ViaService` names them: `s3.eu-west-1.amazonaws.com`."""
    return [f"{service}.{region}.amazonaws.com" for service in services]
