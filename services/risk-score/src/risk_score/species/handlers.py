"""SPECIES events into the species read model. The durable consumer starts at the beginning
of the stream (DeliverPolicy.ALL), so a new deployment is seeded by replaying the stream."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from pangolin_core.contracts.envelope import CloudEvent
from pangolin_core.contracts.species import ListingChanged, TaxonUpserted
from pangolin_core.messaging.consumer import ConsumerSpec, EventHandler
from risk_score.species.service import SpeciesIndex, record_taxon


def species_consumer(index: SpeciesIndex) -> ConsumerSpec:
    async def handle(session: AsyncSession, event: CloudEvent) -> None:
        if event.type == TaxonUpserted.event_type:
            taxon = TaxonUpserted.from_event(event)
            await record_taxon(
                session=session,
                index=index,
                taxon_id=taxon.taxon_id,
                full_name=taxon.full_name,
                appendices=taxon.appendices,
            )
        elif event.type == ListingChanged.event_type:
            change = ListingChanged.from_event(event)
            await record_taxon(
                session=session,
                index=index,
                taxon_id=change.taxon_id,
                full_name=change.full_name,
                appendices=change.appendices,
            )

    handler: EventHandler = handle
    return ConsumerSpec(
        durable="risk-score-species",
        stream="SPECIES",
        subjects=(TaxonUpserted.event_type, ListingChanged.event_type),
        handler=handler,
        batch=256,
    )
