"""How an error becomes an RFC 9457 ``application/problem+json`` response, knowing no domain.

This module renders problem documents and handles the framework's own errors (HTTP
exceptions, request validation, unstorable text, anything unexpected). Which domain
exception is which problem is not decided here but in the table ``error_map.PROBLEMS``,
which the app factory hands to ``install``: ``ops`` stays below every domain, and a
package raising its own exception never imports the others' (nor the SFU).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DataError, DBAPIError, StatementError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException
from starlette.responses import Response

from ops.context import request_id_var
from persistence import holders
from persistence.transient import is_busy

PROBLEM_TYPE_BASE = "https://liveclass.dev/problems/"
MEDIA_TYPE = "application/problem+json"
# SQLSTATEs meaning "this text cannot be stored" (PostgreSQL refuses NUL characters in text):
# character_not_in_repertoire, untranslatable_character. The request is at fault, not us.
UNSTORABLE_TEXT_SQLSTATES = frozenset({"22021", "22P05"})
BUSY_RETRY_AFTER = 2
logger = logging.getLogger("liveclass.errors")


def no_headers(_exc: Exception) -> dict[str, str]:
    """The default: a problem calls for no extra response headers."""
    return {}


@dataclass(frozen=True, slots=True)
class Problem:
    """What clients see for one kind of exception: status, problem type (slug) and title.

    ``headers`` derives extra response headers from the exception (``Retry-After``...).
    The problem's ``detail`` is the exception's text; any ``extra`` mapping the exception
    carries becomes further members of the document.
    """

    status: int
    slug: str
    title: str
    headers: Callable[[Exception], dict[str, str]] = field(default=no_headers)


class ProblemMap:
    """Exception types to problems; an exception takes the entry of its nearest listed class.

    Looked up along the exception's MRO, so a subclass a package adds later (a more
    specific ``Conflict``) is covered by its parent's entry until the table names it.
    """

    def __init__(self, problems: Mapping[type[Exception], Problem]) -> None:
        self._problems = dict(problems)

    def types(self) -> tuple[type[Exception], ...]:
        """Every exception type with an entry (the app registers a handler for each)."""
        return tuple(self._problems)

    def find(self, exc: BaseException) -> Problem | None:
        """The problem for ``exc``, or None when no class of its MRO is listed."""
        for cls in type(exc).__mro__:
            problem = self._problems.get(cls)
            if problem is not None:
                return problem
        return None

    def response(self, exc: Exception) -> Response:
        """The problem document for ``exc`` (500 ``internal`` when it has no entry)."""
        problem = self.find(exc)
        if problem is None:
            return internal_error(exc)
        extra = getattr(exc, "extra", None)
        return problem_response(
            problem.status,
            slug=problem.slug,
            title=problem.title,
            detail=str(exc),
            headers=problem.headers(exc),
            **(extra if isinstance(extra, Mapping) else {}),
        )


def problem_response(
    status: int,
    *,
    slug: str | None = None,
    title: str | None = None,
    detail: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> Response:
    """Build a problem document response."""
    phrase = _phrase(status)
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + slug if slug else "about:blank",
        "title": title or phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body.update(extra)
    if request_id := request_id_var.get():
        body["request_id"] = request_id
    return Response(orjson.dumps(body), status_code=status, headers=headers, media_type=MEDIA_TYPE)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def http_problem(exc: HTTPException) -> Response:
    """The problem document for an ``HTTPException``."""
    detail = exc.detail if isinstance(exc.detail, str) else None
    # Our own HTTPException subclasses (see ops.limits) may name their problem type.
    return problem_response(
        exc.status_code,
        slug=getattr(exc, "slug", None),
        title=getattr(exc, "title", None),
        detail=detail,
        headers=exc.headers,
    )


async def _on_http(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return http_problem(exc)


def validation_problem(errors: list[dict[str, str]]) -> Response:
    """The 422 problem naming each invalid field (``{"field": "body.name", "message"}``)."""
    fields = ", ".join(sorted({error["field"] for error in errors}))
    return problem_response(
        422,
        slug="validation",
        title="Validation failed",
        detail=f"Invalid fields: {fields}" if fields else "Invalid request",
        errors=errors,
    )


async def _on_validation(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return validation_problem([_field_error(error) for error in exc.errors()])


def _field_error(error: Any) -> dict[str, str]:
    location = [str(part) for part in error.get("loc", ())]
    message = str(error.get("msg", "invalid"))
    if error.get("type") == "json_invalid":
        # FastAPI puts the character offset after "body"; "body.1" would read as a field.
        reason = (error.get("ctx") or {}).get("error")
        where = f" at position {location[1]}" if len(location) > 1 else ""
        return {"field": "body", "message": f"{message}: {reason}{where}" if reason else message}
    return {"field": ".".join(location), "message": message}


def busy_problem() -> Response:
    """503 with ``Retry-After``: the database (or a line in front of it) is saturated; the
    request wrote nothing and may be sent again."""
    return problem_response(
        503,
        slug="unavailable",
        title="Try again shortly",
        detail="The server is too busy to do this now; try again shortly.",
        headers={"Retry-After": str(BUSY_RETRY_AFTER)},
        retry_after=BUSY_RETRY_AFTER,
    )


async def _on_database(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DBAPIError)
    if is_busy(exc):
        logger.warning("database busy: %s", exc.orig)
        return busy_problem()
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate in UNSTORABLE_TEXT_SQLSTATES:
        return problem_response(
            422,
            slug="unstorable-text",
            title="Invalid text",
            detail="The request contains characters that cannot be stored, such as NUL.",
        )
    # A data exception (SQLSTATE class 22, or the driver's own check of an argument, as
    # asyncpg's int32 range) comes from a value the request carried.
    if isinstance(exc, DataError) or str(sqlstate or "").startswith("22"):
        return out_of_range_problem()
    raise exc


def out_of_range_problem() -> Response:
    """422: a number or a date the database cannot hold (past int64, int32, year 1)."""
    return problem_response(
        422,
        slug="out-of-range",
        title="Value out of range",
        detail="The request holds a number or a date outside what can be stored.",
    )


async def _on_statement(_request: Request, exc: Exception) -> Response:
    """A value that failed on its way to the driver: SQLite's int64 or a date that does not
    survive conversion to UTC raise OverflowError there."""
    assert isinstance(exc, StatementError)
    if isinstance(exc.orig, OverflowError):
        return out_of_range_problem()
    return internal_error(exc)


async def _on_pool_timeout(_request: Request, exc: Exception) -> Response:
    logger.warning("database pool exhausted: %s; %s", exc, "; ".join(holders.describe()))
    return busy_problem()


def internal_error(exc: BaseException) -> Response:
    """Log an unexpected exception and build the 500 problem that hides its details."""
    logger.error("unhandled error", exc_info=exc)
    return problem_response(500, slug="internal", detail="An unexpected error occurred.")


async def _on_unexpected(_request: Request, exc: Exception) -> Response:
    return internal_error(exc)


def install(app: FastAPI, problems: ProblemMap) -> None:
    """Register the handlers that turn every error into a problem document.

    ``problems`` maps the domains' exceptions; the framework's own errors are handled here.
    """

    async def on_mapped(_request: Request, exc: Exception) -> Response:
        return problems.response(exc)

    for exc_type in problems.types():
        app.add_exception_handler(exc_type, on_mapped)
    app.add_exception_handler(HTTPException, _on_http)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(DBAPIError, _on_database)
    app.add_exception_handler(StatementError, _on_statement)
    app.add_exception_handler(PoolTimeout, _on_pool_timeout)
    app.add_exception_handler(Exception, _on_unexpected)
