"""GET /invitations/export.xlsx: the token export for admins, as a download, its words in the
admin's language (api.languages.download_locale: the console's link says it with `?lang=`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from enum import StrEnum
from typing import BinaryIO, TypeVar

from starlette.background import BackgroundTask
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from api.admin_downloads import PRIVATE, XLSX, admin_or_refusal, attachment
from api.languages import download_locale
from domain import i18n
from domain.errors import DomainError, ErrorCode, Problem
from domain.exports.service import export_to_temporary_file
from domain.invitations.listing import InvitationFilter
from domain.models import DeliveryState, InvitationStatus, RoleKind
from domain.validation import storable

CHUNK_SIZE = 64 * 1024
# The names of InvitationFilterInput's fields, as GraphQL spells them, and batchOf: the id of
# an invitation, for the invitations written with it (the console's "this batch" downloads).
_FILTERS = ("status", "delivery", "search", "groupId", "role", "importId", "batchOf")
# Not a filter: the language of the file's words.
_LANGUAGE = "lang"

E = TypeVar("E", bound=StrEnum)


async def export_invitations(request: Request) -> Response:
    user = await admin_or_refusal(request, "Only admins can export invitations.")
    if isinstance(user, Response):
        return user
    params = request.query_params
    try:
        query = filter_from(
            QueryParams([(k, v) for k, v in params.multi_items() if k != _LANGUAGE])
        )
    except DomainError as error:
        return JSONResponse(
            {"errors": [_problem(problem) for problem in error.problems]},
            status_code=400,
            headers=PRIVATE,
        )
    locale = download_locale(request, request.app.state.settings.locales, user.locale)
    export = await export_to_temporary_file(query, exported_by=user, locale=locale)
    day = export.record.created_at.date().isoformat()
    return StreamingResponse(
        _chunks(export.file),
        media_type=XLSX,
        headers={
            "Content-Disposition": attachment(i18n.catalog(locale)("export.file_name", day=day)),
            "Content-Length": str(export.size),
            "Content-Language": locale,
            **PRIVATE,
        },
        # Closes the file when the response ends, even if the body was never read.
        background=BackgroundTask(export.file.close),
    )


def filter_from(params: QueryParams) -> InvitationFilter:
    """The query string as the filter of `invitations(filter: ...)`; every bad value named."""
    problems: list[Problem] = []
    for name in params:
        if name not in _FILTERS:
            problems.append(
                _bad(name, params[name], f"Unknown parameter {name!r}: use {', '.join(_FILTERS)}.")
            )
        elif len(params.getlist(name)) > 1:
            problems.append(_bad(name, None, f"Give {name} once."))
    problems.extend(unstorable(params, _FILTERS))
    status = _choice(params, "status", InvitationStatus, problems)
    delivery = _choice(params, "delivery", DeliveryState, problems)
    role = _choice(params, "role", RoleKind, problems)
    group_id = _id(params, "groupId", "a group", problems)
    import_id = _id(params, "importId", "an import", problems)
    batch_of = _id(params, "batchOf", "an invitation", problems)
    if problems:
        raise DomainError(*problems)
    return InvitationFilter(
        status=status,
        delivery=delivery,
        search=params.get("search") or None,
        group_id=group_id,
        role=role,
        import_id=import_id,
        batch_of=batch_of,
    )


def unstorable(params: QueryParams, names: tuple[str, ...]) -> list[Problem]:
    """A problem for each of these parameters whose value the database could not hold (a NUL):
    refused as GraphQL refuses it, before a query is built from it."""
    return [
        _bad(
            name,
            value,
            f"{name} holds a character that cannot be stored (a NUL, or half of an emoji or"
            " other symbol): remove it.",
        )
        for name in params
        if name in names
        for value in params.getlist(name)[:1]
        if not storable(value)
    ]


def _choice(params: QueryParams, name: str, kind: type[E], problems: list[Problem]) -> E | None:
    raw = params.get(name)
    if raw is None or not raw.strip() or not storable(raw):
        return None
    try:
        # Either spelling: `pending` as stored, or `PENDING` as GraphQL writes the enum.
        return kind(raw.strip().lower())
    except ValueError:
        choices = ", ".join(member.value for member in kind)
        problems.append(_bad(name, raw, f"{name} must be one of: {choices}."))
        return None


def _id(params: QueryParams, name: str, what: str, problems: list[Problem]) -> int | None:
    raw = params.get(name)
    if raw is None or not raw.strip() or not storable(raw):
        return None
    value = raw.strip()
    if value.isascii() and value.isdigit() and 0 < int(value) < 2**31:
        return int(value)
    problems.append(_bad(name, raw, f"{name} must be the id of {what} (a positive number)."))
    return None


def _bad(name: str, value: str | None, message: str) -> Problem:
    return Problem(ErrorCode.INVALID_INPUT, message, name, value=value)


def _problem(problem: Problem) -> dict[str, str | None]:
    return {
        "code": problem.code.value,
        "message": problem.message,
        "field": problem.field,
        "value": problem.value,
    }


async def _chunks(file: BinaryIO) -> AsyncIterator[bytes]:
    try:
        while chunk := await asyncio.to_thread(file.read, CHUNK_SIZE):
            yield chunk
    finally:
        file.close()
