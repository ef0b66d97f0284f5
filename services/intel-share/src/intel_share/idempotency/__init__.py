"""Idempotency-Key: a replayed creating POST returns the first result."""
