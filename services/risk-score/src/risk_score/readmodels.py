"""What every risk-score replica holds in memory (active compiled profiles, watchlists,
species) and how it stays current.

- In this process, a change is applied to memory right after its transaction commits
  (`after_commit`), so the next assessment sees it.
- Every change also bumps a revision row in the same transaction; each replica polls the
  revisions every `refresh_interval` (one small SELECT) and reloads what another replica
  changed. Events are consumed by one durable consumer shared by the replicas, so only one
  replica applies each event: the poll is how the others learn of it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import sqlalchemy as sa
import structlog
from sqlmodel import Field, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from pangolin_core.db import Database
from risk_score.tables import RiskScoreTable

log = structlog.get_logger(__name__)

AFTER_COMMIT = "risk_score.after_commit"


class ReadModelRevision(RiskScoreTable, table=True):
    __tablename__ = "read_model_revision"

    name: str = Field(primary_key=True, max_length=32)
    revision: int


def after_commit(session: AsyncSession, apply: Callable[[], None]) -> None:
    """Run `apply` once the session's transaction has committed (never if it rolls back)."""
    session.info.setdefault(AFTER_COMMIT, []).append(apply)


def run_after_commit(info: dict[str, Any]) -> None:
    for apply in info.get(AFTER_COMMIT, ()):
        apply()


async def bump(session: AsyncSession, name: str) -> None:
    """Mark read model `name` changed, in the caller's transaction."""
    row = await session.get(ReadModelRevision, name)
    if row is None:
        session.add(ReadModelRevision(name=name, revision=1))
    else:
        await session.exec(
            sa.update(ReadModelRevision)
            .where(col(ReadModelRevision.name) == name)
            .values(revision=col(ReadModelRevision.revision) + 1)
        )


async def revisions(db: Database) -> dict[str, int]:
    async with db.session(write=False) as session:
        rows = (await session.exec(select(ReadModelRevision))).all()
    return {row.name: row.revision for row in rows}


Loader = Callable[[Database], Awaitable[None]]


async def keep_current(db: Database, loaders: Mapping[str, Loader], interval: float) -> None:
    """Reload a read model whenever its revision moved (another replica or this one)."""
    # Nothing seen yet: the first poll reloads every model once, which covers a change
    # committed while the lifespan was loading.
    seen: dict[str, int] = {}
    while True:
        await asyncio.sleep(interval)  # the poll period, not a race workaround
        try:
            current = await revisions(db)
            for name, revision in current.items():
                if seen.get(name) != revision and name in loaders:
                    await loaders[name](db)
            seen = current
        except Exception:
            log.exception("read_model_refresh_failed")
