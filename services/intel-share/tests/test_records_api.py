"""Records through the API: create, read, search, paginate, count, versions, revoke."""

from __future__ import annotations

from intel_support import KE_CUSTOMS, VN_CUSTOMS, IntelShare, seizure


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
