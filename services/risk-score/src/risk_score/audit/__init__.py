"""The audit trail of risk-score: who changed a profile, recorded an outcome, read an
assessment (it shows intelligence)."""
