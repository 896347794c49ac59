"""Serve the browser app: ``dist/index.html`` on the app's own routes, ``dist/assets/*``,
and Pyodide's core files (the labs' in-browser Python) under ``/pyodide/<version>/``.

The app routes are listed one by one (no catch-all), so every other path keeps its usual
answer: the API, the channels, health and metrics, and a 404 problem for unknown paths.
Routes carry the ``public`` guard (the page itself holds no data; the API checks tokens)
and stay out of the OpenAPI document.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import FileResponse, Response

from ops.guards import public
from ops.headers import SECURITY_HEADERS

DIST = Path(__file__).resolve().parent / "dist"

# Client-side routes of the app (static/src/main.ts); each answers with index.html.
APP_ROUTES = (
    "/",
    "/login",
    "/signup",
    "/rooms",
    "/rooms/new",
    "/rooms/{room_id}",
    "/rooms/{room_id}/report",
    "/rooms/{room_id}/recordings",
    "/courses/{course_id}",
    "/courses/{course_id}/edit",
    "/courses/{course_id}/files",
    "/courses/{course_id}/watch/{item_id}",
    "/courses/{course_id}/videos/{video_id}",
    "/courses/{course_id}/progress",
    "/courses/{course_id}/cohorts",
    "/cohorts/join",
    "/cohorts/{cohort_id}",
    "/cohorts/{cohort_id}/dashboard",
    "/cohort-invitations/accept",
    "/courses/{course_id}/gradebook",
    "/courses/{course_id}/gradebook/setup",
    "/courses/{course_id}/grades",
    "/courses/{course_id}/questions",
    "/courses/{course_id}/questions/{question_id}/edit",
    "/courses/{course_id}/banks/{bank_id}/questions/new",
    "/courses/{course_id}/quizzes/new",
    "/courses/{course_id}/quizzes/{quiz_id}/edit",
    "/courses/{course_id}/pages/{page_id}",
    "/courses/{course_id}/quizzes/{quiz_id}",
    "/courses/{course_id}/quizzes/{quiz_id}/results",
    "/courses/{course_id}/pages/{page_id}/edit",
    "/courses/{course_id}/assignments/{assignment_id}",
    "/courses/{course_id}/assignments/{assignment_id}/grading",
    "/courses/{course_id}/assignments/{assignment_id}/edit",
    "/courses/{course_id}/labs",
    "/courses/{course_id}/labs/new",
    "/courses/{course_id}/labs/{lab_id}",
    "/courses/{course_id}/labs/{lab_id}/edit",
    "/courses/{course_id}/labs/{lab_id}/live",
    "/join/{room_id}",
    "/workshops",
    "/workshops/new",
    "/workshops/{workshop_id}",
    "/workshops/{workshop_id}/edit",
    "/workshops/{workshop_id}/manage",
    "/calendar",
    "/admin/webhooks",
    "/notifications",
    "/notifications/settings",
    "/forgot-password",
    "/reset-password",
    "/verify-email",
    "/scratchpad",
    "/purchases",
    "/purchases/{order_id}",
    "/purchases/{order_id}/receipt",
    "/finance",
    "/finance/orders",
    "/finance/orders/{order_id}",
    "/finance/coupons",
    "/finance/reports",
    "/finance/products",
    "/finance/reconciliation",
)

PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self' ws: wss:; media-src 'self' blob:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
# The Python worker's own policy (a worker is governed by its script's response headers):
# Pyodide compiles WebAssembly and its Emscripten glue evaluates generated code, and every
# request it makes stays on our origin. Learners' code runs in there with no tokens at hand.
WORKER_POLICY = (
    "default-src 'none'; script-src 'self' 'unsafe-eval' 'wasm-unsafe-eval'; "
    "connect-src 'self'; base-uri 'none'"
)
WORKER_PREFIX = "pyodide-worker-"
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".wasm": "application/wasm",
    ".zip": "application/zip",
    ".json": "application/json",
}
IMMUTABLE = "public, max-age=31536000, immutable"


def build_router(dist: Path = DIST) -> APIRouter:
    """The routes serving the app from ``dist`` (the committed esbuild output)."""
    router = APIRouter(dependencies=[Depends(public)], include_in_schema=False)
    assets = (dist / "assets").resolve()
    pyodide = (dist / "pyodide").resolve()

    async def page() -> Response:
        index = dist / "index.html"
        if not index.is_file():
            raise HTTPException(404, "The web app is not built: npm --prefix static run build")
        headers = {
            **SECURITY_HEADERS,
            "Cache-Control": "no-cache",
            "Content-Security-Policy": PAGE_POLICY,
        }
        return FileResponse(index, media_type="text/html; charset=utf-8", headers=headers)

    for path in APP_ROUTES:
        router.add_api_route(path, page, methods=["GET"], include_in_schema=False)

    @router.get("/assets/{name}", include_in_schema=False)
    async def asset(name: str) -> Response:
        found = (assets / name).resolve()
        if found.parent != assets or not found.is_file():
            raise HTTPException(404, "No such file.")
        # Names carry a content hash (app-HASH.js), so a name never changes meaning.
        headers = {**SECURITY_HEADERS, "Cache-Control": IMMUTABLE}
        if name.startswith(WORKER_PREFIX):
            headers["Content-Security-Policy"] = WORKER_POLICY
        return FileResponse(found, media_type=MEDIA_TYPES.get(found.suffix), headers=headers)

    @router.get("/pyodide/{version}/{name}", include_in_schema=False)
    async def pyodide_file(version: str, name: str) -> Response:
        found = (pyodide / version / name).resolve()
        if found.parent.parent != pyodide or not found.is_file():
            raise HTTPException(404, "No such file.")
        # The version is in the path, so a URL never changes meaning.
        headers = {**SECURITY_HEADERS, "Cache-Control": IMMUTABLE}
        return FileResponse(found, media_type=MEDIA_TYPES.get(found.suffix), headers=headers)

    return router
