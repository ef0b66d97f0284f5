"""Helpers of risk-score's trade-history and model tests: declarations built in one line."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pangolin_core.contracts.permits import Declaration


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
