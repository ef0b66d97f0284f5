"""What an endorsement must satisfy before it touches a balance (pure)."""

from __future__ import annotations

from collections.abc import Set
from datetime import date, timedelta
from typing import Any

from permit_verify.endorsements.schemas import EndorsementIn


def endorsement_problems(
    request: EndorsementIn, *, number: str, item_ids: Set[str], today: date
) -> list[dict[str, Any]]:
    """Items the permit has, each once; a clearance date not in the future (a day of time
    zones allowed). Problems in the house `errors[]` shape."""
    problems: list[dict[str, Any]] = []
    seen: set[str] = set()
    for n, line in enumerate(request.items):
        field = f"items[{n}].item_id"
        if line.item_id not in item_ids:
            message = f"permit {number} has no item {line.item_id}"
            problems.append({"field": field, "message": message, "type": "unknown_item"})
        elif line.item_id in seen:
            message = f"item {line.item_id} appears twice"
            problems.append({"field": field, "message": message, "type": "duplicate"})
        seen.add(line.item_id)
    if request.endorsed_on > today + timedelta(days=1):
        problems.append(
            {"field": "endorsed_on", "message": "a date in the future", "type": "date_in_future"}
        )
    return problems
