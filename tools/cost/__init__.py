"""What a stack costs a month, estimated from the synthesized program and the pinned price table.

`model` holds the workload, the assumptions, the terms and the pass over the program; `rules` one rule
per usage-priced resource type; `prices` the table (`prices.yaml`); `report` what the command prints.
`python -m tools.cost <stack> --events-per-second N` runs it (`__main__`).
"""
