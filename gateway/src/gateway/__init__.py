"""Pangolin gateway.

The one public door: partner authentication, scopes, rate limits, routing and audit.
"""
