"""What the guide endpoints answer."""

from __future__ import annotations

from pydantic import BaseModel

from pangolin_core.contracts.species import IdGuide


class TaxonGuides(BaseModel):
    """A taxon's own guides and those of its higher taxa, most specific first."""

    taxon_id: int
    full_name: str
    guides: list[IdGuide]
