"""Web apps on other origins (INVITES_CORS_ORIGINS) call /graphql with bearer tokens; cookies
never count cross-origin. Over real HTTP, and from a real browser on another origin."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis
from playwright.async_api import Browser
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from api.app import create_app
from api.cors import with_cors
from api.graphql import CONSOLE_COOKIE, JSON, GraphQLView
from domain.settings import SettingsError, get_settings, load_settings
from tests.browser import browse, serve
from tests.fixtures import ADMIN_PASSWORD, SIGN_IN

APP = "https://app.example.org"
ADMIN_EMAIL = "admin@participate.example.org"
ME = "{ me { email } }"
TRACE = "trace-cors-0123456789abcdef"
PREFLIGHT = {
    "Origin": APP,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type,authorization",
}

Served = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def served(database: None, redis: ArqRedis) -> Served:
    """A client of the app under a real uvicorn, built with changed settings."""

    @asynccontextmanager
    async def open_client(**changes: Any) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(get_settings().model_copy(update=changes), manage_database=False)
        app.state.redis = redis
        async with serve(app) as url, httpx.AsyncClient(base_url=url) as http:
            yield http

    return open_client


async def admin_tokens(http: httpx.AsyncClient) -> tuple[str, str]:
    """An admin's bearer token (signIn) and console cookie (the console's sign-in form)."""
    from domain.users.service import create_admin

    await create_admin(
        email=ADMIN_EMAIL, password=ADMIN_PASSWORD, first_name="Ada", last_name="Admin"
    )
    signed_in = await http.post(
        "/graphql",
        json={"query": SIGN_IN, "variables": {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}},
    )
    bearer = signed_in.json()["data"]["signIn"]["session"]["token"]
    form = await http.post(
        "/graphql/console/sign-in",
        data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
        headers={"Accept": "text/html"},
    )
    cookie = form.cookies.get(CONSOLE_COOKIE) or ""
    http.cookies.clear()
    assert bearer and cookie
    return bearer, cookie


def cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


async def test_a_listed_origin_is_granted_bearer_calls_and_never_credentials(
    served: Served,
) -> None:
    async with served(cors_origins=[APP, "http://localhost:3000"]) as http:
        bearer, cookie = await admin_tokens(http)

        preflight = await http.options("/graphql", headers=PREFLIGHT)
        assert preflight.status_code == 204, preflight.text
        assert cors_headers(preflight) == {
            "access-control-allow-origin": APP,
            "access-control-allow-methods": "POST",
            "access-control-allow-headers": "Content-Type, Authorization, X-Request-ID",
            "access-control-max-age": "600",
        }
        assert preflight.headers["vary"] == "Origin"

        # The call itself: the answer is readable by that origin, and by no other.
        called = await http.post(
            "/graphql",
            json={"query": ME},
            headers={"Origin": APP, "Authorization": f"Bearer {bearer}"},
        )
        assert called.json()["data"] == {"me": {"email": ADMIN_EMAIL}}
        assert cors_headers(called) == {
            "access-control-allow-origin": APP,
            "access-control-expose-headers": "X-Request-ID",
        }
        assert "Origin" in called.headers["vary"]

        # Other origins (a look-alike, another scheme, a subdomain) get no CORS header at all.
        for origin in (
            "https://evil.example.org",
            "http://app.example.org",
            "https://app.example.org.evil.test",
            "null",
        ):
            refused = await http.options("/graphql", headers={**PREFLIGHT, "Origin": origin})
            assert refused.status_code == 405 and cors_headers(refused) == {}, origin
            call = await http.post(
                "/graphql",
                json={"query": ME},
                headers={"Origin": origin, "Authorization": f"Bearer {bearer}"},
            )
            assert cors_headers(call) == {}, origin

        # The console cookie counts on a same-origin request, never on one from another origin
        # (even a listed one, or a sibling subdomain as Fetch Metadata tells).
        with_cookie = {"Cookie": f"{CONSOLE_COOKIE}={cookie}"}
        own = await http.post("/graphql", json={"query": ME}, headers=with_cookie)
        assert own.json()["data"] == {"me": {"email": ADMIN_EMAIL}}
        for other in (
            {"Origin": APP},
            {"Sec-Fetch-Site": "same-site"},
            {"Sec-Fetch-Site": "cross-site"},
        ):
            cross = await http.post(
                "/graphql", json={"query": ME}, headers={**with_cookie, **other}
            )
            assert cross.json()["data"] == {"me": None}, other


async def test_by_default_no_origin_is_granted(served: Served) -> None:
    async with served() as http:
        preflight = await http.options("/graphql", headers=PREFLIGHT)
        assert preflight.status_code == 405
        assert cors_headers(preflight) == {}
        call = await http.post("/graphql", json={"query": ME}, headers={"Origin": APP})
        assert call.status_code == 200 and cors_headers(call) == {}
        assert "vary" not in call.headers


def test_the_setting_takes_exact_origins_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INVITES_CORS_ORIGINS", "https://App.Example.org, http://localhost:3000")
    assert load_settings().cors_origins == ["https://app.example.org", "http://localhost:3000"]
    for wrong in (
        "*",
        "https://*.example.org",
        "https://app.example.org/",
        "app.example.org",
        "https://app.example.org/path",
        "ftp://app.example.org",
        "null",
    ):
        monkeypatch.setenv("INVITES_CORS_ORIGINS", wrong)
        with pytest.raises(SettingsError, match="INVITES_CORS_ORIGINS"):
            load_settings()


PAGE = """<!doctype html><html lang="en"><title>App</title><body><p id="out">waiting</p>
<script>
async function call(api, token, credentials) {
  try {
    const response = await fetch(api + '/graphql', {
      method: 'POST', credentials,
      headers: {'Content-Type': 'application/json', 'Authorization': 'Bearer ' + token},
      body: JSON.stringify({query: '{ me { email } }'}),
    });
    return JSON.stringify((await response.json()).data);
  } catch (error) {
    return 'refused';
  }
}
</script></body></html>"""


async def test_a_web_app_on_another_origin_calls_the_api_from_a_browser(
    served: Served, browser: Browser
) -> None:
    other_site = Starlette(routes=[Route("/", lambda request: HTMLResponse(PAGE))])
    async with serve(other_site) as app_url:
        # Another port is another origin; localhost and 127.0.0.1 are other sites too.
        app_origin = app_url.replace("127.0.0.1", "localhost")
        async with served(cors_origins=[app_origin]) as http:
            bearer, _ = await admin_tokens(http)
            api = str(http.base_url).rstrip("/")
            async with browse(browser, app_origin) as visit:
                await visit.page.goto("/")
                await visit.page.wait_for_load_state("load")
                answer = await visit.page.evaluate(
                    "([api, token]) => call(api, token, 'omit')", [api, bearer]
                )
                assert json.loads(answer) == {"me": {"email": ADMIN_EMAIL}}
                # With cookies asked for, the browser refuses: no credentials are granted.
                refused = await visit.page.evaluate(
                    "([api, token]) => call(api, token, 'include')", [api, bearer]
                )
                assert refused == "refused"
                visit.problems.clear()  # the browser logs the refused call
        async with served() as http:
            api = str(http.base_url).rstrip("/")
            async with browse(browser, app_origin) as visit:
                await visit.page.goto("/")
                await visit.page.wait_for_load_state("load")
                answer = await visit.page.evaluate(
                    "([api, token]) => call(api, token, 'omit')", [api, bearer]
                )
                assert answer == "refused"  # not listed: no answer to read
                visit.problems.clear()


async def test_every_answer_of_graphql_is_readable_by_a_listed_origin(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Answers made before GraphQL runs (the body guard's 413 and 408, an unexpected error's
    500) carry the CORS headers too: a web app reads why, not a bare network error."""
    too_big = b'{"query": "' + b"x" * (3 * 1024 * 1024) + b'"}'

    async def streamed() -> AsyncIterator[bytes]:  # no Content-Length: counted as it comes
        for start in range(0, len(too_big), 64 * 1024):
            yield too_big[start : start + 64 * 1024]

    granted = {"access-control-allow-origin": APP, "access-control-expose-headers": "X-Request-ID"}
    async with served(cors_origins=[APP], request_body_timeout_seconds=0.5) as http:
        for origin, expected in ((APP, granted), ("https://evil.example.org", {})):
            json_headers = {"Origin": origin, "Content-Type": "application/json"}
            # Told by its Content-Length or counted as it streams in: the same typed answer.
            for body in (too_big, streamed()):
                refused = await http.post("/graphql", content=body, headers=json_headers)
                assert refused.status_code == 413, refused.text
                assert cors_headers(refused) == expected, origin
                assert "Origin" in refused.headers["vary"]
                assert refused.headers["x-request-id"]
                assert refused.json()["errors"] == [
                    {
                        "message": "The request body is over the limit of 2 MiB.",
                        "extensions": {"code": "REQUEST_ENTITY_TOO_LARGE"},
                    }
                ]

            # A body that does not arrive in time: the guard's 408.
            host, port = str(http.base_url.host), http.base_url.port
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(
                (
                    f"POST /graphql HTTP/1.1\r\nHost: x\r\nOrigin: {origin}\r\n"
                    f"Content-Type: {JSON}\r\nContent-Length: 1000\r\n\r\n{{"
                ).encode()
            )
            await writer.drain()
            answer = await asyncio.wait_for(reader.read(), timeout=5)
            writer.close()
            head, _, body = answer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 408"), answer[:100]
            lines = head.decode().split("\r\n")
            assert {
                name.lower(): value
                for name, _, value in (line.partition(": ") for line in lines[1:])
                if name.lower().startswith("access-control-")
            } == expected, origin
            assert json.loads(body)["errors"][0]["extensions"]["code"] == "REQUEST_TIMEOUT"

        # An unexpected error before GraphQL runs (the request's context cannot be built: a
        # bug, a lost connection): a 500 with a reference, readable by the listed origin only.
        async def broken(*args: object) -> None:
            raise RuntimeError("lost the connection")

        monkeypatch.setattr(GraphQLView, "get_context", broken)
        for origin, expected in ((APP, granted), ("https://evil.example.org", {})):
            failed = await http.post(
                "/graphql", json={"query": ME}, headers={"Origin": origin, "X-Request-ID": TRACE}
            )
            assert failed.status_code == 500, failed.text
            assert cors_headers(failed) == expected, origin
            assert failed.json()["errors"][0]["reference"] == TRACE

        # Preflights are answered as before.
        preflight = await http.options("/graphql", headers=PREFLIGHT)
        assert preflight.status_code == 204
        assert cors_headers(preflight)["access-control-allow-origin"] == APP
        assert "access-control-expose-headers" not in preflight.headers
        assert preflight.headers["vary"] == "Origin"
        assert preflight.headers["x-content-type-options"] == "nosniff"


def test_vary_keeps_what_an_answer_varies_on() -> None:
    assert with_cors([(b"vary", b"Accept-Encoding")], None) == [
        (b"vary", b"Accept-Encoding, Origin")
    ]
    assert with_cors([(b"vary", b"accept, origin")], None) == [(b"vary", b"accept, origin")]
    assert with_cors([(b"content-type", b"text/plain")], b"https://app.example.org") == [
        (b"content-type", b"text/plain"),
        (b"vary", b"Origin"),
        (b"access-control-allow-origin", b"https://app.example.org"),
        (b"access-control-expose-headers", b"X-Request-ID"),
    ]
