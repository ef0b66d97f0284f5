"""The registry's rules as pure functions: what a permit must satisfy to be issued, when it
can be endorsed and what status follows (Res. Conf. 12.3 (Rev. CoP19), Convention Art. III-VII).

Each check answers problems as `{"field", "message", "type"}` (the house `errors[]` shape),
so a refusal names every field that is wrong at once.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from pangolin_core.contracts.cites_codes import CodeListName, CodeLists
from pangolin_core.contracts.species import ExportQuota, NameMatch, SpeciesStatus
from permit_verify.permits.schemas import PermitIn, PermitStatus, PermitType

Problem = dict[str, Any]

# Maximum validity in months from the issue date (Res. Conf. 12.3 (Rev. CoP19): six months
# for export permits and re-export certificates, twelve for import permits; Res. Conf. 16.8,
# 10.20 and 12.3 Annex: three years for musical-instrument, travelling-exhibition and
# personal-ownership certificates). Certificates that stand in for an export permit
# (pre-Convention, captive-bred, artificially propagated) take the export permit's six
# months; a certificate of origin and an introduction-from-the-sea certificate twelve.
MAX_VALIDITY_MONTHS: dict[PermitType, int] = {
    PermitType.EXPORT: 6,
    PermitType.RE_EXPORT: 6,
    PermitType.PRE_CONVENTION: 6,
    PermitType.CAPTIVE_BRED: 6,
    PermitType.ARTIFICIALLY_PROPAGATED: 6,
    PermitType.IMPORT: 12,
    PermitType.CERTIFICATE_OF_ORIGIN: 12,
    PermitType.INTRODUCTION_FROM_SEA: 12,
    PermitType.TRAVELLING_EXHIBITION: 36,
    PermitType.MUSICAL_INSTRUMENT: 36,
    PermitType.PERSONAL_OWNERSHIP: 36,
}

# Documents for one shipment: closed (`used`) by their first endorsement. The others cover
# repeated non-commercial movements of the same specimens.
MULTI_USE: frozenset[PermitType] = frozenset(
    {
        PermitType.TRAVELLING_EXHIBITION,
        PermitType.MUSICAL_INSTRUMENT,
        PermitType.PERSONAL_OWNERSHIP,
    }
)

OPEN_STATUSES: frozenset[PermitStatus] = frozenset(
    {PermitStatus.VALID, PermitStatus.PARTIALLY_USED}
)

# Documents whose holder is the exporter (the issuing country is the exporter's); an import
# permit is issued to the importer.
_EXPORTER_ISSUED = frozenset(
    {PermitType.EXPORT, PermitType.RE_EXPORT, PermitType.CERTIFICATE_OF_ORIGIN}
)

# Appendix I specimens that count as taken from the wild for Art. III: no trade for
# primarily commercial purposes (T). Wild (W), born in captivity but not "bred in
# captivity" (F, Res. Conf. 10.16), unknown (U), introduced from the sea (X).
_APPENDIX_I_NOT_COMMERCIAL = frozenset({"W", "F", "U", "X"})
# The source each certificate is about (the code its items must carry).
_SOURCE_OF_CERTIFICATE: dict[PermitType, str] = {
    PermitType.PRE_CONVENTION: "O",
    PermitType.INTRODUCTION_FROM_SEA: "X",
}
_NON_COMMERCIAL_CERTIFICATES = MULTI_USE


def add_months(day: date, months: int) -> date:
    """`2026-08-31` + 6 months -> `2027-02-28` (the month's last day when it is shorter)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _problem(field: str, message: str, kind: str) -> Problem:
    return {"field": field, "message": message, "type": kind}


def code_problems(permit: PermitIn, codes: CodeLists) -> list[Problem]:
    """Every code of the permit against the CITES lists."""
    problems: list[Problem] = []

    def check(name: CodeListName, code: str | None, field: str, what: str) -> None:
        if code is not None and not codes.is_valid(name, code):
            problems.append(_problem(field, f"{code!r} is not a CITES {what} code", "code"))

    check(CodeListName.COUNTRIES, permit.issuing_country, "issuing_country", "country")
    check(CodeListName.COUNTRIES, permit.exporter.country, "exporter.country", "country")
    check(CodeListName.COUNTRIES, permit.importer.country, "importer.country", "country")
    check(CodeListName.PURPOSES, permit.purpose, "purpose", "purpose")
    for n, item in enumerate(permit.items):
        at = f"items[{n}]"
        check(CodeListName.TERMS, item.term, f"{at}.term", "term")
        check(CodeListName.SOURCES, item.source, f"{at}.source", "source")
        check(CodeListName.UNITS, item.unit, f"{at}.unit", "unit")
        check(CodeListName.COUNTRIES, item.origin_country, f"{at}.origin_country", "country")
    return problems


def date_problems(permit: PermitIn, *, today: date) -> list[Problem]:
    """Validity within the document type's maximum. A back-filled permit keeps its own dates,
    expired ones included; an issue date in the future (beyond a day of time zones) is not
    an issue but a typo."""
    problems: list[Problem] = []
    if permit.issued_on > today + timedelta(days=1):
        problems.append(
            _problem("issued_on", f"{permit.issued_on} is in the future", "date_in_future")
        )
        return problems  # no validity to measure from an issue date that has not come
    if permit.valid_until < permit.issued_on:
        problems.append(
            _problem("valid_until", "the permit expires before it is issued", "date_order")
        )
    months = MAX_VALIDITY_MONTHS[permit.type]
    latest = add_months(permit.issued_on, months)
    if permit.valid_until > latest:
        problems.append(
            _problem(
                "valid_until",
                f"a {permit.type.value} document is valid for at most {months} months:"
                f" until {latest} when issued on {permit.issued_on}",
                "validity_too_long",
            )
        )
    return problems


def appendix_problems(
    *, appendix: str, source: str, purpose: str, document: PermitType, at: str
) -> list[Problem]:
    """Purpose and source allowed for the appendix and the document (`at`: the item's path)."""
    problems: list[Problem] = []
    if appendix == "I" and purpose == "T" and source in _APPENDIX_I_NOT_COMMERCIAL:
        problems.append(
            _problem(
                "purpose",
                f"Appendix I specimens of source {source} may not be traded for primarily"
                f" commercial purposes (T): {at}",
                "purpose_not_allowed",
            )
        )
    if source == "D" and appendix != "I":
        problems.append(
            _problem(
                f"{at}.source",
                "source D is for Appendix I specimens from registered operations only",
                "source_not_allowed",
            )
        )
    wanted = _SOURCE_OF_CERTIFICATE.get(document)
    if wanted is not None and source != wanted:
        problems.append(
            _problem(
                f"{at}.source",
                f"a {document.value} certificate covers source {wanted} only",
                "source_not_allowed",
            )
        )
    return problems


def document_problems(permit: PermitIn) -> list[Problem]:
    """What the document type asks of the parties, purpose and items."""
    problems: list[Problem] = []
    if permit.type in _EXPORTER_ISSUED and permit.exporter.country != permit.issuing_country:
        problems.append(
            _problem(
                "exporter.country",
                f"a {permit.type.value} document is issued by the exporter's country"
                f" ({permit.issuing_country})",
                "country_mismatch",
            )
        )
    if permit.type is PermitType.IMPORT and permit.importer.country != permit.issuing_country:
        problems.append(
            _problem(
                "importer.country",
                f"an import permit is issued by the importer's country ({permit.issuing_country})",
                "country_mismatch",
            )
        )
    if permit.type in _NON_COMMERCIAL_CERTIFICATES and permit.purpose == "T":
        problems.append(
            _problem(
                "purpose",
                f"a {permit.type.value} certificate is for non-commercial movements only",
                "purpose_not_allowed",
            )
        )
    seen: set[str] = set()
    for n, item in enumerate(permit.items):
        at = f"items[{n}]"
        if item.item_id in seen:
            problems.append(
                _problem(f"{at}.item_id", f"item {item.item_id} appears twice", "duplicate")
            )
        seen.add(item.item_id)
        if permit.type is PermitType.RE_EXPORT and item.origin_country is None:
            problems.append(
                _problem(
                    f"{at}.origin_country",
                    "a re-export certificate names each item's country of origin",
                    "missing",
                )
            )
        problems.extend(
            appendix_problems(
                appendix=item.appendix,
                source=item.source,
                purpose=permit.purpose,
                document=permit.type,
                at=at,
            )
        )
    return problems


def issue_problems(permit: PermitIn, *, codes: CodeLists, today: date) -> list[Problem]:
    """Everything a permit is checked against at issue without asking another service."""
    return [
        *code_problems(permit, codes),
        *date_problems(permit, today=today),
        *document_problems(permit),
    ]


def closed_reason(
    *, status: PermitStatus, issued_on: date, valid_until: date, on: date
) -> str | None:
    """Why a permit cannot be endorsed on `on` (None: it can)."""
    if status not in OPEN_STATUSES:
        return f"the permit is {status.value}"
    if on > valid_until:
        return f"the permit expired on {valid_until}"
    if on < issued_on:
        return f"the permit is valid from {issued_on}"
    return None


def status_after_endorsement(document: PermitType, balances: Iterable[Decimal]) -> PermitStatus:
    """A single-shipment document is used by its first endorsement; a multi-use one when
    nothing is left of any item."""
    if document not in MULTI_USE:
        return PermitStatus.USED
    return PermitStatus.USED if all(b == 0 for b in balances) else PermitStatus.PARTIALLY_USED


# --- What species-ref says at issue (docs/permit-verify.md, "Species checks at issue") ---

# A permit registered more than this many days after its issue date is back-filled (from
# paper or a legacy system): a record of what was issued, not a request to issue. What
# species-ref says against it is stored as warnings; a permit issued now is refused. A week
# covers a weekend's or a holiday's upload backlog; a permit dated further back to dodge a
# refusal still carries the warnings in its audit trail, and verification checks the
# suspension and the quota again on the day it is presented.
BACK_FILL_DAYS = 7

# The matches that name a taxon precisely, as a permit must (Res. Conf. 12.3: the
# scientific name): the accepted name or one of its synonyms. A misspelling (FUZZY), a
# common name, a genus for a species (HIGHER_RANK), AMBIGUOUS and NONE are refused, with
# what species-ref suggests.
PRECISE_MATCHES = frozenset({"EXACT", "SYNONYM"})


def is_back_filled(permit: PermitIn, *, today: date) -> bool:
    return permit.issued_on < today - timedelta(days=BACK_FILL_DAYS)


def quota_counts(quota: ExportQuota, unit: str | None) -> bool:
    """Whether a quantity in `unit` (None: specimens) counts against the quota: a quota
    without units counts specimens."""
    return unit in quota.units if unit is not None else not quota.units


def quota_covers(quota: ExportQuota, *, term: str, source: str, purpose: str) -> bool:
    """The quota's scope (an empty code set: all)."""
    return (
        (not quota.terms or term in quota.terms)
        and (not quota.sources or source in quota.sources)
        and (not quota.purposes or purpose in quota.purposes)
    )


def quota_year(quota: ExportQuota, on: date) -> tuple[date, date]:
    """The days (inclusive) whose permits count with one issued on `on`: its calendar year,
    within the quota's own dates (an end date is the first day out of force)."""
    start = max(date(on.year, 1, 1), quota.start_date)
    end = date(on.year, 12, 31)
    if quota.end_date is not None:
        end = min(end, quota.end_date - timedelta(days=1))
    return start, end


@dataclass(frozen=True)
class IssuedQuantity:
    """What the issuing country's permits already hold of a taxon (not cancelled or
    replaced), summed per term, source, purpose, unit and issue date."""

    taxon_id: int
    term: str
    source: str
    purpose: str
    unit: str | None
    issued_on: date
    quantity: Decimal


def quota_used(
    quota: ExportQuota, *, taxa: Iterable[int], issued: Iterable[IssuedQuantity], on: date
) -> Decimal:
    """What earlier permits hold under the quota in the quota year of a permit issued `on`."""
    start, end = quota_year(quota, on)
    wanted = set(taxa)
    return sum(
        (
            row.quantity
            for row in issued
            if row.taxon_id in wanted
            and start <= row.issued_on <= end
            and quota_covers(quota, term=row.term, source=row.source, purpose=row.purpose)
            and quota_counts(quota, row.unit)
        ),
        Decimal(0),
    )


def _warning(field: str | None, message: str, code: str) -> Problem:
    return {"code": code, "message": message, "field": field}


def _imprecise_name(name: str, status: SpeciesStatus, match: NameMatch | None, at: str) -> Problem:
    kind = status.match_type
    if kind == "FUZZY":
        why = f"is not a name species-ref knows (FUZZY): did you mean {status.full_name!r}?"
    elif kind == "COMMON_NAME":
        why = f"is a common name (COMMON_NAME) of {status.full_name!r}"
    elif kind == "HIGHER_RANK":
        rank = (status.rank or "higher taxon").lower()
        why = f"matches only the {rank} {status.full_name!r} (HIGHER_RANK)"
    elif kind == "AMBIGUOUS":
        why = "matches several taxa (AMBIGUOUS)"
    else:
        why = f"matches no taxon ({kind})"
    alternatives = [a.name for a in match.alternatives[:5]] if match is not None else []
    if alternatives:
        why += f"; species-ref suggests {', '.join(alternatives)}"
    problem = _problem(
        f"{at}.species",
        f"{name!r} {why}: a permit names its taxon by its exact scientific name",
        "species_not_recognised",
    )
    problem |= {"match_type": kind, "suggestion": status.full_name, "alternatives": alternatives}
    return problem


def _appendix_checks(
    permit: PermitIn, item: Any, status: SpeciesStatus, at: str
) -> tuple[list[Problem], list[Problem]]:
    problems: list[Problem] = []
    warnings: list[Problem] = []
    name, on = status.full_name, status.as_of
    if status.appendix is None:
        if status.listed:  # a split listing the origin does not settle: never guessed
            message = (
                f"species-ref cannot settle the listing of {name} on {on} ({status.reason}):"
                f" Appendix {item.appendix} as the permit says"
            )
            warnings.append(_warning(f"{at}.appendix", message, "APPENDIX_UNDETERMINED"))
        else:
            message = f"{name} is not listed in the CITES Appendices on {on}"
            problem = _problem(f"{at}.appendix", message, "appendix_mismatch")
            problems.append(problem | {"expected": None, "actual": item.appendix})
        return problems, warnings
    if status.appendix == item.appendix:
        return problems, warnings
    message = (
        f"the permit says Appendix {item.appendix}; on {on} {name} is in Appendix"
        f" {status.appendix} ({status.reason})"
    )
    problem = _problem(f"{at}.appendix", message, "appendix_mismatch")
    problems.append(problem | {"expected": status.appendix, "actual": item.appendix})
    # Purpose and source against the appendix in force (those against the written one are
    # `document_problems`').
    written = appendix_problems(
        appendix=item.appendix,
        source=item.source,
        purpose=permit.purpose,
        document=permit.type,
        at=at,
    )
    for found in appendix_problems(
        appendix=status.appendix,
        source=item.source,
        purpose=permit.purpose,
        document=permit.type,
        at=at,
    ):
        if found not in written:
            found["message"] += f" ({name} is in Appendix {status.appendix} on {on})"
            problems.append(found)
    return problems, warnings


def _suspension_problem(status: SpeciesStatus, at: str) -> Problem:
    described = "; ".join(
        f"suspension #{s.id} in force since {s.start_date}"
        + (f": {s.notes}" if s.notes else "")
        + (f" (compilers' notes: {s.internal_notes})" if s.internal_notes else "")
        for s in status.suspensions
    )
    message = (
        f"a CITES trade suspension covers {status.full_name} with {status.country}: {described}"
    )
    problem = _problem(at, message, "trade_suspended")
    problem["suspensions"] = [
        {
            "id": s.id,
            "start_date": s.start_date.isoformat(),
            "notes": s.notes,
            "internal_notes": s.internal_notes,
        }
        for s in status.suspensions
    ]
    return problem


def species_problems(
    permit: PermitIn,
    statuses: Sequence[SpeciesStatus],
    *,
    matches: Mapping[str, NameMatch],
    issued: Sequence[IssuedQuantity],
    restrictions_known: bool,
) -> tuple[list[Problem], list[Problem]]:
    """The permit's items against their species-ref status on the issue date (one per item,
    in order): refusals (`field`, `message`, `type`, and what backs them) and warnings
    (`code`, `message`, `field`). `matches`: species-ref's matches of the names it did not
    resolve precisely (their alternatives); `issued`: what earlier permits hold of the
    items' taxa this year; `restrictions_known` is False when species-ref does not know the
    issuing country (a test exchange's user-assigned code), so no suspension or quota of it
    can be read."""
    problems: list[Problem] = []
    warnings: list[Problem] = []
    exporting = permit.type is not PermitType.IMPORT
    quota_taxa: dict[int, set[int]] = defaultdict(set)
    for status in statuses:
        for quota in status.quotas:
            if status.taxon_id is not None:
                quota_taxa[quota.id].add(status.taxon_id)
            if quota.taxon.taxon_id is not None:
                quota_taxa[quota.id].add(quota.taxon.taxon_id)
    this_permit: dict[int, Decimal] = defaultdict(Decimal)
    for n, (item, status) in enumerate(zip(permit.items, statuses, strict=True)):
        at = f"items[{n}]"
        if status.taxon_id is None or status.match_type not in PRECISE_MATCHES:
            problems.append(_imprecise_name(item.species, status, matches.get(item.species), at))
            continue
        if status.match_type == "SYNONYM":
            message = (
                f"{item.species!r} is a synonym of {status.full_name} (taxon {status.taxon_id})"
            )
            warnings.append(_warning(f"{at}.species", message, "SPECIES_SYNONYM"))
        found, warned = _appendix_checks(permit, item, status, at)
        problems += found
        warnings += warned
        if not restrictions_known:
            continue
        if status.suspensions:
            problems.append(_suspension_problem(status, at))
        if not exporting:
            continue
        for quota in status.quotas:
            whose = (
                f"the export quota of {quota.country or status.country} for"
                f" {quota.taxon.name or status.full_name} (#{quota.id}, since {quota.start_date})"
            )
            if quota.quota == 0:
                problem = _problem(
                    f"{at}.quantity", f"{whose} is zero: no export", "quota_exceeded"
                )
                problems.append(
                    problem | {"quota": "0", "used": "0", "requested": str(item.quantity)}
                )
                continue
            if not quota_counts(quota, item.unit):
                continue
            used = this_permit[quota.id] + quota_used(
                quota, taxa=quota_taxa[quota.id], issued=issued, on=permit.issued_on
            )
            this_permit[quota.id] += item.quantity
            if used + item.quantity > quota.quota:
                unit = item.unit or "specimens"
                message = (
                    f"{whose} is {quota.quota} {unit} in {permit.issued_on.year};"
                    f" permits of {status.country} already hold {used}, {item.quantity}"
                    f" requested: {quota.quota - used} left"
                )
                problem = _problem(f"{at}.quantity", message, "quota_exceeded")
                problems.append(
                    problem
                    | {
                        "quota": str(quota.quota),
                        "used": str(used),
                        "requested": str(item.quantity),
                    }
                )
    return problems, warnings


def as_back_filled_warnings(problems: Iterable[Problem]) -> list[Problem]:
    """A back-filled permit's refusals, as the warnings it is stored with."""
    return [
        _warning(
            p["field"],
            f"back-filled permit stored as issued: {p['message']}",
            str(p["type"]).upper(),
        )
        for p in problems
    ]
