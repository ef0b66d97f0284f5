"""Alembic environment of gateway."""

from gateway.tables import metadata
from pangolin_core.migrations import run_migrations

run_migrations(metadata)
