"""Taxon concepts, their names, CITES listings and distributions."""
