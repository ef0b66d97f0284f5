"""The audit trail: every read, search, export and change of intelligence (who, what, when)."""
