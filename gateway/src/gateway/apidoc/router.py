"""`GET /openapi.json` (the merged description) and `GET /docs` (Swagger UI over it)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from gateway.apidoc.service import ApiDescription

OPENAPI_URL = "/openapi.json"
DOCS_URL = "/docs"


def install_api_description(app: FastAPI) -> FastAPI:
    """Replace FastAPI's own `/openapi.json` and `/docs` with the merged description."""
    description = ApiDescription(app)
    app.router.routes[:] = [
        route
        for route in app.router.routes
        if getattr(route, "path", None) not in {OPENAPI_URL, DOCS_URL}
    ]

    @app.get(OPENAPI_URL, include_in_schema=False)
    async def openapi() -> JSONResponse:
        return JSONResponse(await description.document())

    @app.get(DOCS_URL, include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=OPENAPI_URL,
            title=f"{app.title}: API",
            oauth2_redirect_url=app.swagger_ui_oauth2_redirect_url,
            swagger_ui_parameters={"persistAuthorization": True},
        )

    return app
