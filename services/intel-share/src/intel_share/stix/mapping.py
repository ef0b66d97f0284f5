"""Records to STIX 2.1 objects and back (pure functions, objects built and parsed by `stix2`).

- A seizure is a `report` (id = the record id) whose `object_refs` are its parts: an
  `x-pangolin-seizure` (the new SDO of Pangolin's extension-definition), the originator's
  `identity`, a `location` per country named, the offenders' identities, its relationships;
- an alert is a `report` with its routes' locations;
- an entity is an `identity` (person: `individual`; company: `organization`; vessel or
  aircraft: `unspecified`), a `threat-actor` (a trafficking network) or a `location` (an
  address); its relationships are `relationship` objects from it;
- a sighting is a `sighting` of the record's main object.

Every object of a record carries the record-properties extension (record id, type, version,
grading with its scheme, handling code, distribution, originator, dates), the record's TLP 2.0
marking, `confidence` (the grading mapped to 0-100 by `records.grading`), `created_by_ref` =
the originator's identity, `modified` = the version's time (`updated_at`) and `revoked`.
Agencies' identities and countries' locations are shared by many records: they come apart
(`RecordObjects.common`), with ids derived from what they name.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, cast

import stix2
from pydantic import ValidationError
from stix2.properties import DictionaryProperty, ListProperty, ReferenceProperty, StringProperty

from intel_share.records.schemas import (
    AlertDetails,
    DistributionOut,
    EntityDetails,
    GradingOut,
    RecordOut,
    RelationshipOut,
    SeizureDetails,
)
from intel_share.sightings.models import Sighting
from intel_share.stix.markings import (
    PANGOLIN_EXTENSION_ID,
    SEIZURE_EXTENSION_ID,
    SEIZURE_TYPE,
    TLP2_MARKING_IDS,
    TLP_OF_MARKING,
)
from pangolin_core.contracts.intel import Originator

# Derived ids (agencies, countries, a record's secondary objects) are UUIDv5 in this namespace.
_NAMESPACE = uuid.UUID("1d0c9f43-5a7e-4f0b-b5a3-7c2e9e6d8b10")
# The identities and locations every record shares have one version, from this time.
_COMMON_CREATED = "2026-01-01T00:00:00.000Z"


@stix2.v21.CustomObject(
    SEIZURE_TYPE,
    [
        ("name", StringProperty(required=True)),
        ("seized_on", StringProperty(required=True)),
        ("place", StringProperty()),
        ("office", StringProperty()),
        ("agency", StringProperty()),
        ("detection_method", StringProperty()),
        ("specimens", ListProperty(DictionaryProperty(spec_version="2.1"))),
        ("concealment", StringProperty()),
        ("transport_mode", StringProperty()),
        ("origin_countries", ListProperty(StringProperty)),
        ("export_countries", ListProperty(StringProperty)),
        ("transit_countries", ListProperty(StringProperty)),
        ("destination_countries", ListProperty(StringProperty)),
        ("offender_refs", ListProperty(ReferenceProperty(valid_types="identity"))),
        ("legal_outcome", StringProperty()),
        ("disposal", StringProperty()),
    ],
    extension_name=SEIZURE_EXTENSION_ID,
)
class SeizureObject:
    """`x-pangolin-seizure`: the CITES illegal-trade report's fields."""


# stix2 builds the class's constructor at run time; mypy sees only the empty body above.
_new_seizure: Any = SeizureObject

# Relationship kinds as STIX relationship types (lower case, hyphens).
_RELATIONSHIP_TYPE = {
    "part_of_network": "part-of-network",
    "shipped_by": "shipped-by",
    "associated_with": "associated-with",
    "owned_by": "owned-by",
    "operated_by": "operated-by",
    "located_at": "located-at",
    "related_to": "related-to",
}
_RELATIONSHIP_KIND = {v: k for k, v in _RELATIONSHIP_TYPE.items()}


class StixMappingError(ValueError):
    """STIX content that cannot be read as a Pangolin record."""


@dataclass(frozen=True)
class RecordObjects:
    """A record's own objects (main object first) and the shared ones it refers to."""

    own: list[dict[str, Any]]
    common: list[dict[str, Any]] = field(default_factory=list)

    @property
    def main(self) -> dict[str, Any]:
        return self.own[0]


def _derived_id(stix_type: str, *parts: str) -> str:
    return f"{stix_type}--{uuid.uuid5(_NAMESPACE, '|'.join(parts))}"


def _record_uuid(record_id: str) -> str:
    """A record id that is a UUID is the STIX id's UUID as it is; others are derived."""
    try:
        return str(uuid.UUID(record_id))
    except ValueError:
        return str(uuid.uuid5(_NAMESPACE, record_id))


def originator_identity_id(originator: Originator) -> str:
    return _derived_id("identity", "originator", originator.country, originator.agency)


def country_location_id(country: str) -> str:
    return _derived_id("location", "country", country)


def entity_stix_type(kind: str) -> str:
    return {"network": "threat-actor", "address": "location"}.get(kind, "identity")


def stix_type_of(record: RecordOut) -> str:
    """The STIX type of a record's main object."""
    return entity_stix_type(record.entity.kind) if record.entity else "report"


def main_object_id(record: RecordOut) -> str:
    return f"{stix_type_of(record)}--{_record_uuid(record.id)}"


def _target_type(rel: RelationshipOut, known: Mapping[str, str]) -> str:
    """A relationship target's STIX type: as held here, else what its kind implies."""
    if rel.target_id in known:
        return known[rel.target_id]
    return {"part_of_network": "threat-actor", "located_at": "location"}.get(rel.kind, "identity")


def _serialise(obj: Any) -> dict[str, Any]:
    return cast(dict[str, Any], json.loads(obj.serialize()))


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _record_properties(record: RecordOut, **more: Any) -> dict[str, Any]:
    ext: dict[str, Any] = {
        "extension_type": "property-extension",
        "record_id": record.id,
        "record_type": record.type,
        "version": record.version,
        "title": record.title,
        "grading_scheme": record.grading.scheme,
        "grading_source": record.grading.source,
        "grading_information": record.grading.information,
        "distribution": record.distribution.level,
        "originator_agency": record.originator.agency,
        "originator_country": record.originator.country,
    }
    optional = {
        "handling_code": record.handling_code,
        "sharing_group_id": record.distribution.sharing_group_id,
        "distribution_country": record.distribution.country,
        "review_on": record.review_on.isoformat() if record.review_on else None,
        "expires_on": record.expires_on.isoformat() if record.expires_on else None,
        "revoked_at": record.revoked_at.isoformat() if record.revoked_at else None,
        "revoked_reason": record.revoked_reason,
        **more,
    }
    ext.update({k: v for k, v in optional.items() if v not in (None, [], {})})
    return ext


def _common_properties(record: RecordOut, **ext: Any) -> dict[str, Any]:
    return {
        "created_by_ref": originator_identity_id(record.originator),
        "created": _utc(record.created_at),
        "modified": _utc(record.updated_at),
        "revoked": record.revoked,
        "confidence": record.grading.confidence,
        "object_marking_refs": [TLP2_MARKING_IDS[record.tlp]],
        "extensions": {PANGOLIN_EXTENSION_ID: _record_properties(record, **ext)},
        "allow_custom": True,
    }


def originator_identity(originator: Originator) -> dict[str, Any]:
    return _serialise(
        stix2.v21.Identity(
            id=originator_identity_id(originator),
            created=_COMMON_CREATED,
            modified=_COMMON_CREATED,
            name=f"{originator.agency} ({originator.country})",
            identity_class="organization",
            sectors=["government-national"],
            contact_information=f"country:{originator.country}",
        )
    )


def country_location(country: str) -> dict[str, Any]:
    return _serialise(
        stix2.v21.Location(
            id=country_location_id(country),
            created=_COMMON_CREATED,
            modified=_COMMON_CREATED,
            name=country,
            country=country,
        )
    )


def to_stix(record: RecordOut, *, known_types: Mapping[str, str] | None = None) -> RecordObjects:
    """The STIX objects of one version of a record. `known_types`: record id -> STIX type of
    relationship targets held here (others are typed by the relationship's kind)."""
    known = known_types or {}
    common = [originator_identity(record.originator)]
    relationships = [_relationship(record, rel, known) for rel in record.relationships]
    if record.entity is not None:
        return RecordObjects(
            own=[_entity_object(record, record.entity), *relationships], common=common
        )
    countries: list[str] = []
    parts: list[dict[str, Any]] = []
    offenders: list[str] = []
    if record.seizure is not None:
        s = record.seizure
        countries = [
            *s.origin_countries,
            *s.export_countries,
            *s.transit_countries,
            *s.destination_countries,
        ]
        parts.append(_seizure_object(record, s))
        offenders = [f"identity--{o}" for o in s.offenders]
        labels = ["seizure"]
    elif record.alert is not None:
        for route in record.alert.routes:
            countries += [c for c in (route.from_country, *route.via, route.to_country) if c]
        labels = ["alert"]
    else:
        raise StixMappingError(f"record {record.id} has no seizure, alert or entity details")
    unique_countries = list(dict.fromkeys(countries))
    common += [country_location(c) for c in unique_countries]
    refs = [p["id"] for p in parts] + [r["id"] for r in relationships]
    refs += [originator_identity_id(record.originator)]
    refs += [country_location_id(c) for c in unique_countries] + offenders
    alert = record.alert
    report = stix2.v21.Report(
        id=main_object_id(record),
        name=record.title,
        description=record.description,
        report_types=["threat-report"],
        labels=labels,
        published=_utc(record.updated_at),
        object_refs=list(dict.fromkeys(refs)),
        **_common_properties(
            record, alert=alert.model_dump(mode="json", exclude_none=True) if alert else None
        ),
    )
    return RecordObjects(own=[_serialise(report), *parts, *relationships], common=common)


def _seizure_object(record: RecordOut, s: SeizureDetails) -> dict[str, Any]:
    specimens = [sp.model_dump(mode="json", exclude_none=True) for sp in s.specimens]
    optional: dict[str, Any] = {
        "place": s.place,
        "office": s.office,
        "agency": s.agency,
        "detection_method": s.detection_method,
        "specimens": specimens,
        "concealment": s.concealment,
        "transport_mode": s.transport_mode,
        "origin_countries": s.origin_countries,
        "export_countries": s.export_countries,
        "transit_countries": s.transit_countries,
        "destination_countries": s.destination_countries,
        "offender_refs": [f"identity--{o}" for o in s.offenders],
        "legal_outcome": s.legal_outcome,
        "disposal": s.disposal,
    }
    props = _common_properties(record)
    # The new SDO's own extension entry sits beside the record properties.
    props["extensions"][SEIZURE_EXTENSION_ID] = {"extension_type": "new-sdo"}
    obj = _new_seizure(
        id=_derived_id(SEIZURE_TYPE, record.id),
        name=record.title,
        seized_on=s.seized_on.isoformat(),
        **{k: v for k, v in optional.items() if v not in (None, [])},
        **props,
    )
    return _serialise(obj)


def _entity_object(record: RecordOut, e: EntityDetails) -> dict[str, Any]:
    entity_ext = {
        "entity": e.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
        | {"kind": e.kind, "name": e.name}
    }
    props = _common_properties(record, **entity_ext)
    oid = main_object_id(record)
    aliases = [a.name for a in e.aliases] or None
    obj: Any
    if e.kind == "network":
        obj = stix2.v21.ThreatActor(
            id=oid,
            name=e.name,
            aliases=aliases,
            threat_actor_types=["criminal"],
            description=record.description,
            **props,
        )
    elif e.kind == "address":
        obj = stix2.v21.Location(
            id=oid,
            name=e.name,
            street_address=e.address or e.name,
            country=e.country or record.originator.country,
            description=record.description,
            **props,
        )
    else:
        identity_class = {"person": "individual", "company": "organization"}.get(
            e.kind, "unspecified"
        )
        obj = stix2.v21.Identity(
            id=oid,
            name=e.name,
            identity_class=identity_class,
            description=record.description,
            **props,
        )
    return _serialise(obj)


def _relationship(
    record: RecordOut, rel: RelationshipOut, known: Mapping[str, str]
) -> dict[str, Any]:
    obj = stix2.v21.Relationship(
        id=_derived_id("relationship", record.id, rel.kind, rel.target_id),
        relationship_type=_RELATIONSHIP_TYPE.get(rel.kind, "related-to"),
        source_ref=main_object_id(record),
        target_ref=f"{_target_type(rel, known)}--{_record_uuid(rel.target_id)}",
        description=rel.description,
        **_common_properties(record, relationship_kind=rel.kind, target_id=rel.target_id),
    )
    return _serialise(obj)


def sighting_to_stix(sighting: Sighting, record: RecordOut) -> list[dict[str, Any]]:
    """A sighting and where it was seen: the reporting agency's identity, or (anonymous) the
    country only."""
    seen = datetime.combine(sighting.seen_on, datetime.min.time(), tzinfo=UTC)
    where: dict[str, Any]
    by = None
    if sighting.anonymous:
        where = country_location(sighting.country)
    else:
        by = Originator(agency=sighting.agency, country=sighting.agency_country)
        where = originator_identity(by)
    obj = stix2.v21.Sighting(
        id=f"sighting--{_record_uuid(sighting.id)}",
        created_by_ref=originator_identity_id(by) if by else None,
        created=_utc(sighting.created_at),
        modified=_utc(sighting.created_at),
        first_seen=seen,
        last_seen=seen,
        description=sighting.note,
        sighting_of_ref=main_object_id(record),
        where_sighted_refs=[where["id"]],
        object_marking_refs=[TLP2_MARKING_IDS[record.tlp]],
    )
    return [_serialise(obj), where]


def bundle(objects: list[dict[str, Any]]) -> dict[str, Any]:
    """A STIX bundle of `objects` (deduplicated by id and version, first kept)."""
    seen: set[tuple[str, str | None]] = set()
    unique = []
    for obj in objects:
        key = (obj["id"], obj.get("modified"))
        if key not in seen:
            seen.add(key)
            unique.append(obj)
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": unique}


# --- from STIX ---


def record_properties(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The record-properties extension of a Pangolin record's object (None: not one)."""
    ext = obj.get("extensions", {}).get(PANGOLIN_EXTENSION_ID)
    return ext if isinstance(ext, dict) and "record_id" in ext else None


def _timestamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _date(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else None


def is_main_object(obj: dict[str, Any]) -> bool:
    ext = record_properties(obj)
    if ext is None:
        return False
    if ext.get("record_type") == "entity":
        return obj["type"] in ("identity", "threat-actor", "location")
    return bool(obj["type"] == "report")


def parse_object(obj: dict[str, Any]) -> None:
    """Refuse what `stix2` cannot parse as a STIX 2.1 object (custom content allowed)."""
    try:
        stix2.parse(obj, allow_custom=True, version="2.1")
    except Exception as exc:  # stix2 raises many exception types for bad content
        raise StixMappingError(f"{obj.get('id', '?')}: {exc}") from exc


def from_stix(objects: list[dict[str, Any]]) -> list[RecordOut]:
    """The Pangolin records in a set of STIX objects (per record, the newest version given).

    Every object is parsed by `stix2` first (malformed STIX is refused); objects of no
    Pangolin record (markings, identities, foreign content) are skipped. Raises
    `StixMappingError` for a Pangolin object that cannot be read."""
    by_record: dict[str, list[dict[str, Any]]] = {}
    for obj in objects:
        parse_object(obj)
        ext = record_properties(obj)
        if ext is not None:
            by_record.setdefault(str(ext["record_id"]), []).append(obj)
    records = []
    for rid, objs in by_record.items():
        mains = [o for o in objs if is_main_object(o)]
        if not mains:
            raise StixMappingError(f"record {rid}: no report or entity object")
        main = max(mains, key=lambda o: int(o["extensions"][PANGOLIN_EXTENSION_ID]["version"]))
        version = main["extensions"][PANGOLIN_EXTENSION_ID]["version"]
        parts = [o for o in objs if o["extensions"][PANGOLIN_EXTENSION_ID]["version"] == version]
        records.append(_record_from(main, parts))
    return records


def _record_from(main: dict[str, Any], parts: list[dict[str, Any]]) -> RecordOut:
    ext = main["extensions"][PANGOLIN_EXTENSION_ID]
    refs = main.get("object_marking_refs", [])
    markings = [TLP_OF_MARKING[m] for m in refs if m in TLP_OF_MARKING]
    if len(markings) != 1:
        raise StixMappingError(f"{main['id']}: exactly one TLP 2.0 marking is required")
    try:
        fields: dict[str, Any] = {
            "id": ext["record_id"],
            "type": ext["record_type"],
            "title": ext.get("title") or main["name"],
            "description": main.get("description"),
            "originator": {
                "agency": ext["originator_agency"],
                "country": ext["originator_country"],
            },
            "grading": GradingOut(
                scheme=ext["grading_scheme"],
                source=ext["grading_source"],
                information=ext["grading_information"],
                code=ext["grading_source"] + ext["grading_information"],
                confidence=main.get("confidence", 0),
            ),
            "handling_code": ext.get("handling_code"),
            "tlp": markings[0],
            "distribution": DistributionOut(
                level=ext["distribution"],
                sharing_group_id=ext.get("sharing_group_id"),
                country=ext.get("distribution_country"),
            ),
            "review_on": _date(ext.get("review_on")),
            "expires_on": _date(ext.get("expires_on")),
            "version": ext["version"],
            "revoked": bool(main.get("revoked", False)),
            "revoked_at": ext.get("revoked_at"),
            "revoked_reason": ext.get("revoked_reason"),
            "created_at": _timestamp(main["created"]),
            "updated_at": _timestamp(main["modified"]),
            "relationships": [
                RelationshipOut(
                    kind=o["extensions"][PANGOLIN_EXTENSION_ID]["relationship_kind"],
                    target_id=o["extensions"][PANGOLIN_EXTENSION_ID]["target_id"],
                    description=o.get("description"),
                )
                for o in parts
                if o["type"] == "relationship"
            ],
        }
        if ext["record_type"] == "entity":
            fields["entity"] = EntityDetails.model_validate(ext["entity"])
        elif ext["record_type"] == "alert":
            fields["alert"] = AlertDetails.model_validate(ext["alert"])
        else:
            seizures = [o for o in parts if o["type"] == SEIZURE_TYPE]
            if len(seizures) != 1:
                raise StixMappingError(f"{main['id']}: a seizure report needs its {SEIZURE_TYPE}")
            fields["seizure"] = _seizure_from(seizures[0])
        return RecordOut.model_validate(fields)
    except (KeyError, TypeError, ValidationError) as exc:
        raise StixMappingError(f"{main['id']}: not a readable Pangolin record: {exc}") from exc


def _seizure_from(obj: dict[str, Any]) -> SeizureDetails:
    names = [
        "place",
        "office",
        "agency",
        "detection_method",
        "specimens",
        "concealment",
        "transport_mode",
        "origin_countries",
        "export_countries",
        "transit_countries",
        "destination_countries",
        "legal_outcome",
        "disposal",
    ]
    return SeizureDetails.model_validate(
        {
            "seized_on": obj["seized_on"],
            "offenders": [ref.split("--", 1)[1] for ref in obj.get("offender_refs", [])],
            **{n: obj[n] for n in names if n in obj},
        }
    )
