"""Activation: marts into Slack alerts and CRM writes, planned into an outbox, then delivered.

`plan` reads the marts and writes what they call for into `ops.outbox`; `apply` delivers what
is pending, exactly once per key. See README "Activation" and DESIGN.md §5 and §7.
"""
