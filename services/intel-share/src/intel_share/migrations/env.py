"""Alembic environment of intel-share."""

import intel_share.models  # noqa: F401  (every table in the metadata)
from intel_share.tables import metadata
from pangolin_core.migrations import run_migrations

run_migrations(metadata)
