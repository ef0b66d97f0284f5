"""Sharing groups: named sets of countries and agencies a record may be distributed to."""
