"""What every risk-score replica holds in memory (active compiled profiles, watchlists,
species) and how it stays current.

- In this process, a change is applied to memory right after its transaction commits
  (`after_commit`), so the next assessment sees it.
- Every change also bumps a revision row in the same transaction; each replica polls the
  revisions every `refresh_interval` (one small SELECT) and reloads a model when the revision
  moved by more than its own commits (another replica changed it). Events are consumed by
  one durable consumer shared by the replicas, so only one replica applies each event: the
  poll is how the others learn of it."""

from __future__ import annotations

import asyncio
from collections import Counter
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
BUMPED = "risk_score.bumped"


class ReadModelRevision(RiskScoreTable, table=True):
    __tablename__ = "read_model_revision"

    name: str = Field(primary_key=True, max_length=32)
    revision: int


def after_commit(session: AsyncSession, apply: Callable[[], None]) -> None:
    """Run `apply` once the session's transaction has committed (never if it rolls back)."""
    session.info.setdefault(AFTER_COMMIT, []).append(apply)


async def bump(session: AsyncSession, name: str) -> None:
    """Mark read model `name` changed, in the caller's transaction (its row exists from the
    migration on, so concurrent writers only ever update it)."""
    await session.exec(
        sa.update(ReadModelRevision)
        .where(col(ReadModelRevision.name) == name)
        .values(revision=col(ReadModelRevision.revision) + 1)
    )
    session.info.setdefault(BUMPED, []).append(name)


async def revisions(db: Database) -> dict[str, int]:
    async with db.session(write=False) as session:
        rows = (await session.exec(select(ReadModelRevision))).all()
    return {row.name: row.revision for row in rows}


Loader = Callable[[Database], Awaitable[None]]


class ReadModels:
    """Applies committed changes to memory and reloads what other replicas changed."""

    def __init__(self) -> None:
        # Revisions this process committed (and applied to memory already), per read model.
        self.local: Counter[str] = Counter()

    def on_commit(self, info: dict[str, Any]) -> None:
        for apply in info.get(AFTER_COMMIT, ()):
            apply()
        self.local.update(info.get(BUMPED, ()))

    async def keep_current(
        self, db: Database, loaders: Mapping[str, Loader], interval: float
    ) -> None:
        """Poll the revisions; reload a model when someone else moved its revision."""
        # Nothing seen yet: the first poll reloads every model once, which covers a change
        # committed while the lifespan was loading.
        seen: dict[str, int] = {}
        counted: Counter[str] = Counter()
        while True:
            await asyncio.sleep(interval)  # the poll period, not a race workaround
            try:
                # Snapshot our own commits before reading: each one is then in `current`,
                # so (moved - ours) > 0 means another replica changed the model. A commit of
                # ours landing in between only causes one reload too many.
                ours = Counter(self.local)
                current = await revisions(db)
                for name, revision in current.items():
                    if name not in loaders:
                        continue
                    moved = revision - seen[name] if name in seen else None
                    if moved is None or moved > ours[name] - counted[name]:
                        await loaders[name](db)
                    seen[name] = revision
                counted = ours
            except Exception:
                log.exception("read_model_refresh_failed")
