"""Sightings: "seen here too" reports on a record, optionally anonymous."""
