"""GET /invitations/template.xlsx: the Excel template for imports, for admins, its words and its
name in their language (api.languages.download_locale: the console's link says it with `?lang=`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from api.admin_downloads import PRIVATE, XLSX, admin_or_refusal, attachment
from api.languages import download_locale
from domain import i18n
from domain.imports import service as imports


async def import_template(request: Request) -> Response:
    user = await admin_or_refusal(request, "Only admins can download the import template.")
    if isinstance(user, Response):
        return user
    locale = download_locale(request, request.app.state.settings.locales, user.locale)
    return Response(
        await imports.template(locale),
        media_type=XLSX,
        headers={
            "Content-Disposition": attachment(i18n.catalog(locale)("admin.template.file_name")),
            "Content-Language": locale,
            **PRIVATE,
        },
    )
