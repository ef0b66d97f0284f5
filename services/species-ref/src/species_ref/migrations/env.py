"""Alembic environment of species-ref."""

from pangolin_core.migrations import run_migrations
from species_ref.tables import metadata

run_migrations(metadata)
