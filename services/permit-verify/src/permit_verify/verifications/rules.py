"""The verification rules as pure functions: a declaration line against the permit as the
registry holds it, the species-ref status of the declared specimen on the declared date, and
the other declarations that presented the permit. No I/O: the service gathers the facts in
one registry query and one species-ref call, then asks these functions.

Every finding code, its severity and when it fires is documented in docs/permit-verify.md.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from rapidfuzz import fuzz

from pangolin_core.contracts.cites_codes import CodeListName, CodeLists
from pangolin_core.contracts.permits import (
    Declaration,
    DeclarationLine,
    Finding,
    PermitReference,
    Severity,
    Verdict,
)
from pangolin_core.contracts.species import SpeciesStatus
from permit_verify.permits.rules import MULTI_USE, appendix_problems, quota_counts
from permit_verify.permits.schemas import PermitItemOut, PermitOut, PermitStatus, PermitType
from permit_verify.permits.signing import verify_permit


class Code(StrEnum):
    PERMIT_NOT_FOUND = "PERMIT_NOT_FOUND"
    PERMIT_MISSING = "PERMIT_MISSING"
    PERMIT_EXPIRED = "PERMIT_EXPIRED"
    PERMIT_NOT_YET_VALID = "PERMIT_NOT_YET_VALID"
    PERMIT_CANCELLED = "PERMIT_CANCELLED"
    PERMIT_REPLACED = "PERMIT_REPLACED"
    PERMIT_LOST_OR_STOLEN = "PERMIT_LOST_OR_STOLEN"
    PERMIT_ALREADY_USED = "PERMIT_ALREADY_USED"
    PERMIT_IN_USE_ELSEWHERE = "PERMIT_IN_USE_ELSEWHERE"
    QUANTITY_EXCEEDS_BALANCE = "QUANTITY_EXCEEDS_BALANCE"
    SPECIES_MISMATCH = "SPECIES_MISMATCH"
    TERM_MISMATCH = "TERM_MISMATCH"
    UNIT_MISMATCH = "UNIT_MISMATCH"
    SOURCE_MISMATCH = "SOURCE_MISMATCH"
    PURPOSE_MISMATCH = "PURPOSE_MISMATCH"
    APPENDIX_MISMATCH = "APPENDIX_MISMATCH"
    PURPOSE_NOT_ALLOWED = "PURPOSE_NOT_ALLOWED"
    IMPORT_PERMIT_MISSING = "IMPORT_PERMIT_MISSING"
    EXPORTER_MISMATCH = "EXPORTER_MISMATCH"
    IMPORTER_MISMATCH = "IMPORTER_MISMATCH"
    COUNTRY_MISMATCH = "COUNTRY_MISMATCH"
    SECURITY_STAMP_MISMATCH = "SECURITY_STAMP_MISMATCH"
    SIGNATURE_INVALID = "SIGNATURE_INVALID"
    TRADE_SUSPENDED = "TRADE_SUSPENDED"
    QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
    ORIGIN_REFERENCE_INVALID = "ORIGIN_REFERENCE_INVALID"
    PARTNER_UNAVAILABLE = "PARTNER_UNAVAILABLE"
    SPECIES_UNAVAILABLE = "SPECIES_UNAVAILABLE"
    SPECIES_NOT_RECOGNISED = "SPECIES_NOT_RECOGNISED"
    RISK_UNAVAILABLE = "RISK_UNAVAILABLE"


# Findings that leave a line `unverifiable` (when it has no error): the permit itself could
# not be checked.
UNVERIFIABLE_CODES = frozenset({Code.PARTNER_UNAVAILABLE})

# Names are compared after `normalised_name`, by rapidfuzz's token_sort_ratio (0-100, word
# order ignored). At or above SAME_NAME: the same trader (typos, transliteration); from
# SIMILAR_NAME: a warning, an officer looks; below: another trader, an error.
SAME_NAME = 90.0
SIMILAR_NAME = 75.0

# Company forms and their abbreviations, read as one word: "Co., Ltd." = "Company Limited".
_COMPANY_FORMS = {
    "co": "company",
    "cie": "company",
    "ltd": "limited",
    "ltda": "limited",
    "corp": "corporation",
    "inc": "incorporated",
    "intl": "international",
    "bros": "brothers",
    "mfg": "manufacturing",
    "and": "and",
}
_WORD = re.compile(r"[^\W_]+")


def normalised_name(name: str) -> str:
    """Casefolded, without diacritics or punctuation, company forms spelled out:
    `"Hanoi Pet Trading Co., Ltd."` -> `"hanoi pet trading company limited"`."""
    text = unicodedata.normalize("NFKD", name.casefold().replace("&", " and "))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(_COMPANY_FORMS.get(w, w) for w in _WORD.findall(text))


def name_similarity(a: str, b: str) -> float:
    return float(fuzz.token_sort_ratio(normalised_name(a), normalised_name(b)))


@dataclass(frozen=True)
class OtherDeclaration:
    """Another declaration that presented the permit: verified here, or endorsed."""

    declaration_id: str
    endorsed: bool


@dataclass(frozen=True)
class LineFacts:
    """What one line is checked against.

    `status` is the declared specimen's species-ref status on the declared date; None when
    species-ref did not answer (`species_answered` False) - then the checks that need it
    are skipped with SPECIES_UNAVAILABLE. `taxa` maps the permit items' species names to
    the taxon ids species-ref resolved them to. `jwks`: the issuing country's public keys
    (a partner's, fetched from it, for a partner's permit).
    """

    index: int
    line: DeclarationLine
    permit: PermitOut | None
    import_permit: PermitOut | None
    status: SpeciesStatus | None
    species_answered: bool
    taxa: Mapping[str, int | None] = field(default_factory=dict)
    other_declarations: Sequence[OtherDeclaration] = ()
    jwks: Mapping[str, Any] = field(default_factory=dict)
    # Quota id -> the quantity already exported under it this calendar year; None when it
    # could not be counted (then a line is compared with the whole quota).
    quota_used: Mapping[int, Decimal] | None = field(default_factory=dict)
    # Item id -> what earlier lines of this declaration drew on this permit's blocks; the
    # same for the import permit named on the line.
    drawn_before: Mapping[str, Decimal] = field(default_factory=dict)
    import_drawn_before: Mapping[str, Decimal] = field(default_factory=dict)
    # Quota id -> what earlier lines of this declaration declared under it (they leave
    # together: each line is compared with the quota less the lines before it).
    quota_drawn_before: Mapping[int, Decimal] = field(default_factory=dict)
    # Partner permits (issuing country, number): the ones their registry said it does not
    # have (PERMIT_NOT_FOUND), and the ones it could not be asked about, with why
    # (PARTNER_UNAVAILABLE).
    partner_not_found: frozenset[tuple[str, str]] = frozenset()
    partner_unavailable: Mapping[tuple[str, str], str] = field(default_factory=dict)


@dataclass(frozen=True)
class ExportedQuantity:
    """What a country exported of one species (term, source, purpose, unit) in a period:
    the endorsed quantities of the permits it issued."""

    species: str
    term: str
    source: str
    purpose: str
    unit: str | None
    quantity: Decimal


def _finding(
    code: Code,
    severity: Severity,
    message: str,
    at: str | None,
    expected: object = None,
    actual: object = None,
) -> Finding:
    return Finding(
        code=code.value,
        severity=severity,
        message=message,
        field=at,
        expected=None if expected is None else str(expected),
        actual=None if actual is None else str(actual),
    )


# --- The declaration itself: codes and shape (a 422 names each field) ---


def declaration_problems(
    declaration: Declaration, codes: CodeLists, *, today: date
) -> list[dict[str, Any]]:
    """Every code of the declaration against the CITES lists, unique line numbers, the
    countries the direction needs, a date not in the future (a day of time zones allowed).
    Problems in the house `errors[]` shape."""
    problems: list[dict[str, Any]] = []
    if declaration.declared_on > today + timedelta(days=1):
        message = f"{declaration.declared_on} is in the future"
        problems.append({"field": "declared_on", "message": message, "type": "date_in_future"})

    def check(name: CodeListName, code: str | None, at: str, what: str) -> None:
        if code is not None and not codes.is_valid(name, code):
            message = f"{code!r} is not a CITES {what} code"
            problems.append({"field": at, "message": message, "type": "code"})

    country = CodeListName.COUNTRIES
    for party in ("declarant", "exporter", "importer"):
        named = getattr(declaration, party)
        check(country, named.country if named else None, f"{party}.country", "country")
    countries = declaration.countries
    check(country, countries.export, "countries.export", "country")
    check(country, countries.import_, "countries.import", "country")
    check(country, countries.origin, "countries.origin", "country")
    for n, transit in enumerate(countries.transit):
        check(country, transit, f"countries.transit[{n}]", "country")
    needed = "import" if declaration.direction == "import" else "export"
    if (countries.import_ if needed == "import" else countries.export) is None:
        problems.append(
            {
                "field": f"countries.{needed}",
                "message": f"the country of {needed} is needed on a {declaration.direction}"
                " declaration",
                "type": "missing",
            }
        )
    seen: set[int] = set()
    for n, line in enumerate(declaration.lines):
        at = f"lines[{n}]"
        if line.line_no in seen:
            message = f"line_no {line.line_no} appears twice"
            problems.append({"field": f"{at}.line_no", "message": message, "type": "duplicate"})
        seen.add(line.line_no)
        check(CodeListName.TERMS, line.term, f"{at}.term", "term")
        check(CodeListName.UNITS, line.unit, f"{at}.unit", "unit")
        check(CodeListName.SOURCES, line.source, f"{at}.source", "source")
        check(CodeListName.PURPOSES, line.purpose, f"{at}.purpose", "purpose")
        for name in ("permit", "import_permit"):
            ref: PermitReference | None = getattr(line, name)
            if ref is not None:
                check(country, ref.issuing_country, f"{at}.{name}.issuing_country", "country")
    return problems


# --- One line ---


def _state_findings(permit: PermitOut, on: date, at: str) -> list[Finding]:
    """The permit's stored status and its dates on the declared date."""
    out: list[Finding] = []
    status = permit.status
    what = f"permit {permit.number}"
    if status is PermitStatus.CANCELLED:
        out.append(_finding(Code.PERMIT_CANCELLED, "error", f"{what} was cancelled", at))
    elif status is PermitStatus.REPLACED:
        message = f"{what} was replaced: the replacement is the valid document"
        out.append(_finding(Code.PERMIT_REPLACED, "error", message, at))
    elif status in (PermitStatus.LOST, PermitStatus.STOLEN):
        message = f"{what} was declared {status.value} by its Management Authority"
        out.append(_finding(Code.PERMIT_LOST_OR_STOLEN, "error", message, at, None, status))
    elif status is PermitStatus.USED:
        message = f"{what} was already used (endorsed at clearance)"
        out.append(_finding(Code.PERMIT_ALREADY_USED, "error", message, at, None, status))
    if on > permit.valid_until:
        message = f"{what} expired on {permit.valid_until}, declared on {on}"
        out.append(_finding(Code.PERMIT_EXPIRED, "error", message, at, permit.valid_until, on))
    elif on < permit.issued_on:
        message = f"{what} is valid from {permit.issued_on}, declared on {on}"
        out.append(_finding(Code.PERMIT_NOT_YET_VALID, "error", message, at, permit.issued_on, on))
    return out


def _not_found(ref: PermitReference, at: str, home_country: str, facts: LineFacts) -> Finding:
    key = (ref.issuing_country, ref.number)
    if ref.issuing_country == home_country or key in facts.partner_not_found:
        where = "its registry" if ref.issuing_country == home_country else "its registry (asked)"
        message = f"{ref.issuing_country} has no permit {ref.number} in {where}"
        return _finding(Code.PERMIT_NOT_FOUND, "error", message, f"{at}.number", None, ref.number)
    reason = facts.partner_unavailable.get(key)
    if reason is None:
        reason = f"{ref.issuing_country} is not in the partner directory"
    message = (
        f"permit {ref.number} was issued by {ref.issuing_country}, not in this registry, and"
        f" its issuing registry could not be asked ({reason}): it cannot be checked here"
    )
    return _finding(
        Code.PARTNER_UNAVAILABLE,
        "warning",
        message,
        f"{at}.issuing_country",
        None,
        ref.issuing_country,
    )


def _signature_findings(permit: PermitOut, jwks: Mapping[str, Any], at: str) -> list[Finding]:
    """The stored boxes against the signature the issuing authority made: a row altered in
    the database (or a key that does not verify) is caught here."""
    check = verify_permit(permit.model_dump(mode="json"), permit.signature, jwks)
    if check.valid:
        return []
    if not check.signature_valid:
        message = f"the signature of permit {permit.number} does not verify: {check.reason}"
        return [_finding(Code.SIGNATURE_INVALID, "error", message, at)]
    differences = "; ".join(
        f"{d.field}: signed {d.signed!r}, registry holds {d.presented!r}" for d in check.differences
    )
    message = f"permit {permit.number} differs from what was signed: {differences}"
    first = check.differences[0]
    return [_finding(Code.SIGNATURE_INVALID, "error", message, at, first.signed, first.presented)]


def _name_finding(
    code: Code, declared: str | None, on_permit: str, at: str, what: str
) -> list[Finding]:
    if declared is None:
        return []
    score = name_similarity(declared, on_permit)
    if score >= SAME_NAME:
        return []
    severity: Severity = "warning" if score >= SIMILAR_NAME else "error"
    message = (
        f"the {what} declared differs from the permit's (similarity {score:.0f} of 100 after"
        f" normalisation; {SAME_NAME:.0f} is the same name)"
    )
    return [_finding(code, severity, message, at, on_permit, declared)]


def _party_findings(declaration: Declaration, permit: PermitOut) -> list[Finding]:
    out: list[Finding] = []
    exporter, importer, countries = (
        declaration.exporter,
        declaration.importer,
        declaration.countries,
    )
    out += _name_finding(
        Code.EXPORTER_MISMATCH,
        exporter.name if exporter else None,
        permit.exporter.name,
        "exporter.name",
        "exporter",
    )
    out += _name_finding(
        Code.IMPORTER_MISMATCH,
        importer.name if importer else None,
        permit.importer.name,
        "importer.name",
        "importer",
    )
    pairs = (
        ("countries.export", countries.export, permit.exporter.country, "exporter"),
        ("countries.import", countries.import_, permit.importer.country, "importer"),
        (
            "exporter.country",
            exporter.country if exporter else None,
            permit.exporter.country,
            "exporter",
        ),
        (
            "importer.country",
            importer.country if importer else None,
            permit.importer.country,
            "importer",
        ),
    )
    for at, declared, on_permit, whose in pairs:
        if declared is not None and declared != on_permit:
            message = f"the permit's {whose} is in {on_permit}, the declaration says {declared}"
            out.append(_finding(Code.COUNTRY_MISMATCH, "error", message, at, on_permit, declared))
    return out


def _same_species(
    line: DeclarationLine,
    item: PermitItemOut,
    status: SpeciesStatus | None,
    taxa: Mapping[str, int | None],
) -> bool:
    declared = status.taxon_id if status is not None else None
    on_permit = taxa.get(item.species)
    if declared is not None and on_permit is not None:
        return declared == on_permit  # synonyms resolve to one accepted taxon
    return normalised_name(line.species) == normalised_name(item.species)


def matched_item(
    line: DeclarationLine,
    permit: PermitOut,
    status: SpeciesStatus | None,
    taxa: Mapping[str, int | None],
) -> PermitItemOut | None:
    """The permit's item block the line draws on: the same taxon (synonym-aware), preferring
    the block with the same term, unit and source when several hold the taxon."""
    candidates = [i for i in permit.items if _same_species(line, i, status, taxa)]
    if not candidates:
        return None
    return max(
        candidates,
        key=lambda i: (i.term == line.term, i.unit == line.unit, i.source == line.source),
    )


def _item_findings(
    declaration: Declaration,
    facts: LineFacts,
    permit: PermitOut,
    item: PermitItemOut,
    at: str,
) -> list[Finding]:
    out: list[Finding] = []
    line = facts.line
    block = f"item {item.item_id} of permit {permit.number}"
    for name, declared, on_permit, code in (
        ("term", line.term, item.term, Code.TERM_MISMATCH),
        ("source", line.source, item.source, Code.SOURCE_MISMATCH),
    ):
        if declared != on_permit:
            message = f"{block} is for {name} {on_permit}, the line declares {declared}"
            out.append(_finding(code, "error", message, f"{at}.{name}", on_permit, declared))
    if line.purpose != permit.purpose:
        message = (
            f"permit {permit.number} is for purpose {permit.purpose},"
            f" the line declares {line.purpose}"
        )
        out.append(
            _finding(
                Code.PURPOSE_MISMATCH,
                "error",
                message,
                f"{at}.purpose",
                permit.purpose,
                line.purpose,
            )
        )
    if line.unit != item.unit:
        shown = (item.unit or "specimens", line.unit or "specimens")
        message = f"{block} counts in {shown[0]}, the line in {shown[1]}"
        out.append(_finding(Code.UNIT_MISMATCH, "error", message, f"{at}.unit", *shown))
    elif permit.status is not PermitStatus.USED:
        # (A used permit's balance means nothing more: PERMIT_ALREADY_USED says it.) Earlier
        # lines of this declaration drawing on the same block count: a split is no way round.
        drawn = facts.drawn_before.get(item.item_id, Decimal(0))
        left = item.balance - drawn
        if line.quantity > left:
            earlier = f", {drawn} of it drawn by earlier lines" if drawn else ""
            message = (
                f"{line.quantity} declared, {item.balance} left of {block}"
                f" (issued {item.quantity}){earlier}"
            )
            out.append(
                _finding(
                    Code.QUANTITY_EXCEEDS_BALANCE,
                    "error",
                    message,
                    f"{at}.quantity",
                    left,
                    line.quantity,
                )
            )
    status = facts.status
    if status is not None and status.appendix is not None and status.appendix != item.appendix:
        message = (
            f"{block} says Appendix {item.appendix}; on {status.as_of} {status.full_name} is in"
            f" Appendix {status.appendix} ({status.reason})"
        )
        out.append(
            _finding(
                Code.APPENDIX_MISMATCH,
                "error",
                message,
                f"{at}.species",
                status.appendix,
                item.appendix,
            )
        )
    out += _origin_findings(declaration, permit, item, at)
    return out


def _origin_findings(
    declaration: Declaration, permit: PermitOut, item: PermitItemOut, at: str
) -> list[Finding]:
    """A re-export rests on the document the specimens were imported with: the certificate
    names the country of origin and its permit, and they agree with the declaration."""
    origin = declaration.countries.origin
    re_export = declaration.direction == "re_export" or permit.type is PermitType.RE_EXPORT
    if not re_export:
        if origin is not None and item.origin_country is not None and origin != item.origin_country:
            message = (
                f"item {item.item_id} of permit {permit.number} is of origin {item.origin_country}"
            )
            return [
                _finding(
                    Code.COUNTRY_MISMATCH,
                    "error",
                    message,
                    "countries.origin",
                    item.origin_country,
                    origin,
                )
            ]
        return []
    problem = None
    if permit.type is not PermitType.RE_EXPORT:
        problem = (
            "a re-export is covered by a re-export certificate,"
            f" permit {permit.number} is a {permit.type.value} document"
        )
    elif item.origin_country is None or item.origin_permit is None:
        problem = (
            f"item {item.item_id} of re-export certificate {permit.number}"
            " names no origin country and permit"
        )
    elif origin is not None and origin != item.origin_country:
        problem = (
            f"item {item.item_id} is of origin {item.origin_country}"
            f" (permit {item.origin_permit}), the declaration says {origin}"
        )
    if problem is None:
        return []
    return [
        _finding(
            Code.ORIGIN_REFERENCE_INVALID,
            "error",
            problem,
            "countries.origin",
            item.origin_country,
            origin,
        )
    ]


def _species_findings(declaration: Declaration, facts: LineFacts, at: str) -> list[Finding]:
    """What the species-ref status says about the specimen on the date, whatever the permit."""
    line = facts.line
    if not facts.species_answered:
        message = (
            "species-ref did not answer: appendix, suspensions, quotas and document needs"
            " were not checked"
        )
        return [_finding(Code.SPECIES_UNAVAILABLE, "warning", message, f"{at}.species")]
    status = facts.status
    if status is None or status.taxon_id is None:
        kind = status.match_type if status is not None else "NONE"
        message = (
            f"{line.species!r} is not a name species-ref recognises ({kind}): compared by name only"
        )
        return [
            _finding(
                Code.SPECIES_NOT_RECOGNISED, "warning", message, f"{at}.species", None, line.species
            )
        ]
    out: list[Finding] = []
    if status.suspensions:
        notes = "; ".join(
            f"#{s.id} from {s.start_date}" + (f": {s.notes}" if s.notes else "")
            for s in status.suspensions
        )
        message = (
            f"a CITES trade suspension is in force for {status.full_name}"
            f" with {status.country}: {notes}"
        )
        out.append(
            _finding(Code.TRADE_SUSPENDED, "error", message, f"{at}.species", None, status.country)
        )
    out += _quota_findings(facts, status, at)
    documents = status.documents
    if (
        declaration.direction == "import"
        and documents is not None
        and documents.import_permit
        and line.import_permit is None
    ):
        message = (
            f"{status.full_name} is in Appendix {status.appendix}:"
            " its import needs an import permit"
        )
        out.append(_finding(Code.IMPORT_PERMIT_MISSING, "error", message, f"{at}.import_permit"))
    if status.appendix is not None and any(
        problem["type"] == "purpose_not_allowed"
        for problem in appendix_problems(
            appendix=status.appendix,
            source=line.source,
            purpose=line.purpose,
            document=PermitType.EXPORT,
            at=at,
        )
    ):
        message = (
            f"{status.full_name} is in Appendix {status.appendix} on {status.as_of}: specimens"
            f" of source {line.source} may not be traded for primarily commercial purposes"
            f" ({line.purpose}, Art. III)"
        )
        out.append(
            _finding(
                Code.PURPOSE_NOT_ALLOWED, "error", message, f"{at}.purpose", None, line.purpose
            )
        )
    return out


def _quota_findings(facts: LineFacts, status: SpeciesStatus, at: str) -> list[Finding]:
    """A zero quota refuses any quantity; another is exceeded when what was already exported
    under it this calendar year (`facts.quota_used`) plus the line is above it."""
    out: list[Finding] = []
    line = facts.line
    for quota in status.quotas:
        whose = (
            f"the export quota of {quota.country or 'every country'} for"
            f" {quota.taxon.name or status.full_name} (in force since {quota.start_date})"
        )
        if quota.quota == 0:
            message = f"{whose} is zero: no export"
            out.append(
                _finding(Code.QUOTA_EXCEEDED, "error", message, f"{at}.quantity", 0, line.quantity)
            )
            continue
        if not quota_counts(quota, line.unit):
            continue
        if facts.quota_used is None:
            used, counted = Decimal(0), " (what was already exported could not be counted)"
        else:
            used, counted = facts.quota_used.get(quota.id, Decimal(0)), ""
        earlier = facts.quota_drawn_before.get(quota.id, Decimal(0))
        if used + earlier + line.quantity > quota.quota:
            on_lines = f", {earlier} on earlier lines of this declaration" if earlier else ""
            message = (
                f"{whose} is {quota.quota} a year; {used} already exported this year under"
                f" permits of {quota.country or status.country}{on_lines}, {line.quantity}"
                f" declared{counted}"
            )
            out.append(
                _finding(
                    Code.QUOTA_EXCEEDED,
                    "error",
                    message,
                    f"{at}.quantity",
                    quota.quota - used - earlier,
                    line.quantity,
                )
            )
    return out


def _elsewhere_findings(facts: LineFacts, permit: PermitOut, at: str) -> list[Finding]:
    """The permit on other declarations: a warning while they are open (corrections are
    resubmitted under a new id), an error once one was endorsed - unless the document is
    multi-use, whose repeated endorsement is its purpose."""
    out: list[Finding] = []
    multi_use = permit.type in MULTI_USE
    for other in facts.other_declarations:
        if other.endorsed and multi_use:
            continue
        if other.endorsed:
            message = f"permit {permit.number} was endorsed for declaration {other.declaration_id}"
        else:
            message = (
                f"permit {permit.number} is also presented on open declaration"
                f" {other.declaration_id}"
            )
        out.append(
            _finding(
                Code.PERMIT_IN_USE_ELSEWHERE,
                "error" if other.endorsed else "warning",
                message,
                f"{at}.permit.number",
                None,
                other.declaration_id,
            )
        )
    return out


def _import_permit_findings(
    declaration: Declaration, facts: LineFacts, at: str, home_country: str
) -> list[Finding]:
    ref = facts.line.import_permit
    if ref is None:
        return []
    where = f"{at}.import_permit"
    permit = facts.import_permit
    if permit is None:
        return [_not_found(ref, where, home_country, facts)]
    out = _state_findings(permit, declaration.declared_on, where)
    if permit.type is not PermitType.IMPORT:
        message = f"{permit.number} is a {permit.type.value} document, not an import permit"
        out.append(
            _finding(
                Code.IMPORT_PERMIT_MISSING, "error", message, where, "import", permit.type.value
            )
        )
        return out
    return out + _import_permit_boxes(declaration, facts, permit, where)


def _import_permit_boxes(
    declaration: Declaration, facts: LineFacts, permit: PermitOut, where: str
) -> list[Finding]:
    """The import permit's boxes against the line and the declaration: its importer (name
    after normalisation, country exactly), a block for the species (synonym-aware) in the
    line's unit, and what is left of that block after the earlier lines. Each finding names
    the import permit (`lines[n].import_permit`), so it is not read as the export permit's."""
    out: list[Finding] = []
    line, importer = facts.line, declaration.importer
    if importer is not None and importer.name is not None:
        score = name_similarity(importer.name, permit.importer.name)
        if score < SAME_NAME:
            message = (
                f"import permit {permit.number} is for importer {permit.importer.name!r}, the"
                f" declaration names {importer.name!r} (similarity {score:.0f} of 100)"
            )
            severity: Severity = "warning" if score >= SIMILAR_NAME else "error"
            out.append(
                _finding(
                    Code.IMPORTER_MISMATCH,
                    severity,
                    message,
                    where,
                    permit.importer.name,
                    importer.name,
                )
            )
    declared_country = declaration.countries.import_
    if declared_country is not None and declared_country != permit.importer.country:
        message = (
            f"import permit {permit.number}'s importer is in {permit.importer.country}, the"
            f" declaration imports into {declared_country}"
        )
        out.append(
            _finding(
                Code.COUNTRY_MISMATCH,
                "error",
                message,
                where,
                permit.importer.country,
                declared_country,
            )
        )
    item = matched_item(line, permit, facts.status, facts.taxa)
    if item is None:
        species = ", ".join(sorted({i.species for i in permit.items}))
        message = f"import permit {permit.number} covers {species}, not {line.species}"
        out.append(_finding(Code.SPECIES_MISMATCH, "error", message, where, species, line.species))
        return out
    block = f"item {item.item_id} of import permit {permit.number}"
    if line.unit != item.unit:
        shown = (item.unit or "specimens", line.unit or "specimens")
        message = f"{block} counts in {shown[0]}, the line in {shown[1]}"
        out.append(_finding(Code.UNIT_MISMATCH, "error", message, where, *shown))
    elif permit.status is not PermitStatus.USED:
        drawn = facts.import_drawn_before.get(item.item_id, Decimal(0))
        left = item.balance - drawn
        if line.quantity > left:
            earlier = f", {drawn} of it drawn by earlier lines" if drawn else ""
            message = (
                f"{line.quantity} declared, {item.balance} left of {block}"
                f" (issued {item.quantity}){earlier}"
            )
            out.append(
                _finding(
                    Code.QUANTITY_EXCEEDS_BALANCE, "error", message, where, left, line.quantity
                )
            )
    return out


def line_findings(
    declaration: Declaration, facts: LineFacts, *, home_country: str
) -> list[Finding]:
    """Every finding of one line. `home_country` is this registry's country: a permit it
    issued must be here; one of another country is a partner's to answer for."""
    at = f"lines[{facts.index}]"
    line = facts.line
    on = declaration.declared_on
    out = _species_findings(declaration, facts, at)
    out += _import_permit_findings(declaration, facts, at, home_country)
    ref = line.permit
    if ref is None:
        status = facts.status
        if status is not None and status.listed:
            message = (
                f"{status.full_name} is listed in CITES Appendix {status.appendix or '(split)'}:"
                " the line names no CITES document"
            )
            out.append(_finding(Code.PERMIT_MISSING, "error", message, f"{at}.permit"))
        return out
    permit = facts.permit
    if permit is None:
        out.append(_not_found(ref, f"{at}.permit", home_country, facts))
        return out
    out += _state_findings(permit, on, f"{at}.permit")
    if (
        ref.security_stamp is not None
        and permit.security_stamp is not None
        and ref.security_stamp.casefold() != permit.security_stamp.casefold()
    ):
        message = f"permit {permit.number} carries security stamp {permit.security_stamp}"
        out.append(
            _finding(
                Code.SECURITY_STAMP_MISMATCH,
                "error",
                message,
                f"{at}.permit.security_stamp",
                permit.security_stamp,
                ref.security_stamp,
            )
        )
    out += _signature_findings(permit, facts.jwks, f"{at}.permit")
    out += _party_findings(declaration, permit)
    item = matched_item(line, permit, facts.status, facts.taxa)
    if item is None:
        species = ", ".join(sorted({i.species for i in permit.items}))
        message = f"permit {permit.number} covers {species}, not {line.species}"
        out.append(
            _finding(
                Code.SPECIES_MISMATCH, "error", message, f"{at}.species", species, line.species
            )
        )
    else:
        out += _item_findings(declaration, facts, permit, item, at)
    out += _elsewhere_findings(facts, permit, at)
    return out


# --- Verdicts ---

_RANK: dict[Verdict, int] = {"valid": 0, "discrepancies": 1, "unverifiable": 2, "invalid": 3}


def line_verdict(findings: Iterable[Finding]) -> Verdict:
    """invalid if any error; unverifiable if the permit could not be checked; discrepancies
    if any warning; else valid (info findings change nothing)."""
    found = list(findings)
    if any(f.severity == "error" for f in found):
        return "invalid"
    if any(f.code in UNVERIFIABLE_CODES for f in found):
        return "unverifiable"
    if any(f.severity == "warning" for f in found):
        return "discrepancies"
    return "valid"


def declaration_verdict(verdicts: Iterable[Verdict]) -> Verdict:
    """The worst line: invalid > unverifiable > discrepancies > valid."""
    return max(verdicts, key=lambda v: _RANK[v], default="valid")
