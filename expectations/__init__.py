"""Great Expectations suites as code: the checks that decide whether the marts may be acted on.

One module per domain builds its suites from run-time parameters (`parameters.py`):
`raw_sources` (freshness and volume of the raw layer), `account_health`, `retention`,
`expansion` and `activation_inputs`. `catalog.domains()` lists them; `runner.validate()` runs
them against the warehouse with SQL pushdown and returns one verdict per domain.
"""
