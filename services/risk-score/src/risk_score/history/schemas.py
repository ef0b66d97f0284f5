"""A declaration as the trade history keeps it: normalised names and codes, values in USD.

One normalisation for everything that feeds the history (assessed declarations, permits,
stored rows, the LEMIS benchmark), so a key means the same thing wherever it was made."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from pangolin_core.contracts.permits import Declaration, DeclarationParty

# The contract's results, re-exported: the history keeps what the outcome endpoint records.
from pangolin_core.contracts.risk import OutcomeResult as OutcomeResult

# Legal-form words that say nothing about who a trader is ("Reptile Farm Ltd" = "Reptile Farm").
_LEGAL_FORMS = frozenset(
    [
        "ltd",
        "limited",
        "inc",
        "incorporated",
        "co",
        "company",
        "corp",
        "corporation",
        "llc",
        "plc",
        "sa",
        "sas",
        "sarl",
        "srl",
        "spa",
        "gmbh",
        "ag",
        "bv",
        "nv",
        "pte",
        "pty",
        "sdn",
        "bhd",
        "cv",
        "ab",
        "oy",
        "as",
        "kk",
    ]
)
_NOT_WORD = re.compile(r"[^\w]+")


def normalised_name(name: str) -> str:
    """Case-folded, accents and punctuation dropped, legal forms removed, spaces collapsed."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    words = [w for w in _NOT_WORD.sub(" ", text).split() if w not in _LEGAL_FORMS]
    return " ".join(words)


def normalised_species(name: str) -> str:
    return " ".join(name.casefold().split())


def trader_key(name: str | None, country: str | None) -> str | None:
    """`name|country`, or None when the name is unknown (a trader is never guessed)."""
    if name is None:
        return None
    normalised = normalised_name(name)
    if not normalised:
        return None
    return f"{normalised}|{country or ''}"


def party_key(party: DeclarationParty | None) -> str | None:
    return None if party is None else trader_key(party.name, party.country)


@dataclass(frozen=True)
class TradeLine:
    line_no: int
    species: str  # normalised
    term: str
    unit: str | None
    quantity: Decimal
    purpose: str
    source: str
    value_amount: Decimal | None
    currency: str | None

    @property
    def value_usd(self) -> Decimal | None:
        # Only USD is comparable without an exchange-rate table; other currencies are kept
        # (stored) but not compared.
        return self.value_amount if self.currency == "USD" else None


@dataclass(frozen=True)
class TradeRecord:
    """One declaration in the history."""

    declaration_id: str
    declared_on: date
    office: str
    direction: str
    exporter: str | None  # trader keys (`trader_key`)
    importer: str | None
    exporter_country: str | None
    importer_country: str | None
    origin_country: str | None
    export_country: str | None
    import_country: str | None
    transit: tuple[str, ...]
    lines: tuple[TradeLine, ...]

    @classmethod
    def from_declaration(cls, declaration: Declaration) -> TradeRecord:
        countries = declaration.countries
        return cls(
            declaration_id=declaration.declaration_id,
            declared_on=declaration.declared_on,
            office=declaration.office.upper(),
            direction=declaration.direction,
            exporter=party_key(declaration.exporter),
            importer=party_key(declaration.importer),
            exporter_country=declaration.exporter.country if declaration.exporter else None,
            importer_country=declaration.importer.country if declaration.importer else None,
            origin_country=countries.origin,
            export_country=countries.export,
            import_country=countries.import_,
            transit=tuple(countries.transit),
            lines=tuple(
                TradeLine(
                    line_no=line.line_no,
                    species=normalised_species(line.species),
                    term=line.term.upper(),
                    unit=line.unit.upper() if line.unit else None,
                    quantity=line.quantity,
                    purpose=line.purpose.upper(),
                    source=line.source.upper(),
                    value_amount=line.value.amount if line.value else None,
                    currency=line.value.currency if line.value else None,
                )
                for line in declaration.lines
            ),
        )

    @property
    def route(self) -> str:
        """Origin (or export) country -> transits -> import country."""
        start = self.origin_country or self.export_country or "?"
        return ">".join((start, *self.transit, self.import_country or "?"))


def is_non_compliant(result: OutcomeResult) -> bool:
    return result != "compliant"
