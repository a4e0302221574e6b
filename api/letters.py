"""GET /invitations/letters.pdf: code-only invitations printed as letters or cards, for admins.

Query parameters: the export's filters (`status`, `delivery`, `search`, `groupId`, `role`,
`importId`, `batchOf`; pending invitations only, whatever `status` asks), `layout` (`letters`, the
default, or `cards`), `codeOnly` (`true`, the default; `false` prints invitations with an
email too) and `lang`: the language of the file's name (api.languages.download_locale), the
admin's; each letter speaks its invitation's.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import BinaryIO

from starlette.background import BackgroundTask
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from api.admin_downloads import PRIVATE, admin_or_refusal, attachment
from api.exports import filter_from, unstorable
from api.languages import download_locale
from domain import i18n
from domain.errors import DomainError, ErrorCode, Problem
from domain.letters.service import FontsMissing, Layout, LettersQuery, letters_to_temporary_file
from domain.validation import storable

PDF = "application/pdf"
CHUNK_SIZE = 64 * 1024
_OWN = ("layout", "codeOnly")
_LANGUAGE = "lang"  # of the file's name, not a filter
_FILE_NAMES = {Layout.LETTERS: "export.letters_file_name", Layout.CARDS: "export.cards_file_name"}
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


async def print_letters(request: Request) -> Response:
    user = await admin_or_refusal(request, "Only admins can print letters.")
    if isinstance(user, Response):
        return user
    try:
        query = query_from(request.query_params)
        printed = await letters_to_temporary_file(query, printed_by=user)
    except DomainError as error:
        status = 404 if error.code is ErrorCode.NOT_FOUND else 400
        return _errors(status, list(error.problems))
    except FontsMissing as error:
        return JSONResponse(
            {"errors": [{"code": "LETTERS_UNAVAILABLE", "message": str(error)}]},
            status_code=503,
            headers=PRIVATE,
        )
    day = printed.record.created_at.date().isoformat()
    locale = download_locale(request, request.app.state.settings.locales, user.locale)
    file_name = i18n.catalog(locale)(_FILE_NAMES[query.layout], day=day)
    return StreamingResponse(
        _chunks(printed.file),
        media_type=PDF,
        headers={
            "Content-Disposition": attachment(file_name),
            "Content-Length": str(printed.size),
            **PRIVATE,
        },
        background=BackgroundTask(printed.file.close),
    )


def query_from(params: QueryParams) -> LettersQuery:
    """The query string as what to print; every bad value named, as the export does."""
    problems: list[Problem] = []
    try:
        selection = filter_from(
            QueryParams(
                [
                    (key, value)
                    for key, value in params.multi_items()
                    if key not in (*_OWN, _LANGUAGE)
                ]
            )
        )
    except DomainError as error:
        problems.extend(error.problems)
    for name in _OWN:
        if len(params.getlist(name)) > 1:
            problems.append(Problem(ErrorCode.INVALID_INPUT, f"Give {name} once.", name))
    problems.extend(unstorable(params, _OWN))
    layout = Layout.LETTERS
    raw_layout = (params.get("layout") or "").strip()
    if raw_layout and storable(raw_layout):
        try:
            layout = Layout(raw_layout.lower())
        except ValueError:
            problems.append(
                Problem(
                    ErrorCode.INVALID_INPUT,
                    "layout must be one of: letters, cards.",
                    "layout",
                    value=raw_layout,
                )
            )
    raw_code_only = (params.get("codeOnly") or "").strip()
    code_only = _BOOLEANS.get(raw_code_only.lower()) if raw_code_only else True
    if code_only is None and storable(raw_code_only):
        problems.append(
            Problem(
                ErrorCode.INVALID_INPUT,
                "codeOnly must be true or false.",
                "codeOnly",
                value=raw_code_only,
            )
        )
    if problems:
        raise DomainError(*problems)
    return LettersQuery(filter=selection, layout=layout, code_only=bool(code_only))


def _errors(status: int, problems: list[Problem]) -> JSONResponse:
    return JSONResponse(
        {
            "errors": [
                {
                    "code": problem.code.value,
                    "message": problem.message,
                    "field": problem.field,
                    "value": problem.value,
                }
                for problem in problems
            ]
        },
        status_code=status,
        headers=PRIVATE,
    )


async def _chunks(file: BinaryIO) -> AsyncIterator[bytes]:
    try:
        while chunk := await asyncio.to_thread(file.read, CHUNK_SIZE):
            yield chunk
    finally:
        file.close()
