"""Expiry: a record whose `expires_on` has passed leaves the watchlists by one
`intel.watchlist.changed` with no entries, sent once per version through the outbox, by the
lifespan's periodic task; the match index drops its entities on that event."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import col

from intel_share.app import DEFINITION, create_app
from intel_share.records.expiry import announce_expiries
from intel_share.records.models import IntelRecord
from intel_share.settings import IntelShareSettings
from intel_support import KE_CUSTOMS, TH_CUSTOMS, IntelShare, person
from pangolin_core import migrations
from pangolin_core.testing import eventually, running_app

WATCHLIST = "intel.watchlist.changed"
TODAY = date.today()


async def announce(intel: IntelShare, today: date) -> list[str]:
    async with intel.db.session() as session:
        return await announce_expiries(session=session, today=today)


async def watchlists(intel: IntelShare, record_id: str) -> list[dict[str, Any]]:
    return [
        event["data"]
        for event in await intel.outbox_events(WATCHLIST)
        if event["data"]["record_id"] == record_id
    ]


async def test_an_expired_record_is_announced_once_per_version(intel: IntelShare) -> None:
    record = await intel.create(KE_CUSTOMS, person(expires_on=TODAY.isoformat()))
    assert (await watchlists(intel, record["id"]))[0]["entries"]  # out while in force
    assert await announce(intel, TODAY) == []  # the last day it is in force

    tomorrow = TODAY + timedelta(days=1)
    assert await announce(intel, tomorrow) == [record["id"]]
    assert await announce(intel, tomorrow) == []
    assert await announce(intel, tomorrow + timedelta(days=5)) == []
    events = await watchlists(intel, record["id"])
    assert [(e["record_version"], len(e["entries"])) for e in events] == [(1, 1), (1, 0)]
    assert events[-1]["valid_until"] == TODAY.isoformat()

    # Extended (a new version with its entries out again): its expiry is announced again.
    later = TODAY + timedelta(days=10)
    patched = await intel.patch(
        KE_CUSTOMS, f"/v1/intel/records/{record['id']}", {"expires_on": later.isoformat()}
    )
    assert patched.status_code == 200, patched.text
    assert await announce(intel, later + timedelta(days=1)) == [record["id"]]
    events = await watchlists(intel, record["id"])
    assert [(e["record_version"], len(e["entries"])) for e in events][-2:] == [(2, 1), (2, 0)]


async def test_records_with_no_entries_out_are_not_announced(intel: IntelShare) -> None:
    yesterday = TODAY - timedelta(days=1)
    # Published after its expiry: its only event already carried no entries.
    late = await intel.create(KE_CUSTOMS, person("Late Person", expires_on=yesterday.isoformat()))
    revoked = await intel.create(KE_CUSTOMS, person(expires_on=TODAY.isoformat()))
    answer = await intel.post(KE_CUSTOMS, f"/v1/intel/records/{revoked['id']}/revoke", {})
    assert answer.status_code == 200, answer.text
    before = len(await intel.outbox_events(WATCHLIST))

    assert await announce(intel, TODAY + timedelta(days=1)) == []
    assert len(await intel.outbox_events(WATCHLIST)) == before
    assert [len(e["entries"]) for e in await watchlists(intel, late["id"])] == [0]


@pytest.fixture
async def intel_checking_expiries(database_url: str, nats_url: str) -> AsyncIterator[IntelShare]:
    await migrations.upgrade(DEFINITION.migrations, database_url)
    settings = IntelShareSettings(
        database_url=database_url, nats_url=nats_url, expiry_check_seconds=0.05
    )
    app = create_app(settings)
    async with running_app(app) as client:
        yield IntelShare(client, app.state.runtime.db)


async def test_the_lifespan_takes_an_expired_record_off_watchlists_and_the_index(
    intel_checking_expiries: IntelShare,
) -> None:
    intel = intel_checking_expiries
    record = await intel.create(TH_CUSTOMS, person())

    async def matched() -> list[str]:
        response = await intel.post(KE_CUSTOMS, "/v1/intel/match", {"name": "Nguyen Van Hung"})
        assert response.status_code in (200, 503), response.text
        return [m["record_id"] for m in response.json().get("matches", [])]

    async def gone() -> bool:
        return await matched() == []

    assert await eventually(matched, timeout=60) == [record["id"]]
    # Time passes: it expired yesterday, its last version was published the day before.
    async with intel.db.session() as session:
        await session.exec(
            sa.update(IntelRecord)
            .where(col(IntelRecord.id) == record["id"])
            .values(
                expires_on=TODAY - timedelta(days=1),
                updated_at=datetime.now(UTC) - timedelta(days=2),
            )
        )

    async def emptied() -> list[dict[str, Any]]:
        return [e for e in await watchlists(intel, record["id"]) if not e["entries"]]

    assert len(await eventually(emptied)) == 1
    assert await eventually(gone, timeout=30)
    # The task keeps running; the version stays announced once.
    async with intel.db.session() as session:
        assert await announce_expiries(session=session, today=TODAY) == []
    assert len(await emptied()) == 1
