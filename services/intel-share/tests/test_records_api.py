"""Records through the API: create, read, search, paginate, count, versions, revoke."""

from __future__ import annotations

import asyncio

from intel_support import KE_CUSTOMS, KE_CUSTOMS_2, VN_CUSTOMS, IntelShare, alert, person, seizure


async def test_a_seizure_is_created_read_and_found(intel: IntelShare) -> None:
    created = await intel.create(KE_CUSTOMS, seizure())
    assert created["version"] == 1
    assert created["originator"] == {"agency": "customs", "country": "KE"}
    assert created["grading"] == {
        "scheme": "admiralty",
        "source": "B",
        "information": "2",
        "code": "B2",
        "confidence": 70,
    }
    assert created["is_originator"] is True

    read = await intel.get(VN_CUSTOMS, f"/v1/intel/records/{created['id']}")
    assert read.status_code == 200
    assert read.json()["seizure"]["specimens"][0]["species"] == "Loxodonta africana"
    assert read.json()["is_originator"] is False

    found = await intel.get(VN_CUSTOMS, "/v1/intel/records", species="Loxodonta")
    assert [r["id"] for r in found.json()["records"]] == [created["id"]]
    assert found.json()["total"] == 1


async def test_search_filters_by_type_country_entity_text_and_time(intel: IntelShare) -> None:
    trafficker = await intel.create(KE_CUSTOMS, person())
    ivory = await intel.create(
        KE_CUSTOMS, seizure(seizure={**seizure()["seizure"], "offenders": [trafficker["id"]]})
    )
    scales = await intel.create(KE_CUSTOMS, alert())

    async def ids(**params: object) -> set[str]:
        response = await intel.get(VN_CUSTOMS, "/v1/intel/records", limit=100, **params)
        assert response.status_code == 200, response.text
        assert response.json()["total"] == len(response.json()["records"])
        return {record["id"] for record in response.json()["records"]}

    assert await ids(type="entity") == {trafficker["id"]}
    assert await ids(country="AE") == {ivory["id"], scales["id"]}  # transit / via
    assert await ids(country="vn") == {ivory["id"], trafficker["id"]}
    assert await ids(entity=trafficker["id"]) == {ivory["id"], trafficker["id"]}
    assert await ids(text="MACHINE parts") == {ivory["id"]}
    assert await ids(text="Нгуен") == {trafficker["id"]}  # an alias in Cyrillic
    assert await ids(text="100%") == set()  # LIKE wildcards are literal
    assert await ids(species="manis tricuspis") == {scales["id"]}
    seized = {
        "time_field": "event",
        "since": "2026-11-02T00:00:00Z",
        "until": "2026-11-03T00:00:00Z",
    }
    assert await ids(**seized) == {ivory["id"]}
    assert await ids(since="2000-01-01T00:00:00Z") == {trafficker["id"], ivory["id"], scales["id"]}
    assert await ids(until="2000-01-01T00:00:00Z") == set()
    assert await ids(since="2000-01-01T00:00:00", type="alert") == {scales["id"]}  # no zone: UTC


async def test_search_pages_with_a_cursor_and_counts_every_page(intel: IntelShare) -> None:
    made = [await intel.create(KE_CUSTOMS, alert(title=f"alert {i}")) for i in range(5)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, object] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await intel.get(VN_CUSTOMS, "/v1/intel/records", **params)).json()
        assert page["total"] == 5
        seen += [record["id"] for record in page["records"]]
        pages += 1
        cursor = page["next"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == [record["id"] for record in reversed(made)]  # newest first, each once

    bad = await intel.get(VN_CUSTOMS, "/v1/intel/records", cursor="not-a-cursor")
    assert bad.status_code == 400
    assert bad.headers["content-type"] == "application/problem+json"
    reversed_window = await intel.get(
        VN_CUSTOMS, "/v1/intel/records", since="2026-12-02T00:00:00Z", until="2026-12-01T00:00:00Z"
    )
    assert reversed_window.status_code == 422


async def test_a_change_is_a_new_version_by_the_originator_organisation(
    intel: IntelShare,
) -> None:
    created = await intel.create(KE_CUSTOMS, seizure())
    path = f"/v1/intel/records/{created['id']}"

    regraded = await intel.patch(
        KE_CUSTOMS_2,  # another client of Kenya's customs: the same organisation
        path,
        {"grading": {"scheme": "3x5x2", "source": "A", "information": "1"}, "handling_code": "P"},
    )
    assert regraded.status_code == 200, regraded.text
    assert regraded.json()["version"] == 2
    assert regraded.json()["grading"]["confidence"] == 90
    assert regraded.json()["seizure"] == created["seizure"]  # content kept

    content = {**seizure(), "title": "Ivory in machine parts, Mombasa (corrected)"}
    content = {k: content[k] for k in ("title", "description", "seizure")}
    changed = await intel.patch(KE_CUSTOMS, path, {"content": content, "if_version": 2})
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 3
    assert changed.json()["title"].endswith("(corrected)")

    stale = await intel.patch(KE_CUSTOMS, path, {"tlp": "amber", "if_version": 2})
    assert stale.status_code == 409
    assert stale.json()["code"] == "version_mismatch"

    # a partner that sees the record may not change it: it proposes instead
    theirs = await intel.patch(VN_CUSTOMS, path, {"distribution": {"level": "organisation"}})
    assert theirs.status_code == 403
    assert theirs.json()["code"] == "not_originator"

    assert await intel.count("intel_record_version") == 3
    published = await intel.outbox_events("intel.record.published")
    assert [event["data"]["record_version"] for event in published] == [1, 2, 3]
    assert published[1]["data"]["confidence"] == 90
    watchlists = await intel.outbox_events("intel.watchlist.changed")
    assert [event["data"]["record_version"] for event in watchlists] == [1, 2, 3]


async def test_a_type_s_fields_change_only_with_its_own_type(intel: IntelShare) -> None:
    created = await intel.create(KE_CUSTOMS, seizure())
    wrong = await intel.patch(
        KE_CUSTOMS,
        f"/v1/intel/records/{created['id']}",
        {"content": {"title": "now an entity", "entity": person()["entity"]}},
    )
    assert wrong.status_code == 422
    read = await intel.get(KE_CUSTOMS, f"/v1/intel/records/{created['id']}")
    assert read.json()["version"] == 1
    assert read.json()["title"] == created["title"]


async def test_revoking_keeps_the_record_marked_and_empties_its_watchlist(
    intel: IntelShare,
) -> None:
    created = await intel.create(KE_CUSTOMS, person())
    path = f"/v1/intel/records/{created['id']}"

    refused = await intel.post(VN_CUSTOMS, path + "/revoke", {"reason": "not yours"})
    assert refused.status_code == 403

    revoked = await intel.post(KE_CUSTOMS, path + "/revoke", {"reason": "mistaken identity"})
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked"] is True
    assert revoked.json()["version"] == 2

    seen = await intel.get(VN_CUSTOMS, path)
    assert seen.status_code == 200
    assert seen.json()["revoked"] is True
    assert seen.json()["revoked_reason"] == "mistaken identity"
    assert (await intel.get(VN_CUSTOMS, "/v1/intel/records")).json()["total"] == 0
    listed = await intel.get(VN_CUSTOMS, "/v1/intel/records", include_revoked="true")
    assert [r["id"] for r in listed.json()["records"]] == [created["id"]]

    again = await intel.post(KE_CUSTOMS, path + "/revoke")
    assert again.status_code == 409
    changed = await intel.patch(KE_CUSTOMS, path, {"tlp": "green"})
    assert changed.status_code == 409
    assert changed.json()["code"] == "record_revoked"

    [event] = await intel.outbox_events("intel.record.revoked")
    assert event["data"]["record_version"] == 2
    assert event["data"]["reason"] == "mistaken identity"
    watchlists = await intel.outbox_events("intel.watchlist.changed")
    assert len(watchlists[0]["data"]["entries"]) == 1
    assert watchlists[-1]["data"]["entries"] == []


async def test_idempotency_key_replays_the_first_answer(intel: IntelShare) -> None:
    headers = {**KE_CUSTOMS.headers, "Idempotency-Key": "seizure-2026-0042"}
    first = await intel.client.post("/v1/intel/records", json=seizure(), headers=headers)
    again = await intel.client.post("/v1/intel/records", json=seizure(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    other = await intel.client.post("/v1/intel/records", json=alert(), headers=headers)
    assert other.status_code == 422
    assert await intel.count("intel_record") == 1


async def test_a_record_id_is_kept_and_unique(intel: IntelShare) -> None:
    record_id = "0b4c7a52-5f0e-4d51-9d6b-3c1f6e2a9b77"
    created = await intel.create(KE_CUSTOMS, alert(id=record_id))
    assert created["id"] == record_id
    twice = await intel.post(VN_CUSTOMS, "/v1/intel/records", alert(id=record_id))
    assert twice.status_code == 409
    assert await intel.count("intel_record") == 1


async def test_concurrent_changes_each_make_their_own_version(intel: IntelShare) -> None:
    created = await intel.create(KE_CUSTOMS, alert())
    path = f"/v1/intel/records/{created['id']}"
    changes = [{"tlp": tlp} for tlp in ("green", "clear", "amber+strict", "red")]
    answers = await asyncio.gather(*(intel.patch(KE_CUSTOMS, path, body) for body in changes))
    assert sorted(a.status_code for a in answers) == [200] * 4
    assert sorted(a.json()["version"] for a in answers) == [2, 3, 4, 5]
    final = (await intel.get(KE_CUSTOMS, path)).json()
    assert final["version"] == 5
    last = next(a.json() for a in answers if a.json()["version"] == 5)
    assert final["tlp"] == last["tlp"]
    assert await intel.count("intel_record_version") == 5
