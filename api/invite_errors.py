"""Error answers: a small page in the reader's language for a browser, JSON for everything else.

Starlette's own answers are a bare "Not Found" in plain text: a resident who follows an old
link must still see where they are and where to go. A request whose Accept header names
text/html gets the page; API clients (fetch, curl, GraphQL clients) get
`{"errors": [{"code", "message"}]}` like the downloads' refusals.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api.invite import SECURITY_HEADERS, ResidentPages
from domain import logs

# The page's title and text by status; any other status gets the general ones.
WORDS = {
    404: ("error.not_found.title", "error.not_found.text"),
    405: ("error.method.title", "error.method.text"),
    500: ("error.server.title", "error.server.text"),
}
GENERAL_WORDS = ("error.other.title", "error.other.text")


def wants_page(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "").lower()


def error_response(
    pages: ResidentPages,
    request: Request,
    status: int,
    detail: str = "",
    headers: dict[str, str] | None = None,
    reference: str | None = None,
) -> Response:
    phrase = HTTPStatus(status).phrase
    # Starlette's default detail is the phrase; a route's own detail says more (in English).
    detail = "" if detail == phrase else detail
    if not wants_page(request):
        code = phrase.upper().replace(" ", "_").replace("-", "_")
        message = f"Unexpected error. Reference: {reference}" if reference else detail or phrase
        error = {"code": code, "message": message}
        if reference:
            error["reference"] = reference
        return JSONResponse(
            {"errors": [error]},
            status_code=status,
            headers={**SECURITY_HEADERS, **(headers or {})},
        )
    title, text = WORDS.get(status, GENERAL_WORDS)
    response = pages.render(
        request,
        "error.html",
        {
            "status": status,
            "title": title,
            "text": text,
            "detail": detail,
            "reference": reference,
        },
        status_code=status,
        # The switch reloads the address with ?lang=: the same error in another language for
        # a page that was asked for (GET), no use after a form's POST.
        language_switch=request.method in ("GET", "HEAD"),
    )
    response.headers.update(headers or {})
    response.headers["Cache-Control"] = "no-store"
    return response


def error_handlers(
    pages: ResidentPages,
) -> dict[Any, Callable[[Request, Exception], Awaitable[Response]]]:
    """Starlette's exception_handlers: HTTPException (404, 405, ...) and unexpected errors."""

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        if error.status_code in (204, 304):
            return Response(status_code=error.status_code, headers=error.headers)
        return error_response(
            pages, request, error.status_code, str(error.detail), dict(error.headers or {})
        )

    async def server_error(request: Request, error: Exception) -> Response:
        # Nothing of the error reaches the reader: only the request's id, as a reference that
        # finds its log lines (api.observability.RequestIds logs the error with it).
        return error_response(pages, request, 500, reference=logs.request_id.get())

    return {HTTPException: http_error, 500: server_error}
