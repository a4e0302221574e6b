"""GET /invitations/template.xlsx: the Excel template for imports, for admins."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from domain.imports import service as imports
from domain.roles.service import access_of
from domain.users.service import user_for_session_token
from schema.context import bearer_token

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# It lists the platform's groups and their rules: no shared cache may keep it.
_PRIVATE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


async def import_template(request: Request) -> Response:
    if request.method != "GET":
        return Response(status_code=405, headers={"Allow": "GET", **_PRIVATE})
    token = bearer_token(request.headers.get("authorization"))
    user = await user_for_session_token(token) if token else None
    if user is None:
        return _refusal(
            401,
            "UNAUTHENTICATED",
            "Sign in first, and send the session token as 'Authorization: Bearer <token>'.",
            {"WWW-Authenticate": "Bearer"},
        )
    if not (await access_of(user)).is_admin:
        return _refusal(403, "FORBIDDEN", "Only admins can download the import template.")
    return Response(
        await imports.template(),
        media_type=XLSX,
        headers={
            "Content-Disposition": 'attachment; filename="invitations-template.xlsx"',
            **_PRIVATE,
        },
    )


def _refusal(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"code": code, "message": message}]},
        status_code=status,
        headers={**_PRIVATE, **(headers or {})},
    )
