"""The CITES code lists (terms, units, purposes, sources, countries) shipped in
`pangolin_core/data/`: every service validates the same codes without asking another.

Read once (in a lifespan or a test), then pure lookups."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path

from pangolin_core.errors import InvalidInput

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


class CodeListName(StrEnum):
    TERMS = "terms"
    UNITS = "units"
    PURPOSES = "purposes"
    SOURCES = "sources"
    COUNTRIES = "countries"


_FIELD_OF = {
    "term": CodeListName.TERMS,
    "unit": CodeListName.UNITS,
    "purpose": CodeListName.PURPOSES,
    "source": CodeListName.SOURCES,
}


@dataclass(frozen=True, slots=True)
class Code:
    code: str
    description: str
    non_iso: bool = False
    former: bool = False
    party_since: date | None = None


@dataclass(frozen=True)
class CodeLists:
    lists: dict[CodeListName, dict[str, Code]]

    def codes(self, name: CodeListName) -> list[Code]:
        return list(self.lists[name].values())

    def is_valid(self, name: CodeListName, code: str) -> bool:
        return code in self.lists[name]

    def require_country(self, code: str | None, *, field: str = "country") -> None:
        """Refuse (422, naming `field`) a country code outside the CITES list."""
        if code is not None and not self.is_valid(CodeListName.COUNTRIES, code):
            raise InvalidInput(
                f"{code} is not a CITES country code.",
                errors=[{"field": field, "message": "unknown country code", "type": "code"}],
            )


def _party_since(raw: str) -> date | None:
    return None if raw in ("", "NA") else date.fromisoformat(raw)


def read_code_lists(folder: Path = DATA_DIR) -> CodeLists:
    lists: dict[CodeListName, dict[str, Code]] = {name: {} for name in CodeListName}
    with (folder / "cites_codes.tsv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            target = lists[_FIELD_OF[row["field"]]]
            target[row["code"]] = Code(row["code"], row["description"])
    with (folder / "cites_parties.tsv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            lists[CodeListName.COUNTRIES][row["code"]] = Code(
                code=row["code"],
                description=row["country"],
                non_iso=row["non_ISO_code"] == "TRUE",
                former=row["former_code"] == "TRUE",
                party_since=_party_since(row["date"]),
            )
    return CodeLists(lists)
