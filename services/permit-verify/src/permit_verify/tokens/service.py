"""QR tokens of permits: make one for a registered permit, check a scanned one against the
issuing country's keys and the registry."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from pangolin_core.identity import Caller
from permit_verify.audit import repository as audit
from permit_verify.audit.schemas import AuditAction
from permit_verify.permits import repository
from permit_verify.permits.schemas import PermitStatus
from permit_verify.permits.service import permit_out
from permit_verify.permits.signing import PermitSigner
from permit_verify.tokens.compact import (
    QR_JWS_TYPE,
    MalformedToken,
    check_signature,
    claim_differences,
    compact_claims,
    read_token,
    token_payload,
)
from permit_verify.tokens.schemas import TokenCheckOut, TokenDifference, TokenVerdict


async def permit_token(*, session: AsyncSession, permit_id: str, signer: PermitSigner) -> str:
    """The compact token of a permit, signed with its issuing country's current key."""
    permit = await repository.get(session, permit_id)
    out = permit_out(permit, await repository.items_of(session, permit_id))
    token, _ = signer.sign_payload(
        out.issuing_country, token_payload(compact_claims(out)), typ=QR_JWS_TYPE
    )
    return token


async def verify_token(
    *, session: AsyncSession, token: str, signer: PermitSigner, caller: Caller, today: date
) -> TokenCheckOut:
    """Check a scanned token; a check of a registered permit goes into its audit trail
    (who checked, the verdict, the fields that differed: a forged copy in circulation)."""
    try:
        _, claims = read_token(token)
    except MalformedToken as exc:
        return TokenCheckOut(
            verdict=TokenVerdict.MALFORMED, valid=False, signature_valid=False, reason=str(exc)
        )
    country, number = claims["c"], claims["n"]
    signature = check_signature(token, signer.jwks(country))
    found = await repository.find_by_number(session, issuing_country=country, number=number)
    if found is None:
        verdict = TokenVerdict.NOT_FOUND if signature.valid else _refused(signature.reason)
        return TokenCheckOut(
            verdict=verdict,
            valid=False,
            signature_valid=signature.valid,
            reason=signature.detail or f"{country} registered no permit {number}",
            key_id=signature.key_id,
            issuing_country=country,
            number=number,
        )
    permit = permit_out(found, await repository.items_of(session, found.id))
    differences = claim_differences(compact_claims(permit), claims)
    valid = signature.valid and not differences
    if valid:
        verdict = TokenVerdict.VALID
    elif signature.valid:
        verdict = TokenVerdict.ALTERED
    else:
        verdict = _refused(signature.reason)
    reason = signature.detail
    if differences:
        reason = (
            (reason + "; " if reason else "")
            + "differs from the registry: "
            + ", ".join(d.field for d in differences)
        )
    await audit.record(
        session,
        permit_id=permit.id,
        action=AuditAction.QR_CHECKED,
        caller=caller,
        at=datetime.now(UTC),
        details={
            "verdict": verdict.value,
            "key_id": signature.key_id,
            "differences": [d.field for d in differences],
        },
    )
    return TokenCheckOut(
        verdict=verdict,
        valid=valid,
        signature_valid=signature.valid,
        reason=reason,
        key_id=signature.key_id,
        issuing_country=country,
        number=number,
        permit_id=permit.id,
        status=PermitStatus(permit.status),
        expired=today > permit.valid_until,
        differences=[
            TokenDifference(field=d.field, registry=d.signed, token=d.presented)
            for d in differences
        ],
    )


def _refused(reason: str | None) -> TokenVerdict:
    return TokenVerdict.UNKNOWN_KEY if reason == "unknown_key" else TokenVerdict.ALTERED
