"""Opaque cursors for keyset pagination (`limit`, `cursor`, `next`), shared by every list."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from pangolin_core.errors import BadRequest

MAX_LIMIT = 1000


def encode_cursor(position: dict[str, Any]) -> str:
    raw = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    """The position a cursor stands for; a cursor that is not one of ours is a 400."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        position = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("The cursor is not valid: pass back the `next` of a page.") from exc
    if not isinstance(position, dict):
        raise BadRequest("The cursor is not valid: pass back the `next` of a page.")
    return position
