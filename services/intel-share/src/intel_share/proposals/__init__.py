"""Proposals: changes a non-originator suggests; the originator accepts or rejects them."""
