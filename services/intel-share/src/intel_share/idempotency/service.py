"""`Idempotency-Key` on this service's creating POSTs: `pangolin_core.idempotency` over its
`idempotent_request` table."""

from __future__ import annotations

from intel_share.idempotency.models import IdempotentRequest
from pangolin_core.idempotency import IdempotencyKey, IdempotencyStore, IdempotentCall, fingerprint

store = IdempotencyStore(IdempotentRequest)
replay, remember = store.replay, store.remember

__all__ = ["IdempotencyKey", "IdempotentCall", "fingerprint", "remember", "replay"]
