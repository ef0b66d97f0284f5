"""Idempotency-Key: a replayed creating or endorsing POST returns the first result."""
