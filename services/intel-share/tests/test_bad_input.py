"""Bad input is a 4xx problem+json naming the field, and nothing is written."""

from __future__ import annotations

from typing import Any

import pytest

from intel_support import KE_CUSTOMS, KE_MA, NO_INTEL, IntelShare, alert, person, seizure

SEIZURE = seizure()["seizure"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        # a grade outside its scheme
        (alert(grading={"scheme": "3x5x2", "source": "D", "information": "1"}), "grading.source"),
        (
            alert(grading={"scheme": "5x5x5", "source": "A", "information": "6"}),
            "grading.information",
        ),
        (alert(grading={"scheme": "nato", "source": "A", "information": "1"}), "grading.scheme"),
        (alert(handling_code="Q"), "handling_code"),  # 5x5x5 handling codes are 1-5
        (alert(tlp="white"), "tlp"),
        (alert(distribution={"level": "sharing_group"}), "distribution"),
        (
            alert(
                distribution={
                    "level": "community",
                    "sharing_group_id": "9e0d5c59-8a0c-4c1e-a7e8-8f8f0a1b2c3d",
                }
            ),
            "distribution",  # a group id without the sharing_group level
        ),
        (
            alert(
                distribution={
                    "level": "sharing_group",
                    "sharing_group_id": "9e0d5c59-8a0c-4c1e-a7e8-8f8f0a1b2c3d",
                }
            ),
            "distribution.sharing_group_id",
        ),
        (alert(review_on="2027-06-01", expires_on="2027-01-01"), ""),
        (alert(alert={**alert()["alert"], "valid_until": "2026-01-01"}), "alert"),
        (seizure(seizure={**SEIZURE, "destination_countries": ["QQ"]}), "destination_countries"),
        (
            seizure(seizure={**SEIZURE, "specimens": [{**SEIZURE["specimens"][0], "term": "ZZZ"}]}),
            "term",
        ),
        (seizure(seizure={**SEIZURE, "specimens": []}), "specimens"),
        (
            seizure(
                seizure={**SEIZURE, "specimens": [{**SEIZURE["specimens"][0], "quantity": "-1"}]}
            ),
            "quantity",
        ),
        (seizure(entity=person()["entity"]), ""),  # another type's fields
        (seizure(seizure=None), ""),
        (person(entity={**person()["entity"], "kind": "company"}), "entity"),  # birth date
        (alert(title=""), "title"),
        (alert(unknown_field=1), "unknown_field"),
    ],
)
async def test_a_bad_record_is_refused_and_nothing_is_written(
    intel: IntelShare, body: dict[str, Any], field: str
) -> None:
    response = await intel.post(KE_CUSTOMS, "/v1/intel/records", body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert any(field in error["field"] for error in problem["errors"]), problem
    for table in ("intel_record", "intel_record_version", "intel_audit", "outbox"):
        assert await intel.count(table) == 0, table


async def test_scopes_are_checked(intel: IntelShare) -> None:
    reader_posts = await intel.post(KE_MA, "/v1/intel/records", alert())
    assert reader_posts.status_code == 403
    outsider_reads = await intel.get(NO_INTEL, "/v1/intel/records")
    assert outsider_reads.status_code == 403
    anonymous = await intel.client.get("/v1/intel/records")
    assert anonymous.status_code == 401
    assert await intel.count("intel_record") == 0
    assert await intel.count("intel_audit") == 0


async def test_a_malformed_body_or_id_is_a_4xx(intel: IntelShare) -> None:
    broken = await intel.client.post(
        "/v1/intel/records",
        content=b"{not json",
        headers={**KE_CUSTOMS.headers, "content-type": "application/json"},
    )
    assert broken.status_code == 422
    not_an_id = await intel.get(KE_CUSTOMS, "/v1/intel/records/not-a-uuid")
    assert not_an_id.status_code == 404
    created = await intel.create(KE_CUSTOMS, alert())
    empty = await intel.patch(KE_CUSTOMS, f"/v1/intel/records/{created['id']}", {})
    assert empty.status_code == 422
    bad_grade = await intel.patch(
        KE_CUSTOMS,
        f"/v1/intel/records/{created['id']}",
        {"grading": {"scheme": "admiralty", "source": "A", "information": "1"}},
    )
    # the alert carries 5x5x5 handling code 1, which admiralty takes as free text: fine
    assert bad_grade.status_code == 200
    reversed_dates = await intel.patch(
        KE_CUSTOMS,
        f"/v1/intel/records/{created['id']}",
        {"expires_on": "2020-01-01", "review_on": "2021-01-01"},
    )
    assert reversed_dates.status_code == 422
    assert (await intel.get(KE_CUSTOMS, f"/v1/intel/records/{created['id']}")).json()[
        "version"
    ] == 2


async def test_a_change_cannot_null_what_a_record_always_has(intel: IntelShare) -> None:
    created = await intel.create(KE_CUSTOMS, alert())
    for field in ("tlp", "grading", "distribution", "content"):
        response = await intel.patch(
            KE_CUSTOMS, f"/v1/intel/records/{created['id']}", {field: None}
        )
        assert response.status_code == 422, field
    cleared = await intel.patch(
        KE_CUSTOMS, f"/v1/intel/records/{created['id']}", {"review_on": None}
    )
    assert cleared.status_code == 200  # an optional date may be cleared
    assert cleared.json()["version"] == 2
