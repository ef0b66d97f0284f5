"""Matching over the records themselves: `RecordEntities` reads the entity records (current
people and companies with their access), the index follows the record events end to end, and
every `POST /v1/intel/match` is audited."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from intel_share.access.rules import RecordAccess
from intel_share.matching.source import RecordEntities
from intel_support import KE_CUSTOMS, KE_MA, TH_CUSTOMS, VN_CUSTOMS, IntelShare, person, seizure
from pangolin_core.testing import eventually

# The first entity loads rigour's name taggers (seconds of CPU on a shared machine).
INDEX_TIMEOUT = 60.0


async def matched(intel: IntelShare, caller: Any, name: str, **query: Any) -> list[str]:
    response = await intel.post(caller, "/v1/intel/match", {"name": name, **query})
    assert response.status_code == 200, response.text
    return [m["record_id"] for m in response.json()["matches"]]


async def index_ready(intel: IntelShare) -> bool:
    return (await intel.client.get("/ready")).json().get("match_index") == "ready"


async def test_the_source_gives_current_people_and_companies_with_their_access(
    intel: IntelShare,
) -> None:
    group = await intel.post(
        VN_CUSTOMS,
        "/v1/intel/sharing-groups",
        {"name": "Mekong", "members": [{"country": "TH"}, {"country": "KE", "agency": "customs"}]},
    )
    assert group.status_code == 201, group.text
    hung = await intel.create(
        VN_CUSTOMS,
        person(distribution={"level": "sharing_group", "sharing_group_id": group.json()["id"]}),
    )
    company = await intel.create(
        KE_CUSTOMS,
        person(
            "Golden Ivory Trading Co., Ltd.",
            entity={"kind": "company", "name": "Golden Ivory Trading Co., Ltd.", "country": "KE"},
        ),
    )
    yesterday = date.today() - timedelta(days=1)
    await intel.create(KE_CUSTOMS, person("Expired Person", expires_on=yesterday.isoformat()))
    revoked = await intel.create(KE_CUSTOMS, person("Revoked Person"))
    answer = await intel.post(KE_CUSTOMS, f"/v1/intel/records/{revoked['id']}/revoke", {})
    assert answer.status_code == 200, answer.text
    await intel.create(
        KE_CUSTOMS,
        person("MV Ocean Star", entity={"kind": "vessel", "name": "MV Ocean Star"}),
    )
    await intel.create(KE_CUSTOMS, seizure())

    async with intel.db.session(write=False) as session:
        entities = {e.record_id: e for e in await RecordEntities().load(session)}
        one = await RecordEntities().load_record(session, hung["id"])
        none = await RecordEntities().load_record(session, revoked["id"])

    assert sorted(entities) == sorted([hung["id"], company["id"]])
    found = entities[hung["id"]]
    assert one == [found] and none == []
    assert (found.entity_id, found.kind, found.country) == (hung["id"], "person", "VN")
    assert list(found.names) == ["Nguyễn Văn Hùng", "Nguyen Van Hung", "Нгуен Ван Хунг"]
    assert found.birth_date == date(1975, 4, 30)
    assert dict(found.identifiers) == {"passport": "C1234567"}
    assert found.access == RecordAccess(
        originator_country="VN",
        originator_agency="customs",
        tlp="amber",
        distribution="sharing_group",
        sharing_group_id=group.json()["id"],
    )
    assert entities[company["id"]].kind == "company"


async def test_a_record_created_through_the_api_is_matched_until_it_is_revoked(
    intel: IntelShare,
) -> None:
    await eventually(lambda: index_ready(intel), timeout=INDEX_TIMEOUT)
    assert await matched(intel, KE_MA, "Nguyen Van Hung") == []
    created = await intel.create(VN_CUSTOMS, person(distribution={"level": "community"}))

    async def found_by_ke_ma() -> list[str]:
        return await matched(intel, KE_MA, "Nguyen Van Hung")

    async def gone() -> bool:
        return await matched(intel, KE_MA, "Nguyen Van Hung") == []

    assert await eventually(found_by_ke_ma, timeout=INDEX_TIMEOUT) == [created["id"]]
    # found by its Cyrillic alias too, by a caller of another country
    assert await matched(intel, TH_CUSTOMS, "Нгуен Ван Хунг") == [created["id"]]
    revoked = await intel.post(VN_CUSTOMS, f"/v1/intel/records/{created['id']}/revoke", {})
    assert revoked.status_code == 200, revoked.text
    assert await eventually(gone, timeout=INDEX_TIMEOUT)


async def test_a_match_is_audited_with_its_query_and_the_records_it_answered(
    intel: IntelShare,
) -> None:
    created = await intel.create(VN_CUSTOMS, person(distribution={"level": "community"}))
    await eventually(lambda: index_ready(intel), timeout=INDEX_TIMEOUT)

    async def found() -> list[str]:
        return await matched(intel, TH_CUSTOMS, "Nguyen Van Hung", country="VN")

    assert await eventually(found, timeout=INDEX_TIMEOUT) == [created["id"]]
    trail = (await intel.get(VN_CUSTOMS, "/v1/intel/audit")).json()["entries"]
    matches = [e for e in trail if e["action"] == "matched"]
    assert matches, trail
    latest = matches[0]
    assert (latest["client_id"], latest["agency"], latest["country"]) == (
        "customs-th",
        "customs",
        "TH",
    )
    assert latest["query"] == {"name": "Nguyen Van Hung", "country": "VN"}
    assert latest["record_ids"] == [created["id"]]


async def test_a_match_that_is_refused_writes_no_audit_row(intel: IntelShare) -> None:
    await eventually(lambda: index_ready(intel), timeout=INDEX_TIMEOUT)
    before = await intel.count("intel_audit")
    bad = await intel.post(KE_CUSTOMS, "/v1/intel/match", {"name": "x", "limit": 0})
    assert bad.status_code == 422
    assert await intel.count("intel_audit") == before


async def test_a_member_removed_from_a_sharing_group_stops_matching_its_records_at_once(
    intel: IntelShare,
) -> None:
    group = await intel.post(
        VN_CUSTOMS, "/v1/intel/sharing-groups", {"name": "Mekong", "members": [{"country": "TH"}]}
    )
    assert group.status_code == 201, group.text
    group_id = group.json()["id"]
    created = await intel.create(
        VN_CUSTOMS, person(distribution={"level": "sharing_group", "sharing_group_id": group_id})
    )
    await eventually(lambda: index_ready(intel), timeout=INDEX_TIMEOUT)

    async def found_by_th() -> list[str]:
        return await matched(intel, TH_CUSTOMS, "Nguyen Van Hung")

    assert await eventually(found_by_th, timeout=INDEX_TIMEOUT) == [created["id"]]
    assert await matched(intel, KE_CUSTOMS, "Nguyen Van Hung") == []
    moved = await intel.client.put(
        f"/v1/intel/sharing-groups/{group_id}/members",
        json={"members": [{"country": "KE", "agency": "customs"}]},
        headers=VN_CUSTOMS.headers,
    )
    assert moved.status_code == 200, moved.text
    # No event, no reload of the index: the next match reads the members.
    assert await matched(intel, TH_CUSTOMS, "Nguyen Van Hung") == []
    assert await matched(intel, KE_CUSTOMS, "Nguyen Van Hung") == [created["id"]]
