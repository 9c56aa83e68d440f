"""The ingest tier: HTTPS endpoint, ingest Lambda and the Kinesis `events` stream."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.base import StackContext
from components.streams import kinesis_stream
from settings import IngestSettings


@dataclass(frozen=True)
class IngestArgs:
    settings: IngestSettings
    context: StackContext


class Ingest(pulumi.ComponentResource):
    """The front door. Other tiers read `events_stream`."""

    events_stream: aws.kinesis.Stream

    def __init__(self, name: str, args: IngestArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("uba:ingest:Ingest", name, None, opts)
        self.events_stream = kinesis_stream(self, args.context, "events-stream", args.settings.stream)
        self.register_outputs({"events_stream_arn": self.events_stream.arn})
