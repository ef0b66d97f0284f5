"""Pangolin intel-share.

Graded, access-controlled intelligence exchange with partner countries (STIX 2.1 / TAXII 2.1).
"""
