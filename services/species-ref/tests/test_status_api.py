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


async def test_the_documents_a_shipment_needs_follow_the_appendix_and_the_route(
    client: AsyncClient,
) -> None:
    """Appendix I from Kenya: export permit and import permit; the same elephant leaving
    South Africa (origin KE) is a re-export; an import whose origin is unknown cannot settle
    the split listing, so its documents are not determined either."""
    export = await status(client, taxon_id=LOXODONTA_AFRICANA, country="KE")
    re_export = await status(client, taxon_id=LOXODONTA_AFRICANA, country="ZA", origin="KE")
    imported = await status(
        client, taxon_id=LOXODONTA_AFRICANA, country="CN", direction="import", origin="BW"
    )
    unknown_origin = await status(
        client, taxon_id=LOXODONTA_AFRICANA, country="CN", direction="import"
    )
    python = await status(client, name="Python regius", country="GH")
    assert (export["appendix"], export["origin"]) == ("I", "KE")
    assert export["documents"]["export_document"] == "export_permit"
    assert export["documents"]["import_permit"] is True
    assert (re_export["appendix"], re_export["origin"]) == ("I", "KE")
    assert re_export["documents"]["export_document"] == "re_export_certificate"
    assert imported["appendix"] == "II"  # the Botswana population
    assert imported["documents"]["import_permit"] is False
    assert imported["documents"]["export_document_options"] == [
        "export_permit",
        "re_export_certificate",
    ]  # exported from Botswana or re-exported: the exporter was not given
    assert (unknown_origin["appendix"], unknown_origin["determined_by"]) == (
        None,
        "country_needed",
    )
    assert unknown_origin["documents"]["determined"] is False
    assert unknown_origin["documents"]["import_permit"] is None  # I or II: not known
    assert python["documents"] == {
        "export_document": "export_permit",
        "export_document_options": ["export_permit"],
        "import_permit": False,
        "appendix_iii_parties": [],
        "determined": True,
        "reason": "Appendix II (Article IV): an export permit",
    }
    assert python["not_covered_yet"] == []


async def test_an_appendix_iii_listing_without_its_party_says_so(client: AsyncClient) -> None:
    """The 2017 checklist names no Appendix III party: the honey badger's export needs the
    listing party's export permit or, from any other State, a certificate of origin, and
    the answer says it cannot tell which."""
    answer = await status(client, name="Mellivora capensis", country="BW", as_of="2026-11-20")
    assert answer["appendix"] == "III"
    assert answer["documents"]["determined"] is False
    assert answer["documents"]["export_document_options"] == [
        "export_permit",
        "certificate_of_origin",
    ]
    assert "not known" in answer["documents"]["reason"]
    assert answer["not_covered_yet"] == ["appendix_iii_party"]


async def test_origin_and_exporter_are_checked_codes(client: AsyncClient) -> None:
    response = await client.get(
        "/v1/species/status",
        params={"name": "Python regius", "country": "GH", "origin": "QQ"},
        headers=READ,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "origin"
    batch = await client.post(
        "/v1/species/status",
        json={"queries": [{"name": "Python regius", "direction": "import", "exporter": "QQ"}]},
        headers=READ,
    )
    assert batch.status_code == 422
    assert batch.json()["errors"][0]["field"] == "queries[0].exporter"
