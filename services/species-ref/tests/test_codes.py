"""The CITES code lists, served to other services and clients."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from httpx import AsyncClient

from pangolin_core import migrations
from pangolin_core.testing import identity_headers, running_app
from species_ref.app import DEFINITION, create_app
from species_ref.codes.service import CodeListName, read_code_lists
from species_ref.settings import SpeciesRefSettings


@pytest.fixture
async def client(nats_url: str, tmp_path: Path) -> AsyncIterator[AsyncClient]:
    url = f"sqlite:///{tmp_path / 'species.db'}"
    await migrations.upgrade(DEFINITION.migrations, url)
    app = create_app(SpeciesRefSettings(nats_url=nats_url, database_url=url))
    async with running_app(app) as client:
        yield client


def test_the_shipped_lists_hold_every_cites_code() -> None:
    lists = read_code_lists()
    counts = {name: len(lists.codes(name)) for name in CodeListName}
    assert counts == {
        CodeListName.TERMS: 106,
        CodeListName.UNITS: 37,
        CodeListName.PURPOSES: 12,
        CodeListName.SOURCES: 11,
        CodeListName.COUNTRIES: 270,
    }
    assert lists.is_valid(CodeListName.SOURCES, "Y"), "assisted production (CoP18)"
    assert lists.is_valid(CodeListName.TERMS, "LIV")
    assert not lists.is_valid(CodeListName.TERMS, "LIVE")
    kenya = lists.lists[CodeListName.COUNTRIES]["KE"]
    assert (kenya.description, kenya.non_iso, str(kenya.party_since)) == (
        "Kenya",
        False,
        "1979-03-13",
    )
    for non_iso in ("XX", "ZZ", "XV"):
        assert lists.lists[CodeListName.COUNTRIES][non_iso].non_iso


async def test_a_code_list_is_served_to_a_reader(client: AsyncClient) -> None:
    response = await client.get("/v1/species/codes/units", headers=identity_headers("species:read"))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 37
    assert {"code": "KIL", "description": "Kilograms"} in [
        {k: v for k, v in c.items() if v is not None} for c in body["codes"]
    ]


async def test_an_unknown_list_is_a_422_problem_naming_the_allowed_ones(
    client: AsyncClient,
) -> None:
    response = await client.get(
        "/v1/species/codes/colours", headers=identity_headers("species:read")
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "terms" in response.json()["errors"][0]["message"]


async def test_code_lists_need_the_read_scope(client: AsyncClient) -> None:
    response = await client.get("/v1/species/codes/terms", headers=identity_headers("intel:read"))
    assert response.status_code == 403
