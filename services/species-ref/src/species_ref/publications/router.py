"""`/v1/species/publications`: a Management Authority publishes species data (scope
`species:publish`), and reads what became of its publications."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile

from pangolin_core.db import SessionDep
from pangolin_core.errors import BadRequest, InvalidInput, NotFound, PangolinError, problem_response
from pangolin_core.identity import Caller, requires_scope
from pangolin_core.pagination import MAX_LIMIT, decode_cursor, encode_cursor
from pangolin_core.service import ServiceRuntime
from species_ref.codes.router import code_lists
from species_ref.codes.service import CodeLists
from species_ref.publications import repository, service
from species_ref.publications.jobs import publication_jobs_of
from species_ref.publications.models import Publication
from species_ref.publications.schemas import (
    PublicationFormat,
    PublicationOut,
    PublicationPage,
    PublicationStatus,
)
from species_ref.reference.refresh import reference_changed
from species_ref.settings import SpeciesRefSettings

router = APIRouter(prefix="/v1/species/publications", tags=["publications"])

Publisher = Annotated[Caller, Depends(requires_scope("species:publish"))]
Codes = Annotated[CodeLists, Depends(code_lists)]

_CSV = "text/csv"
_JSON = "application/json"
_FORMS = ("multipart/form-data",)


class UnsupportedMediaType(PangolinError):
    status, code, title = 415, "unsupported_media_type", "Unsupported media type"


def _media_type(value: str | None) -> str:
    return (value or "").split(";")[0].strip().lower()


def format_of(media_type: str, asked: PublicationFormat | None) -> PublicationFormat:
    """`text/csv` is a checklist CSV; `application/json` is Pangolin JSON, or a Species+
    bundle with `?format=speciesplus_json`. A `format` that contradicts the type is a 415."""
    if media_type == _CSV and asked in (None, PublicationFormat.CHECKLIST_CSV):
        return PublicationFormat.CHECKLIST_CSV
    if media_type == _JSON and asked in (None, PublicationFormat.PANGOLIN_JSON):
        return PublicationFormat.PANGOLIN_JSON
    if media_type == _JSON and asked is PublicationFormat.SPECIESPLUS_JSON:
        return PublicationFormat.SPECIESPLUS_JSON
    wanted = f" with format {asked.value}" if asked else ""
    raise UnsupportedMediaType(
        f"A publication of type {media_type or '(none)'}{wanted} is not accepted: send"
        " text/csv (checklist), application/json (Pangolin JSON) or application/json with"
        " ?format=speciesplus_json (Species+ bundle), as the body or as the `file` part"
        " of a multipart form."
    )


async def _document(request: Request) -> tuple[bytes, str]:
    """The raw document and its media type: the body, or a form's `file` part."""
    media_type = _media_type(request.headers.get("content-type"))
    if media_type not in _FORMS:
        return await request.body(), media_type
    async with request.form() as form:  # closes the parts' spooled files
        part = form.get("file")
        if not isinstance(part, UploadFile):
            raise BadRequest("A multipart publication carries its document in a `file` part.")
        return await part.read(), _media_type(part.content_type)


def publication_out(
    publication: Publication, request: Request, *, replayed: bool = False
) -> PublicationOut:
    done = publication_jobs_of(request.app.state.runtime).records_done(publication.id)
    return PublicationOut(
        id=publication.id,
        format=publication.format,
        status=publication.status,
        publisher=publication.publisher,
        publisher_country=publication.publisher_country,
        content_sha256=publication.content_sha256,
        records_total=publication.records_total,
        records_done=max(done or 0, publication.records_done),
        summary=publication.summary,
        errors=publication.errors,
        error_count=int(publication.summary.get("error_count", len(publication.errors))),
        received_at=publication.received_at,
        finished_at=publication.finished_at,
        replayed=replayed,
    )


# Background tasks run after the response, so after the commit. Coroutines, so they run
# on the event loop (a plain function would be sent to a worker thread).
async def _reference_changed(runtime: ServiceRuntime) -> None:
    reference_changed(runtime)


async def _start_job(runtime: ServiceRuntime, publication_id: str) -> None:
    publication_jobs_of(runtime).start(publication_id)


def _location(publication: Publication) -> str:
    return f"/v1/species/publications/{publication.id}"


@router.post(
    "",
    summary="Publish a checklist CSV, a Species+ bundle or a Pangolin JSON document",
    status_code=201,
    responses={
        200: {"description": "The same content was published before: that publication"},
        202: {"description": "Queued: a job applies it; follow Location"},
        415: {"description": "Not a publication format"},
        422: {"description": "Refused, every error listed; nothing applied"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The document itself (see docs/architecture.md, Publications)",
            "content": {
                "text/csv": {"schema": {"type": "string", "description": "checklist CSV"}},
                "application/json": {
                    "schema": {
                        "type": "object",
                        "description": "Pangolin JSON, or a Species+ bundle with"
                        " ?format=speciesplus_json",
                    }
                },
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                },
            },
        }
    },
)
async def publish(
    request: Request,
    session: SessionDep,
    caller: Publisher,
    codes: Codes,
    background: BackgroundTasks,
    format: Annotated[
        PublicationFormat | None,
        Query(description="speciesplus_json for a Species+ bundle sent as application/json"),
    ] = None,
) -> Response:
    content, media_type = await _document(request)
    publication_format = format_of(media_type, format)
    if not content.strip():
        raise InvalidInput(
            "The publication is empty.",
            errors=[{"row": 0, "field": "body", "message": "empty", "type": "value"}],
        )
    settings = request.app.state.runtime.settings
    assert isinstance(settings, SpeciesRefSettings)
    received = await service.receive(
        session=session,
        content=content,
        publication_format=publication_format,
        caller=caller,
        codes=codes,
        inline_max_records=settings.publication_inline_max_records,
        max_records=settings.publication_max_records,
    )
    publication = received.publication
    headers = {"Location": _location(publication)}
    body = publication_out(publication, request, replayed=received.replayed)
    runtime = request.app.state.runtime
    if publication.status == PublicationStatus.REJECTED.value:
        count = body.error_count
        problem = InvalidInput(
            f"The publication has {count} error(s); nothing was applied."
            + (f" The first {len(body.errors)} are listed." if count > len(body.errors) else ""),
            errors=body.errors,
            error_count=count,
            publication_id=publication.id,
        ).problem(instance=str(request.url.path))
        # Returned, not raised: the rejected publication is kept (the session commits).
        return problem_response(422, problem, headers=headers)
    if received.replayed:
        unfinished = publication.status != PublicationStatus.APPLIED.value
        status = 202 if unfinished else 200
    elif publication.status == PublicationStatus.APPLIED.value:
        status = 201
        background.add_task(_reference_changed, runtime)
    else:
        status = 202
        background.add_task(_start_job, runtime, publication.id)
    return JSONResponse(
        body.model_dump(mode="json"), status_code=status, headers=headers, background=background
    )


@router.get("/{publication_id}", summary="A publication: status, progress, summary, errors")
async def get_publication(
    publication_id: str, request: Request, session: SessionDep, _: Publisher
) -> PublicationOut:
    publication = await repository.get(session, publication_id)
    if publication is None:
        raise NotFound(f"No publication with id {publication_id}.")
    return publication_out(publication, request)


@router.get("", summary="Publications, newest first; cursor paginated")
async def list_publications(
    request: Request,
    session: SessionDep,
    _: Publisher,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: str | None = None,
) -> PublicationPage:
    before = None
    if cursor:
        position = decode_cursor(cursor)
        try:
            before = (datetime.fromisoformat(position["at"]), str(position["id"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise BadRequest("The cursor is not valid: pass back the `next` of a page.") from exc
    found = await repository.page(session, before=before, limit=limit + 1)
    page, more = found[:limit], len(found) > limit
    last = page[-1] if page else None
    return PublicationPage(
        items=[publication_out(p, request) for p in page],
        next=(
            encode_cursor({"at": last.received_at.isoformat(), "id": last.id})
            if more and last
            else None
        ),
    )
