"""Where the Species+ sync stands: the `updated_since` of the next increment, the page to
resume from after an interrupted run, the last run's summary, and the lease that keeps two
replicas from syncing at once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from species_ref.tables import SpeciesRefTable

SYNC_STATE_ROW = 1


class SpeciesPlusSyncState(SpeciesRefTable, table=True):
    __tablename__ = "speciesplus_sync_state"

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    updated_since: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    resume_page: int | None = None
    last_started_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    last_finished_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    last_summary: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    lease_owner: str | None = Field(default=None, max_length=100)
    lease_until: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
