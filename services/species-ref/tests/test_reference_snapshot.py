"""The in-memory reference snapshot: statuses answered without a database query, and a
change written by one replica seen by itself at once and by another at its next check."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from datetime import date
from typing import Any

import pytest
import pytest_asyncio
import sqlalchemy as sa
from fastapi import FastAPI
from httpx import AsyncClient

from pangolin_core import migrations
from pangolin_core.db import Database
from pangolin_core.natsserver import NatsServer
from pangolin_core.testing import eventually, identity_headers, running_app
from species_ref.app import DEFINITION, create_app
from species_ref.checklist import read_checklist
from species_ref.guides.models import IdGuide
from species_ref.reference.refresh import REFRESHER_KEY, ReferenceRefresher, reference_changed
from species_ref.reference.revision import bump_revision
from species_ref.reference.snapshot import current_snapshot
from species_ref.restrictions.models import ExportQuota
from species_ref.seed import CHECKLIST
from species_ref.settings import SpeciesRefSettings
from species_ref.taxa.models import ListingChange
from species_ref.taxa.service import load_checklist

READ = identity_headers("species:read")
GENERA = {"Python", "Loxodonta"}
PYTHON_REGIUS = 5467


@pytest.fixture(scope="module")
def few_taxa() -> list[Any]:
    return [t for t in read_checklist(CHECKLIST) if t.genus in GENERA or t.full_name in GENERA]


@pytest_asyncio.fixture
async def db_url(sqlite_url: str, few_taxa: list[Any]) -> AsyncIterator[str]:
    await migrations.upgrade(DEFINITION.migrations, sqlite_url)
    db = Database(sqlite_url)
    async with db.session() as session:
        await load_checklist(session=session, taxa=few_taxa, source="test checklist")
        await bump_revision(session)
    await db.dispose()
    yield sqlite_url


def app_on(url: str, nats: NatsServer, *, refresh: float) -> FastAPI:
    return create_app(
        SpeciesRefSettings(nats_url=nats.url, database_url=url, reference_refresh_seconds=refresh)
    )


async def status(client: AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get("/v1/species/status", params=params, headers=READ)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def queries() -> Iterator[list[str]]:
    """Every SQL statement the engines of this test run (a listener on all engines)."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)


async def test_a_status_is_answered_without_a_database_query(
    db_url: str, nats_server: NatsServer, queries: list[str]
) -> None:
    async with running_app(app_on(db_url, nats_server, refresh=3600)) as client:
        queries.clear()
        answer = await status(client, name="Python regius", country="GH", as_of="2026-11-20")
        batch = await client.post(
            "/v1/species/status",
            json={"queries": [{"taxon_id": PYTHON_REGIUS}, {"name": "Loxodonta africana"}]},
            headers=READ,
        )
        assert batch.status_code == 200, batch.text
        assert queries == []
    assert (answer["taxon_id"], answer["appendix"]) == (PYTHON_REGIUS, "II")
    assert [r["full_name"] for r in batch.json()["results"]] == [
        "Python regius",
        "Loxodonta africana",
    ]


async def write(url: str, *rows: Any) -> None:
    """What a publication does: rows and the revision, in one transaction."""
    db = Database(url)
    async with db.session() as session:
        session.add_all(rows)
        await bump_revision(session)
    await db.dispose()


def guide(taxon_id: int, title: str) -> IdGuide:
    return IdGuide(
        taxon_id=taxon_id, title=title, language="en", url="https://example.org/g.pdf",
        source="test",
    )  # fmt: skip


async def test_a_change_is_seen_at_once_here_and_at_the_next_check_elsewhere(
    db_url: str, nats_server: NatsServer
) -> None:
    genus_python = next(
        t.taxon_id for t in read_checklist(CHECKLIST) if t.full_name == "Python"
    )  # a guide on the genus serves its species
    async with AsyncExitStack() as stack:
        here = await stack.enter_async_context(
            running_app(app_on(db_url, nats_server, refresh=3600))
        )
        there_app = app_on(db_url, nats_server, refresh=0.2)
        there = await stack.enter_async_context(running_app(there_app))
        here_runtime = here._transport.app.state.runtime  # type: ignore[attr-defined]
        before = current_snapshot(here_runtime).revision

        await write(db_url, guide(genus_python, "Pythons of West Africa"))
        reference_changed(here_runtime)

        async def titles(client: AsyncClient) -> list[str]:
            answer = await status(client, taxon_id=PYTHON_REGIUS)
            return [g["title"] for g in answer["guides"]]

        def shows(client: AsyncClient, wanted: list[str]) -> Callable[[], Awaitable[bool]]:
            async def check() -> bool:
                return await titles(client) == wanted

            return check

        assert await titles(there) == []
        await eventually(shows(here, ["Pythons of West Africa"]))
        await eventually(shows(there, ["Pythons of West Africa"]))
        assert current_snapshot(here_runtime).revision == before + 1
        [on_genus] = (await status(here, taxon_id=PYTHON_REGIUS))["guides"]
        assert (on_genus["taxon_id"], on_genus["taxon_name"]) == (genus_python, "Python")

        # The species' own guide comes before the genus'.
        await write(db_url, guide(PYTHON_REGIUS, "Ball python"))
        reference_changed(here_runtime)
        await eventually(shows(here, ["Ball python", "Pythons of West Africa"]))


async def test_point_in_time_answers_follow_a_published_change(
    db_url: str, nats_server: NatsServer
) -> None:
    """A future-dated transfer is not in force before its date; a quota written later binds
    from its start date, and a refresh finds both."""
    async with running_app(app_on(db_url, nats_server, refresh=3600)) as client:
        runtime = client._transport.app.state.runtime  # type: ignore[attr-defined]
        await write(
            db_url,
            ListingChange(
                taxon_id=PYTHON_REGIUS,
                appendix="I",
                change_type="addition",
                effective_at=date(2027, 3, 1),
                is_current=False,
                source="test",
            ),
            ExportQuota(
                id=900001,
                taxon_name="Python regius",
                rank="SPECIES",
                taxon_id=PYTHON_REGIUS,
                country="GH",
                start_date=date(2027, 1, 1),
                end_date=date(2028, 1, 1),
                quota=1500,
                units=[],
                terms=["LIV"],
                sources=["R"],
                purposes=[],
                source="test",
            ),
        )
        refresher: ReferenceRefresher = runtime.extras[REFRESHER_KEY]
        assert await refresher.refresh() is True
        assert await refresher.refresh() is False  # nothing new: no rebuild

        before = await status(client, taxon_id=PYTHON_REGIUS, country="GH", as_of="2026-12-31")
        quota_time = await status(
            client, taxon_id=PYTHON_REGIUS, country="GH", as_of="2027-01-01", term="LIV"
        )
        after = await status(client, taxon_id=PYTHON_REGIUS, country="GH", as_of="2027-03-01")
    assert (before["appendix"], before["quotas"]) == ("II", [])
    assert quota_time["appendix"] == "II"
    assert [q["quota"] for q in quota_time["quotas"]] == ["1500"]
    assert after["appendix"] == "I"


async def test_an_appendix_iii_party_decides_export_permit_or_certificate_of_origin(
    db_url: str, nats_server: NatsServer
) -> None:
    """Python regius moved (in this test) from Appendix II to Appendix III listed by Ghana on
    2027-01-01: before, an export permit from anywhere; after, Ghana's export permit, or a
    certificate of origin from Togo."""
    async with running_app(app_on(db_url, nats_server, refresh=3600)) as client:
        runtime = client._transport.app.state.runtime  # type: ignore[attr-defined]
        moved = date(2027, 1, 1)
        await write(
            db_url,
            ListingChange(
                taxon_id=PYTHON_REGIUS, appendix="II", change_type="deletion",
                effective_at=moved, is_current=False, source="test",
            ),
            ListingChange(
                taxon_id=PYTHON_REGIUS, appendix="III", change_type="addition",
                effective_at=moved, is_current=False, party="GH", source="test",
            ),
        )  # fmt: skip
        reference_changed(runtime)

        async def moved_to_iii() -> bool:
            answer = await status(client, taxon_id=PYTHON_REGIUS, country="GH", as_of="2027-01-01")
            return answer["appendix"] == "III"

        await eventually(moved_to_iii)
        before = await status(client, taxon_id=PYTHON_REGIUS, country="TG", as_of="2026-12-31")
        ghana = await status(client, taxon_id=PYTHON_REGIUS, country="GH", as_of="2027-01-01")
        togo = await status(client, taxon_id=PYTHON_REGIUS, country="TG", as_of="2027-01-01")
    assert (before["appendix"], before["documents"]["export_document"]) == ("II", "export_permit")
    assert [x["party"] for x in ghana["listings"]] == ["GH"]
    assert ghana["documents"]["export_document"] == "export_permit"
    assert ghana["documents"]["appendix_iii_parties"] == ["GH"]
    assert togo["documents"]["export_document"] == "certificate_of_origin"
    assert togo["documents"]["import_permit"] is False
    assert togo["not_covered_yet"] == []


async def test_a_taxon_s_listings_on_a_date_and_by_scope(
    db_url: str, nats_server: NatsServer
) -> None:
    """`/taxa/{id}/listings?as_of=` reads the stored changes as the status does: a future
    transfer to Appendix I is not in force before its date and is the listing from it."""
    transfer = date(2027, 3, 1)
    await write(
        db_url,
        ListingChange(
            taxon_id=PYTHON_REGIUS, appendix="I", change_type="addition",
            effective_at=transfer, is_current=False, source="test",
        ),
    )  # fmt: skip
    url = f"/v1/species/taxa/{PYTHON_REGIUS}/listings"
    async with running_app(app_on(db_url, nats_server, refresh=3600)) as client:

        async def listings(**params: str) -> dict[str, Any]:
            response = await client.get(url, params=params, headers=READ)
            assert response.status_code == 200, response.text
            body: dict[str, Any] = response.json()
            return body

        before = await listings(as_of="2027-02-28")
        after = await listings(as_of="2027-03-01")
        current = await listings(scope="current")
        historic = await listings(scope="historic")
        every = await listings(scope="all")
        both = await client.get(url, params={"as_of": "2027-03-01", "scope": "all"}, headers=READ)
    assert (before["scope"], before["as_of"]) == ("in_force", "2027-02-28")
    assert [x["appendix"] for x in before["listings"]] == ["II"]
    assert [(x["appendix"], x["effective_at"]) for x in after["listings"]] == [("I", "2027-03-01")]
    assert [x["appendix"] for x in current["listings"]] == ["II"]
    assert [x["appendix"] for x in historic["listings"]] == ["I"]
    assert sorted(x["appendix"] for x in every["listings"]) == ["I", "II"]
    assert both.status_code == 422
    assert both.json()["errors"][0]["field"] == "scope"
