"""Pure rules: the watchlist entries a record yields, and grading -> confidence."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from intel_share.records.grading import SCALES, confidence, grading_errors
from intel_share.records.schemas import RecordOut
from intel_share.records.watchlist import watchlist_entries
from intel_support import alert, person, seizure

TODAY = date(2026, 12, 6)


def record_out(body: dict[str, Any], **changes: Any) -> RecordOut:
    """A stored record as the API gives it back, from a request body."""
    now = datetime(2026, 12, 6, tzinfo=UTC)
    out = {
        "id": "rec-1",
        "type": body["type"],
        "title": body["title"],
        "description": body.get("description"),
        "originator": {"agency": "customs", "country": "KE"},
        "grading": {**body["grading"], "code": "B2", "confidence": 70},
        "handling_code": None,
        "tlp": body["tlp"],
        "distribution": {"level": "community"},
        "review_on": None,
        "expires_on": None,
        "version": 1,
        "revoked": False,
        "revoked_at": None,
        "revoked_reason": None,
        "created_at": now,
        "updated_at": now,
        body["type"]: body[body["type"]],
    }
    out.update(changes)
    return RecordOut.model_validate(out)


def test_a_person_is_a_trader_with_every_name() -> None:
    [entry] = watchlist_entries(record_out(person()), today=TODAY)
    assert entry.kind == "trader"
    assert entry.entry_id == "rec-1:trader:1"
    assert entry.names == ["Nguyễn Văn Hùng", "Nguyen Van Hung", "Нгуен Ван Хунг"]
    assert entry.country == "VN"
    assert entry.birth_date == date(1975, 4, 30)
    assert entry.identifiers == {"passport": "C1234567"}


def test_a_vessel_is_a_vessel_and_an_address_nothing() -> None:
    vessel = person(
        entity={"kind": "vessel", "name": "MV Ocean Star", "identifiers": {"imo": "9321483"}}
    )
    [entry] = watchlist_entries(record_out(vessel), today=TODAY)
    assert (entry.kind, entry.names, entry.identifiers) == (
        "vessel",
        ["MV Ocean Star"],
        {"imo": "9321483"},
    )
    address = person(entity={"kind": "address", "name": "12 Harbour Road, Mombasa"})
    assert watchlist_entries(record_out(address), today=TODAY) == []


def test_a_seizure_yields_its_route_hubs_species_and_concealment() -> None:
    entries = watchlist_entries(record_out(seizure()), today=TODAY)
    summary = [(e.kind, e.names, e.route_from, e.route_to, e.hubs) for e in entries]
    assert summary == [
        ("route", [], "KE", "VN", ["AE"]),
        ("hub", [], None, None, ["AE"]),
        ("species", ["Loxodonta africana"], None, None, []),
        ("concealment", ["machine parts"], None, None, []),
    ]
    assert len({e.entry_id for e in entries}) == len(entries)


def test_an_alert_yields_each_route_and_each_hub_once() -> None:
    body = alert()
    body["alert"]["routes"].append({"from_country": "CM", "to_country": "CN", "via": ["AE"]})
    entries = watchlist_entries(record_out(body), today=TODAY)
    assert [(e.kind, e.route_from, e.hubs) for e in entries if e.kind in ("route", "hub")] == [
        ("route", "NG", ["ET", "AE"]),
        ("route", "CM", ["AE"]),
        ("hub", None, ["ET"]),
        ("hub", None, ["AE"]),
    ]
    assert [e.names for e in entries if e.kind == "concealment"] == [["dried fish maw"]]


@pytest.mark.parametrize(
    "changes",
    [{"revoked": True}, {"expires_on": date(2026, 12, 5)}],
    ids=["revoked", "expired"],
)
def test_a_revoked_or_expired_record_yields_nothing(changes: dict[str, Any]) -> None:
    assert watchlist_entries(record_out(person(), **changes), today=TODAY) == []


def test_an_alert_past_its_validity_yields_nothing() -> None:
    body = alert()
    body["alert"]["valid_until"] = "2026-12-01"
    assert watchlist_entries(record_out(body), today=TODAY) == []
    assert watchlist_entries(record_out(body), today=date(2026, 11, 30)) != []


@pytest.mark.parametrize(
    ("scheme", "information", "expected"),
    [
        ("admiralty", "1", 90),
        ("admiralty", "2", 70),
        ("admiralty", "3", 50),
        ("admiralty", "4", 30),
        ("admiralty", "5", 10),
        ("admiralty", "6", 50),
        ("5x5x5", "1", 90),
        ("5x5x5", "4", 50),
        ("5x5x5", "5", 10),
        ("3x5x2", "1", 90),
        ("3x5x2", "4", 30),
        ("3x5x2", "5", 10),
    ],
)
def test_grading_maps_to_confidence(scheme: str, information: str, expected: int) -> None:
    assert confidence(scheme, information) == expected


def test_each_scheme_checks_its_own_grades_and_handling_codes() -> None:
    assert grading_errors("admiralty", "F", "6", "any text") == []
    assert grading_errors("5x5x5", "E", "5", "3") == []
    assert grading_errors("3x5x2", "C", "5", "P") == []
    assert [f for f, _ in grading_errors("3x5x2", "D", "6", "1")] == [
        "grading.source",
        "grading.information",
        "handling_code",
    ]
    assert [f for f, _ in grading_errors("5x5x5", "F", "1", None)] == ["grading.source"]
    assert [f for f, _ in grading_errors("nato", "A", "1", None)] == ["grading.scheme"]
    assert set(SCALES) == {"admiralty", "5x5x5", "3x5x2"}
