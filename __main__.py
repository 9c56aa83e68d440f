"""Entry point: validate the stack's settings, package the Flink application, then build the platform.

`pulumi preview` and `pulumi up` run this file as `__main__`, which calls `main()` with
nothing: the Flink application comes from the streaming package's build step, which
stops the program (naming the command to run) when the connector JAR is missing or is
not the pinned artifact. The offline engine (`tools.engine`) calls `main()` with the
application's file list itself, since it never opens an asset.
"""

from collections.abc import Mapping
from pathlib import Path

import pulumi
import pulumi_aws as aws

from components.platform import Platform, PlatformArgs
from components.streaming import flink_code_archive
from layers.build import LayerError, built_jwt_layer
from settings import Settings, SettingsError, from_pulumi_config
from settings.placeholders import placeholders
from streaming.fetch_connector import CONNECTOR_SHA256, DEFAULT_JAR_PATH, ConnectorError
from streaming.package import verified_application_files

PROJECT_DIR = Path(__file__).resolve().parent


def load_settings() -> Settings:
    try:
        return from_pulumi_config()
    except SettingsError as error:
        # Fails before any resource is registered, with one line per problem and no traceback.
        raise pulumi.RunError(str(error)) from None


def warn_of_placeholders(settings: Settings) -> None:
    """The stack files ship with example people and example.com addresses: say so on every preview and update."""
    for placeholder in placeholders(settings.model_dump(mode="json")):
        pulumi.warn(f"uba:{placeholder} (`python -m tools.preflight {pulumi.get_stack()}` lists every one)")


def built_flink_application(
    jar_path: Path = DEFAULT_JAR_PATH, expected_sha256: str | None = CONNECTOR_SHA256
) -> Mapping[str, Path]:
    """The streaming package's build step; a missing or wrong connector JAR stops the program before planning."""
    try:
        return verified_application_files(jar_path, expected_sha256)
    except ConnectorError as error:
        raise pulumi.RunError(f"cannot package the Flink application: {error}") from None


def built_jwt_layer_dir() -> Path:
    """The live tier's layer build step; pip failing (no network, a changed wheel) stops the program before planning."""
    try:
        return built_jwt_layer()
    except LayerError as error:
        raise pulumi.RunError(f"cannot build the JWT layer: {error}") from None


def main(flink_application: Mapping[str, Path] | None = None, jwt_layer: Path | None = None) -> Platform:
    """Build the stack; `flink_application` (zip entry -> file) defaults to the build step's verified files,
    `jwt_layer` to the layer build step's directory."""
    settings = load_settings()
    warn_of_placeholders(settings)
    flink_code = None
    if settings.streaming.enabled:
        files = flink_application if flink_application is not None else built_flink_application()
        flink_code = flink_code_archive(files, PROJECT_DIR)
    if settings.live.enabled and jwt_layer is None:
        jwt_layer = built_jwt_layer_dir()
    # Every taggable resource inherits the platform's tags from this provider.
    provider = aws.Provider(
        "aws",
        region=settings.region,
        default_tags=aws.ProviderDefaultTagsArgs(tags=settings.platform.tags),
    )
    platform = Platform(
        settings.platform.prefix,
        PlatformArgs(settings=settings, flink_code=flink_code, jwt_layer=jwt_layer if settings.live.enabled else None),
        opts=pulumi.ResourceOptions(providers={"aws": provider}),
    )
    for key, value in platform.outputs().items():
        pulumi.export(key, value)
    return platform


if __name__ == "__main__":
    main()
