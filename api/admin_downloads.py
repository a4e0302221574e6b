"""What the admins' downloads share: the same Bearer session as GraphQL, and private answers."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from domain.models import User
from domain.roles.service import access_of
from domain.users.service import user_for_session_token
from schema.context import bearer_token

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Every answer, refusals included, concerns tokens or the platform's groups: no cache keeps it.
PRIVATE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def refusal(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"code": code, "message": message}]},
        status_code=status,
        headers={**PRIVATE, **(headers or {})},
    )


async def admin_or_refusal(request: Request, forbidden: str) -> User | Response:
    """The signed-in admin asking, or the answer to give instead (405, 401 or 403)."""
    if request.method != "GET":  # Starlette routes HEAD here too: it must not run a download
        return Response(status_code=405, headers={"Allow": "GET", **PRIVATE})
    token = bearer_token(request.headers.get("authorization"))
    user = await user_for_session_token(token) if token else None
    if user is None:
        return refusal(
            401,
            "UNAUTHENTICATED",
            "Sign in first, and send the session token as 'Authorization: Bearer <token>'.",
            {"WWW-Authenticate": "Bearer"},
        )
    if not (await access_of(user)).is_admin:
        return refusal(403, "FORBIDDEN", forbidden)
    return user
