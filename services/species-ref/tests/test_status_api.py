"""`/v1/species/status` and `species.rpc.status` over the whole checklist."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from pangolin_core.contracts.species import StatusQuery, StatusRequest, StatusResponse
from pangolin_core.messaging.connection import connect_nats
from pangolin_core.messaging.rpc import RpcClient, RpcRemoteError
from pangolin_core.natsserver import NatsServer
from pangolin_core.telemetry import setup_telemetry
from pangolin_core.testing import identity_headers

pytestmark = pytest.mark.asyncio(loop_scope="module")

READ = identity_headers("species:read")
LOXODONTA_AFRICANA = 4521


async def status(client: AsyncClient, **params: str | int) -> dict[str, object]:
    response = await client.get("/v1/species/status", params=params, headers=READ)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def test_a_declared_name_gets_its_appendix(client: AsyncClient) -> None:
    answer = await status(client, name="Ball Python", country="GH", as_of="2026-11-20")
    assert answer["full_name"] == "Python regius"
    assert answer["match_type"] == "COMMON_NAME"
    assert answer["appendix"] == "II"
    assert answer["listed"] is True
    assert answer["as_of"] == "2026-11-20"
    # Restrictions and guides are answered (none binds a Ghanaian ball python on that date,
    # no guide is published); what is still missing is declared, never to be read as "none".
    assert (answer["quotas"], answer["suspensions"], answer["guides"]) == ([], [], [])
    assert "suspensions" not in answer["not_covered_yet"]
    assert "id_guides" not in answer["not_covered_yet"]


async def test_the_country_of_origin_settles_a_split_listing(client: AsyncClient) -> None:
    kenya = await status(client, taxon_id=LOXODONTA_AFRICANA, country="KE")
    botswana = await status(client, taxon_id=LOXODONTA_AFRICANA, country="BW")
    unknown = await status(client, taxon_id=LOXODONTA_AFRICANA)
    assert (kenya["appendix"], botswana["appendix"]) == ("I", "II")
    assert unknown["appendix"] is None
    assert unknown["determined_by"] == "country_needed"
    assert {x["appendix"] for x in unknown["listings"]} == {"I", "II"}


async def test_a_name_outside_cites_is_not_listed(client: AsyncClient) -> None:
    answer = await status(client, name="Qwrtzp plonkus")
    assert (answer["listed"], answer["appendix"], answer["match_type"]) == (False, None, "NONE")


async def test_bad_queries_are_422_problems_naming_the_field(client: AsyncClient) -> None:
    both = await client.get(
        "/v1/species/status", params={"name": "Python regius", "taxon_id": 5467}, headers=READ
    )
    assert both.status_code == 422
    bad_country = await client.post(
        "/v1/species/status",
        json={"queries": [{"name": "Python regius"}, {"name": "Python regius", "country": "QQ"}]},
        headers=READ,
    )
    assert bad_country.status_code == 422
    assert bad_country.json()["errors"][0]["field"] == "queries[1].country"


async def test_a_declaration_s_lines_in_one_batch_and_over_nats(
    client: AsyncClient, nats_server: NatsServer
) -> None:
    request = StatusRequest(
        queries=[
            StatusQuery(name="Python regius", country="TG"),
            StatusQuery(name="Loxodonta africana", country="ZW"),
            StatusQuery(name="Pyhton regius", country="TG"),
        ]
    )
    over_http = await client.post(
        "/v1/species/status", json=request.model_dump(mode="json"), headers=READ
    )
    assert over_http.status_code == 200
    nc = await connect_nats(nats_server.url, name="permit-verify-test")
    try:
        rpc = RpcClient(nc, setup_telemetry("permit-verify"))
        over_nats = await rpc.call("species.rpc.status", request, StatusResponse)
        with pytest.raises(RpcRemoteError) as refused:
            await rpc.call(
                "species.rpc.status",
                StatusRequest(queries=[StatusQuery(name="Python regius", country="QQ")]),
                StatusResponse,
            )
    finally:
        await nc.close()
    assert [r["appendix"] for r in over_http.json()["results"]] == ["II", "II", "II"]
    assert [r.appendix for r in over_nats.results] == ["II", "II", "II"]
    assert over_nats.results[2].match_type == "FUZZY"
    assert refused.value.status == 422
