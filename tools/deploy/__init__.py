"""What the identity that runs `pulumi up` needs: IAM actions per resource type, and the policy built from them.

`actions.py` is the table (one entry per pulumi-aws resource type the program creates, and per
data source it calls); `policy.py` renders it for one stack, scoped to that stack's names, and
splits it into managed policies. `python -m tools.deploy_policy <stack>` prints the result.
"""
