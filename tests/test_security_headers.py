"""Security headers on every response: health, downloads, errors, and pages with their own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.app import create_app
from api.security_headers import XLSX, SecurityHeaders
from domain.settings import Environment, get_settings
from tests.fixtures import GraphQLClient

DEFAULTS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def assert_defaults(response: httpx.Response) -> None:
    for name, value in DEFAULTS.items():
        assert response.headers[name] == value, (response.url, name)


async def test_health_and_error_answers_carry_the_headers(http: httpx.AsyncClient) -> None:
    health = await http.get("/health")
    assert health.status_code == 200
    assert_defaults(health)
    assert "cache-control" not in health.headers  # not a download
    for response in (
        await http.get("/no/such/page"),
        await http.get("/static/no-such-file.js"),
        await http.put("/graphql", json={"query": "{ __typename }"}),
        await http.post("/graphql", content=b"x" * (3 * 1024 * 1024)),  # 413
    ):
        assert response.status_code in (404, 405, 413), response.status_code
        assert_defaults(response)


async def test_the_xlsx_downloads_are_private_and_not_sniffed(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    bearer = {"Authorization": f"Bearer {admin.token}"}
    for path in ("/invitations/template.xlsx", "/invitations/export.xlsx"):
        download = await http.get(path, headers=bearer)
        assert download.status_code == 200, download.text
        assert download.headers["content-type"] == XLSX
        assert download.headers["content-disposition"].startswith("attachment;")
        assert download.headers["cache-control"] == "no-store"
        assert_defaults(download)
        refused = await http.get(path)
        assert refused.status_code == 401
        assert refused.headers["cache-control"] == "no-store"
        assert_defaults(refused)


async def test_pages_keep_the_headers_they_chose(http: httpx.AsyncClient) -> None:
    invite = await http.get("/invite")
    assert invite.headers["content-security-policy"].startswith("default-src 'self';")
    assert_defaults(invite)
    assert invite.headers["cache-control"] == "no-cache"


@pytest.fixture
async def development(
    database: None, redis: ArqRedis, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    settings = get_settings().model_copy(
        update={"env": Environment.DEVELOPMENT, "data_dir": tmp_path}
    )
    app = create_app(settings, manage_database=False)
    app.state.redis = redis
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_the_dev_mail_pages_keep_their_own_framing_rule(
    development: httpx.AsyncClient,
) -> None:
    page = await development.get("/dev/mail")
    assert page.status_code == 200
    assert "frame-ancestors 'self'" in page.headers["content-security-policy"]
    # Its CSP already says who may frame it; a DENY beside it would contradict it.
    assert "x-frame-options" not in page.headers
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["x-content-type-options"] == "nosniff"


def small_app(response: Response) -> Starlette:
    async def endpoint(request: Request) -> Response:
        return response

    return Starlette(routes=[Route("/", endpoint)], middleware=[Middleware(SecurityHeaders)])


async def get(app: Any) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.get("/")


async def test_a_download_without_cache_control_gets_no_store() -> None:
    spreadsheet = await get(small_app(Response(b"PK", media_type=XLSX)))
    assert spreadsheet.headers["cache-control"] == "no-store"
    assert_defaults(spreadsheet)
    attachment = await get(
        small_app(
            Response(b"a,b", media_type="text/csv", headers={"Content-Disposition": "attachment"})
        )
    )
    assert attachment.headers["cache-control"] == "no-store"
    page = await get(small_app(Response(b"<p>hi</p>", media_type="text/html")))
    assert "cache-control" not in page.headers
    assert_defaults(page)


async def test_headers_a_route_set_are_left_alone() -> None:
    own = {
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "SAMEORIGIN",
        "Cache-Control": "private, max-age=60",
    }
    response = await get(small_app(Response(b"PK", media_type=XLSX, headers=own)))
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["x-frame-options"] == "SAMEORIGIN"
    assert response.headers["cache-control"] == "private, max-age=60"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers.get_list("referrer-policy") == ["same-origin"]
