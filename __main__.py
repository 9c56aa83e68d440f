"""Entry point: validate the stack's settings, then build the platform with a tagging provider."""

import pulumi
import pulumi_aws as aws

from components.platform import Platform, PlatformArgs
from settings import SettingsError, from_pulumi_config

try:
    settings = from_pulumi_config()
except SettingsError as error:
    # Fails before any resource is registered, with one line per problem and no traceback.
    raise pulumi.RunError(str(error)) from None

# Every taggable resource inherits the platform's tags from this provider.
provider = aws.Provider(
    "aws",
    region=settings.region,
    default_tags=aws.ProviderDefaultTagsArgs(tags=settings.platform.tags),
)
platform = Platform(
    settings.platform.prefix,
    PlatformArgs(settings=settings),
    opts=pulumi.ResourceOptions(providers={"aws": provider}),
)
for key, value in platform.outputs().items():
    pulumi.export(key, value)
