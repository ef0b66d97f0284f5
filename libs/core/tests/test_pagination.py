"""Opaque cursors round-trip, and anything else is a 400."""

from __future__ import annotations

import pytest

from pangolin_core.errors import BadRequest
from pangolin_core.pagination import decode_cursor, encode_cursor


def test_a_cursor_gives_back_its_position() -> None:
    cursor = encode_cursor({"after_id": 4521, "after_time": "2026-11-25T00:00:00Z"})
    assert "=" not in cursor
    assert decode_cursor(cursor) == {"after_id": 4521, "after_time": "2026-11-25T00:00:00Z"}


@pytest.mark.parametrize("cursor", ["!!", "bm90IGpzb24", encode_cursor({"a": 1})[:-3], "WzFd"])
def test_a_cursor_that_is_not_ours_is_a_bad_request(cursor: str) -> None:
    with pytest.raises(BadRequest, match="cursor is not valid"):
        decode_cursor(cursor)
