"""Features of a declaration computed from risk-score's local read models (trade history)."""
