"""Alembic environment of permit-verify."""

from pangolin_core.migrations import run_migrations
from permit_verify.tables import metadata

run_migrations(metadata)
