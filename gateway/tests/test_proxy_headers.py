"""Which headers cross the gateway."""

from __future__ import annotations

from gateway.proxy.headers import (
    media_type,
    request_headers_upstream,
    response_headers_downstream,
    valid_request_id,
)


def test_credentials_hop_by_hop_and_internal_headers_do_not_reach_the_service() -> None:
    incoming = [
        (b"host", b"gateway.example"),
        (b"authorization", b"Bearer abc"),
        (b"x-api-key", b"pgk_1_secret"),
        (b"X-Pangolin-Identity", b"forged"),
        (b"x-pangolin-anything", b"forged"),
        (b"connection", b"keep-alive, x-custom-hop"),
        (b"x-custom-hop", b"1"),
        (b"keep-alive", b"timeout=5"),
        (b"transfer-encoding", b"chunked"),
        (b"te", b"trailers"),
        (b"content-length", b"12"),
        (b"content-type", b"application/json"),
        (b"accept", b"application/json"),
        (b"x-request-id", b"abc-123"),
    ]
    assert request_headers_upstream(incoming) == [
        ("content-type", "application/json"),
        ("accept", "application/json"),
        ("x-request-id", "abc-123"),
    ]


def test_the_answer_loses_hop_by_hop_and_internal_headers() -> None:
    answer = [
        ("Content-Type", "application/json"),
        ("Content-Length", "2"),
        ("Connection", "close"),
        ("Transfer-Encoding", "chunked"),
        ("Server", "uvicorn"),
        ("X-Pangolin-Debug", "1"),
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
    ]
    assert response_headers_downstream(answer) == [
        (b"content-type", b"application/json"),
        (b"content-length", b"2"),
        (b"set-cookie", b"a=1"),
        (b"set-cookie", b"b=2"),
    ]


def test_request_ids_and_media_types() -> None:
    assert valid_request_id("sw-2026-000123") == "sw-2026-000123"
    assert valid_request_id("has space") is None
    assert valid_request_id("x" * 129) is None
    assert valid_request_id(None) is None
    assert media_type("application/json; charset=utf-8") == "application/json"
    assert media_type("Text/CSV") == "text/csv"
    assert media_type("") is None
