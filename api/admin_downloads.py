"""What the admins' downloads share: who asks (a bearer session, or the console's cookie in a
browser), and private answers."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api.console import console_access
from api.graphql import CONSOLE_COOKIE
from domain.models import User
from domain.roles.service import access_of
from domain.settings import GraphiqlAccess, Settings
from domain.users.service import user_for_session_token
from schema.context import bearer_token

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Every answer, refusals included, concerns tokens or the platform's groups: no cache keeps it,
# and no page of another origin may embed it (<img>, <script>: the browser drops it).
PRIVATE = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def attachment(file_name: str) -> str:
    """A Content-Disposition saving the download as `file_name`: a name in the admin's
    language may not be ASCII, which only `filename*` (RFC 6266) carries; older clients take
    the plain `filename`, its other letters as "?"."""
    plain = file_name.encode("ascii", "replace").decode().replace('"', "'").replace("\\", "_")
    if plain == file_name:
        return f'attachment; filename="{plain}"'
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(file_name)}"


# What a browser says of where a request comes from (Fetch Metadata): `same-origin` from our
# own pages, `none` when the admin typed the address, opened a bookmark or a new tab.
SAME_ORIGIN_FETCHES = frozenset({"same-origin", "none"})


def refusal(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"code": code, "message": message}]},
        status_code=status,
        headers={**PRIVATE, **(headers or {})},
    )


def download_session_token(request: Request, settings: Settings) -> str | None:
    """The session a download runs as: the `Authorization: Bearer` token, or else the console's
    cookie, for the only requests it may authenticate here.

    A download is a GET that changes nothing an attacker could want (an export is recorded,
    nothing else), and a page elsewhere cannot read the answer (no CORS is ever granted, and
    `Cross-Origin-Resource-Policy` keeps it out of its <img> and <script> tags). The cookie is
    `SameSite=Strict`, so browsers leave it off any request another site starts. The server
    adds its own rules, for sibling subdomains (the same site) and browsers that ignore
    SameSite: the cookie counts only while the console exists (`INVITES_GRAPHIQL` not off), and
    never on a request the browser marks as coming from another origin (`Sec-Fetch-Site`
    `cross-site` or `same-site`); a browser too old to send that header has SameSite alone.
    """
    token = bearer_token(request.headers.get("authorization"))
    if token is not None:
        return token
    if console_access(settings) is GraphiqlAccess.OFF:
        return None
    fetched_from = request.headers.get("sec-fetch-site")
    if fetched_from is not None and fetched_from.strip().lower() not in SAME_ORIGIN_FETCHES:
        return None
    return request.cookies.get(CONSOLE_COOKIE) or None


async def admin_or_refusal(request: Request, forbidden: str) -> User | Response:
    """The signed-in admin asking, or the answer to give instead (405, 401 or 403)."""
    if request.method != "GET":  # Starlette routes HEAD here too: it must not run a download
        return Response(status_code=405, headers={"Allow": "GET", **PRIVATE})
    settings: Settings = request.app.state.settings
    token = download_session_token(request, settings)
    user = await user_for_session_token(token) if token else None
    if user is None:
        return refusal(
            401,
            "UNAUTHENTICATED",
            "Sign in first: send the session token as 'Authorization: Bearer <token>', or sign"
            " in to the admin console in this browser and open the download from there.",
            {"WWW-Authenticate": "Bearer"},
        )
    if not (await access_of(user)).is_admin:
        return refusal(403, "FORBIDDEN", forbidden)
    return user
