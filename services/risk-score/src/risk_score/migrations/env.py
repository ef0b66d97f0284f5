"""Alembic environment of risk-score."""

from pangolin_core.migrations import run_migrations
from risk_score.tables import metadata

run_migrations(metadata)
