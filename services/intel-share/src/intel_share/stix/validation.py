"""Checking what Pangolin emits with the OASIS `stix2-validator`."""

from __future__ import annotations

import json
from typing import Any

from stix2validator import ValidationOptions, validate_string


def validation_errors(bundle: dict[str, Any]) -> list[str]:
    """The validator's errors for a bundle (warnings, such as UUIDv5 ids, are not errors)."""
    options = ValidationOptions(version="2.1")
    results = validate_string(json.dumps(bundle), options)
    errors: list[str] = []
    for result in results if isinstance(results, list) else [results]:
        errors.extend(f"{result.object_id}: {e}" for e in result.errors)
        fatal = getattr(result, "fatal", None)
        if fatal is not None:
            errors.append(f"{result.object_id}: {fatal}")
    return errors
