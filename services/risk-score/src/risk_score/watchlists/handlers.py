"""`intel.watchlist.changed` into the watchlist read model (table, then memory at commit)."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from pangolin_core.contracts.envelope import CloudEvent
from pangolin_core.contracts.intel import WatchlistChanged
from pangolin_core.messaging.consumer import ConsumerSpec, EventHandler
from risk_score.watchlists.service import WatchlistIndex, apply_change


def watchlist_consumer(index: WatchlistIndex) -> ConsumerSpec:
    async def handle(session: AsyncSession, event: CloudEvent) -> None:
        await apply_change(session=session, index=index, change=WatchlistChanged.from_event(event))

    handler: EventHandler = handle
    return ConsumerSpec(
        durable="risk-score-watchlists",
        stream="INTEL",
        subjects=(WatchlistChanged.event_type,),
        handler=handler,
    )
