"""`Idempotency-Key` on this service's creating POSTs: `pangolin_core.idempotency` over its
`idempotent_request` table."""

from __future__ import annotations

from pangolin_core.idempotency import IdempotencyKey, IdempotencyStore, IdempotentCall, fingerprint
from permit_verify.idempotency.models import IdempotentRequest

store = IdempotencyStore(IdempotentRequest)
replay, remember = store.replay, store.remember

__all__ = ["IdempotencyKey", "IdempotentCall", "fingerprint", "remember", "replay"]
