"""Pangolin species-ref.

The CITES species reference: taxa, names, listings over time, quotas, suspensions, code lists.
"""
