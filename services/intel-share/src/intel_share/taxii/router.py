"""`/taxii2/`: the TAXII 2.1 server (discovery, API root, collections, objects, manifest,
versions, status). Answers are `application/taxii+json;version=2.1`; a request that accepts
neither that nor JSON is a 406, a POST of another media type a 415."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from intel_share.dependencies import CodeListsDep
from intel_share.settings import IntelShareSettings
from intel_share.taxii import service
from intel_share.taxii.repository import ObjectFilters
from intel_share.taxii.schemas import (
    TAXII_MEDIA_TYPE,
    ApiRoot,
    Collections,
    Discovery,
    Envelope,
)
from pangolin_core.db import AuditedReadSessionDep, SessionDep
from pangolin_core.errors import BadRequest, PangolinError
from pangolin_core.identity import Caller, requires_any_scope

API_ROOT = "/taxii2/api"


class NotAcceptable(PangolinError):
    status, code, title = 406, "not_acceptable", "Not acceptable"


class UnsupportedMediaType(PangolinError):
    status, code, title = 415, "unsupported_media_type", "Unsupported media type"


def _acceptable(header: str) -> bool:
    for part in header.split(","):
        media = part.split(";")[0].strip().lower()
        params = part.lower().replace(" ", "")
        if media in ("*/*", "application/*", "application/json"):
            return True
        if media == "application/taxii+json" and (
            "version=" not in params or "version=2.1" in params
        ):
            return True
    return False


async def taxii_accept(request: Request) -> None:
    accept = request.headers.get("accept")
    if accept and not _acceptable(accept):
        raise NotAcceptable(f"This server answers {TAXII_MEDIA_TYPE}, not {accept}.")


router = APIRouter(tags=["TAXII 2.1"], dependencies=[Depends(taxii_accept)])
Reader = Annotated[Caller, Depends(requires_any_scope(*service.READ_SCOPES))]
Writer = Annotated[Caller, Depends(requires_any_scope(*service.WRITE_SCOPES))]


class TaxiiResponse(JSONResponse):
    media_type = TAXII_MEDIA_TYPE


def _settings(request: Request) -> IntelShareSettings:
    settings: IntelShareSettings = request.app.state.runtime.settings
    return settings


def _base(request: Request) -> str:
    public = _settings(request).taxii_public_url
    return str(public).rstrip("/") if public else str(request.base_url).rstrip("/")


def _taxii(
    body: BaseModel | dict[str, Any],
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> TaxiiResponse:
    content = (
        body.model_dump(mode="json", exclude_none=True) if isinstance(body, BaseModel) else body
    )
    return TaxiiResponse(content, status_code=status_code, headers=headers)


def _page_headers(page: service.Page) -> dict[str, str]:
    if not page.rows:
        return {}
    return {
        "X-TAXII-Date-Added-First": page.first_added or "",
        "X-TAXII-Date-Added-Last": page.last_added or "",
    }


@router.get("/taxii2/", summary="TAXII discovery", response_class=TaxiiResponse)
async def discovery(request: Request, _: Reader) -> TaxiiResponse:
    root = f"{_base(request)}{API_ROOT}/"
    return _taxii(
        Discovery(
            title="Pangolin intelligence exchange",
            description="CITES enforcement intelligence (STIX 2.1) of this country's instance.",
            default=root,
            api_roots=[root],
        )
    )


@router.get(f"{API_ROOT}/", summary="TAXII API root", response_class=TaxiiResponse)
async def api_root(request: Request, _: Reader) -> TaxiiResponse:
    return _taxii(
        ApiRoot(
            title="Pangolin intelligence",
            versions=[TAXII_MEDIA_TYPE],
            max_content_length=_settings(request).taxii_max_content_length,
        )
    )


@router.get(f"{API_ROOT}/status/{{status_id}}/", response_class=TaxiiResponse)
async def get_status(status_id: str, session: SessionDep, caller: Reader) -> TaxiiResponse:
    return _taxii(await service.status(session=session, caller=caller, status_id=status_id))


@router.get(f"{API_ROOT}/collections/", response_class=TaxiiResponse)
async def get_collections(session: SessionDep, caller: Reader) -> TaxiiResponse:
    views = await service.collections(session=session, caller=caller)
    return _taxii(Collections(collections=[v.info for v in views]))


@router.get(f"{API_ROOT}/collections/{{collection_id}}/", response_class=TaxiiResponse)
async def get_collection(collection_id: str, session: SessionDep, caller: Reader) -> TaxiiResponse:
    view = await service.collection(session=session, caller=caller, collection_id=collection_id)
    return _taxii(view.info)


class PageParams:
    """`limit`, `next`, `added_after` and `match[...]` (TAXII 3.4, 3.6)."""

    def __init__(
        self,
        request: Request,
        added_after: str | None = None,
        limit: Annotated[int | None, Query(ge=1)] = None,
        next: str | None = None,
        match_id: Annotated[str | None, Query(alias="match[id]")] = None,
        match_type: Annotated[str | None, Query(alias="match[type]")] = None,
        match_version: Annotated[str | None, Query(alias="match[version]")] = None,
        match_spec_version: Annotated[str | None, Query(alias="match[spec_version]")] = None,
    ) -> None:
        cap = _settings(request).taxii_page_max
        self.limit = min(limit or min(100, cap), cap)
        self.added_after = added_after
        self.next = next
        self.match_id = match_id
        self.match_type = match_type
        self.match_version = match_version
        self.match_spec_version = match_spec_version

    def filters(
        self, *, object_id: str | None = None, default_version: str = "last"
    ) -> ObjectFilters:
        return service.filters_of(
            added_after=self.added_after,
            match_id=object_id or self.match_id,
            match_type=self.match_type,
            match_version=self.match_version,
            match_spec_version=self.match_spec_version,
            next_cursor=self.next,
            default_version=default_version,
        )


Params = Annotated[PageParams, Depends()]


def _raw_envelope(page: service.Page) -> Response:
    """The page's envelope with its objects spliced in as stored (JSON text, not decoded)."""
    head: dict[str, Any] = {"more": page.more}
    if page.next:
        head["next"] = page.next
    content = json.dumps(head)
    if page.rows:
        objects = ",".join(r.body for r in page.rows)
        content = f'{content[:-1]},"objects":[{objects}]}}'
    return Response(content.encode(), media_type=TAXII_MEDIA_TYPE, headers=_page_headers(page))


def _envelope(page: service.Page, items: list[Any], key: str) -> dict[str, Any]:
    """A manifest or versions envelope (`more`, `next`, and `key` when there are items)."""
    body: dict[str, Any] = {"more": page.more}
    if page.next:
        body["next"] = page.next
    if items:
        body[key] = items
    return body


@router.get(f"{API_ROOT}/collections/{{collection_id}}/objects/", response_class=TaxiiResponse)
async def get_objects(
    collection_id: str, params: Params, session: AuditedReadSessionDep, caller: Reader
) -> Response:
    page = await service.page(
        session=session,
        caller=caller,
        collection_id=collection_id,
        filters=params.filters(),
        limit=params.limit,
        action="objects",
    )
    return _raw_envelope(page)


@router.post(
    f"{API_ROOT}/collections/{{collection_id}}/objects/",
    status_code=202,
    response_class=TaxiiResponse,
)
async def add_objects(
    collection_id: str, request: Request, session: SessionDep, caller: Writer, codes: CodeListsDep
) -> TaxiiResponse:
    content_type = request.headers.get("content-type", "").lower().replace(" ", "")
    if not (
        content_type.startswith("application/taxii+json")
        or content_type.startswith("application/json")
    ) or ("version=" in content_type and "version=2.1" not in content_type):
        raise UnsupportedMediaType(f"POST {TAXII_MEDIA_TYPE}, not {content_type or 'nothing'}.")
    settings = _settings(request)
    raw = await request.body()
    if len(raw) > settings.taxii_max_content_length:
        raise PayloadTooLarge(f"At most {settings.taxii_max_content_length} bytes.")
    try:
        envelope = Envelope.model_validate_json(raw)
    except ValueError as exc:
        raise BadRequest(f"Not a TAXII envelope: {exc}") from exc
    status = await service.add_objects(
        session=session,
        caller=caller,
        collection_id=collection_id,
        objects=envelope.objects,
        home_country=settings.country,
        codes=codes,
    )
    return _taxii(status, status_code=202)


class PayloadTooLarge(PangolinError):
    status, code, title = 413, "payload_too_large", "Payload too large"


@router.get(
    f"{API_ROOT}/collections/{{collection_id}}/objects/{{object_id}}/",
    response_class=TaxiiResponse,
)
async def get_object(
    collection_id: str,
    object_id: str,
    params: Params,
    session: AuditedReadSessionDep,
    caller: Reader,
) -> Response:
    page = await service.page(
        session=session,
        caller=caller,
        collection_id=collection_id,
        filters=params.filters(object_id=object_id),
        limit=params.limit,
        action="object",
    )
    if not page.rows and not params.next:
        raise service.ObjectNotFound(f"No object {object_id} in this collection for you.")
    return _raw_envelope(page)


@router.get(
    f"{API_ROOT}/collections/{{collection_id}}/objects/{{object_id}}/versions/",
    response_class=TaxiiResponse,
)
async def get_versions(
    collection_id: str,
    object_id: str,
    params: Params,
    session: AuditedReadSessionDep,
    caller: Reader,
) -> TaxiiResponse:
    page = await service.page(
        session=session,
        caller=caller,
        collection_id=collection_id,
        filters=params.filters(object_id=object_id, default_version="all"),
        limit=params.limit,
        action="versions",
    )
    if not page.rows and not params.next:
        raise service.ObjectNotFound(f"No object {object_id} in this collection for you.")
    versions = [service.manifest_of(r).version for r in page.rows]
    return _taxii(_envelope(page, versions, "versions"), headers=_page_headers(page))


@router.get(f"{API_ROOT}/collections/{{collection_id}}/manifest/", response_class=TaxiiResponse)
async def get_manifest(
    collection_id: str, params: Params, session: AuditedReadSessionDep, caller: Reader
) -> TaxiiResponse:
    page = await service.page(
        session=session,
        caller=caller,
        collection_id=collection_id,
        filters=params.filters(),
        limit=params.limit,
        action="manifest",
    )
    manifest = [service.manifest_of(r).model_dump() for r in page.rows]
    return _taxii(_envelope(page, manifest, "objects"), headers=_page_headers(page))
