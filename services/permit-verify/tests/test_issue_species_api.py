"""The species checks at issue inside the service, without species-ref: none answering is a
503 that stores nothing (JSON and XML), and a real NATS responder on `species.rpc.status`
with fixed answers shows what the issue asks (one batch, one query per item) and how an
answer the checklist test cannot give (a split listing left unsettled) is taken. The checks
against the real checklist are `tests/test_permit_issue_species.py`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import nats
import pytest

from pangolin_core import migrations
from pangolin_core.contracts.species import SpeciesStatus, StatusRequest, StatusResponse
from pangolin_core.messaging.rpc import RpcEndpoint, RpcServer
from pangolin_core.telemetry import setup_telemetry
from pangolin_core.testing import identity_headers, running_app
from permit_support import MA_KE, PermitFactory, Registry
from permit_verify.app import DEFINITION, create_app
from permit_verify.settings import PermitVerifySettings

SAMPLE = (
    Path(__file__).resolve().parents[3].parent
    / "shared"
    / "data"
    / "permits"
    / "epix_v2_CITESEPermit.xml"
)
MA_XA = identity_headers("permits:issue", client_id="ma-xa", country="XA")
XML = {"content-type": "application/xml"}
Answer = Callable[[StatusRequest], Awaitable[StatusResponse]]


@pytest.fixture
async def checking_registry(database_url: str, nats_url: str) -> AsyncIterator[Registry]:
    """The registry with its species checks at issue on (the default), and no species-ref."""
    await migrations.upgrade(DEFINITION.migrations, database_url)
    settings = PermitVerifySettings(
        database_url=database_url,
        nats_url=nats_url,
        extra_country_codes=["XB"],
        species_rpc_timeout=0.5,
    )
    app = create_app(settings)
    async with running_app(app) as client:
        yield Registry(client, app.state.runtime.db)


async def _stored_nothing(registry: Registry) -> None:
    for table in ("permit", "permit_item", "permit_audit", "outbox"):
        assert await registry.count(table) == 0, table


def _sample() -> bytes:
    return SAMPLE.read_bytes()  # ../shared/data beside the checkout, as test_citesepermit reads it


async def test_species_ref_not_answering_is_a_503_and_nothing_is_stored(
    checking_registry: Registry, export_permit: PermitFactory
) -> None:
    answer = await checking_registry.client.post("/v1/permits", json=export_permit(), headers=MA_KE)
    assert answer.status_code == 503, answer.text
    assert answer.json()["code"] == "species_unavailable"
    xml = await checking_registry.client.post(
        "/v1/permits", content=_sample(), headers={**MA_XA, **XML}
    )
    assert xml.status_code == 503 and xml.json()["code"] == "species_unavailable"
    await _stored_nothing(checking_registry)


async def _with_responder(nats_url: str, answer: Answer) -> tuple[nats.NATS, RpcServer]:
    nc = await nats.connect(nats_url)
    server = RpcServer(nc, setup_telemetry("species-test"), name="species-fixed", version="0.0.1")
    await server.start([RpcEndpoint("species.rpc.status", StatusRequest, answer)])
    return nc, server


def _status(request: StatusRequest, n: int, **changes: object) -> SpeciesStatus:
    query = request.queries[n]
    fields: dict[str, object] = {
        "query": query,
        "taxon_id": 4521,
        "full_name": "Loxodonta africana",
        "rank": "SPECIES",
        "match_type": "EXACT",
        "match_confidence": 100,
        "as_of": query.as_of or date.today(),
        "country": query.country,
        "listed": True,
        "appendix": "II",
        "determined_by": "single_listing",
        "reason": "one listing in force",
        "listings": [],
    }
    return SpeciesStatus.model_validate(fields | changes)


async def test_one_batch_asks_each_item_as_the_issuing_state_trades_it_and_an_unsettled_split_listing_is_a_warning(  # noqa: E501
    checking_registry: Registry, export_permit: PermitFactory, nats_url: str
) -> None:
    received: list[StatusRequest] = []

    async def answer(request: StatusRequest) -> StatusResponse:
        received.append(request)
        return StatusResponse(
            results=[
                _status(
                    request,
                    n,
                    appendix=None,
                    determined_by="undetermined",
                    reason="part of the population of XX",
                )
                for n in range(len(request.queries))
            ]
        )

    body = export_permit()
    item = body["items"][0] | {"species": "Loxodonta africana", "term": "TUS", "source": "W"}
    body |= {"purpose": "S", "items": [item, item | {"item_id": "B", "origin_country": "TZ"}]}
    nc, server = await _with_responder(nats_url, answer)
    try:
        issued = await checking_registry.client.post("/v1/permits", json=body, headers=MA_KE)
    finally:
        await server.stop()
        await nc.close()
    assert issued.status_code == 201, issued.text
    [request] = received
    assert [
        (q.name, q.as_of, q.country, q.direction, q.origin, q.term, q.source, q.purpose)
        for q in request.queries
    ] == [
        (
            "Loxodonta africana",
            date.fromisoformat(body["issued_on"]),
            "KE",
            "export",
            o,
            "TUS",
            "W",
            "S",
        )
        for o in ("KE", "TZ")
    ]
    permit = issued.json()
    assert [i["taxon_id"] for i in permit["items"]] == [4521, 4521]
    assert [(w["code"], w["field"]) for w in permit["warnings"]] == [
        ("APPENDIX_UNDETERMINED", "items[0].appendix"),
        ("APPENDIX_UNDETERMINED", "items[1].appendix"),
    ]


async def test_an_xml_permit_goes_through_the_species_checks_back_filled_with_warnings(
    checking_registry: Registry, nats_url: str
) -> None:
    """The EPIX sample was issued in 2014: back-filled, so what species-ref says against it
    (here: Appendix I, which makes its wild item commercial trade) is stored as warnings."""

    async def answer(request: StatusRequest) -> StatusResponse:
        return StatusResponse(
            results=[_status(request, n, appendix="I") for n in range(len(request.queries))]
        )

    nc, server = await _with_responder(nats_url, answer)
    try:
        stored = await checking_registry.client.post(
            "/v1/permits", content=_sample(), headers={**MA_XA, **XML}
        )
    finally:
        await server.stop()
        await nc.close()
    assert stored.status_code == 201, stored.text
    warnings = [(w["code"], w["field"]) for w in stored.json()["warnings"]]
    assert warnings == [
        ("APPENDIX_MISMATCH", "items[0].appendix"),
        ("PURPOSE_NOT_ALLOWED", "purpose"),
    ]
    assert all(w["message"].startswith("back-filled permit") for w in stored.json()["warnings"])


async def test_a_current_xml_permit_refused_by_species_ref_names_the_message_boxes(
    checking_registry: Registry, nats_url: str
) -> None:
    """The EPIX sample dated today: no longer back-filled, so Appendix I refuses it, naming
    the JSON fields and the message's XPaths; nothing is stored."""
    today = datetime.now(UTC).date()
    sample = (
        _sample()
        .replace(b"2014-01-06", today.isoformat().encode())
        .replace(b"2014-07-05", (today + timedelta(days=30)).isoformat().encode())
    )

    async def answer(request: StatusRequest) -> StatusResponse:
        return StatusResponse(
            results=[_status(request, n, appendix="I") for n in range(len(request.queries))]
        )

    nc, server = await _with_responder(nats_url, answer)
    try:
        refused = await checking_registry.client.post(
            "/v1/permits", content=sample, headers={**MA_XA, **XML}
        )
    finally:
        await server.stop()
        await nc.close()
    assert refused.status_code == 422, refused.text
    errors = {e["field"]: e for e in refused.json()["errors"]}
    assert set(errors) == {"items[0].appendix", "purpose"}
    assert (errors["items[0].appendix"]["expected"], errors["items[0].appendix"]["actual"]) == (
        "I",
        "II",
    )
    assert errors["items[0].appendix"]["xpath"].endswith(
        "IncludedSupplyChainConsignmentItem[1]/IncludedSupplyChainTradeLineItem/TypeCode"
    )
    assert errors["purpose"]["xpath"] == "/CITESEPermit/HeaderExchangedDocument/PurposeCode"
    await _stored_nothing(checking_registry)


def test_production_refuses_the_species_check_off() -> None:
    with pytest.raises(ValueError, match="SPECIES_CHECK_AT_ISSUE"):
        PermitVerifySettings(env="production", species_check_at_issue=False)
