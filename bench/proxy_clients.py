"""Three minimal reverse proxies for bench/gateway.py `--clients`: the same job on three clients.

Each is a raw ASGI app (no FastAPI) with one pooled client opened in its lifespan. A request
is forwarded to one upstream as the gateway does it: hop-by-hop headers and Host dropped,
the body (small here) read before forwarding, the answer streamed back chunk by chunk.
Nothing else (no auth, no limits, no audit), so the figures compare the clients alone:

- `httpx`: `httpx.AsyncClient` on its own transport (httpcore), pool of `--pool`;
- `httpx-aiohttp`: `httpx.AsyncClient(transport=httpx_aiohttp.AiohttpTransport(...))`;
- `aiohttp`: `aiohttp.ClientSession` directly.

Served by uvicorn, one process, uvloop and httptools, no access log:

    python bench/proxy_clients.py --client aiohttp --upstream http://127.0.0.1:PORT --port N
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import aiohttp
import httpx
import httpx_aiohttp
import uvicorn

CLIENTS = ("httpx", "httpx-aiohttp", "aiohttp")
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
        b"host",
        b"content-length",  # set again by the client from the body
    }
)
TIMEOUT = 30.0  # s, whole upstream call
CONNECT_TIMEOUT = 2.0
KEEPALIVE = 4.0  # s, below uvicorn's 5 s keep-alive (as the gateway's upstream pool)

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
RawHeaders = list[tuple[bytes, bytes]]


def upstream_headers(headers: Sequence[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    return [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, value in headers
        if name.lower() not in HOP_BY_HOP
    ]


def downstream_headers(headers: Sequence[tuple[bytes, bytes]]) -> RawHeaders:
    # content-length is kept on the way back: the body is relayed as received.
    return [
        (name.lower(), value)
        for name, value in headers
        if name.lower() not in HOP_BY_HOP or name.lower() == b"content-length"
    ]


async def read_body(receive: Receive) -> bytes:
    parts = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionResetError("client gone")
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(parts)


def target_of(base_url: str, scope: Scope) -> str:
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
    target = base_url + raw_path.decode("latin-1")
    if scope.get("query_string"):
        target += "?" + scope["query_string"].decode("latin-1")
    return target


async def relay(send: Send, status: int, headers: RawHeaders, chunks: AsyncIterator[bytes]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    async for chunk in chunks:
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


async def bad_gateway(send: Send, error: BaseException) -> None:
    body = f"upstream failed: {error!r}".encode()
    await send(
        {
            "type": "http.response.start",
            "status": 502,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", b"%d" % len(body))],
        }
    )
    await send({"type": "http.response.body", "body": body})


class Proxy:
    """The ASGI app: lifespan opens the client, every HTTP request is forwarded."""

    def __init__(self, client: str, upstream: str, pool: int) -> None:
        if client not in CLIENTS:
            raise ValueError(f"client is one of {', '.join(CLIENTS)}")
        self.client, self.base_url, self.pool = client, upstream.rstrip("/"), pool
        self.httpx: httpx.AsyncClient | None = None
        self.session: aiohttp.ClientSession | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = await read_body(receive)
        target = target_of(self.base_url, scope)
        headers = upstream_headers(scope["headers"])
        try:
            if self.session is not None:
                await self.forward_aiohttp(self.session, scope, target, headers, body, send)
            else:
                assert self.httpx is not None
                await self.forward_httpx(self.httpx, scope, target, headers, body, send)
        except (aiohttp.ClientError, httpx.HTTPError, TimeoutError) as exc:
            await bad_gateway(send, exc)

    @staticmethod
    async def forward_httpx(
        client: httpx.AsyncClient,
        scope: Scope,
        target: str,
        headers: list[tuple[str, str]],
        body: bytes,
        send: Send,
    ) -> None:
        request = client.build_request(scope["method"], target, headers=headers, content=body)
        response = await client.send(request, stream=True)
        try:
            await relay(
                send, response.status_code, downstream_headers(response.headers.raw),
                response.aiter_raw(),
            )  # fmt: skip
        finally:
            await response.aclose()

    @staticmethod
    async def forward_aiohttp(
        session: aiohttp.ClientSession,
        scope: Scope,
        target: str,
        headers: list[tuple[str, str]],
        body: bytes,
        send: Send,
    ) -> None:
        async with session.request(
            scope["method"], target, headers=headers, data=body or None, allow_redirects=False
        ) as response:
            await relay(
                send, response.status, downstream_headers(response.raw_headers),
                response.content.iter_any(),
            )  # fmt: skip

    async def lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.open()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def open(self) -> None:
        limits = httpx.Limits(
            max_connections=self.pool,
            max_keepalive_connections=self.pool,
            keepalive_expiry=KEEPALIVE,
        )
        timeout = httpx.Timeout(TIMEOUT, connect=CONNECT_TIMEOUT)
        if self.client == "httpx":
            self.httpx = httpx.AsyncClient(limits=limits, timeout=timeout)
        elif self.client == "httpx-aiohttp":
            transport = httpx_aiohttp.AiohttpTransport(limits=limits)
            self.httpx = httpx.AsyncClient(transport=transport, timeout=timeout)
        else:
            self.session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.pool, keepalive_timeout=KEEPALIVE),
                timeout=aiohttp.ClientTimeout(total=TIMEOUT, connect=CONNECT_TIMEOUT),
                auto_decompress=False,
                skip_auto_headers=("User-Agent", "Accept-Encoding", "Content-Type"),
                cookie_jar=aiohttp.DummyCookieJar(),
            )

    async def close(self) -> None:
        if self.httpx is not None:
            await self.httpx.aclose()
        if self.session is not None:
            await self.session.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bench/proxy_clients.py", description="A minimal reverse proxy on one HTTP client."
    )
    parser.add_argument("--client", choices=CLIENTS, required=True)
    parser.add_argument(
        "--upstream", required=True, metavar="URL", help="e.g. http://127.0.0.1:9001"
    )
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--pool", type=int, default=100, help="connections to the upstream (100)")
    args = parser.parse_args(argv)
    uvicorn.run(
        Proxy(args.client, args.upstream, args.pool),
        host=args.host,
        port=args.port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=5,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
