"""The species read model in memory: lower-cased taxon name -> current CITES appendices, so a
line's appendix is known without a hop to species-ref."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from pangolin_core.db import Database
from risk_score.readmodels import after_commit, bump
from risk_score.species import repository

SPECIES = "species"


def name_key(name: str) -> str:
    return " ".join(name.lower().split())


class SpeciesIndex:
    def __init__(self) -> None:
        self.appendices_of: dict[str, frozenset[str]] = {}

    def put(self, name: str, appendices: frozenset[str]) -> None:
        self.appendices_of[name_key(name)] = appendices

    def replace_all(self, entries: Mapping[str, frozenset[str]]) -> None:
        self.appendices_of = {name_key(k): v for k, v in entries.items()}

    async def load(self, db: Database) -> None:
        async with db.session(write=False) as session:
            rows = await repository.all_taxa(session)
        self.replace_all({r.full_name: frozenset(r.appendices) for r in rows})


async def record_taxon(
    *,
    session: AsyncSession,
    index: SpeciesIndex,
    taxon_id: int,
    full_name: str,
    appendices: list[str],
) -> None:
    """Store a taxon's current appendices (the latest event wins: the stream is ordered)."""
    await repository.upsert(
        session,
        taxon_id=taxon_id,
        full_name=full_name,
        appendices=sorted(set(appendices)),
        at=datetime.now(UTC),
    )
    await bump(session, SPECIES)
    held = frozenset(appendices)
    after_commit(session, lambda: index.put(full_name, held))
