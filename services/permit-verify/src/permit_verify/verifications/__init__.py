"""Verification of customs declarations against the registry and species-ref."""
