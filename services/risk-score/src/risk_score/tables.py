"""The metadata of risk-score's own tables (outbox and inbox come from pangolin_core) and the
base class every risk-score table derives from."""

from __future__ import annotations

from sqlalchemy.orm import registry
from sqlmodel import SQLModel

from pangolin_core.db import service_metadata

metadata = service_metadata()


class RiskScoreTable(SQLModel, registry=registry(metadata=metadata)):
    """Base of risk-score's tables: they land in this service's metadata only."""
