"""Reading a publication (pure: bytes in, records or every error out; no I/O).

Each error names where it is: `row` is the 1-based data row of a CSV (0: the header or the
document as a whole) or a JSON pointer ("/quotas/3"), `field` the column or member, and
`message` what is wrong. Nothing is guessed: a document with one error is refused whole.
Whether the taxa that restrictions and guides name exist is decided by the service
(`TaxonRef`), which asks the database.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from species_ref.checklist import COLUMNS, ChecklistRowError, parse_row
from species_ref.codes.service import CodeListName, CodeLists
from species_ref.publications.schemas import (
    MAX_ID,
    GuideIn,
    PangolinPublication,
    PublicationFormat,
    QuotaIn,
    ReservationIn,
    SpeciesPlusBundle,
    SuspensionIn,
    TaxonIn,
)
from species_ref.speciesplus import mapping
from species_ref.speciesplus.client import CitesLegislation
from species_ref.speciesplus.service import taxon_facts
from species_ref.taxa.models import Distribution, ListingChange, TaxonConcept, TaxonName
from species_ref.taxa.repository import table_of
from species_ref.taxa.service import checklist_rows
from species_ref.taxa.writer import TaxonFacts

# Codes the Species+ export uses that the CITES parties list no longer holds.
FORMER_COUNTRY_CODES = frozenset({"S1"})  # Sudan before the secession of South Sudan (2011)
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024

Error = dict[str, Any]
_M = TypeVar("_M", bound=BaseModel)


def error(row: int | str, field: str, message: str) -> Error:
    return {"row": row, "field": field, "message": message}


@dataclass(frozen=True)
class TaxonRef:
    """A taxon a restriction or guide names, at `path` of the document."""

    path: str
    taxon_id: int | None
    taxon_name: str | None


@dataclass
class ParsedPublication:
    format: PublicationFormat
    taxa: list[TaxonFacts] = field(default_factory=list)
    # Species+ bundle: quotas and suspensions, by their Species+ ids.
    legislations: list[CitesLegislation] = field(default_factory=list)
    # Pangolin JSON: restrictions and guides with the paths they came from.
    quotas: list[tuple[str, QuotaIn]] = field(default_factory=list)
    suspensions: list[tuple[str, SuspensionIn]] = field(default_factory=list)
    reservations: list[tuple[str, ReservationIn]] = field(default_factory=list)
    guides: list[tuple[str, GuideIn, bytes | None]] = field(default_factory=list)
    refs: list[TaxonRef] = field(default_factory=list)

    @property
    def records(self) -> int:
        restrictions = sum(
            len(leg.cites_quotas) + len(leg.cites_suspensions) for leg in self.legislations
        )
        return (
            len(self.taxa)
            + restrictions
            + len(self.quotas)
            + len(self.suspensions)
            + len(self.reservations)
            + len(self.guides)
        )


@dataclass
class ParseResult:
    publication: ParsedPublication | None
    errors: list[Error]


def parse(
    content: bytes,
    publication_format: PublicationFormat,
    *,
    codes: CodeLists,
    source: str,
    max_records: int,
) -> ParseResult:
    """Parse and validate a document of `publication_format`; `source` is what its rows
    will name as their source."""
    if publication_format is PublicationFormat.CHECKLIST_CSV:
        return parse_checklist_csv(content, codes=codes, source=source, max_records=max_records)
    if publication_format is PublicationFormat.SPECIESPLUS_JSON:
        return parse_speciesplus_bundle(content, codes=codes, max_records=max_records)
    return parse_pangolin_json(content, codes=codes, source=source, max_records=max_records)


def _lengths(model: type[object]) -> dict[str, int]:
    found = {}
    for column in table_of(model).columns:
        length = getattr(column.type, "length", None)
        if isinstance(length, int):
            found[column.name] = length
    return found


_LENGTHS = [(kind, _lengths(model)) for kind, model in (
    ("concept", TaxonConcept), ("names", TaxonName), ("listings", ListingChange),
    ("distributions", Distribution),
)]  # fmt: skip


def _too_long(where: int | str, facts: TaxonFacts) -> list[Error]:
    """Values longer than their columns hold (a database would refuse them at the write)."""
    rows = {
        "concept": [facts.concept],
        "names": facts.names,
        "listings": facts.listings or [],
        "distributions": facts.distributions or [],
    }
    found = []
    for kind, lengths in _LENGTHS:
        for row in rows[kind]:
            for name, length in lengths.items():
                value = row.get(name)
                if isinstance(value, str) and len(value) > length:
                    found.append(
                        error(where, name, f"{value[:40]!r}... longer than {length} characters")
                    )
    return found


def _known_country(codes: CodeLists, code: str) -> bool:
    return code in FORMER_COUNTRY_CODES or codes.is_valid(CodeListName.COUNTRIES, code)


def _too_many(count: int, max_records: int, row: int | str, field: str) -> Error | None:
    if count > max_records:
        return error(row, field, f"{count:,} records; at most {max_records:,} in one publication")
    return None


# --- checklist CSV --------------------------------------------------------------------------


def parse_checklist_csv(
    content: bytes, *, codes: CodeLists, source: str, max_records: int
) -> ParseResult:
    """The Species+ checklist export (`checklist.COLUMNS`; each row as `checklist.parse_row`
    reads it), country codes checked against the CITES list."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return ParseResult(None, [error(0, "body", f"not UTF-8: {exc.reason} at byte {exc.start}")])
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames or []
    except csv.Error as exc:
        return ParseResult(None, [error(0, "header", f"not CSV: {exc}")])
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        return ParseResult(None, [error(0, "header", f"missing columns: {', '.join(missing)}")])
    names = {code.description: code.code for code in codes.codes(CodeListName.COUNTRIES)}
    now = datetime.now(UTC)
    errors: list[Error] = []
    seen: dict[int, int] = {}
    parsed = ParsedPublication(PublicationFormat.CHECKLIST_CSV)
    number = 0
    try:
        for number, row in enumerate(reader, start=1):
            if number > max_records:
                errors.append(error(number, "TaxonId", f"at most {max_records:,} rows"))
                break
            if None in row:
                errors.append(error(number, "row", f"{len(row[None])} more fields than columns"))
                continue
            try:
                taxon = parse_row(row, country_codes=names)
            except ChecklistRowError as exc:
                errors.append(error(number, exc.field, exc.message))
                continue
            unknown = [
                d.country for d in taxon.distributions if not _known_country(codes, d.country)
            ]
            for code in dict.fromkeys(unknown):
                errors.append(
                    error(number, "All_DistributionISOCodes", f"unknown country code {code!r}")
                )
            if taxon.taxon_id > MAX_ID:
                errors.append(error(number, "TaxonId", f"larger than {MAX_ID}"))
            if taxon.taxon_id in seen:
                errors.append(
                    error(
                        number, "TaxonId", f"{taxon.taxon_id} already in row {seen[taxon.taxon_id]}"
                    )
                )
            seen.setdefault(taxon.taxon_id, number)
            facts = _checklist_facts(
                checklist_rows(taxon, source=source, now=now), list(taxon.appendices)
            )
            errors += _too_long(number, facts)
            if not errors:  # once there is one, the rows are only checked
                parsed.taxa.append(facts)
    except csv.Error as exc:
        errors.append(error(number + 1, "row", f"not CSV: {exc}"))
    if number == 0 and not errors:
        errors.append(error(0, "body", "no data rows"))
    return ParseResult(None if errors else parsed, errors)


def _checklist_facts(rows: dict[str, list[dict[str, Any]]], appendices: list[str]) -> TaxonFacts:
    concept = dict(rows["concepts"][0])
    del concept["updated_at"]
    return TaxonFacts(
        concept=concept,
        names=rows["names"],
        # The checklist states what is in force on its date: its listings replace the
        # current ones; the stored history stays.
        listings=rows["listings"],
        distributions=rows["distributions"],
        appendices=appendices,
        keep_history=True,
    )


# --- JSON -----------------------------------------------------------------------------------


def _pointer(parts: Iterable[str | int]) -> str:
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _validation_errors(exc: ValidationError) -> list[Error]:
    found = []
    for item in exc.errors():
        loc = [part for part in item["loc"] if not str(part).startswith("function-after")]
        if loc and isinstance(loc[-1], str):
            where, name = loc[:-1], loc[-1]
        else:  # the item as a whole (a list entry, or the document)
            where, name = loc, "body" if not loc else "item"
        found.append(error(_pointer(where), name, item["msg"]))
    return found


def _load_json(content: bytes, model: type[_M]) -> tuple[_M | None, list[Error]]:
    try:
        document = json.loads(content)
    except UnicodeDecodeError as exc:
        return None, [error("/", "body", f"not UTF-8: {exc.reason}")]
    except json.JSONDecodeError as exc:
        return None, [
            error("/", "body", f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
        ]
    try:
        return model.model_validate(document), []
    except ValidationError as exc:
        return None, _validation_errors(exc)


def parse_speciesplus_bundle(content: bytes, *, codes: CodeLists, max_records: int) -> ParseResult:
    """A `SpeciesPlusBundle`: taxa as the Species+ sync writes them, current quotas and
    suspensions by their Species+ ids."""
    bundle, errors = _load_json(content, SpeciesPlusBundle)
    if bundle is None:
        return ParseResult(None, errors)
    too_many = _too_many(len(bundle.taxon_concepts), max_records, "/", "taxon_concepts")
    if too_many:
        return ParseResult(None, [too_many])
    parsed = ParsedPublication(PublicationFormat.SPECIESPLUS_JSON)
    ids = [taxon.id for taxon in bundle.taxon_concepts]
    first: dict[int, int] = {}
    for index, taxon_id in enumerate(ids):
        if not 0 < taxon_id <= MAX_ID:
            errors.append(error(f"/taxon_concepts/{index}", "id", f"not in 1..{MAX_ID}"))
        if taxon_id in first:
            errors.append(error(f"/taxon_concepts/{index}", "id", f"{taxon_id} given twice"))
        first.setdefault(taxon_id, index)
    for part in ("cites_legislation", "distributions"):
        keys: Iterable[int] = getattr(bundle, part)
        for key in keys:
            if key not in first:
                errors.append(error(f"/{part}", str(key), "no taxon concept with this id"))
    for index, taxon in enumerate(bundle.taxon_concepts):
        legislation = bundle.cites_legislation.get(taxon.id)
        where = f"/taxon_concepts/{index}"
        for n, listing in enumerate(taxon.cites_listings):
            if listing.party and not _known_country(codes, listing.party.iso_code2 or ""):
                errors.append(
                    error(
                        f"{where}/cites_listings/{n}/party",
                        "iso_code2",
                        f"unknown country code {listing.party.iso_code2!r}",
                    )
                )
        if legislation is not None:
            errors += _legislation_errors(taxon.id, legislation, codes, parsed)
        distributions = bundle.distributions.get(taxon.id)
        for n, place in enumerate(distributions or []):
            code = (place.iso_code2 or "").strip().upper()
            if len(code) == 2 and not _known_country(codes, code):
                errors.append(
                    error(
                        f"/distributions/{taxon.id}/{n}",
                        "iso_code2",
                        f"unknown country code {code!r}",
                    )
                )
        try:
            facts = taxon_facts(taxon, legislation, distributions)
        except mapping.MappingError as exc:
            errors.append(error(f"/cites_legislation/{taxon.id}", "cites_listings", str(exc)))
            continue
        errors += _too_long(where, facts)
        parsed.taxa.append(facts)
        if legislation is not None:
            parsed.legislations.append(legislation)
    return ParseResult(None if errors else parsed, errors)


def _legislation_errors(
    taxon_id: int, legislation: CitesLegislation, codes: CodeLists, parsed: ParsedPublication
) -> list[Error]:
    errors: list[Error] = []
    where = f"/cites_legislation/{taxon_id}"
    for n, change in enumerate(legislation.cites_listings):
        if change.party and not _known_country(codes, change.party.iso_code2 or ""):
            errors.append(
                error(
                    f"{where}/cites_listings/{n}/party",
                    "iso_code2",
                    f"unknown country code {change.party.iso_code2!r}",
                )
            )
    for n, record in enumerate(legislation.cites_quotas):
        if not record.is_current:
            continue
        quota = mapping.quota(record)
        problem = mapping.quota_problem(quota)
        if problem is None and quota.quota is not None and abs(quota.quota) >= 10**15:
            problem = f"quota {record.id}: {quota.quota} is more than a quota column holds"
        if problem is not None:
            errors.append(error(f"{where}/cites_quotas/{n}", "quota", problem))
        elif quota.country is not None and not _known_country(codes, quota.country):
            errors.append(
                error(
                    f"{where}/cites_quotas/{n}/geo_entity",
                    "iso_code2",
                    f"unknown country code {quota.country!r}",
                )
            )
        parsed.refs.append(TaxonRef(f"{where}/cites_quotas/{n}", record.taxon_concept_id, None))
    for n, suspension in enumerate(legislation.cites_suspensions):
        if not suspension.is_current:
            continue
        country = suspension.geo_entity.iso_code2
        if country is not None and not _known_country(codes, country):
            errors.append(
                error(
                    f"{where}/cites_suspensions/{n}/geo_entity",
                    "iso_code2",
                    f"unknown country code {country!r}",
                )
            )
        if suspension.taxon_concept_id is not None:
            parsed.refs.append(
                TaxonRef(f"{where}/cites_suspensions/{n}", suspension.taxon_concept_id, None)
            )
    return errors


def _code_errors(
    codes: CodeLists, where: str, checks: Sequence[tuple[str, CodeListName, Iterable[str]]]
) -> list[Error]:
    errors = []
    for field_name, code_list, values in checks:
        for value in values:
            known = (
                _known_country(codes, value)
                if code_list is CodeListName.COUNTRIES
                else codes.is_valid(code_list, value)
            )
            if not known:
                errors.append(error(where, field_name, f"unknown {code_list.value} code {value!r}"))
    return errors


def _dates_error(where: str, start: Any, end: Any) -> list[Error]:
    if end is not None and end < start:
        return [error(where, "end_date", "before start_date")]
    return []


def _ref(
    where: str, on: QuotaIn | SuspensionIn | ReservationIn | GuideIn, *, required: bool
) -> tuple[TaxonRef | None, list[Error]]:
    if on.taxon_id is None and on.taxon_name is None:
        if required:
            return None, [error(where, "taxon_id", "give taxon_id or taxon_name")]
        return None, []
    return TaxonRef(where, on.taxon_id, on.taxon_name), []


def parse_pangolin_json(
    content: bytes, *, codes: CodeLists, source: str, max_records: int
) -> ParseResult:
    """A `PangolinPublication`, every code checked against the CITES code lists."""
    document, errors = _load_json(content, PangolinPublication)
    if document is None:
        return ParseResult(None, errors)
    parsed = ParsedPublication(PublicationFormat.PANGOLIN_JSON)
    total = (
        len(document.taxa)
        + len(document.quotas)
        + len(document.suspensions)
        + len(document.reservations)
        + len(document.guides)
    )
    too_many = _too_many(total, max_records, "/", "taxa")
    if too_many:
        return ParseResult(None, [too_many])
    first: dict[int, int] = {}
    for index, taxon in enumerate(document.taxa):
        where = f"/taxa/{index}"
        if taxon.id in first:
            errors.append(error(where, "id", f"{taxon.id} already at /taxa/{first[taxon.id]}"))
        first.setdefault(taxon.id, index)
        for n, listing in enumerate(taxon.listings or []):
            if (
                listing.appendix == "III"
                and listing.change_type == "addition"
                and not listing.party
            ):
                errors.append(error(f"{where}/listings/{n}", "party", "App. III needs its party"))
            errors += _code_errors(
                codes,
                f"{where}/listings/{n}",
                [("party", CodeListName.COUNTRIES, filter(None, [listing.party]))],
            )
        for n, place in enumerate(taxon.distributions or []):
            errors += _code_errors(
                codes,
                f"{where}/distributions/{n}",
                [("country", CodeListName.COUNTRIES, [place.country])],
            )
        facts = _pangolin_facts(taxon, source)
        errors += _too_long(where, facts)
        parsed.taxa.append(facts)
    for index, quota in enumerate(document.quotas):
        where = f"/quotas/{index}"
        errors += _code_errors(
            codes,
            where,
            [
                ("country", CodeListName.COUNTRIES, [quota.country]),
                ("units", CodeListName.UNITS, quota.units),
                ("terms", CodeListName.TERMS, quota.terms),
                ("sources", CodeListName.SOURCES, quota.sources),
                ("purposes", CodeListName.PURPOSES, quota.purposes),
            ],
        )
        errors += _dates_error(where, quota.start_date, quota.end_date)
        ref, problems = _ref(where, quota, required=True)
        errors += problems
        parsed.refs += [ref] if ref else []
        parsed.quotas.append((where, quota))
    for index, suspension in enumerate(document.suspensions):
        where = f"/suspensions/{index}"
        errors += _code_errors(
            codes,
            where,
            [
                ("country", CodeListName.COUNTRIES, [suspension.country]),
                ("excluded_terms", CodeListName.TERMS, suspension.excluded_terms),
                ("excluded_sources", CodeListName.SOURCES, suspension.excluded_sources),
                ("excluded_purposes", CodeListName.PURPOSES, suspension.excluded_purposes),
            ],
        )
        errors += _dates_error(where, suspension.start_date, suspension.end_date)
        ref, problems = _ref(where, suspension, required=False)
        errors += problems
        parsed.refs += [ref] if ref else []
        parsed.suspensions.append((where, suspension))
    for index, reservation in enumerate(document.reservations):
        where = f"/reservations/{index}"
        errors += _code_errors(
            codes, where, [("party", CodeListName.COUNTRIES, [reservation.party])]
        )
        errors += _dates_error(where, reservation.start_date, reservation.end_date)
        ref, problems = _ref(where, reservation, required=True)
        errors += problems
        parsed.refs += [ref] if ref else []
        parsed.reservations.append((where, reservation))
    seen_guides: dict[tuple[Any, ...], str] = {}
    for index, guide in enumerate(document.guides):
        where = f"/guides/{index}"
        ref, problems = _ref(where, guide, required=True)
        errors += problems
        parsed.refs += [ref] if ref else []
        document_bytes, guide_errors = _guide_document(where, guide)
        errors += guide_errors
        key = (guide.taxon_id, guide.taxon_name, guide.language.lower(), guide.title)
        if key in seen_guides:
            errors.append(error(where, "title", f"the same guide as {seen_guides[key]}"))
        seen_guides.setdefault(key, where)
        parsed.guides.append((where, guide, document_bytes))
    if total == 0:
        errors.append(error("/", "body", "nothing to publish"))
    return ParseResult(None if errors else parsed, errors)


def _guide_document(where: str, guide: GuideIn) -> tuple[bytes | None, list[Error]]:
    if (guide.url is None) == (guide.document is None):
        return None, [error(where, "url", "give either url or document")]
    if guide.document is None:
        return None, []
    if guide.media_type is None:
        return None, [error(where, "media_type", "a document needs its media type")]
    try:
        data = base64.b64decode(guide.document, validate=True)
    except (binascii.Error, ValueError):
        return None, [error(where, "document", "not base64")]
    if not data:
        return None, [error(where, "document", "empty")]
    if len(data) > MAX_DOCUMENT_BYTES:
        return None, [error(where, "document", f"larger than {MAX_DOCUMENT_BYTES:,} bytes")]
    return data, []


def _pangolin_facts(taxon: TaxonIn, source: str) -> TaxonFacts:
    concept = {
        "id": taxon.id,
        "full_name": " ".join(taxon.full_name.split()),
        "author_year": taxon.author_year,
        "rank": taxon.rank,
        "kingdom": taxon.kingdom,
        "phylum": taxon.phylum,
        "class_name": taxon.class_name,
        "order_name": taxon.order,
        "family": taxon.family,
        "genus": taxon.genus,
        "species": taxon.species,
        "subspecies": taxon.subspecies,
        "cites_accepted": taxon.cites_accepted,
        "source": source,
    }
    names: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str | None]] = set()
    for kind, name, author, language in [
        *(("synonym", s.name, s.author, None) for s in taxon.synonyms),
        *(("common", c.name, None, c.language.upper()) for c in taxon.common_names),
    ]:
        if (kind, name, language) not in seen:
            seen.add((kind, name, language))
            names.append(
                {
                    "taxon_id": taxon.id,
                    "kind": kind,
                    "name": name,
                    "author": author,
                    "language": language,
                }
            )
    listings = (
        None
        if taxon.listings is None
        else [
            {
                "appendix": listing.appendix,
                "change_type": listing.change_type,
                "effective_at": listing.effective_at,
                "is_current": listing.is_current,
                "party": listing.party,
                "annotation": listing.annotation,
                "full_annotation": None,
                "hash_annotation": listing.hash_annotation,
                "source": source,
            }
            for listing in taxon.listings
        ]
    )
    distributions = None
    if taxon.distributions is not None:
        pairs = {(p.country, tag) for p in taxon.distributions for tag in p.tags}
        distributions = [
            {"taxon_id": taxon.id, "country": country, "tag": tag} for country, tag in sorted(pairs)
        ]
    return TaxonFacts(
        concept=concept,
        names=names,
        listings=listings,
        distributions=distributions,
        appendices=None,  # those of the listings written
    )
