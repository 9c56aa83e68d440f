"""The access tier: the stack's four staff groups (admin, op, dev, bizUser), their policies, and who is in them."""

from components.access.policies import AccessTargets
from components.access.tier import Access, AccessArgs

__all__ = ["Access", "AccessArgs", "AccessTargets"]
