"""Web apps on other origins (INVITES_CORS_ORIGINS) call /graphql with bearer tokens; cookies
never count cross-origin. Over real HTTP, and from a real browser on another origin."""

from __future__ import annotations

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
from api.graphql import CONSOLE_COOKIE
from domain.settings import SettingsError, get_settings, load_settings
from tests.browser import browse, serve
from tests.fixtures import ADMIN_PASSWORD, SIGN_IN

APP = "https://app.example.org"
ADMIN_EMAIL = "admin@participate.example.org"
ME = "{ me { email } }"
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
