"""Alembic environment of gateway."""

from gateway.audit import models as audit_models  # noqa: F401 - registers the tables
from gateway.clients import models as client_models  # noqa: F401
from gateway.tables import metadata
from pangolin_core.migrations import run_migrations

run_migrations(metadata)
