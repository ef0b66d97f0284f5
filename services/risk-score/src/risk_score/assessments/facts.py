"""The facts of a declaration that criteria read: derived once per assessment, stored with it
(a backtest replays a profile over stored facts), and flat so a compiled criterion reads an
attribute, never walks the declaration."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pangolin_core.contracts.permits import Declaration, Finding
from risk_score.features.schemas import Features

_SETS = (
    "transit",
    "countries",
    "species",
    "genera",
    "appendices",
    "terms",
    "sources",
    "purposes",
    "units",
    "hs_codes",
    "finding_codes",
    "watchlist",
)


@dataclass(frozen=True, slots=True)
class Facts:
    direction: str
    office: str
    export_country: str | None = None
    import_country: str | None = None
    origin_country: str | None = None
    exporter_country: str | None = None
    importer_country: str | None = None
    transport_mode: str | None = None
    transit: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()  # export, import, origin, transit, parties
    species: frozenset[str] = frozenset()  # lower-cased as declared
    genera: frozenset[str] = frozenset()  # lower-cased first word of each species
    appendices: frozenset[str] = frozenset()  # current appendices of the lines' taxa
    terms: frozenset[str] = frozenset()
    sources: frozenset[str] = frozenset()
    purposes: frozenset[str] = frozenset()
    units: frozenset[str] = frozenset()
    hs_codes: frozenset[str] = frozenset()  # digits only: "0106.20" -> "010620"
    finding_codes: frozenset[str] = frozenset()
    watchlist: frozenset[str] = frozenset()  # kinds of watchlist entries hit
    descriptions: str = ""  # every line's description, one per line of text
    lines: int = 0
    max_quantity: float = 0.0
    total_value: float | None = None  # sum of declared amounts (any currency)
    features: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = sorted(value) if isinstance(value, frozenset) else value
        out["features"] = dict(self.features)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Facts:
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for name in _SETS:
            values[name] = frozenset(values.get(name) or ())
        values["features"] = dict(values.get("features") or {})
        return cls(**values)


def derive_facts(
    declaration: Declaration,
    findings: Sequence[Finding],
    *,
    appendices_of: Mapping[str, frozenset[str]],
    watchlist_kinds: frozenset[str],
    features: Features,
) -> Facts:
    """`appendices_of`: lower-cased taxon name -> current appendices (the species read model)."""
    c = declaration.countries
    exporter_country = declaration.exporter.country if declaration.exporter else None
    importer_country = declaration.importer.country if declaration.importer else None
    countries = {
        x for x in (c.export, c.import_, c.origin, exporter_country, importer_country) if x
    }
    countries.update(c.transit)
    species: set[str] = set()
    appendices: set[str] = set()
    descriptions: list[str] = []
    max_quantity = 0.0
    total: Decimal | None = None
    for line in declaration.lines:
        name = " ".join(line.species.lower().split())
        species.add(name)
        appendices.update(appendices_of.get(name, ()))
        if line.description:
            descriptions.append(line.description)
        max_quantity = max(max_quantity, float(line.quantity))
        if line.value is not None:
            total = (total or Decimal(0)) + line.value.amount
    lines = declaration.lines
    return Facts(
        direction=declaration.direction,
        office=declaration.office,
        export_country=c.export,
        import_country=c.import_,
        origin_country=c.origin,
        exporter_country=exporter_country,
        importer_country=importer_country,
        transport_mode=declaration.transport.mode if declaration.transport else None,
        transit=frozenset(c.transit),
        countries=frozenset(countries),
        species=frozenset(species),
        genera=frozenset(s.split(" ", 1)[0] for s in species),
        appendices=frozenset(appendices),
        terms=frozenset(line.term.upper() for line in lines),
        sources=frozenset(line.source.upper() for line in lines),
        purposes=frozenset(line.purpose.upper() for line in lines),
        units=frozenset(line.unit.lower() for line in lines if line.unit),
        hs_codes=frozenset(line.hs_code.replace(".", "") for line in lines if line.hs_code),
        finding_codes=frozenset(f.code for f in findings),
        watchlist=watchlist_kinds,
        descriptions="\n".join(descriptions),
        lines=len(lines),
        max_quantity=max_quantity,
        total_value=float(total) if total is not None else None,
        features=dict(features),
    )
