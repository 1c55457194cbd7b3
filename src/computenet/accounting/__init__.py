"""Accounting: usage per attempt, prices as billing weights, budgets and
quotas (checked at submission and placement), monthly statements and an
sacct-compatible export."""
