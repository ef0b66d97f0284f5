"""Helpers of risk-score's trade-history and model tests: declarations built in one line."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from pangolin_core.contracts.permits import Declaration, PermitIssued, PermitParty


def declaration(
    declaration_id: str,
    *,
    on: date = date(2026, 1, 10),
    species: str = "Python regius",
    term: str = "LIV",
    quantity: str = "10",
    unit: str | None = None,
    value_usd: str | None = None,
    exporter: str | None = "Savannah Reptiles Ltd",
    origin: str = "KE",
    office: str = "NBO",
    purpose: str = "T",
    source: str = "W",
    **changes: Any,
) -> Declaration:
    line: dict[str, Any] = {
        "line_no": 1,
        "species": species,
        "term": term,
        "quantity": Decimal(quantity),
        "unit": unit,
        "source": source,
        "purpose": purpose,
    }
    if value_usd is not None:
        line["value"] = {"amount": value_usd, "currency": "USD"}
    body: dict[str, Any] = {
        "declaration_id": declaration_id,
        "direction": "export",
        "declared_on": on,
        "office": office,
        "exporter": None if exporter is None else {"name": exporter, "country": origin},
        "importer": {"name": "Hanoi Pet Trading Co", "country": "VN"},
        "countries": {"export": origin, "import": "VN", "origin": origin},
        "lines": [line],
    }
    body.update(changes)
    return Declaration.model_validate(body)


def synthetic_trade(count: int = 150) -> list[tuple[Declaration, str]]:
    """`count` declarations over `count` days with their outcomes: personal-purpose
    shipments of unknown source through one office are seized, everything else (bar every
    seventh, a decoy) is compliant. Deterministic, so a model learns it the same each time."""
    trade = []
    for i in range(count):
        risky = i % 5 == 0
        decl = declaration(
            f"S{i:04d}",
            on=date(2025, 1, 1) + timedelta(days=i),
            purpose="P" if risky else "T",
            source="U" if risky else ("W" if i % 2 else "C"),
            office="MIA" if risky or i % 7 == 0 else "NBO",
            exporter=f"Trader {i % 9}",
            quantity=str(5 + i % 11),
        )
        trade.append((decl, "seizure" if risky else "compliant"))
    return trade


@dataclass
class RiskApp:
    app: FastAPI
    client: AsyncClient


def permit_issued(exporter: str, importer: str, *, issued_on: date) -> PermitIssued:
    return PermitIssued(
        permit_id="p-1",
        number="KE/2026/E/000123",
        type="export",
        issuing_country="KE",
        issued_on=issued_on,
        valid_until=issued_on + timedelta(days=150),
        purpose="T",
        status="valid",
        exporter=PermitParty(name=exporter, address=None, country="KE"),
        importer=PermitParty(name=importer, address=None, country="VN"),
        items=[],
        issued_by="ma-ke",
    )
