"""Records for the STIX, TAXII and federation tests: one of each kind, with changes."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from intel_share.stix.schemas import (
    AlertDetails,
    EntityDetails,
    Grading,
    Relationship,
    SeizedItem,
    SeizureDetails,
    SharedRecord,
)
from pangolin_core.contracts.intel import Originator

KWS = Originator(agency="Kenya Wildlife Service", country="KE")
T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def new_id() -> str:
    return str(uuid.uuid4())


def record(kind: str = "seizure", **changes: Any) -> SharedRecord:
    rid = changes.pop("id", None) or new_id()
    base: dict[str, Any] = {
        "id": rid,
        "record_type": "entity" if kind in ("person", "company", "network", "vessel") else kind,
        "version": 1,
        "title": f"{kind} {rid[:8]}",
        "originator": KWS,
        "grading": Grading(scheme="admiralty", code="B2"),
        "confidence": 75,
        "tlp": "amber",
        "distribution": "community",
        "created_at": T0,
        "modified_at": T0,
    }
    if kind == "seizure":
        base["seizure"] = SeizureDetails(
            seized_on=date(2026, 10, 30),
            place="Jomo Kenyatta International Airport",
            office="JKIA cargo",
            agency="KWS",
            detection_method="x-ray",
            items=[
                SeizedItem(
                    species="Smutsia temminckii",
                    term="SCA",
                    quantity=Decimal("12.5"),
                    unit="KIL",
                    value=Decimal("30000"),
                    currency="USD",
                )
            ],
            concealment="false-bottom suitcases",
            transport_mode="air",
            origin_countries=["UG"],
            export_country="KE",
            transit_countries=["AE"],
            destination_country="VN",
            legal_outcome="prosecuted",
            disposal="stored as evidence",
        )
    elif kind == "alert":
        base["alert"] = AlertDetails(
            modus_operandi="Scales declared as fish maw in frozen containers",
            concealment_method="frozen fish cartons",
            route=["NG", "MY", "VN"],
            valid_from=date(2026, 11, 1),
            valid_until=date(2027, 5, 1),
        )
    else:
        base["entity"] = EntityDetails(
            kind=kind,  # type: ignore[arg-type]
            name={"person": "Nguyễn Văn Hùng", "company": "Golden Ivory Trading Co., Ltd."}.get(
                kind, "Lagos-Hanoi scales network"
            ),
            aliases=["Nguyen Van Hung"] if kind == "person" else [],
            identifiers={"passport": "C1234567"} if kind == "person" else {},
            country="VN",
            birth_date=date(1978, 3, 2) if kind == "person" else None,
        )
    base.update(changes)
    return SharedRecord(**base)


def next_version(r: SharedRecord, **changes: Any) -> SharedRecord:
    return r.model_copy(
        update={
            "version": r.version + 1,
            "modified_at": r.modified_at + timedelta(hours=1),
            **changes,
        }
    )


def person_in_network() -> tuple[SharedRecord, SharedRecord]:
    network = record("network")
    person = record(
        "person",
        relationships=[],
    )
    person = person.model_copy(
        update={
            "relationships": [
                Relationship(kind="part_of_network", source_id=person.id, target_id=network.id)
            ]
        }
    )
    return network, person
