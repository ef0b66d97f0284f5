"""`/v1/permits`: issue, read, change the status of permits; the signing keys as JWKS."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from pangolin_core.db import SessionDep
from pangolin_core.errors import InvalidInput
from pangolin_core.identity import Caller, requires_any_scope, requires_scope
from permit_verify.dependencies import (
    PERMIT_PATH,
    CodeListsDep,
    DatabaseDep,
    PermitId,
    RpcDep,
    SettingsDep,
    SignerDep,
)
from permit_verify.epix.citesepermit import from_citesepermit, xpath_of
from permit_verify.errors import NotAcceptable, UnsupportedMediaType
from permit_verify.idempotency import service as idempotency
from permit_verify.idempotency.service import IdempotencyKey, IdempotentCall
from permit_verify.media import media_type, negotiate
from permit_verify.permits import service
from permit_verify.permits.schemas import IssuedPermitOut, PermitIn, PermitOut, StatusChangeIn

router = APIRouter(prefix="/v1/permits", tags=["permits"])

Issuer = Annotated[Caller, Depends(requires_scope("permits:issue"))]
Reader = Annotated[Caller, Depends(requires_any_scope(*service.READ_SCOPES))]
# Public keys: whoever reads permits, and partner instances checking this country's signatures.
KeyReader = Annotated[Caller, Depends(requires_any_scope(*service.READ_SCOPES, "permits:lookup"))]
Country = Annotated[str, Path(min_length=2, max_length=2, pattern=r"^[A-Z]{2}$")]

XML_TYPES = ("application/xml", "text/xml")
PERMIT_REPRESENTATIONS = ("application/json", *XML_TYPES)


@dataclass(frozen=True)
class PermitRequest:
    """A permit as posted: JSON, or a CITESEPermit v2 / CBFShip v1 message (with what the
    message carried beyond the JSON boxes)."""

    permit: PermitIn
    exchange_details: dict[str, Any] | None = None

    @property
    def is_xml(self) -> bool:
        return self.exchange_details is not None


async def permit_request(request: Request) -> PermitRequest:
    media = media_type(request.headers.get("content-type"))
    raw = await request.body()
    if media in XML_TYPES:
        imported = from_citesepermit(raw)
        return PermitRequest(imported.permit, imported.details.values)
    if media != "application/json":
        raise UnsupportedMediaType(
            f"A permit is posted as application/json or as CITESEPermit XML"
            f" ({', '.join(XML_TYPES)}), not {media}."
        )
    try:
        return PermitRequest(PermitIn.model_validate_json(raw))
    except ValidationError as exc:
        raise RequestValidationError(
            [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
        ) from exc


PermitBody = Annotated[PermitRequest, Depends(permit_request)]


@contextmanager
def _naming_boxes(posted: PermitRequest) -> Iterator[None]:
    """A refusal of a CITESEPermit message names the message's boxes too (`xpath`)."""
    try:
        yield
    except InvalidInput as exc:
        if posted.is_xml:
            for error in exc.errors:
                error.setdefault("xpath", xpath_of(str(error.get("field", ""))))
        raise


def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """A model's JSON schema with its `$defs` put in place: the body is documented by hand
    (it is read by content type), and OpenAPI resolves `#/$defs/...` against the document."""
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(definitions[ref.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(value) for value in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


_PERMIT_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": _inlined(PermitIn.model_json_schema())},
            "application/xml": {
                "schema": {"type": "string", "description": "CITESEPermit v2 or CBFShip v1"}
            },
        },
    }
}


@router.get("/jwks/{country}", summary="The public keys that verify a country's permits")
async def get_jwks(country: Country, _: KeyReader, signer: SignerDep) -> dict[str, Any]:
    return signer.jwks(country)


@router.post(
    "",
    status_code=201,
    response_model=IssuedPermitOut,
    summary="Issue (or back-fill) a permit of the caller's country (JSON or CITESEPermit XML)",
    openapi_extra=_PERMIT_BODY_DOC,
    responses={
        415: {"description": "Neither JSON nor XML"},
        503: {"description": "species-ref did not answer (`species_unavailable`): not issued"},
    },
)
async def issue_permit(
    posted: PermitBody,
    request: Request,
    session: SessionDep,
    caller: Issuer,
    signer: SignerDep,
    codes: CodeListsDep,
    rpc: RpcDep,
    settings: SettingsDep,
    db: DatabaseDep,
    idempotency_key: IdempotencyKey = None,
) -> IssuedPermitOut | JSONResponse:
    today = datetime.now(UTC).date()
    body = posted.permit
    call = None
    if idempotency_key is not None:
        call = IdempotentCall(
            caller, idempotency_key, idempotency.fingerprint("POST", request.url.path, body)
        )
        # A replay answers without species-ref, and without the write lock.
        async with db.session(write=False) as reader:
            replayed = await idempotency.replay(session=reader, call=call)
        if replayed is not None:
            return replayed
    species = service.SpeciesCheck(
        rpc if settings.species_check_at_issue else None, settings.species_rpc_timeout
    )
    with _naming_boxes(posted):
        answers = await service.prepare_issue(
            request=body, caller=caller, codes=codes, species=species, today=today
        )
    if call is not None:
        # Under the write lock (SQLite) or the unique index (PostgreSQL): the same key sent
        # twice at once replays the first that committed.
        replayed = await idempotency.replay(session=session, call=call)
        if replayed is not None:
            return replayed
    with _naming_boxes(posted):
        permit = await service.issue(
            session=session,
            request=body,
            caller=caller,
            signer=signer,
            codes=codes,
            answers=answers,
            today=today,
            exchange_details=posted.exchange_details,
        )
    if call is not None:
        await idempotency.remember(session=session, call=call, status_code=201, response=permit)
    return permit


@router.get(
    PERMIT_PATH,
    response_model=PermitOut,
    summary="A permit with its status and remaining balances (JSON, or CITESEPermit v2 XML)",
    responses={
        200: {"content": {"application/xml": {"schema": {"type": "string"}}}},
        406: {"description": "Accept names neither JSON nor XML"},
    },
)
async def get_permit(
    permit_id: PermitId,
    session: SessionDep,
    _: Reader,
    accept: Annotated[str | None, Header()] = None,
) -> PermitOut | Response:
    chosen = negotiate(accept, PERMIT_REPRESENTATIONS)
    if chosen is None:
        raise NotAcceptable(
            "A permit is served as " + ", ".join(PERMIT_REPRESENTATIONS) + f"; Accept: {accept}."
        )
    if chosen in XML_TYPES:
        xml = await service.read_as_citesepermit(session=session, permit_id=str(permit_id))
        return Response(xml, media_type=chosen)
    return await service.read(session=session, permit_id=str(permit_id))


@router.post(
    PERMIT_PATH + "/status",
    summary="Cancel a permit, or declare it lost, stolen or replaced (issuing MA only)",
)
async def change_status(
    permit_id: PermitId, body: StatusChangeIn, session: SessionDep, caller: Issuer
) -> PermitOut:
    return await service.change_status(
        session=session, permit_id=str(permit_id), change=body, caller=caller
    )
