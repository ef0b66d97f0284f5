"""Publications by a Management Authority, through the app (real database on SQLite and
PostgreSQL, real nats-server): checklist CSV, Species+ bundle and Pangolin JSON documents
validated whole, applied in one transaction with their events, or refused whole."""

from __future__ import annotations

import base64
import csv
import gzip
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio
import sqlalchemy as sa
from httpx import AsyncClient, Response

from pangolin_core import migrations
from pangolin_core.db import Database
from pangolin_core.messaging.tables import outbox
from pangolin_core.testing import eventually, identity_headers, running_app
from species_ref.app import DEFINITION, create_app
from species_ref.checklist import read_checklist
from species_ref.guides.models import IdGuide
from species_ref.publications.models import Publication
from species_ref.reference.revision import bump_revision, current_revision
from species_ref.restrictions.models import ExportQuota, TradeSuspension
from species_ref.seed import CHECKLIST
from species_ref.settings import SpeciesRefSettings
from species_ref.taxa.models import Distribution, ListingChange, TaxonConcept, TaxonName
from species_ref.taxa.service import load_checklist

SHARED = Path(__file__).parents[3] / "../shared/data/species"
RECORDINGS = SHARED / "speciesplus-recordings"
GENERA = {"Python", "Loxodonta"}
PYTHON_REGIUS = 5467
ELEPHANT = 4521

PUBLISHER = identity_headers("species:publish", client_id="ma-ghana", country="GH")
OTHER_PUBLISHER = identity_headers("species:publish", client_id="ma-togo", country="TG")
READER = identity_headers("species:read")
CSV_TYPE = {"content-type": "text/csv"}
JSON_TYPE = {"content-type": "application/json"}


# --- fixtures and helpers -----------------------------------------------------------------


def checklist_csv(edit: dict[str, dict[str, str]] | None = None) -> bytes:
    """The real checklist rows of GENERA, as the export writes them; `edit` changes cells
    of rows by FullName."""
    with gzip.open(SHARED / "cites_checklist_2017-04-21.csv.gz", "rt", newline="") as text:
        reader = csv.DictReader(text)
        header = list(reader.fieldnames or [])
        rows = [r for r in reader if r["Genus"] in GENERA or r["FullName"] in GENERA]
    for row in rows:
        row.update((edit or {}).get(row["FullName"], {}))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


@pytest_asyncio.fixture
async def db_url(database_url: str) -> AsyncIterator[str]:
    """A database with the checklist taxa of GENERA, as the seed loads them."""
    await migrations.upgrade(DEFINITION.migrations, database_url)
    taxa = [t for t in read_checklist(CHECKLIST) if t.genus in GENERA or t.full_name in GENERA]
    db = Database(database_url)
    async with db.session() as session:
        await load_checklist(session=session, taxa=taxa, source="test checklist")
        await bump_revision(session)
        await session.exec(sa.delete(outbox))  # the load's events are not under test
    await db.dispose()
    yield database_url


def settings(url: str, nats_url: str, **values: Any) -> SpeciesRefSettings:
    return SpeciesRefSettings(nats_url=nats_url, database_url=url, **values)


@pytest_asyncio.fixture
async def client(db_url: str, nats_url: str) -> AsyncIterator[AsyncClient]:
    async with running_app(create_app(settings(db_url, nats_url))) as client:
        yield client


async def outbox_events(url: str) -> list[dict[str, Any]]:
    db = Database(url)
    try:
        async with db.session(write=False) as session:
            query = sa.select(outbox.c.payload).order_by(outbox.c.created_at)
            rows = (await session.exec(query)).all()
    finally:
        await db.dispose()
    return [json.loads(row.payload) for row in rows]


async def table_counts(url: str) -> dict[str, int]:
    db = Database(url)
    try:
        async with db.session(write=False) as session:
            counts = {}
            for model in (
                TaxonConcept,
                TaxonName,
                ListingChange,
                Distribution,
                ExportQuota,
                TradeSuspension,
                IdGuide,
            ):
                query = sa.select(sa.func.count()).select_from(model)
                counts[model.__tablename__] = int(await session.scalar(query) or 0)
            counts["outbox"] = int(
                await session.scalar(sa.select(sa.func.count()).select_from(outbox)) or 0
            )
    finally:
        await db.dispose()
    return counts


async def stored_revision(url: str) -> int:
    db = Database(url)
    try:
        async with db.session(write=False) as session:
            return await current_revision(session)
    finally:
        await db.dispose()


async def status(client: AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get("/v1/species/status", params=params, headers=READER)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def body(response: Response) -> dict[str, Any]:
    found: dict[str, Any] = response.json()
    return found


def types(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return sorted((e["type"], e["subject"]) for e in events)


# --- checklist CSV ------------------------------------------------------------------------


async def test_a_checklist_with_one_changed_listing_changes_that_listing_only(
    client: AsyncClient, db_url: str
) -> None:
    before = await status(client, taxon_id=PYTHON_REGIUS, as_of="2026-11-20")
    assert before["appendix"] == "II"
    document = checklist_csv({"Python regius": {"CurrentListing": "I"}})

    response = await client.post(
        "/v1/species/publications", content=document, headers=PUBLISHER | CSV_TYPE
    )

    assert response.status_code == 201, response.text
    answer = body(response)
    assert response.headers["location"] == f"/v1/species/publications/{answer['id']}"
    assert (answer["format"], answer["status"]) == ("checklist_csv", "applied")
    assert (answer["publisher"], answer["publisher_country"]) == ("ma-ghana", "GH")
    assert answer["records_total"] == answer["records_done"] == 15
    summary = answer["summary"]
    assert (summary["taxa"], summary["created"], summary["updated"], summary["unchanged"]) == (
        15,
        0,
        1,
        14,
    )
    assert (summary["listings_changed"], summary["events"]) == (1, 2)
    events = await outbox_events(db_url)
    assert types(events) == [
        ("species.listing.changed", str(PYTHON_REGIUS)),
        ("species.taxon.upserted", str(PYTHON_REGIUS)),
    ]
    changed = next(e for e in events if e["type"] == "species.listing.changed")["data"]
    assert (changed["appendices"], changed["previous_appendices"]) == (["I"], ["II"])
    assert [(x["appendix"], x["is_current"]) for x in changed["added"]] == [("I", True)]
    assert [x["appendix"] for x in changed["removed"]] == ["II"]
    upserted = next(e for e in events if e["type"] == "species.taxon.upserted")["data"]
    assert upserted["appendices"] == ["I"]
    assert upserted["source"] == f"publication {answer['id']}"

    async def now_appendix_i() -> dict[str, Any] | None:
        found = await status(client, taxon_id=PYTHON_REGIUS, as_of="2026-11-20")
        return found if found["appendix"] == "I" else None

    await eventually(now_appendix_i)


async def test_a_publication_with_errors_lists_them_all_and_changes_nothing(
    client: AsyncClient, db_url: str
) -> None:
    # Data row 3 gets a malformed id; data row 5 an unknown country code.
    rows = list(csv.DictReader(io.StringIO(checklist_csv().decode())))
    third, fifth = rows[2]["FullName"], rows[4]["FullName"]
    codes = rows[4]["All_DistributionISOCodes"].split(", ")
    document = checklist_csv(
        {
            third: {"TaxonId": "12x"},
            fifth: {
                "All_DistributionISOCodes": ", ".join(["QQ", *codes[1:]]),
                "CurrentListing": "I",
            },
        }
    )
    before = await table_counts(db_url)

    response = await client.post(
        "/v1/species/publications", content=document, headers=PUBLISHER | CSV_TYPE
    )

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = body(response)
    assert problem["error_count"] == 2
    assert [(e["row"], e["field"]) for e in problem["errors"]] == [
        (3, "TaxonId"),
        (5, "All_DistributionISOCodes"),
    ]
    assert "'QQ'" in problem["errors"][1]["message"]
    assert await table_counts(db_url) == before
    kept = await client.get(response.headers["location"], headers=PUBLISHER)
    assert kept.status_code == 200
    assert (body(kept)["status"], body(kept)["error_count"]) == ("rejected", 2)
    assert body(kept)["errors"] == problem["errors"]


async def test_a_document_that_is_not_a_publication_format_is_refused(
    client: AsyncClient,
) -> None:
    xml = await client.post(
        "/v1/species/publications",
        content=b"<taxa/>",
        headers=PUBLISHER | {"content-type": "application/xml"},
    )
    assert xml.status_code == 415
    not_csv = await client.post(
        "/v1/species/publications", content=b"just,a,line\n", headers=PUBLISHER | CSV_TYPE
    )
    assert not_csv.status_code == 422
    assert body(not_csv)["errors"][0]["field"] == "header"
    not_json = await client.post(
        "/v1/species/publications", content=b"{", headers=PUBLISHER | JSON_TYPE
    )
    assert not_json.status_code == 422
    assert body(not_json)["errors"][0]["field"] == "body"


async def test_the_errors_listed_are_capped_and_counted(client: AsyncClient) -> None:
    rows = list(csv.DictReader(io.StringIO(checklist_csv().decode())))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows([rows[0] | {"TaxonId": f"id-{n}"} for n in range(1200)])

    response = await client.post(
        "/v1/species/publications", content=out.getvalue(), headers=PUBLISHER | CSV_TYPE
    )

    assert response.status_code == 422
    problem = body(response)
    assert (problem["error_count"], len(problem["errors"])) == (1200, 1000)
    assert problem["errors"][-1] == {
        "row": 1000,
        "field": "TaxonId",
        "message": "not a positive integer: 'id-999'",
    }


async def test_a_checklist_can_come_as_the_file_of_a_form(client: AsyncClient) -> None:
    document = checklist_csv({"Python regius": {"CurrentListing": "I"}})
    response = await client.post(
        "/v1/species/publications",
        files={"file": ("checklist.csv", document, "text/csv")},
        headers=PUBLISHER,
    )
    assert response.status_code == 201, response.text
    assert (body(response)["format"], body(response)["summary"]["updated"]) == ("checklist_csv", 1)


# --- Species+ bundle ----------------------------------------------------------------------


def recorded_body(name: str, uri_part: str) -> Any:
    cassette = json.loads((RECORDINGS / name).read_text())
    for interaction in cassette["http_interactions"]:
        if uri_part in interaction["request"]["uri"]:
            return json.loads(interaction["response"]["body"]["string"])
    raise AssertionError(f"no {uri_part} in {name}")


def elephant_bundle() -> dict[str, Any]:
    page = recorded_body("spp_taxonconcept_def.json", "taxon_concepts.json")
    return {
        "taxon_concepts": page["taxon_concepts"],
        "cites_legislation": {
            str(ELEPHANT): recorded_body("spp_cites_legislation_sco.json", "scope=all")
        },
        "distributions": {
            str(ELEPHANT): recorded_body("spp_distributions_def.json", "4521/distributions")
        },
    }


async def test_a_species_plus_bundle_writes_the_history_with_the_app_iii_party(
    client: AsyncClient, db_url: str
) -> None:
    response = await client.post(
        "/v1/species/publications",
        params={"format": "speciesplus_json"},
        content=json.dumps(elephant_bundle()),
        headers=PUBLISHER | JSON_TYPE,
    )

    assert response.status_code == 201, response.text
    summary = body(response)["summary"]
    assert (summary["taxa"], summary["updated"], summary["listings_changed"]) == (1, 1, 1)
    assert (summary["quotas_published"], summary["suspensions_published"]) == (38, 13)
    listings = await client.get(
        f"/v1/species/taxa/{ELEPHANT}/listings", params={"scope": "all"}, headers=READER
    )
    by_ghana = {
        (x["appendix"], x["change_type"], x["effective_at"])
        for x in listings.json()["listings"]
        if x["party"] == "GH"
    }
    assert ("III", "addition", "1976-02-26") in by_ghana
    events = await outbox_events(db_url)
    assert len(events) == summary["events"] == 1 + 1 + 38 + 13


async def test_a_bundle_naming_an_unknown_party_is_refused_with_its_path(
    client: AsyncClient,
) -> None:
    bundle = elephant_bundle()
    bundle["distributions"][str(ELEPHANT)][0]["iso_code2"] = "QQ"
    bundle["cites_legislation"]["999"] = {"cites_listings": []}

    response = await client.post(
        "/v1/species/publications?format=speciesplus_json",
        content=json.dumps(bundle),
        headers=PUBLISHER | JSON_TYPE,
    )

    assert response.status_code == 422, response.text
    found = {(e["row"], e["field"]) for e in body(response)["errors"]}
    assert found == {("/cites_legislation", "999"), (f"/distributions/{ELEPHANT}/0", "iso_code2")}


# --- Pangolin JSON ------------------------------------------------------------------------

PDF = b"%PDF-1.4 a guide to pythons"


def pangolin_document() -> dict[str, Any]:
    return {
        "quotas": [
            {
                "taxon_name": "Python regius",
                "country": "GH",
                "start_date": "2026-01-01",
                "end_date": "2027-01-01",
                "quota": "1500",
                "units": [],
                "terms": ["LIV"],
                "sources": ["W"],
                "purposes": ["T"],
                "notes": "ranched and wild",
            }
        ],
        "suspensions": [
            {
                "taxon_id": PYTHON_REGIUS,
                "country": "TG",
                "start_date": "2026-02-01",
                "notes": "CITES Notif. No. 2026/001",
            }
        ],
        "guides": [
            {
                "taxon_name": "Python",
                "title": "Pythons of West Africa",
                "language": "en",
                "document": base64.b64encode(PDF).decode(),
                "media_type": "application/pdf",
                "description": "Scale counts and head patterns",
            },
            {
                "taxon_id": PYTHON_REGIUS,
                "title": "Ball python",
                "language": "fr",
                "url": "https://example.org/regius.pdf",
            },
        ],
    }


async def test_pangolin_json_publishes_quotas_suspensions_and_guides(
    client: AsyncClient, db_url: str
) -> None:
    response = await client.post(
        "/v1/species/publications", json=pangolin_document(), headers=PUBLISHER
    )

    assert response.status_code == 201, response.text
    summary = body(response)["summary"]
    assert (summary["quotas_published"], summary["suspensions_published"]) == (1, 1)
    assert (summary["guides_published"], summary["events"]) == (2, 4)
    events = await outbox_events(db_url)
    genus = next(t for t in read_checklist(CHECKLIST) if t.full_name == "Python").taxon_id
    assert types(events) == sorted(
        [
            ("species.quota.published", str(PYTHON_REGIUS)),
            ("species.suspension.published", str(PYTHON_REGIUS)),
            ("species.guide.published", str(genus)),
            ("species.guide.published", str(PYTHON_REGIUS)),
        ]
    )
    quota = next(e for e in events if e["type"] == "species.quota.published")["data"]["quota"]
    assert (quota["country"], quota["quota"], quota["terms"]) == ("GH", "1500", ["LIV"])
    assert quota["source"] == f"publication {body(response)['id']}"

    async def with_guides() -> dict[str, Any] | None:
        found = await status(client, taxon_id=PYTHON_REGIUS, country="GH", as_of="2026-06-01")
        return found if found["guides"] else None

    answer = await eventually(with_guides)
    assert [q["quota"] for q in answer["quotas"] if q["source"].startswith("publication")] == [
        "1500"
    ]
    # Most specific first: the species' own guide, then the genus' (inherited).
    assert [g["title"] for g in answer["guides"]] == ["Ball python", "Pythons of West Africa"]
    togo = await status(client, taxon_id=PYTHON_REGIUS, country="TG", as_of="2026-06-01")
    assert [s["notes"] for s in togo["suspensions"]] == ["CITES Notif. No. 2026/001"]

    guides = await client.get(f"/v1/species/taxa/{PYTHON_REGIUS}/guides", headers=READER)
    assert guides.status_code == 200
    inherited = guides.json()["guides"][1]
    assert (inherited["taxon_id"], inherited["has_document"]) == (genus, True)
    document = await client.get(f"/v1/species/guides/{inherited['id']}/document", headers=READER)
    assert document.status_code == 200
    assert (document.content, document.headers["content-type"]) == (PDF, "application/pdf")
    link_only = await client.get(
        f"/v1/species/guides/{guides.json()['guides'][0]['id']}/document", headers=READER
    )
    assert link_only.status_code == 404


async def test_pangolin_json_taxa_replace_listings_and_distributions(
    client: AsyncClient, db_url: str
) -> None:
    stored = await client.get(f"/v1/species/taxa/{PYTHON_REGIUS}", headers=READER)
    higher = stored.json()["higher_taxa"]
    taxon = {
        "id": PYTHON_REGIUS,
        "full_name": "Python regius",
        "author_year": stored.json()["author_year"],
        "rank": "SPECIES",
        "kingdom": "Animalia",
        "phylum": higher["phylum"],
        "class_name": higher["class_name"],
        "order": higher["order"],
        "family": higher["family"],
        "genus": "Python",
        "species": "regius",
        "synonyms": stored.json()["synonyms"],
        "common_names": stored.json()["common_names"],
        "listings": [
            {"appendix": "II", "effective_at": "1977-02-04"},
            {"appendix": "III", "party": "GH", "effective_at": "1976-02-26", "is_current": False},
        ],
    }

    response = await client.post(
        "/v1/species/publications", json={"taxa": [taxon]}, headers=PUBLISHER
    )

    assert response.status_code == 201, response.text
    summary = body(response)["summary"]
    assert (summary["updated"], summary["listings_changed"], summary["events"]) == (1, 1, 1)
    events = await outbox_events(db_url)
    # Same names, same concept, same current appendix: only the listing history changed.
    assert types(events) == [("species.listing.changed", str(PYTHON_REGIUS))]
    added = events[0]["data"]["added"]
    assert {(x["appendix"], x["party"], x["effective_at"]) for x in added} == {
        ("II", None, "1977-02-04"),
        ("III", "GH", "1976-02-26"),
    }
    listings = await client.get(
        f"/v1/species/taxa/{PYTHON_REGIUS}/listings", params={"scope": "all"}, headers=READER
    )
    assert sorted((x["appendix"], x["party"]) for x in listings.json()["listings"]) == [
        ("II", None),
        ("III", "GH"),
    ]
    places = await client.get(f"/v1/species/taxa/{PYTHON_REGIUS}/distributions", headers=READER)
    assert len(places.json()["distributions"]) > 1  # omitted: the stored ones are kept


async def test_the_same_content_again_is_answered_with_the_first_publication(
    client: AsyncClient, db_url: str
) -> None:
    first = await client.post(
        "/v1/species/publications", json=pangolin_document(), headers=PUBLISHER
    )
    assert first.status_code == 201, first.text
    events = await outbox_events(db_url)

    again = await client.post(
        "/v1/species/publications", json=pangolin_document(), headers=PUBLISHER
    )
    assert again.status_code == 200, again.text
    assert (body(again)["id"], body(again)["replayed"]) == (body(first)["id"], True)
    # Another publisher's identical document is its own publication, and changes nothing.
    revision = await stored_revision(db_url)
    other = await client.post(
        "/v1/species/publications", json=pangolin_document(), headers=OTHER_PUBLISHER
    )
    assert other.status_code == 201, other.text
    assert body(other)["id"] != body(first)["id"]
    assert body(other)["publisher"] == "ma-togo"
    assert body(other)["summary"]["events"] == 0
    assert await outbox_events(db_url) == events
    assert await stored_revision(db_url) == revision  # no change, no snapshot rebuild

    listed = await client.get("/v1/species/publications", params={"limit": 1}, headers=PUBLISHER)
    assert listed.status_code == 200
    assert [p["id"] for p in listed.json()["items"]] == [body(other)["id"]]
    rest = await client.get(
        "/v1/species/publications", params={"cursor": listed.json()["next"]}, headers=PUBLISHER
    )
    assert [p["id"] for p in rest.json()["items"]] == [body(first)["id"]]
    assert rest.json()["next"] is None


async def test_pangolin_json_errors_name_their_paths(client: AsyncClient, db_url: str) -> None:
    document = pangolin_document()
    document["quotas"][0]["terms"] = ["XXX"]
    document["quotas"][0]["start_date"] = "2026-02-30"
    document["suspensions"][0]["taxon_id"] = 999_999_999
    document["guides"][1]["taxon_id"] = None
    document["guides"][1]["taxon_name"] = "Pythonidae imaginaria"
    before = await table_counts(db_url)

    response = await client.post("/v1/species/publications", json=document, headers=PUBLISHER)

    assert response.status_code == 422, response.text
    found = {(e["row"], e["field"]) for e in body(response)["errors"]}
    # A document that does not match the schema is reported first, as a whole.
    assert found == {("/quotas/0", "start_date")}
    document["quotas"][0]["start_date"] = "2026-02-28"
    response = await client.post("/v1/species/publications", json=document, headers=PUBLISHER)
    assert response.status_code == 422, response.text
    found = {(e["row"], e["field"]) for e in body(response)["errors"]}
    assert ("/quotas/0", "terms") in found
    assert found == {("/quotas/0", "terms")}  # references are checked once the codes are
    document["quotas"][0]["terms"] = ["LIV"]
    response = await client.post("/v1/species/publications", json=document, headers=PUBLISHER)
    assert response.status_code == 422, response.text
    assert {(e["row"], e["field"]) for e in body(response)["errors"]} == {
        ("/suspensions/0", "taxon_id"),
        ("/guides/1", "taxon_name"),
    }
    assert await table_counts(db_url) == before


# --- scope --------------------------------------------------------------------------------


async def test_publishing_needs_the_publish_scope(client: AsyncClient) -> None:
    response = await client.post(
        "/v1/species/publications", json=pangolin_document(), headers=READER
    )
    assert response.status_code == 403
    assert body(response)["missing_scopes"] == ["species:publish"]
    listed = await client.get("/v1/species/publications", headers=READER)
    assert listed.status_code == 403


# --- jobs ---------------------------------------------------------------------------------


async def test_a_large_publication_is_applied_by_a_job_with_progress(
    db_url: str, nats_url: str
) -> None:
    app = create_app(
        settings(db_url, nats_url, publication_inline_max_records=5, publication_chunk=4)
    )
    async with running_app(app) as client:
        document = checklist_csv({"Python regius": {"CurrentListing": "I"}})
        response = await client.post(
            "/v1/species/publications", content=document, headers=PUBLISHER | CSV_TYPE
        )
        assert response.status_code == 202, response.text
        assert body(response)["status"] == "queued"
        assert body(response)["records_total"] == 15
        seen: list[tuple[str, int]] = []

        async def applied() -> dict[str, Any] | None:
            found = await client.get(response.headers["location"], headers=PUBLISHER)
            state = body(found)
            seen.append((state["status"], state["records_done"]))
            return state if state["status"] == "applied" else None

        done = await eventually(applied)

    assert done["records_done"] == done["records_total"] == 15
    assert (done["summary"]["updated"], done["summary"]["unchanged"]) == (1, 14)
    assert done["finished_at"] is not None
    progress = [records for _, records in seen]
    assert progress == sorted(progress)  # it only moves on
    assert types(await outbox_events(db_url)) == [
        ("species.listing.changed", str(PYTHON_REGIUS)),
        ("species.taxon.upserted", str(PYTHON_REGIUS)),
    ]


async def test_a_job_interrupted_by_a_restart_is_taken_up_again(db_url: str, nats_url: str) -> None:
    document = checklist_csv({"Python regius": {"CurrentListing": "I"}})
    db = Database(db_url)
    async with db.session() as session:  # what a replica stopped mid-apply left behind
        session.add(
            Publication(
                id="interrupted-1",
                format="checklist_csv",
                status="applying",
                publisher="ma-ghana",
                publisher_country="GH",
                content_sha256="x" * 64,
                content=document,
                records_total=15,
            )
        )
    await db.dispose()

    async with running_app(create_app(settings(db_url, nats_url))) as client:

        async def applied() -> dict[str, Any] | None:
            found = body(
                await client.get("/v1/species/publications/interrupted-1", headers=PUBLISHER)
            )
            return found if found["status"] == "applied" else None

        done = await eventually(applied)

        async def now_appendix_i() -> dict[str, Any] | None:
            found = await status(client, taxon_id=PYTHON_REGIUS, as_of="2026-11-20")
            return found if found["appendix"] == "I" else None

        await eventually(now_appendix_i)

    assert (done["summary"]["updated"], done["records_done"]) == (1, 15)
    assert len(await outbox_events(db_url)) == 2


async def test_the_openapi_document_describes_the_publication_body(client: AsyncClient) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    post = response.json()["paths"]["/v1/species/publications"]["post"]
    assert set(post["requestBody"]["content"]) == {
        "text/csv",
        "application/json",
        "multipart/form-data",
    }


async def test_a_job_that_cannot_be_applied_fails_with_its_reason_and_changes_nothing(
    db_url: str, nats_url: str
) -> None:
    db = Database(db_url)
    async with db.session() as session:  # a format this version does not know
        session.add(
            Publication(
                id="unknown-format-1", format="excel", status="queued", publisher="ma-ghana",
                publisher_country="GH", content_sha256="y" * 64, content=b"x", records_total=1,
            )
        )  # fmt: skip
    await db.dispose()
    before = await table_counts(db_url)

    async with running_app(create_app(settings(db_url, nats_url))) as client:

        async def finished() -> dict[str, Any] | None:
            found = body(
                await client.get("/v1/species/publications/unknown-format-1", headers=PUBLISHER)
            )
            return found if found["status"] not in ("queued", "applying") else None

        done = await eventually(finished)

    assert done["status"] == "failed"
    assert "excel" in done["errors"][0]["message"]
    assert done["finished_at"] is not None
    assert await table_counts(db_url) == before
