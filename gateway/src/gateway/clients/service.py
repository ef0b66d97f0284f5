"""Creating, rotating, disabling and finding clients (the admin API, the CLI and tests).

Keyword-only functions over the caller's unit of work; they never commit. Each change is
noted in the session's `info`, so the directory of this replica takes it in once committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import uuid4

from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.clients import repository
from gateway.clients.directory import ClientRecord, note_change
from gateway.clients.models import Client, ClientStatus, utcnow
from gateway.clients.schemas import NewClient
from gateway.clients.secrets import new_credentials, verify_secret
from pangolin_core.errors import Conflict, NotFound


@dataclass(frozen=True)
class IssuedCredentials:
    """A client with its new secret and API key: shown once, only their hashes are kept."""

    client: ClientRecord
    client_secret: str
    api_key: str


def _noted(session: AsyncSession, row: Client) -> ClientRecord:
    record = ClientRecord.of(row)
    note_change(session.info, record)
    return record


async def create_client(*, session: AsyncSession, spec: NewClient) -> IssuedCredentials:
    """A new active client; 409 when the name is taken."""
    if await repository.get_by_name(session, spec.name) is not None:
        raise Conflict(
            f"A client named {spec.name!r} exists already.",
            errors=[{"location": "body", "field": "name", "message": "already taken"}],
        )
    credentials = await new_credentials()
    now = utcnow()
    row = Client(
        id=str(uuid4()),
        name=spec.name,
        country=spec.country,
        roles=sorted(spec.roles),
        scopes=sorted(spec.granted_scopes()),
        status=ClientStatus.ACTIVE.value,
        secret_hash=credentials.secret_hash,
        api_key_id=credentials.api_key_id,
        api_key_hash=credentials.api_key_hash,
        rate=spec.rate,
        burst=spec.burst,
        created_at=now,
        rotated_at=now,
        updated_at=now,
    )
    repository.add(session, row)
    await session.flush()
    return IssuedCredentials(_noted(session, row), credentials.client_secret, credentials.api_key)


async def _existing(session: AsyncSession, client_id: str) -> Client:
    row = await repository.get(session, client_id, for_update=True)
    if row is None:
        raise NotFound(f"No client {client_id!r}.")
    return row


async def rotate_secret(*, session: AsyncSession, client_id: str) -> IssuedCredentials:
    """A new secret and API key; the old ones, and tokens issued before, stop counting."""
    row = await _existing(session, client_id)
    credentials = await new_credentials()
    now = utcnow()
    row.secret_hash = credentials.secret_hash
    row.api_key_id = credentials.api_key_id
    row.api_key_hash = credentials.api_key_hash
    row.rotated_at = row.updated_at = now
    session.add(row)
    await session.flush()
    return IssuedCredentials(_noted(session, row), credentials.client_secret, credentials.api_key)


async def set_status(
    *, session: AsyncSession, client_id: str, status: ClientStatus
) -> ClientRecord:
    """Disable (every credential and token refused) or enable a client again."""
    row = await _existing(session, client_id)
    if row.status != status.value:
        row.status = status.value
        row.updated_at = utcnow()
        session.add(row)
        await session.flush()
    return _noted(session, row)


async def ensure_client(*, session: AsyncSession, spec: NewClient) -> IssuedCredentials:
    """The client named `spec.name` with fresh credentials: created, or rotated (and
    enabled) when it exists. For demo clients: their roles are kept as they are."""
    existing = await repository.get_by_name(session, spec.name)
    if existing is None:
        return await create_client(session=session, spec=spec)
    await set_status(session=session, client_id=existing.id, status=ClientStatus.ACTIVE)
    return await rotate_secret(session=session, client_id=existing.id)


async def get_client(*, session: AsyncSession, client_id: str) -> ClientRecord:
    row = await repository.get(session, client_id)
    if row is None:
        raise NotFound(f"No client {client_id!r}.")
    return ClientRecord.of(row)


async def list_clients(
    *, session: AsyncSession, after_name: str | None = None, limit: int = 100
) -> list[ClientRecord]:
    """Clients by name, after `after_name` (keyset pagination)."""
    rows = await repository.page_by_name(session, after_name=after_name, limit=limit)
    return [ClientRecord.of(row) for row in rows]


async def client_with_secret(
    *, session: AsyncSession, client_id: str, client_secret: str
) -> ClientRecord | None:
    """The client whose id and secret these are, as stored now; None when unknown or wrong
    (disabled clients are returned: the caller decides)."""
    row = await repository.get(session, client_id)
    record = ClientRecord.of(row) if row is not None else None
    matches = await verify_secret(record.secret_hash if record else None, client_secret)
    return record if matches else None
