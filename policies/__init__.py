"""The platform's CrossGuard policy pack: the security promises, checked on every preview.

`policies/__main__.py` serves the rules to the Pulumi CLI (`pulumi preview --policy-pack
policies`); `tools/policy_check.py` runs the very same rule objects offline against the
mock engine's snapshot (`python -m tools.synth <stack>`).
"""
