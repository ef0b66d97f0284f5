"""Content negotiation: which of the representations a route offers an `Accept` header
prefers (RFC 9110 section 12.5.1: quality values, `type/*`, `*/*`; ties go to the route's
order of offers)."""

from __future__ import annotations

from collections.abc import Sequence


def media_type(content_type: str | None) -> str:
    """`application/xml; charset=utf-8` -> `application/xml` (no header: JSON)."""
    if not content_type:
        return "application/json"
    return content_type.split(";", 1)[0].strip().lower()


def _ranges(accept: str) -> list[tuple[str, float]]:
    ranges = []
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        if not media:
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = max(0.0, min(1.0, float(value)))
                except ValueError:
                    quality = 0.0
        ranges.append((media.lower(), quality))
    return ranges


def _quality(offer: str, ranges: Sequence[tuple[str, float]]) -> float:
    """The quality of the most specific range that matches `offer`."""
    kind = offer.split("/", 1)[0] + "/*"
    best: tuple[int, float] | None = None
    for media, quality in ranges:
        specificity = 2 if media == offer else 1 if media == kind else 0 if media == "*/*" else -1
        if specificity >= 0 and (best is None or specificity > best[0]):
            best = (specificity, quality)
    return best[1] if best is not None else 0.0


def negotiate(accept: str | None, offers: Sequence[str]) -> str | None:
    """The offer to answer with, or None when `accept` refuses them all (a 406)."""
    if not accept or not accept.strip():
        return offers[0]
    ranges = _ranges(accept)
    chosen, best = None, 0.0
    for offer in offers:
        quality = _quality(offer, ranges)
        if quality > best:
            chosen, best = offer, quality
    return chosen
