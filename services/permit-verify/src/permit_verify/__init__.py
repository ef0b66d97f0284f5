"""Pangolin permit-verify.

The CITES permit registry, verification of declarations, endorsement and EPIX-style exchange.
"""
