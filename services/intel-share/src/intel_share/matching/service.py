"""The match index of a running intel-share, and the one match function the route and the
RPC share.

The index is built in the background at start-up from the `EntitySource` (a match meanwhile
is a 503 `match_index_loading`, never a silent empty answer), then kept current by the INTEL
events: every replica subscribes (plain NATS, no queue group, so each one hears every event)
to the record and watchlist events and reloads the record they name from the database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from nats.aio.msg import Msg
from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from intel_share.access.rules import Viewer
from intel_share.audit import service as audit
from intel_share.audit.schemas import AuditAction
from intel_share.matching.access import visible_to
from intel_share.matching.source import EntitySource
from intel_share.sharing_groups import repository as sharing_groups
from pangolin_core.contracts.envelope import CloudEvent
from pangolin_core.contracts.intel import (
    IntelRecordPublished,
    IntelRecordRevoked,
    MatchQuery,
    MatchResult,
    WatchlistChanged,
)
from pangolin_core.db import Database
from pangolin_core.errors import DependencyUnavailable
from pangolin_core.identity import Caller
from pangolin_core.matching import EntityIndex, Visible, load_taggers
from pangolin_core.service import ServiceRuntime, background_task

log = structlog.get_logger(__name__)

INDEX_EXTRA = "entity_index"
# The events after which a record's entities may have changed.
RECORD_EVENTS = (
    IntelRecordPublished.event_type,
    IntelRecordRevoked.event_type,
    WatchlistChanged.event_type,
)


class MatchIndexLoading(DependencyUnavailable):
    code, title = "match_index_loading", "The match index is still loading"


class LiveEntityIndex:
    """The `EntityIndex` of this process and how it follows the records."""

    def __init__(self, source: EntitySource, db: Database) -> None:
        self.source, self.db = source, db
        self.index: EntityIndex | None = None
        self.loaded = asyncio.Event()
        self._lock = asyncio.Lock()
        # Records changed while a snapshot is read and built: applied to it once swapped in.
        self._changed_while_loading: set[str] | None = None

    async def load(self) -> None:
        """Build a new index from a fresh snapshot of the records and swap it in."""
        self._changed_while_loading = set()
        try:
            async with self.db.session(write=False) as session:
                entities = await self.source.load(session)
            # Building parses every name (seconds for 100,000): off the event loop.
            index = await asyncio.to_thread(EntityIndex, entities)
            async with self._lock:
                self.index = index
            changed = self._changed_while_loading
        finally:
            self._changed_while_loading = None
        for record_id in changed:
            await self.refresh(record_id)
        self.loaded.set()
        log.info("match_index_loaded", entities=len(index))

    async def keep_current(self, *, reload_seconds: float, retry_seconds: float = 5.0) -> None:
        """Load, then load again every `reload_seconds`: the events keep the index current
        between loads, a reload makes up for any event a replica missed (plain NATS
        subscriptions do not replay what arrived while disconnected)."""
        while True:
            try:
                await self.load()
            except Exception:
                log.exception("match_index_load_failed")
                await asyncio.sleep(retry_seconds)  # a schedule: try the database again
                continue
            await asyncio.sleep(reload_seconds)  # a schedule, not a wait for a condition

    async def refresh(self, record_id: str) -> None:
        """Index what `record_id` holds now (nothing, once revoked or expired)."""
        if self._changed_while_loading is not None:
            self._changed_while_loading.add(record_id)
        if self.index is None:
            return
        # One refresh at a time: two reads of one record must not land in reverse order.
        async with self._lock:
            async with self.db.session(write=False) as session:
                entities = await self.source.load_record(session, record_id)
            if entities:
                # The first entity loads rigour's taggers (seconds): not on the event loop.
                await asyncio.to_thread(load_taggers)
            self.index.upsert(record_id, entities)

    def current(self) -> EntityIndex:
        if self.index is None:
            raise MatchIndexLoading("The entity index is being built; retry in a few seconds.")
        return self.index

    async def on_event(self, msg: Msg) -> None:
        try:
            record_id = str(CloudEvent.from_json(msg.data).data["record_id"])
        except (ValidationError, KeyError):
            log.warning("match_index_event_unreadable", subject=msg.subject)
            return
        try:
            await self.refresh(record_id)
        except Exception:
            # The next event about the record, or a restart, loads it again.
            log.exception("match_index_refresh_failed", record_id=record_id)


def live_index(runtime: ServiceRuntime) -> LiveEntityIndex:
    live: LiveEntityIndex = runtime.extras[INDEX_EXTRA]
    return live


@asynccontextmanager
async def entity_index(
    runtime: ServiceRuntime, source: EntitySource, *, reload_seconds: float
) -> AsyncIterator[None]:
    """The lifespan part: subscribe first (no change is missed while loading), then load."""
    live = LiveEntityIndex(source, runtime.db)
    runtime.extras[INDEX_EXTRA] = live
    subscriptions = [await runtime.nc.subscribe(s, cb=live.on_event) for s in RECORD_EVENTS]
    await runtime.nc.flush()
    try:
        keeping = live.keep_current(reload_seconds=reload_seconds)
        async with background_task(keeping, name="intel-share-match-index"):
            yield
    finally:
        for subscription in subscriptions:
            await subscription.unsubscribe()


def match_entities(*, index: EntityIndex, query: MatchQuery, visible: Visible) -> MatchResult:
    """People and companies of the records `visible` lets through, scored against `query`."""
    return index.match(query, visible=visible)


async def match_for(
    *, session: AsyncSession, index: EntityIndex, query: MatchQuery, caller: Caller
) -> MatchResult:
    """A caller's match (`POST /v1/intel/match`): what its organisation may see, audited
    with the query and the records answered, in the caller's unit of work."""
    viewer = Viewer.of(caller)
    groups = await sharing_groups.groups_admitting(session, viewer)
    result = match_entities(index=index, query=query, visible=visible_to(viewer, groups=groups))
    await audit.record(
        session=session,
        action=AuditAction.MATCHED,
        caller=caller,
        record_ids=list(dict.fromkeys(m.record_id for m in result.matches)),
        query=query.model_dump(mode="json", exclude_defaults=True),
    )
    return result


async def match_index_readiness(runtime: ServiceRuntime) -> dict[str, Any]:
    """For `/ready`: whether matching answers yet (it is a 503 until the index is built)."""
    live = live_index(runtime)
    if live.index is None:
        return {"match_index": "loading"}
    return {"match_index": "ready", "match_index_entities": len(live.index)}
