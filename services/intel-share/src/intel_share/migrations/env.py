"""Alembic environment of intel-share."""

from intel_share.tables import metadata
from pangolin_core.migrations import run_migrations

run_migrations(metadata)
