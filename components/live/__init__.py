"""The live tier: realtime API, WebSocket push, Cognito sign-in and the dashboard page (see tier.py)."""

from components.live.tier import Live, LiveArgs

__all__ = ["Live", "LiveArgs"]
