"""The streaming tier: Managed Flink turns events into alerts; the alert sink stores and announces them."""

from components.streaming.flink import flink_code_archive
from components.streaming.tier import Streaming, StreamingArgs

__all__ = ["Streaming", "StreamingArgs", "flink_code_archive"]
