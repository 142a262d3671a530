"""/docs: Swagger UI for /openapi.json, from files served here (app/api/static/swagger-ui).

No asset comes from another site: the page works on a network without the internet, and
its Content-Security-Policy allows scripts from this origin only (no inline script: the
start-up is a file of its own, ``init.js``).
"""

from __future__ import annotations

from importlib import resources
from typing import Final, Literal

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

router = APIRouter(include_in_schema=False)

SWAGGER_UI_VERSION: Final = "5.35.0"
STATIC: Final = "/docs/static"
_ASSETS: Final = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "init.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
Asset = Literal["swagger-ui-bundle.js", "swagger-ui.css", "init.js", "favicon-32x32.png"]
# Swagger UI sets style attributes and draws icons from data: URIs; everything else
# comes from this origin, including what "Try it out" sends.
CSP: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'none'"
)
_PAGE: Final = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>intakeguard API</title>
<link rel="stylesheet" href="{STATIC}/swagger-ui.css">
<link rel="icon" type="image/png" href="{STATIC}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{STATIC}/swagger-ui-bundle.js"></script>
<script src="{STATIC}/init.js"></script>
</body>
</html>
"""


@router.get("/docs", response_class=HTMLResponse)
async def swagger_ui() -> Response:
    return HTMLResponse(
        _PAGE,
        headers={
            "Content-Security-Policy": CSP,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
        },
    )


@router.get(STATIC + "/{name}")
async def swagger_ui_asset(name: Asset) -> Response:
    body = resources.files("app.api").joinpath("static", "swagger-ui", name).read_bytes()
    return Response(
        body,
        media_type=_ASSETS[name],
        headers={
            # The version is in this module: a new one is a new release of the service.
            "Cache-Control": "public, max-age=86400",
            "X-Content-Type-Options": "nosniff",
        },
    )
