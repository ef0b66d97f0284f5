"""The Species+ client and sync against a loopback server replaying the recorded Species+ API
(../shared/data/species/speciesplus-recordings, VCR cassettes): a request is answered only
when method, path and query match a recording (query order aside), with the recorded status,
headers and body, `Link` hosts pointed at the loopback server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from pangolin_core import migrations
from pangolin_core.db import Database
from pangolin_core.messaging.tables import outbox
from species_ref.app import DEFINITION
from species_ref.restrictions.models import ExportQuota, TradeSuspension
from species_ref.settings import SpeciesRefSettings
from species_ref.speciesplus import mapping
from species_ref.speciesplus.client import (
    TOKEN_HEADER,
    SpeciesPlusClient,
    SpeciesPlusResponseError,
    SpeciesPlusStatusError,
    SpeciesPlusUnavailable,
)
from species_ref.speciesplus.service import SyncSummary, sync
from species_ref.taxa.models import Distribution, ListingChange, TaxonConcept, TaxonName
from speciesplus_replay import (
    RECORDED_HOST,
    TOKEN,
    ReplayServer,
    Reply,
    key,
    recorded,
    replay_server,
)


@pytest.fixture
def replay() -> Iterator[ReplayServer]:
    with replay_server() as server:
        yield server


class Sleeps:
    """Stands in for asyncio.sleep: records the waits asked for, waits for none."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def client(replay: ReplayServer, sleeps: Sleeps) -> AsyncIterator[SpeciesPlusClient]:
    async with SpeciesPlusClient(
        token=TOKEN, base_url=f"{replay.base}/api/v1/", sleep=sleeps, max_attempts=3
    ) as speciesplus:
        yield speciesplus


# --- the client --------------------------------------------------------------------------


async def test_pages_follow_the_link_header_and_send_the_token(
    client: SpeciesPlusClient, replay: ReplayServer
) -> None:
    pages = [p async for p in client.taxon_concepts(page=43, per_page=10, max_pages=2)]

    assert [p.pagination.current_page for p in pages] == [43, 44]
    assert pages[0].pagination.total_entries == 85098
    names = [t.full_name for p in pages for t in p.taxon_concepts]
    assert names[0] == "Procyonidae" and names[10] == "Potos flavus" and len(names) == 20
    # The next link is followed as given (pointed at the loopback host), page 45 not read.
    assert pages[0].next_url == f"{replay.base}/api/v1/taxon_concepts.json?page=44&per_page=10"
    assert pages[1].next_url == f"{replay.base}/api/v1/taxon_concepts.json?page=45&per_page=10"
    assert [s.query for s in replay.seen] == [
        {"page": "43", "per_page": "10"},
        {"page": "44", "per_page": "10"},
    ]
    assert all(s.headers[TOKEN_HEADER] == TOKEN for s in replay.seen)
    assert replay.unmatched() == []


async def test_cms_taxonomy_pages_with_link_parameters_in_another_order(
    client: SpeciesPlusClient, replay: ReplayServer
) -> None:
    pages = [
        p
        async for p in client.taxon_concepts(
            taxonomy="CMS", language="EN", per_page=10, max_pages=2
        )
    ]

    assert [t.full_name for t in pages[0].taxon_concepts][:3] == [
        "Animalia",
        "Chordata",
        "Mammalia",
    ]
    assert pages[1].taxon_concepts[0].full_name == "Bos grunniens"
    assert all(t.cites_listing is None for p in pages for t in p.taxon_concepts)
    assert replay.unmatched() == []


async def test_a_page_without_a_next_link_ends_the_paging(
    client: SpeciesPlusClient, replay: ReplayServer
) -> None:
    elephants = [p async for p in client.taxon_concepts(name="Loxodonta africana")]
    nothing = [p async for p in client.taxon_concepts(name="0")]

    assert len(elephants) == 1 and elephants[0].next_url is None
    elephant = elephants[0].taxon_concepts[0]
    assert (elephant.id, elephant.cites_listing, elephant.higher_taxa.class_name) == (
        4521,
        "I/II",
        "Mammalia",
    )
    assert [(x.id, x.appendix, x.effective_at) for x in elephant.cites_listings] == [
        (30344, "I", date(2017, 1, 2)),
        (30115, "II", date(2019, 11, 26)),
    ]
    assert len(nothing) == 1 and nothing[0].taxon_concepts == []
    assert replay.unmatched() == []


async def test_updated_since_is_sent_in_utc(
    client: SpeciesPlusClient, replay: ReplayServer
) -> None:
    pages = [
        p
        async for p in client.taxon_concepts(
            updated_since=datetime(2018, 1, 1, tzinfo=UTC), max_pages=1
        )
    ]

    assert replay.seen[0].query["updated_since"] == "2018-01-01T00:00:00"
    assert pages[0].pagination.total_entries == 59497
    assert len(pages[0].taxon_concepts) == 500
    assert all(t.updated_at >= datetime(2018, 1, 1, tzinfo=UTC) for t in pages[0].taxon_concepts)
    assert pages[0].next_url is not None and "page=2" in pages[0].next_url


async def test_legislation_current_and_with_history(client: SpeciesPlusClient) -> None:
    current = await client.cites_legislation(4521, scope=None)
    history = await client.cites_legislation(4521, scope="all", language="fr")

    assert (len(current.cites_listings), len(current.cites_quotas)) == (10, 38)
    assert len(current.cites_suspensions) == 13
    assert (len(history.cites_listings), len(history.cites_quotas)) == (42, 713)
    assert len(history.cites_suspensions) == 31
    assert {q.id for q in current.cites_quotas} == {
        q.id for q in history.cites_quotas if q.is_current
    }
    namibia = next(q for q in current.cites_quotas if q.id == 26662)
    assert namibia.quota == Decimal("180") and namibia.geo_entity.iso_code2 == "NA"


async def test_species_plus_error_for_taxon_0_is_a_typed_error_not_retried(
    client: SpeciesPlusClient, replay: ReplayServer, sleeps: Sleeps
) -> None:
    with pytest.raises(SpeciesPlusStatusError) as legislation:
        await client.cites_legislation(0, scope=None)
    with pytest.raises(SpeciesPlusStatusError) as distributions:
        await client.distributions(0)

    for error in (legislation.value, distributions.value):
        assert error.status == 500
        assert error.message == "We are sorry but an error occurred processing your request"
    assert len(replay.seen) == 2 and sleeps.waits == []


async def test_rate_limits_are_waited_out_as_asked(
    client: SpeciesPlusClient, replay: ReplayServer, sleeps: Sleeps
) -> None:
    uri = recorded("taxon_concepts/10000/distributions.json")
    replay.fail_first(
        uri,
        Reply(429, [("Retry-After", "7")], b'{"error": "rate limited"}'),
        Reply(503, [], b""),
    )

    found = await client.distributions(10000)

    assert [d.iso_code2 for d in found] == ["LK"]
    assert len(replay.seen) == 3
    assert sleeps.waits[0] == 7  # Retry-After beats the 1 s backoff
    assert 1.8 <= sleeps.waits[1] <= 2.0  # then exponential: 2 s, less a little jitter


async def test_retries_are_bounded(
    client: SpeciesPlusClient, replay: ReplayServer, sleeps: Sleeps
) -> None:
    uri = recorded("taxon_concepts/10000/distributions.json")
    replay.fail_first(uri, *[Reply(503, [], b"")] * 3)

    with pytest.raises(SpeciesPlusUnavailable) as raised:
        await client.distributions(10000)

    assert raised.value.attempts == 3 and len(replay.seen) == 3 and len(sleeps.waits) == 2


async def test_a_wait_longer_than_allowed_is_not_waited(
    client: SpeciesPlusClient, replay: ReplayServer, sleeps: Sleeps
) -> None:
    uri = recorded("taxon_concepts/10000/distributions.json")
    replay.fail_first(uri, Reply(429, [("Retry-After", "86400")], b""))

    with pytest.raises(SpeciesPlusUnavailable, match="Retry-After 86400"):
        await client.distributions(10000)

    assert sleeps.waits == [] and len(replay.seen) == 1


async def test_a_next_link_to_another_host_is_not_followed(
    client: SpeciesPlusClient, replay: ReplayServer
) -> None:
    page = json.loads(
        replay.replies[key("GET", recorded("taxon_concepts.json?name=0&page=1&per_page=500"))].body
    )
    replay.add(
        recorded("taxon_concepts.json?name=Elsewhere&page=1&per_page=500"),
        page,
        headers=[("Link", '<https://evil.example/api/v1/taxon_concepts.json?page=2>; rel="next"')],
    )

    with pytest.raises(SpeciesPlusResponseError, match=r"evil\.example"):
        _ = [p async for p in client.taxon_concepts(name="Elsewhere")]
    assert len(replay.seen) == 1


async def test_the_concurrency_limit_holds(replay: ReplayServer) -> None:
    in_flight = 0
    most = 0

    async def counting(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        try:
            async with httpx.AsyncClient() as real:
                return await real.send(request)
        finally:
            in_flight -= 1

    http = httpx.AsyncClient(transport=httpx.MockTransport(counting))
    async with SpeciesPlusClient(
        token=TOKEN, base_url=f"{replay.base}/api/v1/", http=http, concurrency=2
    ) as limited:
        found = await asyncio.gather(*(limited.distributions(10000) for _ in range(6)))
    await http.aclose()

    assert [len(d) for d in found] == [1] * 6
    assert most == 2  # six asked at once, two at a time on the wire


# --- the sync ----------------------------------------------------------------------------


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    await migrations.upgrade(DEFINITION.migrations, database_url)
    database = Database(database_url)
    yield database
    await database.dispose()


async def run_sync(db: Database, client: SpeciesPlusClient, **options: Any) -> SyncSummary:
    async with db.session() as session:
        return await sync(session=session, client=client, today=date(2022, 11, 28), **options)


async def events(db: Database) -> list[dict[str, Any]]:
    async with db.session() as session:
        rows = (await session.exec(sa.select(outbox.c.payload).order_by(outbox.c.created_at))).all()
    return [json.loads(row.payload) for row in rows]


async def test_sync_builds_what_the_recordings_say(
    db: Database, client: SpeciesPlusClient, replay: ReplayServer
) -> None:
    summary = await run_sync(db, client, name="Loxodonta africana", language="fr")

    assert replay.unmatched() == []
    assert {s.path for s in replay.seen} == {
        "/api/v1/taxon_concepts.json",
        "/api/v1/taxon_concepts/4521/cites_legislation.json",
        "/api/v1/taxon_concepts/4521/distributions.json",
    }
    assert (summary.taxa, summary.created, summary.listings_changed) == (1, 1, 1)
    async with db.session() as session:
        elephant = await session.get(TaxonConcept, 4521)
        assert elephant is not None
        assert (elephant.full_name, elephant.genus, elephant.species, elephant.family) == (
            "Loxodonta africana",
            "Loxodonta",
            "africana",
            "Elephantidae",
        )
        assert elephant.source == mapping.SOURCE
        names = list(await session.exec(select(TaxonName).where(TaxonName.taxon_id == 4521)))
        listings = list(
            await session.exec(select(ListingChange).where(ListingChange.taxon_id == 4521))
        )
        places = list(await session.exec(select(Distribution).where(Distribution.taxon_id == 4521)))
        quotas = list(await session.exec(select(ExportQuota).order_by(col(ExportQuota.id))))
        suspensions = list(
            await session.exec(select(TradeSuspension).order_by(col(TradeSuspension.id)))
        )

    assert ("synonym", "Loxodonta cyclotis", "(Matschie, 1900)", None) in {
        (n.kind, n.name, n.author, n.language) for n in names
    }
    assert ("African Elephant", "EN") in {(n.name, n.language) for n in names}
    # Listings: the history (scope all), 16 additions, 17 reservations, 9 withdrawals.
    assert len(listings) == 42
    kinds = {c: sum(x.change_type == c for x in listings) for c in mapping.CHANGE_TYPES.values()}
    assert kinds == {"addition": 16, "deletion": 0, "reservation": 17, "reservation_withdrawal": 9}
    ghana = next(x for x in listings if x.party == "GH")
    assert (ghana.appendix, ghana.effective_at, ghana.is_current) == (
        "III",
        date(1976, 2, 26),
        False,
    )
    current = sorted(
        (x.appendix, x.effective_at)
        for x in listings
        if x.is_current and x.change_type == "addition"
    )
    assert current == [("I", date(2017, 1, 2)), ("II", date(2019, 11, 26))]
    app_i = next(x for x in listings if x.is_current and x.appendix == "I" and not x.party)
    assert app_i.annotation is not None and app_i.annotation.startswith(
        "Sauf les populations de l'Afrique du Sud"
    )
    assert {(x.party, x.change_type) for x in listings if x.effective_at == date(1990, 1, 18)} >= {
        ("ZM", "reservation"),
        ("BW", "reservation"),
    }
    # Distributions: 42 countries, extinct and reintroduced tags kept.
    assert len({d.country for d in places}) == 42
    assert {(d.country, d.tag) for d in places if d.country in ("SZ", "DJ", "KE")} == {
        ("SZ", "reintroduced"),
        ("SZ", "extinct"),
        ("DJ", "extinct"),
        ("KE", "native"),
    }
    # The 38 current quotas, from their publication date, until Species+ ends them.
    assert len(quotas) == 38 and summary.quotas_published == 38
    namibia = next(q for q in quotas if q.id == 26662)
    assert (namibia.country, Decimal(namibia.quota), namibia.start_date) == (
        "NA",
        Decimal(180),
        date(2022, 1, 27),
    )
    assert namibia.end_date is None and namibia.taxon_id == 4521
    # The 13 current suspensions: 8 on the elephant, 5 country-wide (no taxon).
    assert [s.id for s in suspensions] == [
        15983, 17620, 17621, 17686, 18709, 22076, 22079, 22132, 23168, 24947, 25328, 26275, 27577,
    ]  # fmt: skip
    country_wide = {(s.id, s.country) for s in suspensions if s.taxon_name is None}
    assert country_wide == {
        (15983, "DJ"),
        (22076, "LR"),
        (22079, "DJ"),
        (23168, "SO"),
        (27577, "GN"),
    }
    us = next(s for s in suspensions if s.id == 17621)
    assert (us.taxon_name, us.rank, us.country, us.direction) == (
        "Loxodonta africana",
        "SPECIES",
        "US",
        "both",
    )
    assert us.notes is not None and "CITES Notif. No. 2014/037" in us.notes
    assert next(s for s in suspensions if s.id == 22132).direction == "export"

    sent = await events(db)
    types = [e["type"] for e in sent]
    assert types.count("species.taxon.upserted") == 1
    assert types.count("species.listing.changed") == 1
    assert types.count("species.quota.published") == 38
    assert types.count("species.suspension.published") == 13
    assert summary.events == len(sent) == 53
    changed = next(e for e in sent if e["type"] == "species.listing.changed")
    assert changed["data"]["appendices"] == ["I", "II"]
    assert changed["data"]["previous_appendices"] == []
    assert len(changed["data"]["added"]) == 42 and changed["data"]["removed"] == []
    upserted = next(e for e in sent if e["type"] == "species.taxon.upserted")
    assert upserted["data"]["appendices"] == ["I", "II"] and upserted["subject"] == "4521"


async def test_a_second_identical_sync_changes_and_emits_nothing(
    db: Database, client: SpeciesPlusClient
) -> None:
    await run_sync(db, client, name="Loxodonta africana", language="fr")
    before = await events(db)

    again = await run_sync(db, client, name="Loxodonta africana", language="fr")

    assert (again.taxa, again.created, again.updated, again.events) == (1, 0, 0, 0)
    assert await events(db) == before


async def test_an_increment_with_a_change_on_a_later_page_updates_and_emits_it(
    db: Database, client: SpeciesPlusClient, replay: ReplayServer
) -> None:
    # The recorded increment since 2018 (page 1 of 119), without per-taxon details.
    first = await run_sync(
        db, client, updated_since=datetime(2018, 1, 1, tzinfo=UTC), details=False, max_pages=1
    )
    assert (first.pages, first.taxa, first.created) == (1, 500, 500)
    assert first.next_page is not None and first.next_page.endswith(
        "page=2&per_page=500&updated_since=2018-01-01T00%3A00%3A00"
    )
    assert first.latest_update is not None
    loaded = len(await events(db))
    async with db.session() as session:
        pronghorn = await session.get(TaxonConcept, 12163)
        assert pronghorn is not None and pronghorn.full_name == "Antilocapra americana mexicana"
        listed = list(
            await session.exec(select(ListingChange).where(ListingChange.taxon_id == 12163))
        )
    assert [(x.appendix, x.change_type, x.is_current) for x in listed] == [("I", "addition", True)]

    # Later, Species+ reports on its second page that the subspecies left Appendix I and
    # gained a common name (the recorded entry, changed as a CoP decision would change it).
    recorded_page = json.loads(
        replay.replies[
            key(
                "GET",
                recorded(
                    "taxon_concepts.json?updated_since=2018-01-01T00%3A00%3A00&page=1&per_page=500"
                ),
            )
        ].body
    )
    entry = next(t for t in recorded_page["taxon_concepts"] if t["id"] == 12163)
    since = first.latest_update.strftime("%Y-%m-%dT%H:%M:%S")
    later = recorded(f"taxon_concepts.json?updated_since={since}&page=1&per_page=1")
    second_page = recorded(f"taxon_concepts.json?updated_since={since}&page=2&per_page=1")
    unchanged = next(t for t in recorded_page["taxon_concepts"] if t["id"] == 5062)
    replay.add(
        later,
        {"pagination": {"current_page": 1, "per_page": 1, "total_entries": 2},
         "taxon_concepts": [unchanged]},
        headers=[("Link", f'<{second_page.replace(RECORDED_HOST, replay.base)}>; rel="next"')],
    )  # fmt: skip
    changed = entry | {
        "updated_at": "2022-11-28T10:00:00.000Z",
        "cites_listing": "NC",
        "cites_listings": [],
        "common_names": [*entry["common_names"], {"name": "Berrendo", "language": "ES"}],
    }
    replay.add(
        second_page,
        {"pagination": {"current_page": 2, "per_page": 1, "total_entries": 2},
         "taxon_concepts": [changed]},
    )  # fmt: skip

    increment = await run_sync(
        db, client, updated_since=first.latest_update, details=False, per_page=1
    )

    assert (increment.pages, increment.taxa, increment.updated, increment.created) == (2, 2, 1, 0)
    sent = (await events(db))[loaded:]
    assert [(e["type"], e["subject"]) for e in sent] == [
        ("species.taxon.upserted", "12163"),
        ("species.listing.changed", "12163"),
    ]
    assert sent[0]["data"]["appendices"] == ["NC"]
    listing = sent[1]["data"]
    assert (listing["appendices"], listing["previous_appendices"]) == ([], ["I"])
    assert listing["added"] == []
    assert [(x["appendix"], x["change_type"]) for x in listing["removed"]] == [("I", "addition")]
    async with db.session() as session:
        listed = list(
            await session.exec(select(ListingChange).where(ListingChange.taxon_id == 12163))
        )
        names = list(await session.exec(select(TaxonName).where(TaxonName.taxon_id == 12163)))
    assert listed == []
    assert ("Berrendo", "ES") in {(n.name, n.language) for n in names}

    again = await run_sync(db, client, updated_since=first.latest_update, details=False, per_page=1)
    assert again.events == 0 and len(await events(db)) == loaded + 2


async def test_a_taxon_whose_details_fail_is_reported_and_keeps_its_page_data(
    db: Database, client: SpeciesPlusClient, replay: ReplayServer
) -> None:
    unknown = json.loads(
        replay.replies[
            key(
                "GET", recorded("taxon_concepts.json?name=Loxodonta%20africana&page=1&per_page=500")
            )
        ].body
    )
    ghost = unknown["taxon_concepts"][0] | {"id": 0, "full_name": "Nullus nullus"}
    replay.add(
        recorded("taxon_concepts.json?name=Nullus%20nullus&page=1&per_page=500"),
        {"pagination": unknown["pagination"], "taxon_concepts": [ghost]},
    )

    summary = await run_sync(db, client, name="Nullus nullus")

    assert len(summary.problems) == 1
    assert "taxon 0 Nullus nullus" in summary.problems[0] and "500" in summary.problems[0]
    async with db.session() as session:
        listed = list(await session.exec(select(ListingChange).where(ListingChange.taxon_id == 0)))
    assert sorted((x.appendix, x.is_current) for x in listed) == [("I", True), ("II", True)]


async def test_an_unreachable_server_is_retried_then_reported(sleeps: Sleeps) -> None:
    async with SpeciesPlusClient(
        token=TOKEN, base_url="http://127.0.0.1:1/api/v1/", sleep=sleeps, max_attempts=3
    ) as unreachable:
        with pytest.raises(SpeciesPlusUnavailable, match="ConnectError") as raised:
            await unreachable.distributions(4521)

    assert raised.value.attempts == 3 and len(sleeps.waits) == 2


async def test_restrictions_end_when_species_plus_stops_reporting_them_current(
    db: Database, client: SpeciesPlusClient, replay: ReplayServer
) -> None:
    await run_sync(db, client, name="Loxodonta africana", language="fr")
    loaded = len(await events(db))
    uri = recorded("taxon_concepts/4521/cites_legislation.json?language=fr&scope=all")
    later = json.loads(replay.replies[key("GET", uri)].body)
    for quota in later["cites_quotas"]:
        if quota["id"] == 26662:  # Namibia's 2022 quota is over
            quota["is_current"] = False
    aves = next(s for s in later["cites_suspensions"] if s["id"] == 22132) | {
        "id": 99_000_001,
        "taxon_concept_id": 32,  # a class the database does not hold
    }
    later["cites_suspensions"].append(aves)
    replay.add(uri, later)

    summary = await run_sync(db, client, name="Loxodonta africana", language="fr")

    assert summary.problems == ["suspension 99000001: taxon 32 unknown; not stored"]
    sent = (await events(db))[loaded:]
    assert [(e["type"], e["data"]["quota"]["id"]) for e in sent] == [
        ("species.quota.published", 26662)
    ]
    assert sent[0]["data"]["quota"]["end_date"] == "2022-11-28"
    async with db.session() as session:
        namibia = await session.get(ExportQuota, 26662)
        assert namibia is not None and namibia.end_date == date(2022, 11, 28)
        assert await session.get(TradeSuspension, 99_000_001) is None


async def test_a_restriction_id_held_by_another_source_is_reported_not_overwritten(
    db: Database, client: SpeciesPlusClient
) -> None:
    async with db.session() as session:
        session.add(
            ExportQuota(
                id=27025,
                taxon_name="Panthera pardus",
                rank="SPECIES",
                country="ET",
                start_date=date(1997, 6, 9),
                quota=Decimal(500),
                source="SAPI quotas.csv",
            )
        )

    summary = await run_sync(db, client, name="Loxodonta africana", language="fr")

    assert summary.problems == ["export_quota 27025: id held by 'SAPI quotas.csv'; not stored"]
    assert summary.quotas_published == 37
    async with db.session() as session:
        kept = await session.get(ExportQuota, 27025)
    assert kept is not None and kept.taxon_name == "Panthera pardus"


async def test_the_client_the_settings_describe(replay: ReplayServer) -> None:
    settings = SpeciesRefSettings(
        speciesplus_url=f"{replay.base}/api/v1", speciesplus_token=TOKEN, speciesplus_concurrency=2
    )

    async with SpeciesPlusClient.from_settings(settings) as configured:
        found = await configured.distributions(3210)

    assert len(found) > 0 and {d.iso_code2 for d in found} >= {"VE", "GY"}
    assert [s.headers[TOKEN_HEADER] for s in replay.seen] == [TOKEN]
