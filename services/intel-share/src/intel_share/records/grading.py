"""Grading schemes of intelligence and their mapping to a 0-100 `confidence`.

- `admiralty` (NATO / Admiralty code, the default): source reliability A-F, information
  credibility 1-6; the handling code is free text (or none).
- `5x5x5` (UK National Intelligence Model, 2006): source evaluation A-E, intelligence
  evaluation 1-5, handling code 1-5.
- `3x5x2` (UK College of Policing, 2016): source evaluation A-C, intelligence assessment 1-5,
  handling code P (lawful sharing permitted) or C (conditions apply).

`confidence` follows the information (credibility / evaluation) grade alone, as STIX 2.1's
Admiralty credibility scale does (appendix "Confidence Scales": 1 -> 90, 2 -> 70, 3 -> 50,
4 -> 30, 5 -> 10): the source's reliability is kept beside it, not folded in. "Cannot be
judged" has no STIX value; it maps to 50 here (neither for nor against).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

GradingScheme = Literal["admiralty", "5x5x5", "3x5x2"]
CANNOT_BE_JUDGED = 50


@dataclass(frozen=True)
class Scale:
    sources: dict[str, str]  # grade -> meaning
    information: dict[str, tuple[str, int]]  # grade -> (meaning, confidence)
    handling_codes: dict[str, str] | None  # None: free text


SCALES: dict[str, Scale] = {
    "admiralty": Scale(
        sources={
            "A": "completely reliable",
            "B": "usually reliable",
            "C": "fairly reliable",
            "D": "not usually reliable",
            "E": "unreliable",
            "F": "reliability cannot be judged",
        },
        information={
            "1": ("confirmed by other sources", 90),
            "2": ("probably true", 70),
            "3": ("possibly true", 50),
            "4": ("doubtful", 30),
            "5": ("improbable", 10),
            "6": ("truth cannot be judged", CANNOT_BE_JUDGED),
        },
        handling_codes=None,
    ),
    "5x5x5": Scale(
        sources={
            "A": "always reliable",
            "B": "mostly reliable",
            "C": "sometimes reliable",
            "D": "unreliable",
            "E": "untested source",
        },
        information={
            "1": ("known to be true without reservation", 90),
            "2": ("known personally to the source but not to the officer", 70),
            "3": ("not personally known to the source but corroborated", 50),
            "4": ("cannot be judged", CANNOT_BE_JUDGED),
            "5": ("suspected to be false", 10),
        },
        handling_codes={
            "1": "may be disseminated to other law enforcement and prosecuting agencies",
            "2": "may be disseminated to UK non-prosecuting parties",
            "3": "may be disseminated to non-EU law enforcement agencies",
            "4": "may be disseminated within the originating agency only",
            "5": "no further dissemination: refer to the originator",
        },
    ),
    "3x5x2": Scale(
        sources={"A": "reliable", "B": "untested", "C": "not reliable"},
        information={
            "1": ("known directly to the source", 90),
            "2": ("known indirectly to the source but corroborated", 70),
            "3": ("known indirectly to the source", 50),
            "4": ("not known", 30),
            "5": ("suspected to be false or malicious", 10),
        },
        handling_codes={"P": "lawful sharing permitted", "C": "lawful sharing with conditions"},
    ),
}

DEFAULT_SCHEME: GradingScheme = "admiralty"


def grading_errors(
    scheme: str, source: str, information: str, handling_code: str | None
) -> list[tuple[str, str]]:
    """What is wrong with a grading, as (field, message) pairs; empty when it is valid."""
    scale = SCALES.get(scheme)
    if scale is None:
        return [("grading.scheme", f"unknown scheme {scheme!r}: one of {', '.join(SCALES)}")]
    errors = []
    if source not in scale.sources:
        allowed = "".join(scale.sources)
        errors.append(("grading.source", f"{source!r} is not a {scheme} source grade ({allowed})"))
    if information not in scale.information:
        allowed = "".join(scale.information)
        errors.append(
            ("grading.information", f"{information!r} is not a {scheme} grade ({allowed})")
        )
    codes = scale.handling_codes
    if codes is not None and handling_code is not None and handling_code not in codes:
        allowed = ", ".join(codes)
        errors.append(
            ("handling_code", f"{handling_code!r} is not a {scheme} handling code ({allowed})")
        )
    return errors


def confidence(scheme: str, information: str) -> int:
    """The 0-100 confidence of a valid grading (see the module's table)."""
    return SCALES[scheme].information[information][1]
