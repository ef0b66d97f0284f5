"""The metadata of risk-score's own tables (outbox and inbox come from pangolin_core) and the
base class every risk-score table derives from."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import registry
from sqlmodel import SQLModel

from pangolin_core.db import service_metadata

metadata = service_metadata()


class RiskScoreTable(SQLModel, registry=registry(metadata=metadata)):
    """Base of risk-score's tables: they land in this service's metadata only."""


class UtcDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on both engines (SQLite hands back naive ones)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=UTC)
