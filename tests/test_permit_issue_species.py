"""The species checks at issue (`POST /v1/permits`) against species-ref running for real over
its shipped checklist and SAPI restrictions: the taxon resolved and stored, misspelt names and
appendix mismatches refused, Appendix I wild commercial trade refused by the appendix in force,
Afghanistan's country-wide suspension, Tanzania's leopard quota used up by an earlier permit,
and a back-filled permit stored with its warnings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from httpx import AsyncClient

from pangolin_core import migrations
from pangolin_core.natsserver import NatsServer
from pangolin_core.testing import identity_headers, running_app
from permit_verify.app import DEFINITION as PERMIT_VERIFY
from permit_verify.app import create_app as create_permit_verify
from permit_verify.settings import PermitVerifySettings
from species_ref.app import create_app as create_species_ref
from species_ref.settings import SpeciesRefSettings

# The apps run on the module's event loop: the tests must too.
pytestmark = pytest.mark.asyncio(loop_scope="module")

TODAY = datetime.now(UTC).date()
PYTHON_REGIUS = 5467


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def permits(
    checklist_url: str, nats_server: NatsServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[AsyncClient]:
    permits_url = f"sqlite:///{tmp_path_factory.mktemp('permits') / 'permits.db'}"
    await migrations.upgrade(PERMIT_VERIFY.migrations, permits_url)
    species_app = create_species_ref(
        SpeciesRefSettings(nats_url=nats_server.url, database_url=checklist_url)
    )
    # A generous species-ref timeout: two cores are shared with other test runs.
    permits_app = create_permit_verify(
        PermitVerifySettings(
            nats_url=nats_server.url, database_url=permits_url, species_rpc_timeout=10.0
        )
    )
    async with running_app(species_app), running_app(permits_app) as client:
        yield client


def ma(country: str) -> dict[str, str]:
    return identity_headers("permits:issue", client_id=f"ma-{country.lower()}", country=country)


def permit(country: str, number: str, *, issued_days_ago: int = 0, **item: Any) -> dict[str, Any]:
    issued = TODAY - timedelta(days=issued_days_ago)
    purpose = item.pop("purpose", "T")
    return {
        "number": number,
        "type": "export",
        "issuing_country": country,
        "security_stamp": None,
        "issued_on": issued.isoformat(),
        "valid_until": (issued + timedelta(days=150)).isoformat(),
        "exporter": {"name": "Savannah Reptiles Ltd", "address": "PO Box 1", "country": country},
        "importer": {"name": "Hanoi Pet Trading Co", "address": "12 Pho Hue", "country": "VN"},
        "purpose": purpose,
        "special_conditions": None,
        "items": [
            {
                "item_id": "A",
                "species": "Python regius",
                "description": "live animals",
                "term": "LIV",
                "appendix": "II",
                "source": "C",
                "quantity": "100",
                "unit": None,
                "origin_country": country,
                "origin_permit": None,
                "reexport_certificate": None,
            }
            | item
        ],
    }


async def issue(client: AsyncClient, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    answer = await client.post("/v1/permits", json=body, headers=ma(body["issuing_country"]))
    return answer.status_code, answer.json()


def errors_by_field(problem: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["field"]: e for e in problem["errors"]}


async def test_the_taxon_is_resolved_and_stored(permits: AsyncClient) -> None:
    status, body = await issue(permits, permit("KE", "KE/S/1"))
    assert status == 201, body
    assert body["items"][0]["taxon_id"] == PYTHON_REGIUS
    assert body["warnings"] == []
    stored = await permits.get(f"/v1/permits/{body['id']}", headers=ma("KE"))
    assert stored.json()["items"][0]["taxon_id"] == PYTHON_REGIUS


async def test_a_synonym_is_accepted_with_a_warning(permits: AsyncClient) -> None:
    status, body = await issue(permits, permit("KE", "KE/S/2", species="Boa regia"))
    assert status == 201, body
    assert body["items"][0]["taxon_id"] == PYTHON_REGIUS
    assert [(w["code"], w["field"]) for w in body["warnings"]] == [
        ("SPECIES_SYNONYM", "items[0].species")
    ]


async def test_a_misspelt_name_is_refused_with_the_suggestion(permits: AsyncClient) -> None:
    status, problem = await issue(permits, permit("KE", "KE/S/3", species="Pythn regius"))
    assert status == 422, problem
    error = errors_by_field(problem)["items[0].species"]
    assert (error["type"], error["match_type"], error["suggestion"]) == (
        "species_not_recognised",
        "FUZZY",
        "Python regius",
    )
    assert "did you mean 'Python regius'" in error["message"]


async def test_an_unknown_name_is_refused(permits: AsyncClient) -> None:
    status, problem = await issue(permits, permit("KE", "KE/S/4", species="Nonexistus fantasia"))
    assert status == 422, problem
    assert errors_by_field(problem)["items[0].species"]["match_type"] == "NONE"


async def test_an_appendix_other_than_the_listing_is_refused(permits: AsyncClient) -> None:
    status, problem = await issue(permits, permit("KE", "KE/S/5", appendix="III"))
    assert status == 422, problem
    error = errors_by_field(problem)["items[0].appendix"]
    assert (error["type"], error["expected"], error["actual"]) == ("appendix_mismatch", "II", "III")


async def test_wild_commercial_appendix_i_is_refused_by_the_listing_in_force(
    permits: AsyncClient,
) -> None:
    """Grey Parrots are in Appendix I since 2017: the MA wrote II, wild, commercial."""
    body = permit("KE", "KE/S/6", species="Psittacus erithacus", source="W", appendix="II")
    status, problem = await issue(permits, body)
    assert status == 422, problem
    errors = errors_by_field(problem)
    assert set(errors) == {"items[0].appendix", "purpose"}
    assert errors["items[0].appendix"]["expected"] == "I"
    assert errors["purpose"]["type"] == "purpose_not_allowed"


async def test_a_suspension_in_force_refuses_the_permit(permits: AsyncClient) -> None:
    """Afghanistan: country-wide suspension of commercial trade since 19 September 2005."""
    status, problem = await issue(permits, permit("AF", "AF/S/1"))
    assert status == 422, problem
    error = errors_by_field(problem)["items[0]"]
    assert error["type"] == "trade_suspended"
    [suspension] = error["suspensions"]
    assert suspension["start_date"] == "2005-09-19"
    assert "commercial purposes" in suspension["notes"]
    assert f"#{suspension['id']} in force since 2005-09-19" in error["message"]


async def test_a_back_filled_permit_under_a_suspension_is_stored_with_a_warning(
    permits: AsyncClient,
) -> None:
    status, body = await issue(permits, permit("AF", "AF/S/2", issued_days_ago=30))
    assert status == 201, body
    assert [(w["code"], w["field"]) for w in body["warnings"]] == [("TRADE_SUSPENDED", "items[0]")]
    assert body["warnings"][0]["message"].startswith("back-filled permit stored as issued")
    history = await permits.get(f"/v1/permits/{body['id']}/history", headers=ma("AF"))
    assert history.json()["entries"][0]["details"]["warnings"] == body["warnings"]


async def test_a_quota_used_up_by_an_earlier_permit_refuses_the_next(
    permits: AsyncClient,
) -> None:
    """Tanzania's leopard quota: 500 skins and trophies a year, hunting trophies (H, P)."""
    leopard = {"species": "Panthera pardus", "appendix": "I", "source": "W", "purpose": "H"}
    first = permit("TZ", "TZ/S/1", term="TRO", quantity="300", **leopard)
    status, body = await issue(permits, first)
    assert status == 201, body
    second = permit("TZ", "TZ/S/2", term="SKI", quantity="250", **leopard)
    status, problem = await issue(permits, second)
    assert status == 422, problem
    error = errors_by_field(problem)["items[0].quantity"]
    assert (error["type"], error["quota"], error["used"], error["requested"]) == (
        "quota_exceeded",
        "500",
        "300",
        "250",
    )
    # What is left fits.
    status, body = await issue(
        permits, permit("TZ", "TZ/S/3", term="SKI", quantity="200", **leopard)
    )
    assert status == 201, body


async def test_a_zero_quota_refuses_any_quantity(permits: AsyncClient) -> None:
    """Ecuador's Melanosuchus niger: zero export quota (Appendix II population)."""
    body = permit(
        "EC", "EC/S/1", species="Melanosuchus niger", term="SKI", source="W", quantity="1"
    )
    status, problem = await issue(permits, body)
    assert status == 422, problem
    error = errors_by_field(problem)["items[0].quantity"]
    assert (error["type"], error["quota"]) == ("quota_exceeded", "0")
