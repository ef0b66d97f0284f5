"""What `/v1/species/sync` answers: where the Species+ sync stands."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class SyncLease(BaseModel):
    owner: str = Field(description="host:pid:run of the run holding the lease")
    until: datetime | None = Field(description="when the lease lapses unless renewed")
    active: bool = Field(description="false once `until` has passed (a crashed run's lease)")


class SyncState(BaseModel):
    enabled: bool = Field(description="whether this replica runs the scheduled sync")
    interval_seconds: float
    updated_since: datetime | None = Field(
        description="the next increment asks for taxa changed since then (none: everything)"
    )
    resume_page: int | None = Field(
        description="the page an interrupted or capped run goes on from"
    )
    last_started_at: datetime | None
    last_finished_at: datetime | None
    lease: SyncLease | None = Field(description="the run in progress, if any")
    last_summary: dict[str, Any] = Field(
        description="the last run (or the progress of the one in progress): outcome, mode, "
        "counts, latest update read, problems (the first 100; `problems_total`), error"
    )


class SyncRequested(BaseModel):
    requested: bool = True
    detail: str
