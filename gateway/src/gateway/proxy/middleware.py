"""The gateway's front: every HTTP request passes here.

A path the route table covers is answered here, without FastAPI's routing: authenticate,
rate-limit, find the rule, check scopes, size and content type, then stream the call to its
service with the signed identity and stream the answer back. Any other path (token endpoint,
JWKS, admin API, OpenAPI, health) goes on to the FastAPI app. Either way the request is
audited (health probes excepted).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import aiohttp
import structlog
from opentelemetry import propagate, trace
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from yarl import URL

from gateway import routes
from gateway.limits.headers import rate_limit_headers
from gateway.principal import Principal
from gateway.proxy.breaker import BreakerState
from gateway.proxy.headers import (
    header,
    media_type,
    request_headers_upstream,
    response_headers_downstream,
    valid_request_id,
)
from gateway.proxy.problems import (
    BadGateway,
    MethodNotAllowed,
    PayloadTooLarge,
    RouteNotFound,
    TooManyRequests,
    UnsupportedMediaType,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from gateway.proxy.upstream import Upstream
from gateway.state import AuditRecord, GatewayState
from pangolin_core.errors import PROBLEM_JSON, BadRequest, Forbidden, PangolinError

log = structlog.get_logger(__name__)

UNAUDITED = frozenset({"/health", "/ready"})
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# Bodies up to this size are read before forwarding (one write upstream, and a retry can
# replay them); larger ones stream through.
BUFFER_LIMIT = 64 * 1024
# RFC 9110 §7.6.3: the answer came from a service, through this gateway.
VIA = (b"via", b"1.1 pangolin-gateway")


class _ClientGone(Exception):
    """The client disconnected before its request body was read."""


@dataclass
class _Exchange:
    """What is known of one request as it goes through; the audit entry is made from it."""

    request_id: str
    principal: Principal | None = None
    rule: routes.Rule | None = None
    upstream: str | None = None  # set once the call is sent to a service
    status: int = 500


class GatewayMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNAUDITED:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        at = datetime.now(UTC)
        request_id = valid_request_id(header(scope["headers"], b"x-request-id")) or uuid4().hex
        exchange = _Exchange(request_id)
        gw: GatewayState = scope["app"].state.runtime.extras["gateway"]
        try:
            if routes.is_routed(scope["path"]):
                await self._route(scope, receive, send, gw, exchange)
            else:
                await self._own(scope, receive, send, exchange)
        finally:
            principal = exchange.principal
            gw.audit.record(
                AuditRecord(
                    at=at,
                    request_id=request_id,
                    method=scope["method"],
                    path=scope["path"],
                    route=exchange.rule.pattern if exchange.rule else scope["path"],
                    status=exchange.status,
                    latency_ms=round((time.perf_counter() - started) * 1000, 3),
                    client_id=principal.client_id if principal else None,
                    country=principal.country if principal else None,
                    upstream=exchange.upstream,
                )
            )

    async def _own(self, scope: Scope, receive: Receive, send: Send, exchange: _Exchange) -> None:
        """A gateway endpoint (FastAPI): note its status and who called (set by
        `gateway.access.current_principal` on the request state)."""
        state = scope.setdefault("state", {})
        request_id = exchange.request_id.encode()

        async def send_noting_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                exchange.status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id)]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            principal = state.get("principal")
            if isinstance(principal, Principal):
                exchange.principal = principal

    async def _route(
        self, scope: Scope, receive: Receive, send: Send, gw: GatewayState, exchange: _Exchange
    ) -> None:
        extra: list[tuple[bytes, bytes]] = [(b"x-request-id", exchange.request_id.encode())]
        try:
            await self._forward(scope, receive, send, gw, exchange, extra)
        except _BodyTooLarge as exc:
            await self._problem(send, scope, PayloadTooLarge(str(exc)), exchange, extra)
        except PangolinError as error:
            await self._problem(send, scope, error, exchange, extra)
        except _ClientGone:
            exchange.status = 499  # nginx's "client closed request": nothing to answer

    @staticmethod
    async def _problem(
        send: Send,
        scope: Scope,
        error: PangolinError,
        exchange: _Exchange,
        extra: list[tuple[bytes, bytes]],
    ) -> None:
        exchange.status = error.status
        headers = [(k.lower().encode(), v.encode()) for k, v in error.headers.items()]
        await _send_problem(send, error.status, error.problem(scope["path"]), headers + extra)

    async def _forward(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        gw: GatewayState,
        exchange: _Exchange,
        extra: list[tuple[bytes, bytes]],
    ) -> None:
        headers = scope["headers"]
        method: str = scope["method"]
        principal = await gw.authenticator.authenticate(
            header(headers, b"authorization"), header(headers, b"x-api-key")
        )
        exchange.principal = principal

        decision = await gw.limiter.acquire(principal.client_id, principal.rate_policy)
        extra.extend(
            (k.lower().encode(), v.encode()) for k, v in rate_limit_headers(decision).items()
        )
        if not decision.allowed:
            raise TooManyRequests(
                f"The rate limit of this client ({decision.policy.rate:g} requests/s, bursts"
                f" of {decision.policy.burst}) is used up; retry after"
                f" {math.ceil(decision.retry_after_seconds)} s."
            )

        rule = routes.match(method, scope["path"])
        if rule is None:
            allowed = routes.allowed_methods(scope["path"])
            if not allowed:
                raise RouteNotFound(f"No API at {scope['path']}.")
            extra.append((b"allow", ", ".join(sorted(allowed)).encode()))
            raise MethodNotAllowed(
                f"{method} is not allowed here; allowed: {', '.join(sorted(allowed))}."
            )
        exchange.rule = rule
        if not principal.has_any_scope(rule.scopes):
            needed = sorted(rule.scopes)
            raise Forbidden(
                f"This call needs the scope {' or '.join(needed)}; this client has"
                f" {', '.join(sorted(principal.scopes)) or 'none'}.",
                missing_scopes=needed,
            )

        length = _content_length(headers)
        max_bytes = gw.settings.max_body_bytes
        if length is not None and length > max_bytes:
            raise PayloadTooLarge(f"The body is {length} bytes; the limit is {max_bytes}.")
        has_body = (length or 0) > 0 or header(headers, b"transfer-encoding") is not None
        if has_body:
            content_type = media_type(header(headers, b"content-type"))
            if content_type not in rule.content_types:
                raise UnsupportedMediaType(
                    f"Send the body as {' or '.join(sorted(rule.content_types))}"
                    f" (got {content_type or 'no Content-Type'})."
                )

        stream = _BodyStream(receive, max_bytes)
        body: bytes | AsyncIterator[bytes] | None = None
        if has_body and length is not None and length <= BUFFER_LIMIT:
            body = await stream.read()
        elif has_body:
            body = stream.chunks()

        upstream = gw.upstreams[rule.upstream]
        if not upstream.allow():
            raise _unavailable(upstream)

        out = request_headers_upstream(headers)
        out.append(("x-pangolin-identity", gw.signer.sign(principal.caller(exchange.request_id))))
        out.append(("x-request-id", exchange.request_id))
        if scope.get("client"):
            out.append(("x-forwarded-for", scope["client"][0]))
        if isinstance(body, AsyncIterator) and length is not None:
            out.append(("content-length", str(length)))
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        target = upstream.base_url + raw_path.decode("latin-1")
        if scope.get("query_string"):
            target += "?" + scope["query_string"].decode("latin-1")

        with gw.tracer.start_as_current_span(
            f"{method} {rule.upstream}",
            kind=trace.SpanKind.CLIENT,
            attributes={"http.request.method": method, "server.address": rule.upstream},
        ):
            carrier: dict[str, str] = {}
            propagate.inject(carrier)
            exchange.upstream = rule.upstream
            out.extend(carrier.items())
            response = await _send_upstream(
                upstream,
                method,
                URL(target, encoded=True),
                out,
                body,
                stream,
                gw.settings.upstream_retries,
            )
            async with response:
                exchange.status = response.status
                await _relay_response(send, response, extra)


def _unavailable(upstream: Upstream) -> UpstreamUnavailable:
    retry = max(1, math.ceil(upstream.retry_after()))
    return UpstreamUnavailable(
        f"{upstream.name} is not answering; the gateway stopped sending to it for now."
        f" Retry after {retry} s.",
        headers={"Retry-After": str(retry)},
    )


async def _send_upstream(
    upstream: Upstream,
    method: str,
    url: URL,
    headers: list[tuple[str, str]],
    body: bytes | AsyncIterator[bytes] | None,
    stream: _BodyStream,
    retries: int,
) -> aiohttp.ClientResponse:
    """One call, retried on connection errors only, and only when it is idempotent and its
    body can be sent again."""
    replayable = not isinstance(body, AsyncIterator)
    attempts = 1 + (retries if method in IDEMPOTENT and replayable else 0)
    for attempt in range(attempts):
        try:
            response = await upstream.session.request(
                method, url, headers=headers, data=body, allow_redirects=False
            )
        except Exception as exc:
            cause = stream.failure()  # the body's fault (aiohttp may wrap what it raised)
            if cause is not None:
                upstream.breaker.released()
                raise cause from exc
            if isinstance(exc, TimeoutError):  # aiohttp's timeouts are TimeoutErrors too
                upstream.failed(exc)
                raise UpstreamTimeout(f"{upstream.name} did not answer in time.") from exc
            if not isinstance(exc, aiohttp.ClientConnectionError):
                upstream.breaker.released()
                raise
            upstream.failed(exc)
            log.warning("upstream_connection_failed", upstream=upstream.name, error=repr(exc))
            if attempt + 1 < attempts and upstream.allow():
                continue
            if upstream.breaker.state is BreakerState.OPEN:
                raise _unavailable(upstream) from exc
            raise BadGateway(f"{upstream.name} could not be reached.") from exc
        upstream.succeeded()
        return response
    raise AssertionError("unreachable")  # pragma: no cover


async def _relay_response(
    send: Send, response: aiohttp.ClientResponse, extra: list[tuple[bytes, bytes]]
) -> None:
    headers = response_headers_downstream(response.headers.items())
    headers.append(VIA)
    await send(
        {"type": "http.response.start", "status": response.status, "headers": headers + extra}
    )
    if response.content_length is not None and response.content_length <= BUFFER_LIMIT:
        await send({"type": "http.response.body", "body": await response.read()})
        return
    async for chunk in response.content.iter_any():
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


class _BodyTooLarge(Exception):
    pass


def _content_length(headers: Any) -> int | None:
    value = header(headers, b"content-length")
    if value is None:
        return None
    if not value.isdigit():
        raise BadRequest("Content-Length is not a number.")
    return int(value)


class _BodyStream:
    """The request body, read from the client as the service takes it, within the limit."""

    def __init__(self, receive: Receive, max_bytes: int) -> None:
        self.receive = receive
        self.max_bytes = max_bytes
        self.seen = 0
        self.too_large = False
        self.client_gone = False

    async def chunks(self) -> AsyncIterator[bytes]:
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                self.client_gone = True
                raise _ClientGone
            chunk: bytes = message.get("body", b"")
            self.seen += len(chunk)
            if self.seen > self.max_bytes:
                self.too_large = True
                raise _BodyTooLarge(f"The body is over the limit of {self.max_bytes} bytes.")
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                return

    async def read(self) -> bytes:
        return b"".join([chunk async for chunk in self.chunks()])

    def failure(self) -> Exception | None:
        """Why sending failed, when the cause was this body rather than the service."""
        if self.too_large:
            return _BodyTooLarge(f"The body is over the limit of {self.max_bytes} bytes.")
        if self.client_gone:
            return _ClientGone()
        return None


async def _send_problem(
    send: Send, status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]]
) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(payload)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
