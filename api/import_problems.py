"""GET /invitations/imports/{id}/problems.xlsx: a failed import's problems as a workbook to fix
in place (domain.imports.problems_file), for admins, in their language
(api.languages.download_locale: the console's link says it with `?lang=`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import BinaryIO

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from api.admin_downloads import PRIVATE, XLSX, admin_or_refusal, attachment, refusal
from api.languages import download_locale
from domain.errors import DomainError, ErrorCode
from domain.imports.problems_file import problems_file

CHUNK_SIZE = 64 * 1024


def problems_path(import_id: int | str) -> str:
    return f"/invitations/imports/{import_id}/problems.xlsx"


async def import_problems(request: Request) -> Response:
    user = await admin_or_refusal(request, "Only admins can download an import's problems.")
    if isinstance(user, Response):
        return user
    raw = request.path_params["import_id"]
    import_id = int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) < 2**31 else -1
    locale = download_locale(request, request.app.state.settings.locales, user.locale)
    try:
        found = await problems_file(import_id, locale)
    except DomainError as error:
        problem = error.problems[0]
        status = 404 if problem.code is ErrorCode.NOT_FOUND else 409
        return refusal(status, problem.code.value, problem.message)
    return StreamingResponse(
        _chunks(found.file),
        media_type=XLSX,
        headers={
            "Content-Disposition": attachment(found.file_name),
            "Content-Length": str(found.size),
            "Content-Language": locale,
            **PRIVATE,
        },
        background=BackgroundTask(found.file.close),
    )


async def _chunks(file: BinaryIO) -> AsyncIterator[bytes]:
    try:
        while chunk := await asyncio.to_thread(file.read, CHUNK_SIZE):
            yield chunk
    finally:
        file.close()
