"""Events species-ref publishes (stream SPECIES)."""

from __future__ import annotations

from typing import ClassVar

from pangolin_core.contracts.envelope import EventData


class TaxonUpserted(EventData):
    """A taxon concept was created or changed; carries its current listing summary."""

    event_type: ClassVar[str] = "species.taxon.upserted"
    version: ClassVar[int] = 1

    taxon_id: int
    full_name: str
    rank: str
    kingdom: str
    appendices: list[str]
    source: str
