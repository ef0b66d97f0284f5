"""The registry's rules as pure functions: what a permit must satisfy to be issued, when it
can be endorsed and what status follows (Res. Conf. 12.3 (Rev. CoP19), Convention Art. III-VII).

Each check answers problems as `{"field", "message", "type"}` (the house `errors[]` shape),
so a refusal names every field that is wrong at once.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from pangolin_core.contracts.cites_codes import CodeListName, CodeLists
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
