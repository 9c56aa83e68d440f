"""The edge tier: CloudFront in front of ingest, beacons into real-time logs, and their log-to-event Lambda."""

from components.edge.tier import Edge, EdgeArgs

__all__ = ["Edge", "EdgeArgs"]
