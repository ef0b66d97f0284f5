"""Watchlists kept from INTEL events, and their matching against a declaration."""
