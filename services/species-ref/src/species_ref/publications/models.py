"""Publications by a Management Authority: who sent what, when, in which format, and what
became of it (validated, applied, rejected with its errors). The content is kept, so a job
interrupted by a restart is taken up again, and every change can be traced to its source."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from species_ref.tables import SpeciesRefTable


def _now() -> datetime:
    return datetime.now(UTC)


class Publication(SpeciesRefTable, table=True):
    __tablename__ = "publication"

    id: str = Field(primary_key=True, max_length=36)
    format: str = Field(max_length=30)  # checklist_csv | speciesplus_json | pangolin_json
    status: str = Field(max_length=20, index=True)  # queued|applying|applied|rejected|failed
    publisher: str = Field(max_length=200)  # the caller's subject (client)
    publisher_country: str | None = Field(default=None, max_length=2)
    content_sha256: str = Field(max_length=64)
    content: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    records_total: int = 0
    records_done: int = 0
    summary: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    errors: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    received_at: datetime = Field(default_factory=_now, sa_type=sa.DateTime(timezone=True))
    finished_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
