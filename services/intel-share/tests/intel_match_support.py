"""What intel-share's match tests share: an `EntitySource` the test fills, record access."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from intel_share.access.rules import RecordAccess
from intel_share.sharing_groups.models import SharingGroup, SharingGroupMember
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
    group_id: str | None = None,
) -> RecordAccess:
    """A record's access as the index keeps it: a sharing group by its id (its members are
    read from the database at each match)."""
    return RecordAccess(
        originator_country=country,
        originator_agency=agency,
        tlp=tlp,
        distribution=distribution,
        sharing_group_id=group_id,
    )


@dataclass
class IntelShare:
    app: FastAPI
    client: AsyncClient
    source: EntitiesByRecord


async def sharing_group(intel: IntelShare, group_id: str, *countries: str) -> None:
    """A sharing group of whole countries, in the database the matches read members from."""
    async with intel.app.state.runtime.db.session() as session:
        session.add(
            SharingGroup(
                id=group_id,
                name=group_id,
                owner_country="KE",
                owner_agency="customs-ke",
                created_by="customs-ke",
                created_at=datetime.now(UTC),
            )
        )
        await session.flush()
        session.add_all(SharingGroupMember(group_id=group_id, country=c) for c in countries)
