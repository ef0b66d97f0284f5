"""Watchlist matching: names normalised (diacritics, case, company forms) then fuzzy, the
trader's country must agree; vessels, routes, hubs, species, concealment words; versions."""

from __future__ import annotations

from datetime import date
from typing import Any

from pangolin_core.contracts.intel import WatchlistEntry
from pangolin_core.contracts.permits import Declaration
from risk_score.watchlists.service import HeldEntry, WatchlistIndex, normalise_name
from risk_support import declaration

ON = date(2026, 12, 6)


def index(
    *entries: dict[str, Any], valid_until: date | None = None, version: int = 1
) -> WatchlistIndex:
    held = [
        HeldEntry(
            entry=WatchlistEntry.model_validate({"entry_id": f"r:{n}", **e}),
            record_id="r",
            title="record",
            confidence=100,
            valid_until=valid_until,
        )
        for n, e in enumerate(entries)
    ]
    watchlists = WatchlistIndex()
    watchlists.put("r", version, held)
    return watchlists


def hits(watchlists: WatchlistIndex, **changes: Any) -> list[str]:
    found = watchlists.match(Declaration.model_validate(declaration(**changes)), on=ON)
    return [f"{h.kind}:{h.entry_id}" for h in found]


def test_names_are_normalised() -> None:
    assert normalise_name("Hanoi Pet Trading Co., Ltd.") == "hanoi pet trading"
    assert normalise_name("HANOI PET TRADING COMPANY LIMITED") == "hanoi pet trading"
    assert normalise_name("Société Générale d'Export SARL") == "societe generale d export"
    assert normalise_name("Co. Ltd") == "co ltd"  # nothing but company forms: kept


def test_traders_match_fuzzily_with_country_agreement() -> None:
    watchlists = index(
        {"kind": "trader", "names": ["Hà Nội Pet Trading Company Limited", "HPT"], "country": "VN"}
    )
    assert hits(watchlists, importer={"name": "Ha Noi Pet Trading Co., Ltd", "country": "VN"}) == [
        "trader:r:0"
    ]
    assert watchlists.trader_names == ["ha noi pet trading", "hpt"]  # built at the match
    assert hits(watchlists, importer={"name": "Ha Noi Pet Tradng Co", "country": "VN"}) == [
        "trader:r:0"
    ]
    assert hits(watchlists, importer={"name": "Ha Noi Pet Trading", "country": None}) == [
        "trader:r:0"
    ]
    assert hits(watchlists, importer={"name": "Ha Noi Pet Trading", "country": "TH"}) == []
    assert hits(watchlists, importer={"name": "Saigon Reptile House", "country": "VN"}) == []
    assert hits(watchlists, importer=None, exporter=None) == []


def test_vessels_routes_hubs_species_and_concealment() -> None:
    watchlists = index(
        {"kind": "vessel", "names": ["MV Ocean Star"], "identifiers": {"imo": "IMO9321483"}},
        {"kind": "route", "route_from": "NG", "route_to": "VN", "hubs": ["AE"]},
        {"kind": "hub", "hubs": ["SG"]},
        {"kind": "species", "names": ["Manis tricuspis"]},
        {"kind": "concealment", "names": ["spare parts", "cashew nuts"]},
    )
    assert hits(watchlists, transport={"mode": "sea", "document": "BL 55 / IMO9321483"}) == [
        "vessel:r:0"
    ]
    assert hits(watchlists, transport={"mode": "sea", "document": "MV OCEAN STAR v.12"}) == [
        "vessel:r:0"
    ]
    route = {"export": "NG", "import": "VN", "transit": ["AE"]}
    assert hits(watchlists, countries=route) == ["route:r:1"]
    assert hits(watchlists, countries={**route, "transit": ["QA"]}) == []
    assert hits(watchlists, countries={**route, "transit": ["SG"]}) == ["hub:r:2"]
    line = {"species": "Manis  tricuspis", "description": "SPARE PARTS for engines"}
    assert hits(watchlists, line=line) == ["species:r:3", "concealment:r:4"]


def test_expired_records_and_older_versions_do_not_count() -> None:
    expired = index({"kind": "hub", "hubs": ["AE"]}, valid_until=date(2026, 12, 5))
    assert hits(expired, countries={"export": "KE", "transit": ["AE"]}) == []
    watchlists = index({"kind": "hub", "hubs": ["AE"]}, version=3)
    watchlists.put("r", 2, [])  # older: ignored
    assert hits(watchlists, countries={"export": "KE", "transit": ["AE"]}) == ["hub:r:0"]
    watchlists.put("r", 4, [])  # newer and empty: removed
    assert hits(watchlists, countries={"export": "KE", "transit": ["AE"]}) == []
