"""Fixtures of the tool tests: the throwaway PostgreSQL server the CDC drift check reads (once per session)."""

from tests.support.postgres import postgres

__all__ = ["postgres"]
