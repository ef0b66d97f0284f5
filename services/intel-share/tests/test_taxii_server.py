"""The TAXII 2.1 server with the real `taxii2-client` and `stix2.TAXIICollectionSource`,
against intel-share served by uvicorn on loopback (the client is synchronous: it runs in a
thread)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa
from stix2 import Filter, TAXIICollectionSource
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from intel_share.audit.models import IntelAuditEntry
from intel_share.settings import IntelShareSettings
from intel_share.stix.mapping import bundle, main_object_id, to_stix
from intel_share.stix.markings import PANGOLIN_EXTENSION_ID, TLP2_MARKING_IDS, common_objects
from intel_share.stix.validation import validation_errors
from intel_share.taxii.service import COMMUNITY_ID, country_collection_id
from intel_support import KE_CUSTOMS, TH_CUSTOMS, VN_CUSTOMS, IntelCaller, alert, person, seizure
from taxii_support import IdentityAuth, ServedIntel, person_in_network, record, served_intel

BUNDLE_ID = "bundle--6b2f0c1e-8d3a-4f5b-9c7e-1a2b3c4d5e6f"
VN_PARTNER = IntelCaller("vn-partner", "partner-vn", "VN", "partner", ("intel:federate",))


@pytest.fixture
async def served(database_url: str, nats_url: str) -> AsyncIterator[ServedIntel]:
    settings = IntelShareSettings(database_url=database_url, nats_url=nats_url, country="KE")
    async with served_intel(settings) as instance:
        yield instance


def collection(served: ServedIntel, caller: IntelCaller, collection_id: str) -> Collection:
    url = f"{served.api_root}collections/{collection_id}/"
    return Collection(url, auth=IdentityAuth(caller.headers))


async def test_discovery_api_root_and_collections(served: ServedIntel) -> None:
    intel = served.intel
    group = await intel.post(
        KE_CUSTOMS,
        "/v1/intel/sharing-groups",
        {"name": "East Africa - Asia", "members": [{"country": "KE"}, {"country": "VN"}]},
    )
    assert group.status_code == 201, group.text

    def discover(caller: IntelCaller) -> tuple[list[str], list[str], list[bool]]:
        server = Server(f"{served.url}/taxii2/", auth=IdentityAuth(caller.headers))
        root: ApiRoot = server.default
        assert root.url == served.api_root
        assert "application/taxii+json;version=2.1" in root.versions
        titles = [c.title for c in root.collections]
        return titles, [c.id for c in root.collections], [c.can_write for c in root.collections]

    titles, ids, writable = await asyncio.to_thread(discover, VN_PARTNER)
    assert titles == ["Community", "Country VN", "Sharing group East Africa - Asia"]
    assert ids[:2] == [COMMUNITY_ID, country_collection_id("VN")]
    assert all(writable)
    th_titles, _, _ = await asyncio.to_thread(discover, TH_CUSTOMS)
    assert th_titles == ["Community", "Country TH"]


async def test_add_objects_answers_a_complete_status(served: ServedIntel) -> None:
    records = [record("seizure"), record("person"), record("alert")]
    objects = list(common_objects())
    for r in records:
        mapped = to_stix(r)
        objects += mapped.own + mapped.common
    envelope = {"objects": bundle(objects)["objects"]}
    ke = collection(served, KE_CUSTOMS, COMMUNITY_ID)
    status = await asyncio.to_thread(ke.add_objects, envelope)
    assert status.status == "complete"
    assert status.total_count == len(envelope["objects"])
    assert status.success_count == status.total_count, status.failures
    for r in records:
        stored = await served.intel.get(KE_CUSTOMS, f"/v1/intel/records/{r.id}")
        assert stored.status_code == 200
        assert stored.json()["version"] == 1
    # The same objects again: nothing changes, every object still succeeds (held already).
    again = await asyncio.to_thread(ke.add_objects, envelope)
    assert again.success_count == again.total_count
    assert "held already" in str(again.successes)
    # A partner cannot hand over Kenya's records, nor a Kenyan client another's.
    vn = collection(served, VN_PARTNER, COMMUNITY_ID)
    refused = await asyncio.to_thread(vn.add_objects, envelope)
    report_id = main_object_id(records[0])
    assert report_id in {f["id"] for f in refused.failures}
    # The status resource is the caller's to read again, and no one else's.
    path = f"/taxii2/api/status/{status.id}/"
    again_status = await served.intel.get(KE_CUSTOMS, path)
    assert again_status.json()["success_count"] == status.success_count
    assert (await served.intel.get(VN_PARTNER, path)).status_code == 404


async def test_unreadable_records_fail_in_the_status_never_a_500(served: ServedIntel) -> None:
    network, member = person_in_network()
    mapped = to_stix(member)
    relationship = next(o for o in mapped.own if o["type"] == "relationship")
    relationship["extensions"][PANGOLIN_EXTENSION_ID]["relationship_kind"] = "bogus"
    bogus = mapped.main
    broken_seizure = to_stix(record("seizure"))
    seizure_sdo = next(o for o in broken_seizure.own if o["type"] == "x-pangolin-seizure")
    seizure_sdo["specimens"][0]["quantity"] = "-5"
    unknown_country = to_stix(
        record("company", entity={"kind": "company", "name": "Nowhere Ltd", "country": "QQ"})
    )
    ok = to_stix(network)
    objects = [
        *mapped.own,
        *broken_seizure.own,
        *unknown_country.own,
        *ok.own,
        {"type": "indicator", "id": "x--1"},
    ]
    response = await served.intel.client.post(
        f"/taxii2/api/collections/{COMMUNITY_ID}/objects/",
        json={"objects": objects},
        headers={**KE_CUSTOMS.headers, "Content-Type": "application/taxii+json;version=2.1"},
    )
    assert response.status_code == 202, response.text
    status = response.json()
    failed = {f["id"] for f in status["failures"]}
    assert {bogus["id"], relationship["id"]} <= failed
    assert {o["id"] for o in broken_seizure.own} <= failed
    assert unknown_country.main["id"] in failed
    assert "QQ is not a CITES country code" in str(status["failures"])
    assert "x--1" in failed
    assert status["success_count"] == len(ok.own)
    assert await served.intel.count("intel_record") == 1


async def test_paging_with_next_and_added_after(served: ServedIntel) -> None:
    for i in range(12):
        await served.intel.create(KE_CUSTOMS, alert(title=f"Alert {i}"))
    vn = collection(served, VN_PARTNER, COMMUNITY_ID)

    def pages(**filters: Any) -> list[dict[str, Any]]:
        return list(as_pages(vn.get_objects, per_request=5, **filters))

    envelopes = await asyncio.to_thread(pages, type="report")
    assert [len(e.get("objects", [])) for e in envelopes] == [5, 5, 2]
    assert [e["more"] for e in envelopes] == [True, True, False]
    assert all("next" in e for e in envelopes[:2])
    titles = [o["name"] for e in envelopes for o in e["objects"]]
    assert titles == [f"Alert {i}" for i in range(12)]
    manifest = await asyncio.to_thread(vn.get_manifest, type="report")
    seventh = manifest["objects"][6]["date_added"]
    later = await asyncio.to_thread(pages, type="report", added_after=seventh)
    assert [o["name"] for e in later for o in e.get("objects", [])] == [
        f"Alert {i}" for i in range(7, 12)
    ]
    raw = await served.intel.client.get(
        f"/taxii2/api/collections/{COMMUNITY_ID}/objects/",
        params={"limit": 3, "match[type]": "report"},
        headers={**VN_PARTNER.headers, "Accept": "application/taxii+json;version=2.1"},
    )
    assert raw.headers["content-type"] == "application/taxii+json;version=2.1"
    assert raw.headers["X-TAXII-Date-Added-First"] == manifest["objects"][0]["date_added"]
    assert raw.headers["X-TAXII-Date-Added-Last"] == manifest["objects"][2]["date_added"]
    page = raw.json()
    assert validation_errors({"type": "bundle", "id": BUNDLE_ID, "objects": page["objects"]}) == []


async def test_taxii_collection_source_queries_versions_and_filters(served: ServedIntel) -> None:
    intel = served.intel
    created = await intel.create(KE_CUSTOMS, seizure())
    suspect = await intel.create(KE_CUSTOMS, person())
    await intel.create(KE_CUSTOMS, alert(tlp="clear"))
    changed = await intel.patch(
        KE_CUSTOMS, f"/v1/intel/records/{created['id']}", {"handling_code": "xx"}
    )
    assert changed.status_code == 200, changed.text

    def query() -> dict[str, Any]:
        # It reads the collection when made: in the thread, like every call of the client.
        source = TAXIICollectionSource(
            collection(served, VN_PARTNER, COMMUNITY_ID), allow_custom=True
        )
        return {
            "reports": source.query([Filter("type", "=", "report")]),
            "clear": source.query([Filter("object_marking_refs", "=", TLP2_MARKING_IDS["clear"])]),
            "person": source.get(f"identity--{suspect['id']}"),
            "versions": source.all_versions(f"report--{created['id']}"),
            "seizures": source.query([Filter("type", "=", "x-pangolin-seizure")]),
        }

    found = await asyncio.to_thread(query)
    assert {r["name"] for r in found["reports"]} == {
        "Ivory in machine parts, Mombasa",
        "Pangolin scales declared as fish maw",
    }
    assert [r["name"] for r in found["clear"]] == ["Pangolin scales declared as fish maw"]
    assert found["person"]["identity_class"] == "individual"
    assert len(found["versions"]) == 2
    assert len(found["seizures"]) == 1


@pytest.mark.parametrize(
    ("changes", "vn_sees"),
    [
        ({"distribution": {"level": "community"}}, True),
        ({"distribution": {"level": "country"}}, False),
        ({"distribution": {"level": "organisation"}}, False),
        ({"distribution": {"level": "community"}, "tlp": "red"}, False),
    ],
)
async def test_only_exchangeable_records_are_served(
    served: ServedIntel, changes: dict[str, Any], vn_sees: bool
) -> None:
    created = await served.intel.create(KE_CUSTOMS, seizure(**changes))
    report = f"report--{created['id']}"
    for caller, collection_id in (
        (VN_PARTNER, COMMUNITY_ID),
        (VN_CUSTOMS, COMMUNITY_ID),
        (VN_PARTNER, country_collection_id("VN")),
    ):
        response = await served.intel.get(
            caller, f"/taxii2/api/collections/{collection_id}/objects/", **{"match[id]": report}
        )
        assert response.status_code == 200
        ids = [o["id"] for o in response.json().get("objects", [])]
        assert ids == ([report] if vn_sees and collection_id == COMMUNITY_ID else [])
        by_id = await served.intel.get(
            caller, f"/taxii2/api/collections/{collection_id}/objects/{report}/"
        )
        assert by_id.status_code == (200 if vn_sees and collection_id == COMMUNITY_ID else 404)
    # Kenya's own customs sees its country record in its country collection, never RED or
    # organisation-only ones (TAXII is for exchange).
    own = await served.intel.get(
        KE_CUSTOMS,
        f"/taxii2/api/collections/{country_collection_id('KE')}/objects/",
        **{"match[id]": report},
    )
    expected = changes["distribution"]["level"] == "country"
    assert bool(own.json().get("objects")) is expected


async def test_bad_requests_are_4xx_problems(served: ServedIntel) -> None:
    intel = served.intel
    base = f"/taxii2/api/collections/{COMMUNITY_ID}"
    for params in ({"added_after": "yesterday"}, {"next": "nonsense"}, {"limit": "0"}):
        response = await intel.get(VN_PARTNER, f"{base}/objects/", **params)
        assert response.status_code in (400, 422), params
        assert response.headers["content-type"] == "application/problem+json"
    wrong_accept = await intel.client.get(
        f"{base}/objects/", headers={**VN_PARTNER.headers, "Accept": "text/html"}
    )
    assert wrong_accept.status_code == 406
    not_taxii = await intel.client.post(
        f"{base}/objects/",
        content=b"<x/>",
        headers={**KE_CUSTOMS.headers, "Content-Type": "text/xml"},
    )
    assert not_taxii.status_code == 415
    not_json = await intel.client.post(
        f"{base}/objects/",
        content=b"{",
        headers={**KE_CUSTOMS.headers, "Content-Type": "application/taxii+json;version=2.1"},
    )
    assert not_json.status_code == 400
    unknown = await intel.get(VN_PARTNER, "/taxii2/api/collections/nope/objects/")
    assert unknown.status_code == 404
    no_scope = IntelCaller("sw", "sw-ke", "KE", "single_window", ("permits:verify",))
    assert (await intel.get(no_scope, "/taxii2/")).status_code == 403
    assert await intel.count("taxii_status") == 0


async def test_sightings_are_served_and_reads_are_audited(served: ServedIntel) -> None:
    intel = served.intel
    created = await intel.create(KE_CUSTOMS, seizure())
    seen = await intel.post(
        VN_CUSTOMS,
        f"/v1/intel/records/{created['id']}/sightings",
        {"country": "VN", "seen_on": "2026-11-20", "anonymous": True},
    )
    assert seen.status_code == 201, seen.text
    response = await intel.get(
        VN_PARTNER,
        f"/taxii2/api/collections/{COMMUNITY_ID}/objects/",
        **{"match[type]": "sighting,location"},
    )
    objects = response.json()["objects"]
    sighting = next(o for o in objects if o["type"] == "sighting")
    assert sighting["sighting_of_ref"] == f"report--{created['id']}"
    assert "created_by_ref" not in sighting  # anonymous: the country only
    where = next(o for o in objects if o["id"] == sighting["where_sighted_refs"][0])
    assert where["country"] == "VN"
    assert validation_errors({"type": "bundle", "id": BUNDLE_ID, "objects": objects}) == []

    async with intel.db.session(write=False) as session:
        rows = (
            await session.exec(
                sa.select(IntelAuditEntry.client_id, IntelAuditEntry.query).where(
                    IntelAuditEntry.action == "exported"
                )
            )
        ).all()
    assert [(client, query["taxii"]) for client, query in rows] == [("partner-vn", "objects")]


async def test_match_version_and_spec_version_versions_and_manifest(served: ServedIntel) -> None:
    intel = served.intel
    created = await intel.create(KE_CUSTOMS, alert())
    path = f"/v1/intel/records/{created['id']}"
    assert (await intel.patch(KE_CUSTOMS, path, {"handling_code": "2"})).status_code == 200
    report = f"report--{created['id']}"
    base = f"/taxii2/api/collections/{COMMUNITY_ID}"

    async def modified(**params: str) -> list[str]:
        response = await intel.get(VN_PARTNER, f"{base}/objects/{report}/", **params)
        if response.status_code == 404:
            return []
        return [o["modified"] for o in response.json()["objects"]]

    versions = (await intel.get(VN_PARTNER, f"{base}/objects/{report}/versions/")).json()
    first, last = versions["versions"]
    assert versions["more"] is False
    assert len(await modified()) == 1
    assert await modified(**{"match[version]": "last"}) == await modified()
    assert await modified(**{"match[version]": "first"}) != await modified()
    assert len(await modified(**{"match[version]": "all"})) == 2
    assert len(await modified(**{"match[version]": "first,last"})) == 2
    assert len(await modified(**{"match[version]": first})) == 1
    assert await modified(**{"match[spec_version]": "2.0"}) == []
    assert len(await modified(**{"match[spec_version]": "2.1"})) == 1
    manifest = (
        await intel.get(
            VN_PARTNER, f"{base}/manifest/", **{"match[id]": report, "match[version]": "all"}
        )
    ).json()["objects"]
    assert [m["version"] for m in manifest] == [first, last]
    assert {m["media_type"] for m in manifest} == {"application/stix+json;version=2.1"}


async def test_a_network_is_a_threat_actor_its_members_point_to(served: ServedIntel) -> None:
    intel = served.intel
    network = await intel.create(
        KE_CUSTOMS,
        {
            "type": "entity",
            "title": "Lagos-Hanoi scales network",
            "tlp": "green",
            "distribution": {"level": "community"},
            "entity": {"kind": "network", "name": "Lagos-Hanoi scales network"},
        },
    )
    member = await intel.create(
        KE_CUSTOMS,
        person(relationships=[{"kind": "part_of_network", "target_id": network["id"]}]),
    )
    response = await intel.get(
        VN_PARTNER,
        f"/taxii2/api/collections/{COMMUNITY_ID}/objects/",
        **{"match[type]": "threat-actor,identity,relationship"},
    )
    objects = {o["id"]: o for o in response.json()["objects"]}
    actor = objects[f"threat-actor--{network['id']}"]
    assert actor["threat_actor_types"] == ["criminal"]
    relationship = next(o for o in objects.values() if o["type"] == "relationship")
    assert relationship["relationship_type"] == "part-of-network"
    assert relationship["source_ref"] == f"identity--{member['id']}"
    assert relationship["target_ref"] == actor["id"]
    assert objects[f"identity--{member['id']}"]["identity_class"] == "individual"
