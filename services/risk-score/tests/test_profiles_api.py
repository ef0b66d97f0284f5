"""`/v1/risk/profiles`: create, read, list (cursor), edit = a new version, status, versions;
bad criteria and bad fields refused with 422 problem+json naming the path, nothing written;
scopes enforced. On SQLite and PostgreSQL."""

from __future__ import annotations

from risk_support import ANALYST, NOBODY, READER, RiskService, profile


async def test_a_profile_is_created_read_and_listed(risk: RiskService) -> None:
    created = await risk.create_profile()
    assert created["version"] == 1 and created["status"] == "active"
    assert created["created_by"] == "customs-ke"
    got = await risk.client.get(f"/v1/risk/profiles/{created['id']}", headers=READER)
    assert got.status_code == 200 and got.json() == created

    for n in range(4):
        await risk.create_profile(name=f"profile {n}", status="draft")
    first = (await risk.client.get("/v1/risk/profiles?limit=3", headers=READER)).json()
    assert len(first["items"]) == 3 and first["next"]
    second = (
        await risk.client.get(f"/v1/risk/profiles?limit=3&cursor={first['next']}", headers=READER)
    ).json()
    assert len(second["items"]) == 2 and second["next"] is None
    ids = [p["id"] for p in first["items"] + second["items"]]
    assert ids == sorted(ids) and created["id"] in ids
    active = (await risk.client.get("/v1/risk/profiles?status=active", headers=READER)).json()
    assert [p["id"] for p in active["items"]] == [created["id"]]


async def test_editing_writes_a_new_version_and_keeps_the_old(risk: RiskService) -> None:
    created = await risk.create_profile()
    url = f"/v1/risk/profiles/{created['id']}"
    put = await risk.client.put(url, json=profile(points=40, name="Renamed"), headers=ANALYST)
    assert put.status_code == 200 and put.json()["version"] == 2
    patched = await risk.client.patch(url, json={"points": 55}, headers=ANALYST)
    assert patched.status_code == 200
    assert patched.json()["version"] == 3 and patched.json()["name"] == "Renamed"
    retired = await risk.client.post(f"{url}/status", json={"status": "retired"}, headers=ANALYST)
    assert retired.json()["version"] == 4 and retired.json()["status"] == "retired"
    versions = (await risk.client.get(f"{url}/versions", headers=READER)).json()
    assert [(v["version"], v["points"], v["status"]) for v in versions] == [
        (1, 70, "active"),
        (2, 40, "active"),
        (3, 55, "active"),
        (4, 55, "retired"),
    ]
    old = (await risk.client.get(f"{url}?version=1", headers=READER)).json()
    assert old["name"] == created["name"]
    assert await risk.count("risk_audit") == 4  # one row per version written


async def test_bad_criteria_are_refused_with_the_path_and_nothing_is_written(
    risk: RiskService,
) -> None:
    bad = profile(
        criteria={"all": [{"field": "export_country", "in": ["NG"]}, {"watchlist": "boat"}]}
    )
    response = await risk.client.post("/v1/risk/profiles", json=bad, headers=ANALYST)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "invalid_criteria"
    assert body["errors"][0]["field"] == "criteria.all[1].watchlist"
    assert await risk.count("targeting_profile") == 0

    created = await risk.create_profile()
    url = f"/v1/risk/profiles/{created['id']}"
    patch = {"criteria": {"field": "features.not_a_feature", "op": ">", "value": 1}}
    response = await risk.client.patch(url, json=patch, headers=ANALYST)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "criteria.field"
    response = await risk.client.patch(url, json={"points": 0}, headers=ANALYST)
    assert response.status_code == 422  # neither points nor a forced lane
    versions = (await risk.client.get(f"{url}/versions", headers=READER)).json()
    assert len(versions) == 1


async def test_bad_fields_are_422_and_unknown_profiles_404(risk: RiskService) -> None:
    for bad in (
        profile(controls=["x_ray_everything"]),
        profile(selection_percentage=0),
        profile(valid_from="2026-12-10", valid_until="2026-12-01"),
        profile(status="paused"),
        {**profile(), "surprise": 1},
    ):
        response = await risk.client.post("/v1/risk/profiles", json=bad, headers=ANALYST)
        assert response.status_code == 422, bad
        assert response.headers["content-type"] == "application/problem+json"
    missing = "00000000-0000-0000-0000-000000000000"
    assert (
        await risk.client.get(f"/v1/risk/profiles/{missing}", headers=READER)
    ).status_code == 404
    response = await risk.client.put(
        f"/v1/risk/profiles/{missing}", json=profile(), headers=ANALYST
    )
    assert response.status_code == 404
    response = await risk.client.get("/v1/risk/profiles?cursor=%%%", headers=READER)
    assert response.status_code == 400


async def test_scopes(risk: RiskService) -> None:
    response = await risk.client.post("/v1/risk/profiles", json=profile(), headers=READER)
    assert response.status_code == 403
    assert (await risk.client.get("/v1/risk/profiles", headers=NOBODY)).status_code == 403
    assert (await risk.client.get("/v1/risk/profiles")).status_code == 401
