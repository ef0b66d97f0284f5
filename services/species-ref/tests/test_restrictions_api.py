"""Quotas, suspensions and reservations over the loaded checklist: the taxa endpoints and
the status answer, at points in time."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from httpx import AsyncClient

from pangolin_core.db import Database
from pangolin_core.messaging.tables import outbox
from pangolin_core.testing import identity_headers

pytestmark = pytest.mark.asyncio(loop_scope="module")

READ = identity_headers("species:read")
BALAENA_MYSTICETUS, MELANOSUCHUS_NIGER, PANTHERA_PARDUS = 7903, 10978, 8619
DIOSPYROS_ACULEATA, PLATYSTERNON_MEGACEPHALUM, PYTHON_REGIUS = 18841, 8391, 5467


async def get(client: AsyncClient, path: str, **params: Any) -> dict[str, Any]:
    response = await client.get(path, params=params, headers=READ)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def status(client: AsyncClient, **params: Any) -> dict[str, Any]:
    return await get(client, "/v1/species/status", **params)


async def test_the_bowhead_suspension_at_two_points_in_time(client: AsyncClient) -> None:
    during = await status(client, taxon_id=BALAENA_MYSTICETUS, as_of="2013-01-01", country="JP")
    after = await status(client, taxon_id=BALAENA_MYSTICETUS, as_of="2016-01-01", country="JP")
    [iwc] = [s for s in during["suspensions"] if s["taxon"]["name"] == "Balaena mysticetus"]
    assert (iwc["start_date"], iwc["end_date"], iwc["country"]) == (
        "2012-02-02",
        "2015-04-09",
        None,
    )
    assert iwc["excluded_purposes"] == ["G", "Q", "S", "Z"]
    assert after["suspensions"] == []
    assert "suspensions" not in during["not_covered_yet"]


async def test_an_exempted_purpose_is_not_suspended(client: AsyncClient) -> None:
    zoo = await status(
        client, taxon_id=BALAENA_MYSTICETUS, as_of="2013-01-01", country="JP", purpose="Z"
    )
    trade = await status(
        client, taxon_id=BALAENA_MYSTICETUS, as_of="2013-01-01", country="JP", purpose="T"
    )
    assert zoo["suspensions"] == []
    assert len(trade["suspensions"]) == 1


async def test_a_country_wide_suspension_reaches_every_taxon(client: AsyncClient) -> None:
    answer = await status(client, taxon_id=PYTHON_REGIUS, as_of="2010-01-01", country="AF")
    [afghanistan] = answer["suspensions"]
    assert afghanistan["taxon"] == {"name": None, "rank": None, "taxon_id": None}
    assert (afghanistan["country"], afghanistan["start_date"]) == ("AF", "2005-09-19")
    assert afghanistan["direction"] == "export"
    # it concerns Afghanistan's exports: an import into Afghanistan is not suspended
    imported = await status(
        client, taxon_id=PYTHON_REGIUS, as_of="2010-01-01", country="AF", direction="import"
    )
    assert imported["suspensions"] == []
    elsewhere = await status(client, taxon_id=PYTHON_REGIUS, as_of="2010-01-01", country="GH")
    assert elsewhere["suspensions"] == []


async def test_suspensions_of_a_taxon_include_its_genus(client: AsyncClient) -> None:
    path = f"/v1/species/taxa/{DIOSPYROS_ACULEATA}/suspensions"
    now = await get(client, path, as_of="2023-01-01", country="MG")
    on_genus = [s for s in now["suspensions"] if s["taxon"]["name"] == "Diospyros"]
    assert [(s["taxon"]["rank"], s["start_date"]) for s in on_genus] == [("GENUS", "2022-05-12")]
    history = await get(client, path, country="MG")
    genus_history = [s for s in history["suspensions"] if s["taxon"]["name"] == "Diospyros"]
    assert [s["start_date"] for s in genus_history] == [
        "2016-03-15",
        "2017-06-27",
        "2018-01-15",
        "2022-05-12",
    ]
    assert history["as_of"] is None and now["full_name"] == "Diospyros aculeata"


async def test_a_zero_export_quota(client: AsyncClient) -> None:
    body = await get(
        client, f"/v1/species/taxa/{MELANOSUCHUS_NIGER}/quotas", year=2020, country="EC"
    )
    [zero] = body["quotas"]
    assert (zero["quota"], zero["country"], zero["end_date"]) == ("0", "EC", None)
    answer = await status(client, taxon_id=MELANOSUCHUS_NIGER, as_of="2020-06-01", country="EC")
    assert [q["quota"] for q in answer["quotas"]] == ["0"]


async def test_quotas_by_year_end_with_their_end_date(client: AsyncClient) -> None:
    path = f"/v1/species/taxa/{PANTHERA_PARDUS}/quotas"
    in_2020 = await get(client, path, year=2020, country="KE")
    in_2024 = await get(client, path, year=2024, country="KE")
    assert [(q["quota"], q["terms"]) for q in in_2020["quotas"]] == [("80", ["SKI", "TRO"])]
    assert in_2024["quotas"] == []
    everywhere = await get(client, path, year=2020)
    assert len({q["country"] for q in everywhere["quotas"]}) >= 10
    # a quota is an export quota: it binds the exporter, not the importer
    importing = await status(
        client, taxon_id=PANTHERA_PARDUS, as_of="2020-06-01", country="KE", direction="import"
    )
    assert importing["quotas"] == []
    live = await status(
        client, taxon_id=PANTHERA_PARDUS, as_of="2020-06-01", country="KE", term="LIV"
    )
    assert live["quotas"] == []  # the quota covers skins and trophies only


async def test_a_reservation_on_the_family_binds_its_species(client: AsyncClient) -> None:
    during = await status(client, taxon_id=PLATYSTERNON_MEGACEPHALUM, as_of="2014-01-01")
    after = await status(client, taxon_id=PLATYSTERNON_MEGACEPHALUM, as_of="2016-01-01")
    canada = {
        (r["taxon"]["name"], r["taxon"]["rank"])
        for r in during["reservations"]
        if r["party"] == "CA"
    }
    assert ("Platysternidae", "FAMILY") in canada
    assert not [r for r in after["reservations"] if r["taxon"]["name"] == "Platysternidae"]


@pytest.mark.parametrize(
    ("path", "params", "status_code", "field"),
    [
        (f"/v1/species/taxa/{BALAENA_MYSTICETUS}/suspensions", {"country": "QQ"}, 422, "country"),
        (f"/v1/species/taxa/{BALAENA_MYSTICETUS}/suspensions", {"country": "jp"}, 422, "country"),
        (
            f"/v1/species/taxa/{BALAENA_MYSTICETUS}/suspensions",
            {"as_of": "2013-13-45"},
            422,
            "as_of",
        ),
        (
            f"/v1/species/taxa/{BALAENA_MYSTICETUS}/suspensions",
            {"as_of": "13/01/2013"},
            422,
            "as_of",
        ),
        (f"/v1/species/taxa/{MELANOSUCHUS_NIGER}/quotas", {"year": "last"}, 422, "year"),
        (f"/v1/species/taxa/{MELANOSUCHUS_NIGER}/quotas", {"year": "99999"}, 422, "year"),
        ("/v1/species/taxa/999999999/quotas", {}, 404, None),
        ("/v1/species/taxa/999999999/suspensions", {}, 404, None),
        ("/v1/species/status", {"taxon_id": BALAENA_MYSTICETUS, "purpose": "zoo"}, 422, "purpose"),
        (
            "/v1/species/status",
            {"taxon_id": BALAENA_MYSTICETUS, "as_of": "yesterday"},
            422,
            "as_of",
        ),
    ],
)
async def test_bad_input_is_a_problem_not_a_500(
    client: AsyncClient, path: str, params: dict[str, Any], status_code: int, field: str | None
) -> None:
    response = await client.get(path, params=params, headers=READ)
    assert response.status_code == status_code, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    if field is not None:
        assert field in {error["field"] for error in response.json()["errors"]}


async def test_restrictions_need_the_read_scope(client: AsyncClient) -> None:
    response = await client.get(
        f"/v1/species/taxa/{BALAENA_MYSTICETUS}/suspensions",
        headers=identity_headers("permits:verify"),
    )
    assert response.status_code == 403


async def test_the_load_published_an_event_per_restriction(loaded_url: str) -> None:
    db = Database(loaded_url)
    try:
        async with db.session(write=False) as session:
            counts = dict(
                (
                    await session.exec(  # type: ignore[call-overload]
                        sa.select(outbox.c.subject, sa.func.count()).group_by(outbox.c.subject)
                    )
                ).all()
            )
    finally:
        await db.dispose()
    assert counts["species.quota.published"] == 72
    assert counts["species.suspension.published"] == 274
    assert counts["species.reservation.published"] == 388
