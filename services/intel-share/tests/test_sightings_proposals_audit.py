"""Sightings (anonymous ones hide who saw), proposals (the originator accepts or rejects them)
and the audit trail of reads, searches and changes."""

from __future__ import annotations

from intel_support import (
    ADMIN,
    KE_CUSTOMS,
    KE_CUSTOMS_2,
    TH_CUSTOMS,
    VN_CUSTOMS,
    IntelShare,
    alert,
    person,
)


async def test_an_anonymous_sighting_hides_its_agency_from_others(intel: IntelShare) -> None:
    record = await intel.create(KE_CUSTOMS, person())
    path = f"/v1/intel/records/{record['id']}/sightings"
    named = await intel.post(
        TH_CUSTOMS, path, {"country": "TH", "office": "BKK-SUV", "seen_on": "2026-11-20"}
    )
    assert named.status_code == 201, named.text
    hidden = await intel.post(
        VN_CUSTOMS,
        path,
        {"country": "VN", "office": "HAN-NB", "seen_on": "2026-11-21", "anonymous": True},
    )
    assert hidden.status_code == 201, hidden.text

    as_originator = (await intel.get(KE_CUSTOMS, path)).json()["sightings"]
    assert [(s["country"], s["agency"], s["agency_country"]) for s in as_originator] == [
        ("TH", "customs", "TH"),
        ("VN", None, None),
    ]
    as_sighter = (await intel.get(VN_CUSTOMS, path)).json()["sightings"]
    assert as_sighter[1]["agency"] == "customs"  # its own sighting
    assert as_sighter[1]["anonymous"] is True

    future = await intel.post(TH_CUSTOMS, path, {"country": "TH", "seen_on": "2999-01-01"})
    assert future.status_code == 422
    unknown_country = await intel.post(TH_CUSTOMS, path, {"country": "QQ", "seen_on": "2026-11-20"})
    assert unknown_country.status_code == 422
    assert await intel.count("intel_sighting") == 2


async def test_a_proposal_accepted_becomes_the_next_version(intel: IntelShare) -> None:
    record = await intel.create(KE_CUSTOMS, alert())
    path = f"/v1/intel/records/{record['id']}/proposals"

    own = await intel.post(KE_CUSTOMS, path, {"changes": {"tlp": "green"}})
    assert own.status_code == 409  # the originator patches directly
    empty = await intel.post(VN_CUSTOMS, path, {"changes": {}})
    assert empty.status_code == 422

    regrade = {"grading": {"scheme": "5x5x5", "source": "A", "information": "1"}}
    proposed = await intel.post(VN_CUSTOMS, path, {"changes": regrade, "reason": "confirmed"})
    assert proposed.status_code == 201, proposed.text
    proposal = proposed.json()
    assert proposal["status"] == "pending"
    assert proposal["base_version"] == 1
    other = await intel.post(TH_CUSTOMS, path, {"changes": {"tlp": "clear"}})
    assert other.status_code == 201

    # the originator sees every proposal; a proposer only its own
    assert len((await intel.get(KE_CUSTOMS, path)).json()["proposals"]) == 2
    assert [p["id"] for p in (await intel.get(VN_CUSTOMS, path)).json()["proposals"]] == [
        proposal["id"]
    ]

    not_theirs = await intel.post(VN_CUSTOMS, f"{path}/{proposal['id']}/accept")
    assert not_theirs.status_code == 403

    accepted = await intel.post(KE_CUSTOMS_2, f"{path}/{proposal['id']}/accept", {"note": "ok"})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["proposal"]["status"] == "accepted"
    assert accepted.json()["proposal"]["applied_version"] == 2
    assert accepted.json()["record"]["version"] == 2
    assert accepted.json()["record"]["grading"]["confidence"] == 90
    twice = await intel.post(KE_CUSTOMS, f"{path}/{proposal['id']}/accept")
    assert twice.status_code == 409
    assert twice.json()["code"] == "proposal_decided"

    rejected = await intel.post(KE_CUSTOMS, f"{path}/{other.json()['id']}/reject")
    assert rejected.status_code == 200
    assert rejected.json()["proposal"]["status"] == "rejected"
    assert rejected.json()["record"]["version"] == 2
    assert rejected.json()["record"]["tlp"] == "amber"

    published = await intel.outbox_events("intel.record.published")
    assert [event["data"]["record_version"] for event in published] == [1, 2]


async def test_a_proposal_the_record_s_type_cannot_take_is_refused(intel: IntelShare) -> None:
    record = await intel.create(KE_CUSTOMS, alert())
    path = f"/v1/intel/records/{record['id']}/proposals"
    wrong = await intel.post(
        VN_CUSTOMS, path, {"changes": {"content": {"title": "x", "entity": person()["entity"]}}}
    )
    assert wrong.status_code == 422
    unknown = await intel.post(
        VN_CUSTOMS,
        path,
        {
            "changes": {
                "content": {
                    "title": "x",
                    "alert": {**alert()["alert"], "routes": [{"via": ["QQ"]}]},
                }
            }
        },
    )
    assert unknown.status_code == 422
    bad_grade = {"grading": {"scheme": "3x5x2", "source": "D", "information": "1"}}
    graded = await intel.post(VN_CUSTOMS, path, {"changes": bad_grade})
    assert graded.status_code == 422
    assert graded.json()["errors"][0]["field"] == "changes.grading.source"
    assert await intel.count("intel_proposal") == 0


async def test_reads_searches_and_changes_are_audited_for_the_originator(
    intel: IntelShare,
) -> None:
    mine = await intel.create(KE_CUSTOMS, alert(title="ours"))
    theirs = await intel.create(VN_CUSTOMS, alert(title="theirs"))
    await intel.get(VN_CUSTOMS, f"/v1/intel/records/{mine['id']}")
    await intel.get(TH_CUSTOMS, "/v1/intel/records", text="ours")
    await intel.get(TH_CUSTOMS, "/v1/intel/records")  # finds both records
    await intel.patch(KE_CUSTOMS, f"/v1/intel/records/{mine['id']}", {"tlp": "green"})

    trail = (await intel.get(KE_CUSTOMS, "/v1/intel/audit")).json()["entries"]
    summary = [(e["action"], e["country"], e["record_ids"]) for e in trail]
    assert summary == [
        ("updated", "KE", [mine["id"]]),
        ("searched", "TH", [mine["id"]]),  # VN's record, also found, is not named to KE
        ("searched", "TH", [mine["id"]]),
        ("read", "VN", [mine["id"]]),
        ("created", "KE", [mine["id"]]),
    ]
    assert trail[2]["query"]["text"] == "ours"
    assert all(e["client_id"] for e in trail)

    theirs_trail = (await intel.get(VN_CUSTOMS, "/v1/intel/audit")).json()["entries"]
    assert [e["action"] for e in theirs_trail] == ["searched", "created"]
    assert all(e["record_ids"] == [theirs["id"]] for e in theirs_trail)

    everything = (await intel.get(ADMIN, "/v1/intel/audit", limit=3)).json()
    # reading the audit is not itself audited; the admin sees all 6 entries, in 2 pages
    assert len(everything["entries"]) == 3
    rest = (await intel.get(ADMIN, "/v1/intel/audit", cursor=everything["next"])).json()
    assert [e["action"] for e in rest["entries"]] == ["read", "created", "created"]
    assert rest["next"] is None

    one = (await intel.get(KE_CUSTOMS, "/v1/intel/audit", record_id=mine["id"])).json()
    assert len(one["entries"]) == 5


async def test_the_audit_trail_does_not_name_an_anonymous_sighter(intel: IntelShare) -> None:
    record = await intel.create(KE_CUSTOMS, person())
    sighting = {"country": "VN", "seen_on": "2026-11-21", "anonymous": True}
    made = await intel.post(VN_CUSTOMS, f"/v1/intel/records/{record['id']}/sightings", sighting)
    assert made.status_code == 201

    [sighted] = [
        e
        for e in (await intel.get(KE_CUSTOMS, "/v1/intel/audit")).json()["entries"]
        if e["action"] == "sighted"
    ]
    assert (sighted["client_id"], sighted["agency"], sighted["country"]) == (None, None, None)
    [as_admin] = [
        e
        for e in (await intel.get(ADMIN, "/v1/intel/audit")).json()["entries"]
        if e["action"] == "sighted"
    ]
    assert (as_admin["client_id"], as_admin["country"]) == ("customs-vn", "VN")


async def test_only_a_group_s_owner_changes_its_members(intel: IntelShare) -> None:
    made = await intel.post(
        KE_CUSTOMS,
        "/v1/intel/sharing-groups",
        {"name": "East Africa", "members": [{"country": "TZ"}]},
    )
    assert made.status_code == 201, made.text
    group = made.json()
    assert (group["owner_country"], group["owner_agency"]) == ("KE", "customs")
    path = f"/v1/intel/sharing-groups/{group['id']}/members"

    intruder = await intel.client.put(
        path, json={"members": [{"country": "VN"}]}, headers=VN_CUSTOMS.headers
    )
    assert intruder.status_code == 403
    owner = await intel.client.put(
        path, json={"members": [{"country": "TZ"}, {"country": "UG"}]}, headers=KE_CUSTOMS_2.headers
    )
    assert owner.status_code == 200
    assert [m["country"] for m in owner.json()["members"]] == ["TZ", "UG"]
    operator = await intel.client.put(
        path, json={"members": [{"country": "RW"}]}, headers=ADMIN.headers
    )
    assert operator.status_code == 200

    same_name = await intel.post(
        VN_CUSTOMS,
        "/v1/intel/sharing-groups",
        {"name": "East Africa", "members": [{"country": "VN"}]},
    )
    assert same_name.status_code == 409
    unknown = await intel.post(
        VN_CUSTOMS, "/v1/intel/sharing-groups", {"name": "x", "members": [{"country": "QQ"}]}
    )
    assert unknown.status_code == 422
    listed = (await intel.get(TH_CUSTOMS, "/v1/intel/sharing-groups")).json()["sharing_groups"]
    assert [(g["name"], [m["country"] for m in g["members"]]) for g in listed] == [
        ("East Africa", ["RW"])
    ]
