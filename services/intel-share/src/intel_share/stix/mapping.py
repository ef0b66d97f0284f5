"""Records to STIX 2.1 objects and back (pure functions, built and parsed with `stix2`).

- A seizure is a `report` (its record id) whose `object_refs` are its parts: an
  `x-pangolin-seizure` (the new SDO of Pangolin's extension-definition), the originator's
  `identity`, a `location` per country named, the offenders' identities;
- an alert is a `report` with the route's locations;
- an entity is an `identity` (person: `individual`; company: `organization`; vessel or
  aircraft: `unspecified`), a `threat-actor` (a trafficking network) or a `location` (an
  address); its relationships are `relationship` objects;
- a sighting is a `sighting` of the record's main object.

Every object of a record carries Pangolin's property extension (record id, version, grading
with its scheme, distribution...), the record's TLP 2.0 marking, `confidence` (the grading
mapped to 0-100), `created_by_ref` = the originator, `modified` = the version's time and
`revoked`. Agencies' identities and countries' locations are shared by many records: they are
returned apart (`RecordObjects.common`) with ids derived from what they name.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, cast

import stix2
from stix2.properties import (
    DictionaryProperty,
    ListProperty,
    ReferenceProperty,
    StringProperty,
)

from intel_share.stix.markings import (
    PANGOLIN_EXTENSION_ID,
    SEIZURE_EXTENSION_ID,
    SEIZURE_TYPE,
    TLP2_MARKING_IDS,
    TLP_OF_MARKING,
)
from intel_share.stix.schemas import (
    AlertDetails,
    EntityDetails,
    Grading,
    Relationship,
    RelationshipKind,
    SeizedItem,
    SeizureDetails,
    SharedEntityKind,
    SharedRecord,
    Sighting,
)
from pangolin_core.contracts.intel import Originator

# Derived ids (agencies, countries, a record's secondary objects) are UUIDv5 in this namespace.
_NAMESPACE = uuid.UUID("1d0c9f43-5a7e-4f0b-b5a3-7c2e9e6d8b10")

RELATIONSHIP_TYPES: dict[RelationshipKind, str] = {
    "part_of_network": "part-of-network",
    "shipped_by": "shipped-by",
    "associated_with": "associated-with",
}
_RELATIONSHIP_KINDS = {v: k for k, v in RELATIONSHIP_TYPES.items()}


@stix2.v21.CustomObject(
    SEIZURE_TYPE,
    [
        ("name", StringProperty(required=True)),
        ("seized_on", StringProperty(required=True)),
        ("place", StringProperty()),
        ("office", StringProperty()),
        ("agency", StringProperty()),
        ("detection_method", StringProperty()),
        ("items", ListProperty(DictionaryProperty(spec_version="2.1"))),
        ("concealment", StringProperty()),
        ("transport_mode", StringProperty()),
        ("origin_countries", ListProperty(StringProperty)),
        ("export_country", StringProperty()),
        ("transit_countries", ListProperty(StringProperty)),
        ("destination_country", StringProperty()),
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


def entity_stix_type(kind: SharedEntityKind) -> str:
    if kind == "network":
        return "threat-actor"
    if kind == "address":
        return "location"
    return "identity"


def main_object_id(record: SharedRecord) -> str:
    """The STIX id of a record's main object (a report, or the entity's object)."""
    if record.entity is not None:
        return f"{entity_stix_type(record.entity.kind)}--{_record_uuid(record.id)}"
    return f"report--{_record_uuid(record.id)}"


def entity_object_id(record_id: str, kind: SharedEntityKind) -> str:
    return f"{entity_stix_type(kind)}--{_record_uuid(record_id)}"


def _serialise(obj: Any) -> dict[str, Any]:
    return cast(dict[str, Any], json.loads(obj.serialize()))


def _pangolin_extension(record: SharedRecord, **more: Any) -> dict[str, Any]:
    ext: dict[str, Any] = {
        "extension_type": "property-extension",
        "record_id": record.id,
        "record_type": record.record_type,
        "version": record.version,
        "grading_scheme": record.grading.scheme,
        "grading_code": record.grading.code,
        "distribution": record.distribution,
        "originator_agency": record.originator.agency,
        "originator_country": record.originator.country,
    }
    optional = {
        "handling_code": record.handling_code,
        "sharing_group": record.sharing_group,
        "review_on": record.review_on.isoformat() if record.review_on else None,
        "expires_on": record.expires_on.isoformat() if record.expires_on else None,
    }
    ext.update({k: v for k, v in optional.items() if v is not None})
    ext.update({k: v for k, v in more.items() if v not in (None, [], {})})
    return ext


def _common_properties(record: SharedRecord, **ext: Any) -> dict[str, Any]:
    return {
        "created_by_ref": originator_identity_id(record.originator),
        "created": record.created_at,
        "modified": record.modified_at,
        "revoked": record.revoked,
        "confidence": record.confidence,
        "object_marking_refs": [TLP2_MARKING_IDS[record.tlp]],
        "extensions": {PANGOLIN_EXTENSION_ID: _pangolin_extension(record, **ext)},
        "allow_custom": True,
    }


def originator_identity(originator: Originator) -> dict[str, Any]:
    # Stable (one version) so that every record of an agency refers to the same object.
    return _serialise(
        stix2.v21.Identity(
            id=originator_identity_id(originator),
            created="2026-01-01T00:00:00.000Z",
            modified="2026-01-01T00:00:00.000Z",
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
            created="2026-01-01T00:00:00.000Z",
            modified="2026-01-01T00:00:00.000Z",
            name=country,
            country=country,
        )
    )


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def to_stix(record: SharedRecord) -> RecordObjects:
    """The STIX objects of one version of a record."""
    common = [originator_identity(record.originator)]
    if record.entity is not None:
        own = [_entity_object(record, record.entity)]
        own.extend(_relationship(record, rel) for rel in record.relationships)
        return RecordObjects(own=own, common=common)
    countries: list[str] = []
    parts: list[dict[str, Any]] = []
    if record.seizure is not None:
        s = record.seizure
        countries = [*s.origin_countries, *s.transit_countries]
        countries += [c for c in (s.export_country, s.destination_country) if c]
        parts.append(_seizure_object(record, s))
        labels = ["seizure"]
    elif record.alert is not None:
        countries = list(record.alert.route)
        labels = ["alert"]
    else:
        raise StixMappingError(f"record {record.id} has no seizure, alert or entity details")
    unique_countries = list(dict.fromkeys(countries))
    common += [country_location(c) for c in unique_countries]
    parts += [_relationship(record, rel) for rel in record.relationships]
    refs = [p["id"] for p in parts] + [originator_identity_id(record.originator)]
    refs += [country_location_id(c) for c in unique_countries]
    if record.seizure is not None:
        refs += [entity_object_id(o, "person") for o in record.seizure.offender_ids]
    alert = record.alert
    report = stix2.v21.Report(
        id=main_object_id(record),
        name=record.title,
        description=record.description or (alert.modus_operandi if alert else None),
        report_types=["threat-report"],
        labels=labels,
        published=record.modified_at,
        object_refs=list(dict.fromkeys(refs)),
        **_common_properties(
            record, alert=alert.model_dump(mode="json", exclude_none=True) if alert else None
        ),
    )
    return RecordObjects(own=[_serialise(report), *parts], common=common)


def _seizure_object(record: SharedRecord, s: SeizureDetails) -> dict[str, Any]:
    items = [
        {
            k: v
            for k, v in {
                "species": i.species,
                "term": i.term,
                "quantity": _money(i.quantity),
                "unit": i.unit,
                "value": _money(i.value),
                "currency": i.currency,
            }.items()
            if v is not None
        }
        for i in s.items
    ]
    optional: dict[str, Any] = {
        "place": s.place,
        "office": s.office,
        "agency": s.agency,
        "detection_method": s.detection_method,
        "items": items,
        "concealment": s.concealment,
        "transport_mode": s.transport_mode,
        "origin_countries": s.origin_countries,
        "export_country": s.export_country,
        "transit_countries": s.transit_countries,
        "destination_country": s.destination_country,
        "offender_refs": [entity_object_id(o, "person") for o in s.offender_ids],
        "legal_outcome": s.legal_outcome,
        "disposal": s.disposal,
    }
    props = _common_properties(record, offender_ids=s.offender_ids)
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


def _entity_object(record: SharedRecord, e: EntityDetails) -> dict[str, Any]:
    entity_ext = {
        "title": record.title,
        "entity_kind": e.kind,
        "aliases": e.aliases,
        "identifiers": e.identifiers,
        "country": e.country,
        "birth_date": e.birth_date.isoformat() if e.birth_date else None,
    }
    props = _common_properties(record, **entity_ext)
    oid = entity_object_id(record.id, e.kind)
    obj: Any
    if e.kind == "network":
        obj = stix2.v21.ThreatActor(
            id=oid,
            name=e.name,
            aliases=e.aliases or None,
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


def _relationship(record: SharedRecord, rel: Relationship) -> dict[str, Any]:
    source_kind: SharedEntityKind = record.entity.kind if record.entity else "person"
    target_kind: SharedEntityKind = rel.target_kind or (
        "network" if rel.kind == "part_of_network" else "company"
    )
    obj = stix2.v21.Relationship(
        id=_derived_id("relationship", record.id, rel.kind, rel.source_id, rel.target_id),
        relationship_type=RELATIONSHIP_TYPES[rel.kind],
        source_ref=entity_object_id(rel.source_id, source_kind),
        target_ref=entity_object_id(rel.target_id, target_kind),
        **_common_properties(
            record, source_id=rel.source_id, target_id=rel.target_id, target_kind=rel.target_kind
        ),
    )
    return _serialise(obj)


def sighting_to_stix(sighting: Sighting, record: SharedRecord) -> list[dict[str, Any]]:
    """A sighting and the identity or location it names (anonymous: the country only)."""
    where: list[dict[str, Any]] = []
    if sighting.by is not None:
        where.append(originator_identity(sighting.by))
    elif sighting.country:
        where.append(country_location(sighting.country))
    obj = stix2.v21.Sighting(
        id=f"sighting--{_record_uuid(sighting.id)}",
        created_by_ref=originator_identity_id(sighting.by) if sighting.by else None,
        created=sighting.seen_at,
        modified=sighting.seen_at,
        first_seen=sighting.seen_at,
        last_seen=sighting.seen_at,
        count=sighting.count,
        description=sighting.note,
        sighting_of_ref=main_object_id(record),
        where_sighted_refs=[w["id"] for w in where] or None,
        object_marking_refs=[TLP2_MARKING_IDS[record.tlp]],
    )
    return [_serialise(obj), *where]


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


def _ext(obj: dict[str, Any]) -> dict[str, Any] | None:
    ext = obj.get("extensions", {}).get(PANGOLIN_EXTENSION_ID)
    return ext if isinstance(ext, dict) and "record_id" in ext else None


def _timestamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _date(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else None


def record_id_of(obj: dict[str, Any]) -> str | None:
    """The Pangolin record an object belongs to (None: not a Pangolin record's object)."""
    ext = _ext(obj)
    return str(ext["record_id"]) if ext else None


def is_main_object(obj: dict[str, Any]) -> bool:
    ext = _ext(obj)
    if ext is None:
        return False
    if ext["record_type"] == "entity":
        return obj["type"] in ("identity", "threat-actor", "location")
    return bool(obj["type"] == "report")


def from_stix(objects: list[dict[str, Any]]) -> list[SharedRecord]:
    """The Pangolin records in a set of STIX objects (one version each: the newest given).

    Every object is first parsed by `stix2` (so malformed STIX is refused); objects that
    belong to no Pangolin record (markings, identities, foreign objects) are skipped.
    Raises `StixMappingError` for a Pangolin object that cannot be read."""
    by_record: dict[str, list[dict[str, Any]]] = {}
    for obj in objects:
        try:
            stix2.parse(obj, allow_custom=True, version="2.1")
        except Exception as exc:  # stix2 raises many exception types for bad content
            raise StixMappingError(f"{obj.get('id', '?')}: {exc}") from exc
        rid = record_id_of(obj)
        if rid is not None:
            by_record.setdefault(rid, []).append(obj)
    records = []
    for rid, objs in by_record.items():
        mains = sorted(
            (o for o in objs if is_main_object(o)),
            key=lambda o: _ext(o)["version"],  # type: ignore[index]
        )
        if not mains:
            raise StixMappingError(f"record {rid}: no report or entity object")
        main = mains[-1]
        version = main["extensions"][PANGOLIN_EXTENSION_ID]["version"]
        same_version = [o for o in objs if _ext(o)["version"] == version]  # type: ignore[index]
        records.append(_record_from(main, same_version))
    return records


def _record_from(main: dict[str, Any], objs: list[dict[str, Any]]) -> SharedRecord:
    ext = main["extensions"][PANGOLIN_EXTENSION_ID]
    markings = [
        TLP_OF_MARKING[m] for m in main.get("object_marking_refs", []) if m in TLP_OF_MARKING
    ]
    if len(markings) != 1:
        raise StixMappingError(f"{main['id']}: exactly one TLP 2.0 marking is required")
    try:
        originator = Originator(agency=ext["originator_agency"], country=ext["originator_country"])
        fields: dict[str, Any] = {
            "id": ext["record_id"],
            "record_type": ext["record_type"],
            "version": ext["version"],
            "title": ext.get("title") or main.get("name") or ext["record_id"],
            "originator": originator,
            "grading": Grading(scheme=ext["grading_scheme"], code=ext["grading_code"]),
            "confidence": main.get("confidence", 0),
            "handling_code": ext.get("handling_code"),
            "tlp": markings[0],
            "distribution": ext["distribution"],
            "sharing_group": ext.get("sharing_group"),
            "review_on": _date(ext.get("review_on")),
            "expires_on": _date(ext.get("expires_on")),
            "created_at": _timestamp(main["created"]),
            "modified_at": _timestamp(main["modified"]),
            "revoked": bool(main.get("revoked", False)),
            "relationships": [
                Relationship(
                    kind=_RELATIONSHIP_KINDS[o["relationship_type"]],
                    source_id=_ext(o)["source_id"],  # type: ignore[index]
                    target_id=_ext(o)["target_id"],  # type: ignore[index]
                    target_kind=_ext(o).get("target_kind"),  # type: ignore[union-attr]
                )
                for o in objs
                if o["type"] == "relationship" and o["relationship_type"] in _RELATIONSHIP_KINDS
            ],
        }
        if ext["record_type"] == "entity":
            fields["entity"] = EntityDetails(
                kind=ext["entity_kind"],
                name=main["name"],
                aliases=ext.get("aliases", []),
                identifiers=ext.get("identifiers", {}),
                country=ext.get("country"),
                birth_date=_date(ext.get("birth_date")),
                address=main.get("street_address"),
            )
            fields["description"] = main.get("description")
        elif ext["record_type"] == "alert":
            fields["alert"] = AlertDetails.model_validate(ext.get("alert", {}))
            desc = main.get("description")
            fields["description"] = None if desc == fields["alert"].modus_operandi else desc
        else:
            fields["description"] = main.get("description")
            seizures = [o for o in objs if o["type"] == SEIZURE_TYPE]
            if len(seizures) != 1:
                raise StixMappingError(f"{main['id']}: a seizure report needs its {SEIZURE_TYPE}")
            fields["seizure"] = _seizure_from(seizures[0])
        return SharedRecord(**fields)
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, StixMappingError):
            raise
        raise StixMappingError(f"{main['id']}: not a readable Pangolin record: {exc}") from exc


def _seizure_from(obj: dict[str, Any]) -> SeizureDetails:
    offenders = list(obj["extensions"][PANGOLIN_EXTENSION_ID].get("offender_ids", []))
    return SeizureDetails(
        seized_on=date.fromisoformat(obj["seized_on"]),
        place=obj.get("place"),
        office=obj.get("office"),
        agency=obj.get("agency"),
        detection_method=obj.get("detection_method"),
        items=[SeizedItem.model_validate(i) for i in obj.get("items", [])],
        concealment=obj.get("concealment"),
        transport_mode=obj.get("transport_mode"),
        origin_countries=obj.get("origin_countries", []),
        export_country=obj.get("export_country"),
        transit_countries=obj.get("transit_countries", []),
        destination_country=obj.get("destination_country"),
        offender_ids=offenders,
        legal_outcome=obj.get("legal_outcome"),
        disposal=obj.get("disposal"),
    )
