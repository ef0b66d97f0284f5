"""Rules of the guides domain: publishing identification guides. A guide is upserted by
(taxon, language, title); publishing the same guide again changes and emits nothing. A
guide on a genus, family or order serves every taxon below it: the reference snapshot
(`ReferenceSnapshot.guides_for`) answers which guides a taxon has."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from pangolin_core.contracts import species as contract
from pangolin_core.contracts.envelope import CloudEvent
from species_ref.guides import repository
from species_ref.guides.models import IdGuide
from species_ref.taxa.service import EVENT_SOURCE


@dataclass(frozen=True)
class GuideFacts:
    taxon_id: int
    taxon_name: str
    title: str
    language: str  # ISO 639-1, lower case
    url: str | None
    document: bytes | None
    media_type: str | None
    description: str | None


def guide_out(guide: IdGuide, taxon_name: str) -> contract.IdGuide:
    assert guide.id is not None
    return contract.IdGuide(
        id=guide.id,
        taxon_id=guide.taxon_id,
        taxon_name=taxon_name,
        title=guide.title,
        language=guide.language,
        url=guide.url,
        has_document=guide.document is not None,
        media_type=guide.media_type,
        description=guide.description,
        source=guide.source,
        published_by=guide.published_by,
        published_at=guide.published_at,
    )


async def publish_guides(
    *,
    session: AsyncSession,
    guides: Sequence[GuideFacts],
    source: str,
    publisher: str,
    now: datetime,
) -> list[CloudEvent]:
    """Insert new guides and update changed ones; a `species.guide.published` event each."""
    stored = await repository.guides_on(session, {guide.taxon_id for guide in guides})
    written: list[tuple[IdGuide, str]] = []
    for wanted in guides:
        content = {
            "url": wanted.url,
            "document": wanted.document,
            "media_type": wanted.media_type,
            "description": wanted.description,
        }
        old = stored.get((wanted.taxon_id, wanted.language, wanted.title))
        if old is not None and all(getattr(old, k) == v for k, v in content.items()):
            continue
        guide = old or IdGuide(
            taxon_id=wanted.taxon_id, title=wanted.title, language=wanted.language, source=source
        )
        for name, value in content.items():
            setattr(guide, name, value)
        guide.source, guide.published_by, guide.published_at = source, publisher, now
        session.add(guide)
        written.append((guide, wanted.taxon_name))
    await session.flush()
    return [
        contract.GuidePublished(guide=guide_out(guide, name)).to_event(
            source=EVENT_SOURCE, subject=str(guide.taxon_id)
        )
        for guide, name in written
    ]
