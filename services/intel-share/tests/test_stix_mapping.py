"""The STIX 2.1 mapping: every kind of record both ways, and every bundle passes the OASIS
validator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from intel_share.sightings.models import Sighting
from intel_share.stix import markings
from intel_share.stix.mapping import (
    StixMappingError,
    bundle,
    from_stix,
    main_object_id,
    sighting_to_stix,
    to_stix,
)
from intel_share.stix.markings import (
    PANGOLIN_EXTENSION_ID,
    SEIZURE_EXTENSION_ID,
    SEIZURE_TYPE,
    TLP2_MARKING_IDS,
    common_objects,
)
from intel_share.stix.validation import validation_errors
from taxii_support import T0, new_id, next_version, person_in_network, record


def objects_of(*records):  # type: ignore[no-untyped-def]
    objs = list(common_objects())
    for r in records:
        mapped = to_stix(r)
        objs += mapped.own + mapped.common
    return objs


def test_tlp2_markings_have_the_official_ids() -> None:
    assert TLP2_MARKING_IDS == {
        "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
    }


def test_a_seizure_is_a_report_of_its_parts() -> None:
    r = record("seizure")
    mapped = to_stix(r)
    report = mapped.main
    assert report["type"] == "report"
    assert report["id"] == f"report--{r.id}"
    seizure = next(o for o in mapped.own if o["type"] == SEIZURE_TYPE)
    assert seizure["id"] in report["object_refs"]
    assert seizure["extensions"][SEIZURE_EXTENSION_ID] == {"extension_type": "new-sdo"}
    assert seizure["specimens"][0]["quantity"] == "12.5"
    locations = {o["country"] for o in mapped.common if o["type"] == "location"}
    assert locations == {"UG", "KE", "AE", "VN"}
    assert seizure["extensions"][PANGOLIN_EXTENSION_ID]["grading_source"] == "B"
    assert report["confidence"] == 70  # admiralty information 2
    assert report["object_marking_refs"] == [TLP2_MARKING_IDS["amber"]]
    assert report["created_by_ref"] in {o["id"] for o in mapped.common}


@pytest.mark.parametrize(
    "kind", ["seizure", "alert", "person", "company", "network", "vessel", "address"]
)
def test_every_kind_of_record_goes_there_and_back(kind: str) -> None:
    r = record(kind)
    assert from_stix(objects_of(r)) == [r]


def test_relationships_sightings_and_revocation_round_trip_and_validate() -> None:
    network, person = person_in_network()
    revoked = next_version(record("alert"), revoked=True, revoked_at=T0, revoked_reason="wrong")
    objs = objects_of(network, person, revoked)
    rel = next(o for o in objs if o["type"] == "relationship")
    assert rel["relationship_type"] == "part-of-network"
    assert rel["source_ref"] == main_object_id(person)
    assert rel["target_ref"] == main_object_id(network)
    assert network_type(objs, network.id) == "threat-actor"
    seen = {"record_id": revoked.id, "seen_on": T0.date(), "client_id": "c", "created_at": T0}
    sighting = Sighting(id=new_id(), country="TZ", agency="customs", agency_country="TZ", **seen)
    anonymous = Sighting(
        id=new_id(), country="UG", agency="customs", agency_country="UG", anonymous=True, **seen
    )
    objs += sighting_to_stix(sighting, revoked) + sighting_to_stix(anonymous, revoked)
    b = bundle(objs)
    assert validation_errors(b) == []
    back = {r.id: r for r in from_stix(b["objects"])}
    assert back == {network.id: network, person.id: person, revoked.id: revoked}
    assert back[revoked.id].revoked is True
    assert back[revoked.id].version == 2


def network_type(objs, record_id):  # type: ignore[no-untyped-def]
    return next(
        o["type"]
        for o in objs
        if o.get("extensions", {}).get(PANGOLIN_EXTENSION_ID, {}).get("record_id") == record_id
    )


@pytest.mark.parametrize("tlp", list(TLP2_MARKING_IDS))
def test_every_bundle_of_every_kind_and_tlp_passes_the_validator(tlp: str) -> None:
    kinds = ("seizure", "alert", "person", "company", "network", "vessel", "address")
    records = [record(k, tlp=tlp) for k in kinds]
    assert validation_errors(bundle(objects_of(*records))) == []


def test_the_newest_version_given_is_read() -> None:
    r1 = record("alert")
    r2 = next_version(r1, title="Updated alert")
    assert from_stix(objects_of(r1, r2)) == [r2]


def test_malformed_stix_is_refused_with_a_reason() -> None:
    objs = objects_of(record("seizure"))
    report = next(o for o in objs if o["type"] == "report")
    report["object_marking_refs"] = []
    with pytest.raises(StixMappingError, match=r"TLP 2\.0 marking"):
        from_stix(objs)
    with pytest.raises(StixMappingError):
        from_stix([{"type": "report", "id": "report--nope", "spec_version": "2.1"}])


def test_seizure_objects_follow_the_shipped_json_schema() -> None:
    schema_file = Path(markings.__file__).with_name("x-pangolin-seizure.schema.json")
    schema = json.loads(schema_file.read_text())
    assert schema["$id"] == markings.SEIZURE_SCHEMA
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    Draft202012Validator.check_schema(schema)
    seizure = next(o for o in to_stix(record("seizure")).own if o["type"] == SEIZURE_TYPE)
    assert [e.message for e in validator.iter_errors(seizure)] == []
    broken = seizure | {"seized_on": "yesterday", "origin_countries": ["Kenya"]}
    assert len(list(validator.iter_errors(broken))) == 2
