"""The CITES code lists: terms, units, purposes, sources and countries."""
