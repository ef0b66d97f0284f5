"""Two intel-share instances (Kenya and Viet Nam: two apps on two ports, two databases)
exchange over TAXII 2.1: shared records arrive with their originator, downgraded to the
receiving country; RED and organisation-only ones never travel; a revocation reaches the
partner; an older version does not overwrite a newer one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from intel_share.federation.service import Federation, scheduled
from intel_share.records.schemas import RecordOut, SeizureDetails
from intel_share.settings import IntelShareSettings, TaxiiPartner
from intel_share.sharing_groups.models import SharingGroup, SharingGroupMember
from intel_share.stix.mapping import to_stix
from intel_share.stix.markings import common_objects
from intel_share.taxii.models import TaxiiObject
from intel_share.taxii.service import COMMUNITY_ID
from intel_support import KE_CUSTOMS, TH_CUSTOMS, VN_CUSTOMS, IntelCaller, alert, person, seizure
from pangolin_core.contracts.cites_codes import read_code_lists
from pangolin_core.testing import eventually, identity_headers
from taxii_support import SEIZURE, ServedIntel, served_intel

KE_PARTNER = IntelCaller("ke-partner", "partner-ke", "KE", "partner", ("intel:federate",))


def partner_settings(peer: ServedIntel) -> TaxiiPartner:
    return TaxiiPartner(
        api_root=peer.api_root,  # type: ignore[arg-type]
        client_id="unused-in-tests",
        client_secret="unused-in-tests",  # type: ignore[arg-type]
    )


def as_partner_of(country: str) -> Any:
    """What the peer's gateway would forward for this instance's `partner` client."""

    async def headers() -> dict[str, str]:
        return identity_headers(
            "intel:federate",
            client_id=f"partner-{country.lower()}",
            country=country,
            roles=("partner",),
        )

    return headers


@pytest.fixture
async def pair(
    tmp_path: Path, nats_url: str
) -> AsyncIterator[tuple[ServedIntel, ServedIntel, Federation, Federation]]:
    ke_settings = IntelShareSettings(
        database_url=f"sqlite:///{tmp_path / 'ke.db'}",
        nats_url=nats_url,
        country="KE",
        federation_interval=0,
    )
    vn_settings = IntelShareSettings(
        database_url=f"sqlite:///{tmp_path / 'vn.db'}",
        nats_url=nats_url,
        country="VN",
        federation_interval=0,
    )
    async with (
        served_intel(ke_settings) as ke,
        served_intel(vn_settings) as vn,
        httpx.AsyncClient(timeout=10) as http,
    ):
        ke_fed = Federation(
            db=ke.intel.db,
            settings=ke_settings.model_copy(update={"partners": {"VN": partner_settings(vn)}}),
            http=http,
            codes=read_code_lists(),
            authenticators={"VN": as_partner_of("KE")},
        )
        vn_fed = Federation(
            db=vn.intel.db,
            settings=vn_settings.model_copy(update={"partners": {"KE": partner_settings(ke)}}),
            http=http,
            codes=read_code_lists(),
            authenticators={"KE": as_partner_of("VN")},
        )
        yield ke, vn, ke_fed, vn_fed


async def test_shared_records_arrive_with_their_originator_and_downgraded(pair: Any) -> None:
    ke, vn, _, vn_fed = pair
    shared = await ke.intel.create(KE_CUSTOMS, seizure())
    suspect = await ke.intel.create(KE_CUSTOMS, person())
    red = await ke.intel.create(KE_CUSTOMS, alert(tlp="red"))
    own = await ke.intel.create(KE_CUSTOMS, alert(distribution={"level": "organisation"}))
    national = await ke.intel.create(KE_CUSTOMS, alert(distribution={"level": "country"}))

    report = await vn_fed.pull_from("KE")
    assert report.outcomes() == {shared["id"]: "stored", suspect["id"]: "stored"}

    arrived = await vn.intel.get(VN_CUSTOMS, f"/v1/intel/records/{shared['id']}")
    assert arrived.status_code == 200, arrived.text
    body = arrived.json()
    assert body["originator"] == {"agency": "customs", "country": "KE"}
    assert body["distribution"] == {"level": "country", "sharing_group_id": None, "country": "VN"}
    assert body["seizure"]["specimens"] == shared["seizure"]["specimens"]
    assert body["version"] == 1
    for missing in (red, own, national):
        gone = await vn.intel.get(VN_CUSTOMS, f"/v1/intel/records/{missing['id']}")
        assert gone.status_code == 404
    assert await vn.intel.count("intel_record") == 2
    # Not re-shared further: Thailand's partner client sees nothing of it at Viet Nam's.
    th_partner = IntelCaller("th", "partner-th", "TH", "partner", ("intel:federate",))
    community = await vn.intel.get(
        th_partner, f"/taxii2/api/collections/{COMMUNITY_ID}/objects/", **{"match[type]": "report"}
    )
    assert community.json().get("objects") is None
    listed = await vn.intel.get(TH_CUSTOMS, "/v1/intel/records")
    assert listed.json()["total"] == 0
    # A second pull (it starts a while before the first one ended) stores nothing new.
    again = await vn_fed.pull_from("KE")
    assert {r.outcome for r in again.received} <= {"ignored"}
    assert await vn.intel.count("intel_record_version") == 2


async def test_a_revocation_and_newer_versions_reach_the_partner(pair: Any) -> None:
    ke, vn, _, vn_fed = pair
    created = await ke.intel.create(KE_CUSTOMS, alert())
    await vn_fed.pull_from("KE")
    path = f"/v1/intel/records/{created['id']}"
    changed = await ke.intel.patch(KE_CUSTOMS, path, {"handling_code": "2"})
    assert changed.status_code == 200, changed.text
    revoked = await ke.intel.post(KE_CUSTOMS, f"{path}/revoke", {"reason": "source withdrew"})
    assert revoked.status_code == 200, revoked.text

    report = await vn_fed.pull_from("KE")
    assert report.outcomes() == {created["id"]: "stored"}
    there = (await vn.intel.get(VN_CUSTOMS, path, include_revoked="true")).json()
    assert there["revoked"] is True
    assert there["version"] == 3
    assert there["revoked_reason"] == "source withdrew"


async def test_an_older_version_does_not_overwrite_a_newer_one(pair: Any) -> None:
    ke, vn, _, vn_fed = pair
    created = await ke.intel.create(KE_CUSTOMS, alert())
    path = f"/v1/intel/records/{created['id']}"
    assert (await ke.intel.patch(KE_CUSTOMS, path, {"handling_code": "3"})).status_code == 200
    await vn_fed.pull_from("KE")
    assert (await vn.intel.get(VN_CUSTOMS, path)).json()["version"] == 2

    # Kenya's partner client hands Viet Nam version 1 again (a replay, a late push).
    v1 = RecordOut.model_validate({**created, "is_originator": False})
    mapped = to_stix(v1)
    status = await vn.intel.client.post(
        f"/taxii2/api/collections/{COMMUNITY_ID}/objects/",
        json={"objects": [*common_objects(), *mapped.common, *mapped.own]},
        headers={**KE_PARTNER.headers, "Content-Type": "application/taxii+json;version=2.1"},
    )
    assert status.status_code == 202, status.text
    assert status.json()["failure_count"] == 0
    assert "version 2 is held already" in str(status.json()["successes"])
    there = (await vn.intel.get(VN_CUSTOMS, path)).json()
    assert there["version"] == 2
    assert there["handling_code"] == "3"


async def test_push_sends_only_what_the_partner_may_read(pair: Any) -> None:
    ke, vn, ke_fed, _ = pair
    shared = await ke.intel.create(KE_CUSTOMS, seizure())
    await ke.intel.create(KE_CUSTOMS, alert(tlp="red"))
    await ke.intel.create(KE_CUSTOMS, alert(distribution={"level": "organisation"}))
    await ke.intel.create(KE_CUSTOMS, alert(distribution={"level": "country"}))

    pushed = await ke_fed.push_to("VN")
    assert pushed.failures == []
    assert pushed.sent > 0
    records = (await vn.intel.get(VN_CUSTOMS, "/v1/intel/records")).json()["records"]
    assert [(r["id"], r["originator"]["country"]) for r in records] == [(shared["id"], "KE")]
    again = await ke_fed.push_to("VN")
    assert again.failures == []
    assert len((await vn.intel.get(VN_CUSTOMS, "/v1/intel/records")).json()["records"]) == 1
    assert await vn.intel.count("intel_record_version") == 1


async def test_the_scheduled_exchange_pulls_and_pushes(pair: Any) -> None:
    ke, vn, _, vn_fed = pair
    from_ke = await ke.intel.create(KE_CUSTOMS, alert())
    from_vn = await vn.intel.create(VN_CUSTOMS, alert(title="Viet Nam's alert"))
    vn_fed.settings = vn_fed.settings.model_copy(update={"federation_interval": 0.05})

    async def exchanged() -> bool:
        at_vn = await vn.intel.get(VN_CUSTOMS, f"/v1/intel/records/{from_ke['id']}")
        at_ke = await ke.intel.get(KE_CUSTOMS, f"/v1/intel/records/{from_vn['id']}")
        return at_vn.status_code == 200 and at_ke.status_code == 200

    async with scheduled(vn_fed):
        assert await eventually(exchanged, timeout=20)


async def test_a_sharing_group_record_stays_in_a_group_the_partner_holds(pair: Any) -> None:
    ke, vn, _, vn_fed = pair
    members = [{"country": "KE"}, {"country": "VN"}]
    held = await ke.intel.post(
        KE_CUSTOMS, "/v1/intel/sharing-groups", {"name": "KE-VN", "members": members}
    )
    not_held = await ke.intel.post(
        KE_CUSTOMS, "/v1/intel/sharing-groups", {"name": "KE-VN ad hoc", "members": members}
    )
    assert held.status_code == not_held.status_code == 201, held.text
    group_id = held.json()["id"]
    # Viet Nam holds the first group under the same id (groups agreed between countries).
    async with vn.intel.db.session() as session:
        session.add(
            SharingGroup(
                id=group_id,
                name="KE-VN",
                created_by="agreement",
                created_at=datetime.now(UTC),
                owner_country="KE",
                owner_agency="customs",
            )
        )
        await session.flush()
        session.add_all(SharingGroupMember(group_id=group_id, country=c) for c in ("KE", "VN"))
    in_group = await ke.intel.create(
        KE_CUSTOMS,
        alert(distribution={"level": "sharing_group", "sharing_group_id": group_id}),
    )
    in_other = await ke.intel.create(
        KE_CUSTOMS,
        alert(distribution={"level": "sharing_group", "sharing_group_id": not_held.json()["id"]}),
    )

    report = await vn_fed.pull_from("KE")
    assert report.outcomes() == {in_group["id"]: "stored", in_other["id"]: "stored"}
    kept = (await vn.intel.get(VN_CUSTOMS, f"/v1/intel/records/{in_group['id']}")).json()
    assert kept["distribution"] == {
        "level": "sharing_group",
        "sharing_group_id": group_id,
        "country": None,
    }
    downgraded = (await vn.intel.get(VN_CUSTOMS, f"/v1/intel/records/{in_other['id']}")).json()
    assert downgraded["distribution"]["level"] == "country"
    assert downgraded["distribution"]["country"] == "VN"


async def test_a_revoked_record_changes_no_more_and_keeps_its_type(pair: Any) -> None:
    ke, vn, _, vn_fed = pair
    created = await ke.intel.create(KE_CUSTOMS, alert())
    path = f"/v1/intel/records/{created['id']}"
    assert (await ke.intel.post(KE_CUSTOMS, f"{path}/revoke", {})).status_code == 200
    await vn_fed.pull_from("KE")
    revoked = RecordOut.model_validate(
        (await vn.intel.get(VN_CUSTOMS, path, include_revoked="true")).json()
    )
    assert revoked.revoked and revoked.version == 2
    # Kenya's partner client claims a version 3 that is not revoked: refused.
    revived = revoked.model_copy(
        update={
            "version": 3,
            "revoked": False,
            "distribution": revoked.distribution.model_copy(update={"level": "community"}),
        }
    )
    as_seizure = record_of_type(revived.model_copy(update={"version": 4}))
    for candidate, reason in ((revived, "changes no more"), (as_seizure, "held here as alert")):
        mapped = to_stix(candidate)
        status = await vn.intel.client.post(
            f"/taxii2/api/collections/{COMMUNITY_ID}/objects/",
            json={"objects": mapped.own},
            headers={**KE_PARTNER.headers, "Content-Type": "application/taxii+json;version=2.1"},
        )
        assert status.status_code == 202, status.text
        assert reason in str(status.json()["failures"])
    there = (await vn.intel.get(VN_CUSTOMS, path, include_revoked="true")).json()
    assert (there["version"], there["revoked"]) == (2, True)


def record_of_type(alert_record: RecordOut) -> RecordOut:
    """The same id, claimed as a seizure."""
    seizure = SeizureDetails.model_validate(SEIZURE)
    return alert_record.model_copy(update={"type": "seizure", "alert": None, "seizure": seizure})


@pytest.mark.parametrize(("overlap", "pulled"), [(60.0, True), (0.0, False)])
async def test_an_object_committed_late_with_an_earlier_stamp_is_still_pulled(
    pair: Any, overlap: float, pulled: bool
) -> None:
    ke, _, _, vn_fed = pair
    vn_fed.settings = vn_fed.settings.model_copy(update={"federation_overlap": overlap})
    await ke.intel.create(KE_CUSTOMS, alert(title="First"))
    await vn_fed.pull_from("KE")
    late = await ke.intel.create(KE_CUSTOMS, alert(title="Committed late"))
    # Its transaction stamped its objects before the first pull read, then committed after
    # (without the overlap, the next pull would start past it).
    async with ke.intel.db.session() as session:
        first_stamp = sa.select(sa.func.min(TaxiiObject.date_added)).scalar_subquery()
        await session.exec(
            sa.update(TaxiiObject)
            .where(TaxiiObject.record_id == late["id"])
            .values(date_added=first_stamp)
        )
    report = await vn_fed.pull_from("KE")
    assert (late["id"] in report.outcomes()) is pulled
