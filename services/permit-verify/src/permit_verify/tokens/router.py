"""`GET /v1/permits/{id}/qr` (the QR code of a permit's compact signed token) and
`POST /v1/permits/verify-token` (check a scanned one)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header
from fastapi.responses import Response

from pangolin_core.db import SessionDep
from pangolin_core.identity import Caller, requires_any_scope
from permit_verify.dependencies import PERMIT_PATH, PermitId, SignerDep
from permit_verify.errors import NotAcceptable
from permit_verify.media import negotiate
from permit_verify.permits.service import READ_SCOPES
from permit_verify.tokens import service
from permit_verify.tokens.compact import render_qr
from permit_verify.tokens.schemas import TokenCheckOut, TokenIn

router = APIRouter(prefix="/v1/permits", tags=["permits"])

Reader = Annotated[Caller, Depends(requires_any_scope(*READ_SCOPES))]
# As the gateway's route table: single windows, officers reading permits, and partners.
TokenChecker = Annotated[
    Caller, Depends(requires_any_scope("permits:verify", "permits:read", "permits:lookup"))
]
# The QR code as an image, or the token itself (RFC 7515's media type of a compact JWS).
QR_REPRESENTATIONS = ("image/png", "image/svg+xml", "application/jose")
_IMAGE_KINDS = {"image/png": "png", "image/svg+xml": "svg"}


@router.get(
    PERMIT_PATH + "/qr",
    summary="The QR code of the permit's compact signed token (PNG, SVG, or the token)",
    response_class=Response,
    responses={
        200: {"content": {media: {} for media in QR_REPRESENTATIONS}},
        406: {"description": "Accept names none of them"},
    },
)
async def get_qr(
    permit_id: PermitId,
    session: SessionDep,
    _: Reader,
    signer: SignerDep,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    chosen = negotiate(accept, QR_REPRESENTATIONS)
    if chosen is None:
        raise NotAcceptable(
            "A permit's QR code is served as " + ", ".join(QR_REPRESENTATIONS) + "."
        )
    token = await service.permit_token(session=session, permit_id=str(permit_id), signer=signer)
    if chosen == "application/jose":
        return Response(token, media_type=chosen)
    return Response(render_qr(token, _IMAGE_KINDS[chosen]), media_type=chosen)


@router.post(
    "/verify-token",
    summary="Check a scanned permit token: signature, the registry's permit, its status now",
)
async def verify_token(
    body: TokenIn, session: SessionDep, caller: TokenChecker, signer: SignerDep
) -> TokenCheckOut:
    return await service.verify_token(
        session=session,
        token=body.token,
        signer=signer,
        caller=caller,
        today=datetime.now(UTC).date(),
    )
