"""Parser of the SAPI restriction files (unepwcmc/SAPI `lib/data`): CITES export quotas,
trade suspensions and party reservations.

Pure: rows in, `Restriction` out; `read_quotas`, `read_suspensions` and `read_reservations`
return the records parsed and a `SapiRowError` (row number, field, message) for every row
that cannot be parsed, never a guess. Row numbers count like a spreadsheet: the header is
row 1, so a note spanning several lines is still one row.

Parsing decisions, each checked against the shipped files (72 quotas, 275 suspensions, 388
reservations):

* Dates are dd/mm/yyyy, sometimes with " 00:00" or surrounding spaces; an end date of
  "Present" or "" means open-ended. A start date is required.
* "ALL"/"All" means all: no taxon (a country-wide suspension has "ALL" as taxon name, id
  and rank), all countries (country None), or an empty code set (no restriction on that
  field).
* `taxon_concept_id` may be empty (Dalbergia cochinchinensis) or name a taxon missing from
  the 2017 checklist; the record keeps name and rank, so it can still be matched by name.
* Quotas write code sets with "; " ("SKI; TRO", "H; P") and list what the quota covers.
* Suspensions write code sets with ", " and no quotes, so "Z, G, Q, S" spills over four
  cells and shifts every later column. The columns unit, term, source and purpose are read
  in turn: a field takes its first cell, then every following cell that starts with a space
  and holds a code of that field (a term: three capitals; a source or purpose: a code of
  its list). That is enough because every spilled-over cell starts with the space of ", ",
  and the source and purpose lists share no code (so "A, C, D, F, I, S, H, P" with the
  purpose column missing splits at S). Cells past the internal notes are the compilers'
  comments and are dropped.
* In suspensions the term, source and purpose codes are the *exempted* ones, not the ones
  suspended: every row with purposes "Z, G, Q, S" is a suspension "for T" by its internal
  note; Pecari tajacu AR has term TRO and reads "(except for trophies)"; Caiman crocodilus
  yacare AR has source R and reads "(except for specimens from ranching operations)";
  Elephas maximus LA lists every term but LIV and reads "All trade in live specimens". So
  they land in `excluded_*`, and the suspension covers every other code.
* Suspensions' `Applies_to_import` is empty (the suspension concerns exports from the
  country) or "yes" (7 Pterocarpus erinaceus rows, "covering exports, re-exports and
  imports": both directions).
* The compilers' internal notes are kept beside the notes, because some contradict the row:
  77 of the 92 rows of the 2012-2015 IWC suspension (small cetaceans such as Berardius
  arnuxii, purposes ALL) say "Not a great whale so not covered by IWC suspension". They are
  loaded as the file states them, and the note travels with them to every answer.
* Codes are validated against the CITES code lists; an unknown code reports the row. One
  exception: suspensions exempt terms of the current annual-report guidelines that the
  106-term list predates (WPR, ESH, DFN, ... in Elephas maximus LA and Dalbergia
  cochinchinensis LA); any three capitals are kept there, since an exemption with a code
  we do not know yet only narrows what the suspension covers.
* Suspension row 101 (Psittacus erithacus CD, 2018-2022) lost its purpose and
  applies-to-import cells ("A, C, D, F, I,Suspension for W only,added"): it is reported,
  not guessed.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path

from species_ref.codes.service import CodeListName, CodeLists


class RestrictionKind(StrEnum):
    QUOTA = "quota"
    SUSPENSION = "suspension"
    RESERVATION = "reservation"


class Direction(StrEnum):
    """Which trade of the restriction's country it concerns."""

    EXPORT = "export"
    IMPORT = "import"
    BOTH = "both"


RANKS = frozenset({"KINGDOM", "PHYLUM", "CLASS", "ORDER", "FAMILY", "GENUS", "SPECIES",
                   "SUBSPECIES", "VARIETY"})  # fmt: skip
_ALL = "ALL"


@dataclass(frozen=True, slots=True)
class Restriction:
    """One quota, suspension or reservation as the file states it. Empty code sets mean
    all; `excluded_*` are codes exempted from a suspension."""

    kind: RestrictionKind
    row: int
    taxon_name: str | None  # None: every taxon (a country-wide suspension)
    rank: str | None
    taxon_concept_id: int | None
    country: str | None  # None: all countries
    start_date: date
    end_date: date | None
    direction: Direction = Direction.EXPORT
    quota: Decimal | None = None
    units: frozenset[str] = frozenset()
    terms: frozenset[str] = frozenset()
    sources: frozenset[str] = frozenset()
    purposes: frozenset[str] = frozenset()
    excluded_terms: frozenset[str] = frozenset()
    excluded_sources: frozenset[str] = frozenset()
    excluded_purposes: frozenset[str] = frozenset()
    quota_type: str | None = None
    notes: str | None = None
    internal_notes: str | None = None  # the compilers' (UNEP-WCMC) column


class SapiRowError(ValueError):
    """A row that cannot be parsed: its spreadsheet row number, the field and why."""

    def __init__(self, field: str, message: str, *, row: int = 0) -> None:
        super().__init__(f"row {row}, {field}: {message}")
        self.field = field
        self.message = message
        self.row = row


@dataclass
class Parsed:
    records: list[Restriction] = field(default_factory=list)
    errors: list[SapiRowError] = field(default_factory=list)


_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+00:00(?::00)?)?$")


def parse_date(raw: str, field: str, *, required: bool) -> date | None:
    text = raw.strip()
    if text in ("", "Present") and not required:
        return None
    match = _DATE.match(text)
    if match is None:
        raise SapiRowError(field, f"not a dd/mm/yyyy date: {raw!r}")
    day, month, year = (int(x) for x in match.groups())
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise SapiRowError(field, f"not a date: {raw!r}") from exc


def _is_all(text: str) -> bool:
    return text.strip().upper() == _ALL


def _codes(
    values: Sequence[str], field: str, codes: CodeLists, name: CodeListName | None
) -> frozenset[str]:
    """A code set from cells already split; ALL gives the empty set (no restriction)."""
    found = [v.strip().upper() for v in values if v.strip()]
    if any(v == _ALL for v in found):
        if len(found) > 1:
            raise SapiRowError(field, f"ALL mixed with codes: {', '.join(found)}")
        return frozenset()
    if name is not None:
        unknown = [v for v in found if not codes.is_valid(name, v)]
        if unknown:
            raise SapiRowError(field, f"unknown {name.value} code(s): {', '.join(unknown)}")
    return frozenset(found)


def _taxon(name: str, raw_id: str, rank: str) -> tuple[str | None, str | None, int | None]:
    name, raw_id, rank = name.strip(), raw_id.strip(), rank.strip().upper()
    if _is_all(name):
        if not (_is_all(raw_id) or raw_id == "") or not (_is_all(rank) or rank == ""):
            raise SapiRowError("taxon_name", "ALL taxa with a taxon id or rank")
        return None, None, None
    if not name:
        raise SapiRowError("taxon_name", "empty")
    if rank not in RANKS:
        raise SapiRowError("rank", f"unknown rank {rank!r}")
    if raw_id == "":
        return " ".join(name.split()), rank, None
    if not (raw_id.isascii() and raw_id.isdigit()):
        raise SapiRowError("taxon_concept_id", f"not an integer: {raw_id!r}")
    return " ".join(name.split()), rank, int(raw_id)


def _country(raw: str, codes: CodeLists) -> str | None:
    text = raw.strip().upper()
    if text == _ALL:
        return None
    if not codes.is_valid(CodeListName.COUNTRIES, text):
        raise SapiRowError("iso_code2", f"unknown country code {raw!r}")
    return text


def _notes(raw: str) -> str | None:
    return raw.strip() or None


def _read(path: Path) -> Iterator[tuple[int, list[str]]]:
    """Rows after the header, numbered as in a spreadsheet (header = row 1)."""
    with path.open(encoding="utf-8-sig", newline="") as text:
        reader = csv.reader(text)
        next(reader, None)
        for number, cells in enumerate(reader, start=2):
            if any(cell.strip() for cell in cells):
                yield number, cells


def _collect(path: Path, parse: Callable[[list[str], int], Restriction]) -> Parsed:
    parsed = Parsed()
    for number, cells in _read(path):
        try:
            parsed.records.append(parse(cells, number))
        except SapiRowError as error:
            parsed.errors.append(SapiRowError(error.field, error.message, row=number))
    return parsed


# --- quotas -----------------------------------------------------------------------------

QUOTA_COLUMNS = ("quota_type", "start_date", "end_date", "taxon_name", "taxon_concept_id",
                 "rank", "iso_code2", "quota", "unit", "term", "source", "purpose",
                 "Applies_to_import", "notes")  # fmt: skip


def _cell(cells: Sequence[str], index: int, field: str) -> str:
    if index >= len(cells):
        raise SapiRowError(field, "missing")
    return cells[index]


def parse_quota(cells: list[str], row: int, codes: CodeLists) -> Restriction:
    get = {name: _cell(cells, i, name) for i, name in enumerate(QUOTA_COLUMNS)}
    name, rank, taxon_id = _taxon(get["taxon_name"], get["taxon_concept_id"], get["rank"])
    if name is None:
        raise SapiRowError("taxon_name", "a quota needs a taxon")
    try:
        quota = Decimal(get["quota"].strip().replace(",", ""))
    except InvalidOperation as exc:
        raise SapiRowError("quota", f"not a number: {get['quota']!r}") from exc
    if quota < 0 or not quota.is_finite():
        raise SapiRowError("quota", f"not a quantity: {get['quota']!r}")

    def split(column: str, name: CodeListName) -> frozenset[str]:
        return _codes(get[column].split(";"), column, codes, name)

    if get["Applies_to_import"].strip():
        raise SapiRowError("Applies_to_import", "a quota is an export quota")
    return Restriction(
        kind=RestrictionKind.QUOTA,
        row=row,
        taxon_name=name,
        rank=rank,
        taxon_concept_id=taxon_id,
        country=_country(get["iso_code2"], codes),
        start_date=_required(parse_date(get["start_date"], "start_date", required=True)),
        end_date=parse_date(get["end_date"], "end_date", required=False),
        quota=quota,
        units=split("unit", CodeListName.UNITS),
        terms=split("term", CodeListName.TERMS),
        sources=split("source", CodeListName.SOURCES),
        purposes=split("purpose", CodeListName.PURPOSES),
        quota_type=get["quota_type"].strip() or None,
        notes=_notes(get["notes"]),
        internal_notes=_notes(cells[len(QUOTA_COLUMNS)] if len(cells) > len(QUOTA_COLUMNS) else ""),
    )


def _required(value: date | None) -> date:
    assert value is not None  # parse_date(required=True) never returns None
    return value


# --- suspensions ------------------------------------------------------------------------

_TERM = re.compile(r"^[A-Z]{3}$")


def _spill(
    cells: Sequence[str], start: int, belongs: Callable[[str], bool]
) -> tuple[list[str], int]:
    """The cell at `start` and the spilled-over cells of the same field after it."""
    values = [_cell(cells, start, "columns")]
    index = start + 1
    while index < len(cells) and cells[index].startswith(" ") and belongs(cells[index].strip()):
        values.append(cells[index])
        index += 1
    return values, index


def parse_suspension(cells: list[str], row: int, codes: CodeLists) -> Restriction:
    name, rank, taxon_id = _taxon(
        _cell(cells, 2, "taxon_name"), _cell(cells, 3, "taxon_concept_id"), _cell(cells, 4, "rank")
    )
    fields: dict[str, list[str]] = {}
    index = 6
    for column, belongs in (
        ("unit", lambda v: codes.is_valid(CodeListName.UNITS, v)),
        ("term", lambda v: bool(_TERM.match(v))),
        ("source", lambda v: codes.is_valid(CodeListName.SOURCES, v)),
        ("purpose", lambda v: codes.is_valid(CodeListName.PURPOSES, v)),
    ):
        fields[column], index = _spill(cells, index, belongs)
    applies = (cells[index] if index < len(cells) else "").strip().lower()
    if applies not in ("", "no", "false", "yes", "true"):
        raise SapiRowError("Applies_to_import", f"not a yes/no: {cells[index]!r}")
    notes = cells[index + 1] if index + 1 < len(cells) else ""
    internal_notes = cells[index + 2] if index + 2 < len(cells) else ""
    units = _codes(fields["unit"], "unit", codes, CodeListName.UNITS)
    if units:
        raise SapiRowError("unit", "a suspension by unit has no meaning")
    return Restriction(
        kind=RestrictionKind.SUSPENSION,
        row=row,
        taxon_name=name,
        rank=rank,
        taxon_concept_id=taxon_id,
        country=_country(_cell(cells, 5, "iso_code2"), codes),
        start_date=_required(parse_date(cells[0], "start_date", required=True)),
        end_date=parse_date(cells[1], "end_date", required=False),
        direction=Direction.BOTH if applies in ("yes", "true") else Direction.EXPORT,
        excluded_terms=_terms(fields["term"]),
        excluded_sources=_codes(fields["source"], "source", codes, CodeListName.SOURCES),
        excluded_purposes=_codes(fields["purpose"], "purpose", codes, CodeListName.PURPOSES),
        notes=_notes(notes),
        internal_notes=_notes(internal_notes),
    )


def _terms(values: Sequence[str]) -> frozenset[str]:
    found = _codes(values, "term", CodeLists({}), None)
    bad = [v for v in found if not _TERM.match(v)]
    if bad:
        raise SapiRowError("term", f"not a term code: {', '.join(bad)}")
    return found


# --- reservations -----------------------------------------------------------------------


def parse_reservation(cells: list[str], row: int, codes: CodeLists) -> Restriction:
    name, rank, taxon_id = _taxon(
        _cell(cells, 2, "taxon_name"), _cell(cells, 3, "taxon_concept_id"), _cell(cells, 4, "rank")
    )
    if name is None:
        raise SapiRowError("taxon_name", "a reservation needs a taxon")
    country = _country(_cell(cells, 5, "iso_code2"), codes)
    if country is None:
        raise SapiRowError("iso_code2", "a reservation is entered by one party")
    return Restriction(
        kind=RestrictionKind.RESERVATION,
        row=row,
        taxon_name=name,
        rank=rank,
        taxon_concept_id=taxon_id,
        country=country,
        start_date=_required(parse_date(cells[0], "start_date", required=True)),
        end_date=parse_date(_cell(cells, 1, "end_date"), "end_date", required=False),
        direction=Direction.BOTH,  # a reservation covers the party's trade either way
        notes=_notes(cells[6] if len(cells) > 6 else ""),
        internal_notes=_notes(cells[7] if len(cells) > 7 else ""),
    )


def read_quotas(path: Path, codes: CodeLists) -> Parsed:
    return _collect(path, lambda cells, row: parse_quota(cells, row, codes))


def read_suspensions(path: Path, codes: CodeLists) -> Parsed:
    return _collect(path, lambda cells, row: parse_suspension(cells, row, codes))


def read_reservations(path: Path, codes: CodeLists) -> Parsed:
    return _collect(path, lambda cells, row: parse_reservation(cells, row, codes))
