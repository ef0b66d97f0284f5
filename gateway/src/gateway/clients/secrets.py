"""Client secrets and API keys: how they are made, hashed (argon2) and checked.

An API key reads `pgk_<api_key_id>_<secret>`: the id finds the client, argon2 checks the
secret. argon2 is slow by design and CPU-bound, so hashing and checking run in a thread; a key
that verified once is remembered (by its SHA-256) so later requests cost a dict lookup.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

API_KEY_PREFIX = "pgk_"

# OWASP's minimum argon2id profile. The secrets are 256 random bits, not passwords a person
# chose: the hash protects a leaked table, it need not slow a dictionary attack further.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)


@dataclass(frozen=True)
class Credentials:
    """A freshly made secret and API key (shown once), with what is stored of them."""

    client_secret: str
    api_key: str
    api_key_id: str
    secret_hash: str
    api_key_hash: str


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def new_api_key() -> tuple[str, str, str]:
    """`(api_key, api_key_id, secret part)`; the id is hex, so the first `_` after the prefix
    ends it (the secret part may hold `_` itself)."""
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return f"{API_KEY_PREFIX}{key_id}_{secret}", key_id, secret


def parse_api_key(api_key: str) -> tuple[str, str] | None:
    """`(api_key_id, secret part)`, or None when the value is not shaped like one of ours."""
    if not api_key.startswith(API_KEY_PREFIX):
        return None
    key_id, sep, secret = api_key[len(API_KEY_PREFIX) :].partition("_")
    if not sep or not key_id or not secret:
        return None
    return key_id, secret


def hash_secret(secret: str) -> str:
    return _HASHER.hash(secret)


def secret_matches(secret_hash: str, secret: str) -> bool:
    try:
        return _HASHER.verify(secret_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _decoy_hash() -> str:
    """A hash of nothing anyone holds: an unknown client id costs a verification too, so
    timing does not tell which client ids exist."""
    return hash_secret(secrets.token_urlsafe(32))


async def verify_secret(secret_hash: str | None, secret: str) -> bool:
    """Whether `secret` matches the hash (None: no such client; checked against a decoy)."""
    if secret_hash is None:
        await asyncio.to_thread(lambda: secret_matches(_decoy_hash(), secret))
        return False
    return await asyncio.to_thread(secret_matches, secret_hash, secret)


async def new_credentials() -> Credentials:
    secret = new_secret()
    api_key, api_key_id, key_secret = new_api_key()
    secret_hash, api_key_hash = await asyncio.to_thread(
        lambda: (hash_secret(secret), hash_secret(key_secret))
    )
    return Credentials(secret, api_key, api_key_id, secret_hash, api_key_hash)


@dataclass(frozen=True)
class _Verified:
    client_id: str
    rotated_at: datetime


class ApiKeyCache:
    """API keys that verified, by SHA-256 of the whole key, with the `rotated_at` of the
    client they verified against: once the client rotates, the entry no longer counts."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self._entries: dict[bytes, _Verified] = {}
        self._max = max_entries

    @staticmethod
    def _digest(api_key: str) -> bytes:
        return hashlib.sha256(api_key.encode()).digest()

    def lookup(self, api_key: str, *, client_id: str, rotated_at: datetime) -> bool:
        """Whether this key verified for this client as it is now (a stale entry goes)."""
        digest = self._digest(api_key)
        entry = self._entries.get(digest)
        if entry is None:
            return False
        if entry.client_id == client_id and entry.rotated_at == rotated_at:
            return True
        del self._entries[digest]
        return False

    def remember(self, api_key: str, *, client_id: str, rotated_at: datetime) -> None:
        if len(self._entries) >= self._max:
            self._entries.clear()  # only verified keys get here: this is a stale-entry purge
        self._entries[self._digest(api_key)] = _Verified(client_id, rotated_at)

    def __len__(self) -> int:
        return len(self._entries)
