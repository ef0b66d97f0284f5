"""`POST /v1/species/match` and `species.rpc.match` over the whole checklist."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from pangolin_core.contracts.species import MatchRequest, MatchResponse, NameQuery
from pangolin_core.messaging.connection import connect_nats
from pangolin_core.messaging.rpc import RpcClient
from pangolin_core.natsserver import NatsServer
from pangolin_core.telemetry import setup_telemetry
from pangolin_core.testing import identity_headers

pytestmark = pytest.mark.asyncio(loop_scope="module")

READ = identity_headers("species:read")
PYTHON_REGIUS = 5467


async def match(client: AsyncClient, *names: str) -> list[dict[str, object]]:
    response = await client.post(
        "/v1/species/match", json={"names": [{"name": n} for n in names]}, headers=READ
    )
    assert response.status_code == 200, response.text
    results: list[dict[str, object]] = response.json()["results"]
    return results


async def test_names_as_declarations_write_them_find_their_taxon(client: AsyncClient) -> None:
    exact, synonym, common, misspelt, authored = await match(
        client,
        "Python regius",
        "Python bellii",
        "Ball Python",
        "Pyhton regius",
        "Python regius (Shaw, 1802)",
    )
    assert (exact["match_type"], exact["taxon_id"], exact["confidence"]) == (
        "EXACT",
        PYTHON_REGIUS,
        100,
    )
    assert (synonym["match_type"], synonym["taxon_id"]) == ("SYNONYM", PYTHON_REGIUS)
    assert (common["match_type"], common["taxon_id"]) == ("COMMON_NAME", PYTHON_REGIUS)
    assert (misspelt["match_type"], misspelt["taxon_id"]) == ("FUZZY", PYTHON_REGIUS)
    assert authored["taxon_id"] == PYTHON_REGIUS


async def test_a_genus_only_hit_is_never_a_species_hit(client: AsyncClient) -> None:
    (genus_only,) = await match(client, "Python zzyzxqua")
    assert genus_only["match_type"] == "HIGHER_RANK"
    assert genus_only["rank"] == "GENUS"
    (nothing,) = await match(client, "Qwrtzp plonkus")
    assert nothing["match_type"] == "NONE"
    assert nothing["taxon_id"] is None


async def test_more_than_1000_names_is_a_422_naming_the_field(client: AsyncClient) -> None:
    response = await client.post(
        "/v1/species/match",
        json={"names": [{"name": "Python regius"}] * 10_001},
        headers=READ,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "names"


async def test_other_services_match_names_over_nats(
    client: AsyncClient, nats_server: NatsServer
) -> None:
    nc = await connect_nats(nats_server.url, name="permit-verify-test")
    try:
        answer = await RpcClient(nc, setup_telemetry("permit-verify")).call(
            "species.rpc.match",
            MatchRequest(names=[NameQuery(name="Python regius"), NameQuery(name="Ball Python")]),
            MatchResponse,
        )
    finally:
        await nc.close()
    assert [r.taxon_id for r in answer.results] == [PYTHON_REGIUS, PYTHON_REGIUS]
    assert [r.match_type for r in answer.results] == ["EXACT", "COMMON_NAME"]
