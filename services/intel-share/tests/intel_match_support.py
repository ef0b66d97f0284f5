"""What intel-share's match tests share: an `EntitySource` the test fills, record access."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from intel_share.access.rules import GroupMember, RecordAccess
from pangolin_core.contracts.intel import DistributionLevel, Tlp
from pangolin_core.matching import IndexedEntity


@dataclass
class EntitiesByRecord:
    """An `EntitySource` over a dict the test changes; `load` waits for `ready`."""

    records: dict[str, list[IndexedEntity]] = field(default_factory=dict)
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    async def load(self, session: AsyncSession) -> list[IndexedEntity]:
        await self.ready.wait()
        return [entity for entities in self.records.values() for entity in entities]

    async def load_record(self, session: AsyncSession, record_id: str) -> list[IndexedEntity]:
        return list(self.records.get(record_id, []))


def access(
    distribution: DistributionLevel,
    tlp: Tlp = "green",
    *,
    agency: str = "customs-ke",
    country: str = "KE",
    group: frozenset[str] = frozenset(),
) -> RecordAccess:
    """A record's access; `group`: the sharing group's member countries."""
    return RecordAccess(
        originator_country=country,
        originator_agency=agency,
        tlp=tlp,
        distribution=distribution,
        sharing_group_members=frozenset(GroupMember(country=c) for c in group),
    )


@dataclass
class IntelShare:
    app: FastAPI
    client: AsyncClient
    source: EntitiesByRecord
