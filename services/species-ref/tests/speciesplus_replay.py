"""A loopback server replaying the recorded Species+ API
(../shared/data/species/speciesplus-recordings, VCR cassettes): a request is answered only
when method, path and query match a recording (query order aside), with the recorded status,
headers and body, `Link` hosts pointed at the loopback server. Replies can be added (a later
Species+ state) or scripted to come first (failures)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

RECORDINGS = Path(__file__).parents[3] / "../shared/data/species/speciesplus-recordings"
RECORDED_HOST = "https://api.speciesplus.net"
TOKEN = "safe"  # the token the recordings were made with
_DROPPED = {"content-encoding", "content-length", "transfer-encoding", "connection"}

Key = tuple[str, str, tuple[tuple[str, str], ...]]


def key(method: str, uri: str) -> Key:
    parts = urlsplit(uri)
    return method.upper(), parts.path, tuple(sorted(parse_qsl(parts.query)))


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    matched: bool


@dataclass
class ReplayServer:
    """Serves the recorded interactions; `script` queues replies to send first for a key;
    `holds` keeps a key's requests waiting (`waiting` lists them) until its gate opens."""

    replies: dict[Key, Reply] = field(default_factory=dict)
    script: dict[Key, list[Reply]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    holds: dict[Key, threading.Event] = field(default_factory=dict)
    waiting: list[Key] = field(default_factory=list)
    base: str = ""

    def add_recording(self, request: dict[str, Any], response: dict[str, Any]) -> None:
        headers = [
            (name, self._rewrite(str(value)))
            for name, value in response["headers"].items()
            if name.lower() not in _DROPPED
        ]
        body = response["body"].get("string", "").encode()
        reply = Reply(response["status"]["status_code"], headers, body)
        self.replies[key(request["method"], request["uri"])] = reply

    def add(self, uri: str, body: Any, *, headers: list[tuple[str, str]] | None = None) -> None:
        """A reply that is not a recording (a later Species+ state), for `uri` as recorded."""
        self.replies[key("GET", uri)] = Reply(
            200,
            [("content-type", "application/json; charset=utf-8"), *(headers or [])],
            json.dumps(body).encode(),
        )

    def fail_first(self, uri: str, *replies: Reply) -> None:
        self.script.setdefault(key("GET", uri), []).extend(replies)

    def _rewrite(self, value: str) -> str:
        return value.replace(RECORDED_HOST, self.base)

    def hold(self, uri: str) -> threading.Event:
        """Keep requests for `uri` (as recorded) waiting until the returned gate is set (the
        server's teardown sets every gate)."""
        gate = self.holds[key("GET", uri)] = threading.Event()
        return gate

    def answer(self, method: str, target: str, headers: dict[str, str]) -> Reply:
        wanted = key(method, target)
        gate = self.holds.get(wanted)
        if gate is not None:
            self.waiting.append(wanted)
            gate.wait(timeout=60)
        parts = urlsplit(target)
        scripted = self.script.get(wanted)
        reply = scripted.pop(0) if scripted else self.replies.get(wanted)
        self.seen.append(
            Seen(method, parts.path, dict(parse_qsl(parts.query)), headers, reply is not None)
        )
        if reply is None:
            body = json.dumps({"error": {"message": f"no recording of {method} {target}"}})
            return Reply(404, [("content-type", "application/json")], body.encode())
        return reply

    def unmatched(self) -> list[Seen]:
        return [s for s in self.seen if not s.matched]


def _load(server: ReplayServer) -> None:
    for path in sorted(RECORDINGS.glob("*.json")):
        for interaction in json.loads(path.read_text())["http_interactions"]:
            server.add_recording(interaction["request"], interaction["response"])


@contextmanager
def replay_server() -> Iterator[ReplayServer]:
    """A loopback server answering from the recordings, for the length of the block."""
    state = ReplayServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            reply = state.answer("GET", self.path, dict(self.headers.items()))
            self.send_response(reply.status)
            for name, value in reply.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    _load(state)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        for gate in state.holds.values():
            gate.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def recorded(path: str) -> str:
    return f"{RECORDED_HOST}/api/v1/{path}"
