"""Which headers cross the gateway, each way (pure functions over raw ASGI header lists)."""

from __future__ import annotations

import re
from collections.abc import Iterable

RawHeaders = Iterable[tuple[bytes, bytes]]

# RFC 9110 §7.6.1: meant for one connection, never forwarded. `host` is the upstream's own.
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
# The partner's credentials stay at the gateway: services trust only the signed identity.
CREDENTIALS = frozenset({b"authorization", b"x-api-key", b"cookie"})
INTERNAL_PREFIX = b"x-pangolin-"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def _connection_tokens(headers: list[tuple[bytes, bytes]]) -> set[bytes]:
    """Headers named in `Connection` are hop-by-hop too."""
    named: set[bytes] = set()
    for name, value in headers:
        if name.lower() == b"connection":
            named.update(t.strip().lower() for t in value.split(b",") if t.strip())
    return named


def request_headers_upstream(headers: RawHeaders) -> list[tuple[str, str]]:
    """The client's headers as the service may see them: without hop-by-hop headers,
    credentials, `Host`, `Content-Length` (set again from the body) and any
    `X-Pangolin-*` (only the gateway sets those)."""
    raw = list(headers)
    dropped = HOP_BY_HOP | CREDENTIALS | _connection_tokens(raw) | {b"host", b"content-length"}
    kept = []
    for name, value in raw:
        lower = name.lower()
        if lower in dropped or lower.startswith(INTERNAL_PREFIX):
            continue
        kept.append((lower.decode("latin-1"), value.decode("latin-1")))
    return kept


def response_headers_downstream(headers: Iterable[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    """The service's answer headers as the client may see them."""
    raw = [(n.lower().encode("latin-1"), v.encode("latin-1")) for n, v in headers]
    dropped = HOP_BY_HOP | _connection_tokens(raw) | {b"server", b"date"}
    return [(n, v) for n, v in raw if n not in dropped and not n.startswith(INTERNAL_PREFIX)]


def header(headers: RawHeaders, name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def valid_request_id(value: str | None) -> str | None:
    """A client's `X-Request-ID` is kept when it is a sane token, else replaced."""
    return value if value is not None and _REQUEST_ID.match(value) else None


def media_type(content_type: str | None) -> str | None:
    """`application/json; charset=utf-8` -> `application/json`."""
    if not content_type:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None
