"""Announcing expiries: nothing else publishes when a record's `expires_on` passes, so a
periodic task (in the lifespan) sends, once per record version, the
`intel.watchlist.changed` with no entries that takes the record off the watchlists (and out of
the match index, which reloads the record on that event)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import structlog
from sqlmodel.ext.asyncio.session import AsyncSession

from intel_share.audit.service import utc
from intel_share.records import repository
from intel_share.records.service import EVENT_SOURCE, record_out, watchlist_changed
from intel_share.records.watchlist import watchlist_entries
from pangolin_core.db import Database
from pangolin_core.messaging.outbox import enqueue

log = structlog.get_logger(__name__)


async def announce_expiries(*, session: AsyncSession, today: date) -> list[str]:
    """Records expired before `today` whose current version's entries are still out: emit
    their empty watchlist (through the outbox) and mark the version announced. A version
    published after its expiry already sent no entries: it is marked, nothing is sent.
    Returns the ids announced."""
    announced: list[str] = []
    for record in await repository.expired_unannounced(session, today=today):
        if not await repository.mark_expiry_announced(session, record):
            continue  # another replica's task got there first
        out = record_out(record, [], viewer=None)
        if not watchlist_entries(out, today=utc(record.updated_at).date()):
            continue
        event = watchlist_changed(out, entries=[]).to_event(source=EVENT_SOURCE, subject=out.id)
        await enqueue(session, event)
        announced.append(record.id)
    return announced


async def keep_announcing_expiries(db: Database, *, every_seconds: float) -> None:
    """The lifespan's task: `announce_expiries` now, then every `every_seconds`."""
    while True:
        try:
            async with db.session() as session:
                announced = await announce_expiries(session=session, today=datetime.now(UTC).date())
            if announced:
                log.info("intel_expiries_announced", records=announced)
        except Exception:
            log.exception("intel_expiry_announcement_failed")  # tried again next time
        await asyncio.sleep(every_seconds)  # a schedule, not a wait for a condition
