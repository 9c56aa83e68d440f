"""The search tier: error and warning events and the alerts, searchable within seconds."""

from components.search.network import SearchVpc
from components.search.tier import Search, SearchArgs

__all__ = ["Search", "SearchArgs", "SearchVpc"]
