"""The checklist snapshot loaded into species-ref, and the taxa API over it."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import sqlalchemy as sa
from httpx import AsyncClient

from pangolin_core import migrations
from pangolin_core.db import Database
from pangolin_core.messaging.tables import outbox
from pangolin_core.testing import identity_headers, postgres_database
from species_ref.app import DEFINITION
from species_ref.checklist import read_checklist
from species_ref.seed import CHECKLIST, CHECKLIST_SOURCE, seed
from species_ref.settings import SpeciesRefSettings
from species_ref.taxa.service import load_checklist

pytestmark = pytest.mark.asyncio(loop_scope="module")

READ = identity_headers("species:read")
LOXODONTA_AFRICANA, PYTHON_REGIUS, ARCTICTIS_BINTURONG = 4521, 5467, 10356


async def scalar(url: str, query: sa.Select[tuple[int]]) -> int:
    db = Database(url)
    try:
        async with db.session(write=False) as session:
            return int(await session.scalar(query) or 0)
    finally:
        await db.dispose()


async def test_the_whole_checklist_is_loaded_with_an_event_per_taxon(loaded_url: str) -> None:
    from species_ref.taxa.models import TaxonConcept

    assert await scalar(loaded_url, sa.select(sa.func.count()).select_from(TaxonConcept)) == 38079
    upserted = sa.select(sa.func.count()).where(outbox.c.subject == "species.taxon.upserted")
    assert await scalar(loaded_url, upserted) == 38079


async def test_loading_again_changes_nothing(loaded_url: str) -> None:
    assert await seed(SpeciesRefSettings(database_url=loaded_url)) == (
        "taxa already loaded; checklist not reloaded; restrictions already loaded"
    )
    # one event per taxon, quota, suspension and reservation of the first load
    events = 38079 + 72 + 274 + 388
    assert await scalar(loaded_url, sa.select(sa.func.count()).select_from(outbox)) == events


async def test_a_split_listed_species_with_names_in_three_languages(client: AsyncClient) -> None:
    response = await client.get(f"/v1/species/taxa/{LOXODONTA_AFRICANA}", headers=READ)
    assert response.status_code == 200
    taxon = response.json()
    assert taxon["full_name"] == "Loxodonta africana"
    assert taxon["author_year"] == "(Blumenbach, 1797)"
    assert taxon["appendices"] == ["I", "II"]
    assert taxon["higher_taxa"]["family"] == "Elephantidae"
    assert {"name": "Loxodonta cyclotis", "author": "(Matschie, 1900)"} in taxon["synonyms"]
    languages = {c["language"] for c in taxon["common_names"]}
    assert languages == {"EN", "ES", "FR"}
    appendix_ii = next(x for x in taxon["current_listings"] if x["appendix"] == "II")
    assert "BW, NA, ZA, ZW" in appendix_ii["annotation"]
    assert appendix_ii["source"] == CHECKLIST_SOURCE


async def test_a_species_with_its_synonyms_and_common_names(client: AsyncClient) -> None:
    taxon = (await client.get(f"/v1/species/taxa/{PYTHON_REGIUS}", headers=READ)).json()
    assert taxon["appendices"] == ["II"]
    assert [s["name"] for s in taxon["synonyms"]] == [
        "Python bellii",
        "Enygrus regius",
        "Boa regia",
        "Cenchris regia",
        "Hortulia regia",
    ]
    assert {"name": "Ball Python", "language": "EN"} in taxon["common_names"]


async def test_an_appendix_iii_species(client: AsyncClient) -> None:
    taxon = (await client.get(f"/v1/species/taxa/{ARCTICTIS_BINTURONG}", headers=READ)).json()
    assert taxon["full_name"] == "Arctictis binturong"
    assert taxon["appendices"] == ["III"]


async def test_distributions_carry_their_tags(client: AsyncClient) -> None:
    response = await client.get(
        f"/v1/species/taxa/{LOXODONTA_AFRICANA}/distributions", headers=READ
    )
    found = {(d["country"], d["tag"]) for d in response.json()["distributions"]}
    assert {("KE", "native"), ("BI", "extinct"), ("SZ", "reintroduced")} <= found


async def test_taxa_by_name_in_any_case(client: AsyncClient) -> None:
    response = await client.get("/v1/species/taxa", params={"name": "python REGIUS"}, headers=READ)
    assert [t["id"] for t in response.json()["items"]] == [PYTHON_REGIUS]


async def test_pages_follow_each_other_without_overlap(client: AsyncClient) -> None:
    first = (await client.get("/v1/species/taxa", params={"limit": 3}, headers=READ)).json()
    second = (
        await client.get(
            "/v1/species/taxa", params={"limit": 3, "cursor": first["next"]}, headers=READ
        )
    ).json()
    ids = [t["id"] for t in first["items"]] + [t["id"] for t in second["items"]]
    assert len(ids) == 6
    assert ids == sorted(set(ids))


async def test_a_bad_cursor_a_bad_id_and_an_unknown_taxon_are_problems(
    client: AsyncClient,
) -> None:
    bad_cursor = await client.get("/v1/species/taxa", params={"cursor": "!!"}, headers=READ)
    assert bad_cursor.status_code == 400
    assert bad_cursor.headers["content-type"] == "application/problem+json"
    assert (await client.get("/v1/species/taxa/abc", headers=READ)).status_code == 422
    missing = await client.get("/v1/species/taxa/999999999", headers=READ)
    assert missing.status_code == 404
    assert "999999999" in missing.json()["detail"]


async def test_taxa_need_the_read_scope(client: AsyncClient) -> None:
    response = await client.get(
        f"/v1/species/taxa/{PYTHON_REGIUS}", headers=identity_headers("permits:verify")
    )
    assert response.status_code == 403


@pytest.mark.postgres
async def test_the_loader_writes_the_same_rows_on_postgresql(tmp_path: Path) -> None:
    from species_ref.taxa.models import ListingChange, TaxonConcept, TaxonName

    taxa = list(itertools.islice(read_checklist(CHECKLIST), 2000))
    async with postgres_database() as url:
        await migrations.upgrade(DEFINITION.migrations, url)
        db = Database(url)
        try:
            async with db.session() as session:
                summary = await load_checklist(session=session, taxa=taxa, source="test")
        finally:
            await db.dispose()
        assert summary.taxa == 2000
        count = sa.select(sa.func.count())
        assert await scalar(url, count.select_from(TaxonConcept)) == 2000
        assert await scalar(url, count.select_from(TaxonName)) == summary.names
        assert await scalar(url, count.select_from(ListingChange)) == summary.listings
        assert await scalar(url, count.select_from(outbox)) == 2000
