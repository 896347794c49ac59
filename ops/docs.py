"""``/docs``: the interactive API reference (Swagger UI), served entirely from our origin.

FastAPI's own ``/docs`` page loads Swagger UI from a CDN (and ``/redoc`` ReDoc and Google
fonts): a browser opening it tells a third party who reads our API, and a compromised CDN
could run script on our origin. Here the page, its script and its stylesheet all come from
this server: Swagger UI's files are those shipped in the ``fastapi-offline`` wheel, and the
page's start-up code is a script of ours rather than an inline one, so the page runs under a
content policy allowing scripts from our origin only, with the web app's security headers.
"""

from __future__ import annotations

import functools
import hashlib
import html
from importlib.resources import files
from importlib.resources.abc import Traversable

import orjson
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from ops.guards import public
from ops.headers import SECURITY_HEADERS

ASSETS: Traversable = files("fastapi_offline") / "static"
FILES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon.png": "image/png",
}
DOCS_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="icon" href="/docs/assets/favicon.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/start.js"></script>
</body>
</html>
"""


def start_script(openapi_url: str) -> str:
    """The page's start-up code: Swagger UI on our OpenAPI document (FastAPI's settings),
    with the online validator (a request to swagger.io for every page view) turned off."""
    options = {
        "url": openapi_url,
        "dom_id": "#swagger-ui",
        "layout": "BaseLayout",
        "deepLinking": True,
        "showExtensions": True,
        "showCommonExtensions": True,
        "validatorUrl": None,
    }
    return (
        f"window.ui = SwaggerUIBundle(Object.assign({orjson.dumps(options).decode()}, "
        "{presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset]}));\n"
    )


@functools.cache
def _asset(name: str) -> tuple[bytes, str]:
    """A Swagger UI file (read once) and its entity tag."""
    body = (ASSETS / name).read_bytes()
    return body, f'"{hashlib.sha256(body).hexdigest()[:32]}"'


def build_router(*, title: str, openapi_url: str) -> APIRouter:
    """``GET /docs`` and ``GET /docs/assets/{name}``, public and outside the OpenAPI document."""
    router = APIRouter(dependencies=[Depends(public)], include_in_schema=False)
    page = PAGE.format(title=html.escape(f"{title} - API reference"))
    script = start_script(openapi_url)
    # Swagger UI's file names carry no version: a browser revalidates (ETag) on every load.
    headers = {**SECURITY_HEADERS, "Cache-Control": "no-cache"}

    @router.get("/docs", include_in_schema=False)
    async def docs() -> Response:
        policy = {"Content-Security-Policy": DOCS_POLICY}
        return Response(page, media_type="text/html; charset=utf-8", headers=headers | policy)

    @router.get("/docs/assets/{name}", include_in_schema=False)
    async def asset(name: str, request: Request) -> Response:
        if name == "start.js":
            return Response(script, media_type=FILES["swagger-ui-bundle.js"], headers=headers)
        if name not in FILES:
            raise HTTPException(404, "No such file.")
        body, etag = _asset(name)
        tagged = headers | {"ETag": etag}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=tagged)
        return Response(body, media_type=FILES[name], headers=tagged)

    return router
