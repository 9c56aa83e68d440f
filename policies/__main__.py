"""The policy pack the Pulumi CLI runs: `pulumi preview --policy-pack policies`.

The CLI starts this file as a script with `policies/` as the working directory; the
repository root goes on the path so the rules import as `policies.rules`, the same
package `tools/policy_check.py` and the tests import.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import EnforcementLevel, PolicyPack

from policies.rules import ALL_POLICIES, PACK_NAME

PolicyPack(name=PACK_NAME, policies=ALL_POLICIES, enforcement_level=EnforcementLevel.ADVISORY)
