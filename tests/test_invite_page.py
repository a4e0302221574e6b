"""The /invite page over HTTP: its security headers, no inline script, the language it speaks."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from http import HTTPStatus

import httpx
import pytest
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.app import create_app
from domain.settings import Settings, SettingsError, get_settings, load_settings

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
}


@pytest.fixture
async def site() -> AsyncIterator[httpx.AsyncClient]:
    """The app without its lifespan: the page itself needs no database or Redis."""
    transport = httpx.ASGITransport(app=create_app(get_settings(), manage_database=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


class Markup(HTMLParser):
    """The elements and attributes of a page, and the text inside its <script> elements."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.script_text = ""
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.script_text += data


def parse(html: str) -> Markup:
    markup = Markup()
    markup.feed(html)
    return markup


def html_lang(html: str) -> str:
    match = re.search(r'<html lang="([^"]+)">', html)
    assert match, html[:200]
    return match.group(1)


async def test_the_page_and_its_files_send_the_security_headers(site: httpx.AsyncClient) -> None:
    page = await site.get("/invite")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    script = await site.get("/static/invite.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    style = await site.get("/static/invite.css")
    assert style.status_code == 200
    assert style.headers["content-type"].startswith("text/css")
    missing = await site.get("/static/nothing-here.js")
    assert missing.status_code == 404
    for response in (page, script, style):
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value, (response.url, name)
    head = await site.head("/invite")
    assert head.status_code == 200 and head.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize(
    ("path", "script"),
    [
        ("/invite", "invite.js"),
        ("/confirm", "confirm.js"),
        ("/reset-password", "reset.js"),
        ("/account", "account.js"),
    ],
)
async def test_the_page_has_no_inline_script_style_or_event_handler(
    site: httpx.AsyncClient, path: str, script: str
) -> None:
    page = await site.get(path)
    for name, value in SECURITY_HEADERS.items():
        assert page.headers[name] == value, name
    markup = parse(page.text)
    scripts = [attrs for tag, attrs in markup.tags if tag == "script"]
    # A module: it loads the modules the pages share (resident.js) from our own files.
    assert scripts == [{"type": "module", "src": f"/static/{script}"}]
    assert markup.script_text.strip() == ""
    assert not [tag for tag, _ in markup.tags if tag == "style"]
    for tag, attrs in markup.tags:
        assert "style" not in attrs, tag
        assert not [name for name in attrs if name.startswith("on")], (tag, attrs)
        for value in attrs.values():
            assert not (value or "").strip().lower().startswith("javascript:"), (tag, attrs)
    links = [(attrs["rel"], attrs["href"]) for tag, attrs in markup.tags if tag == "link"]
    assert links == [("icon", "data:,"), ("stylesheet", "/static/invite.css")]


async def test_the_page_is_accessible_and_fits_a_phone(site: httpx.AsyncClient) -> None:
    markup = parse((await site.get("/invite")).text)
    metas = {attrs.get("name"): attrs.get("content") for tag, attrs in markup.tags if tag == "meta"}
    assert metas["viewport"] == "width=device-width, initial-scale=1"
    assert metas["referrer"] == "no-referrer"
    labelled = {attrs["for"] for tag, attrs in markup.tags if tag == "label" and attrs.get("for")}
    for tag, attrs in markup.tags:
        if tag in ("input", "select") and attrs.get("type") != "hidden":
            assert attrs["id"] in labelled, attrs
    live = [attrs["id"] for tag, attrs in markup.tags if attrs.get("aria-live")]
    assert {"code-error", "firstName-error", "password-error", "profile-status"} <= set(live)


@pytest.mark.parametrize(
    ("accept_language", "locale", "title"),
    [
        ("fr-BE,fr;q=0.9,en;q=0.8", "fr-BE", "Accepter votre invitation"),
        ("nl", "nl-BE", "Aanvaard je uitnodiging"),
        ("nl-NL,nl;q=0.9", "nl-BE", "Aanvaard je uitnodiging"),
        ("en-GB,en;q=0.9", "en", "Accept your invitation"),
        ("de-DE,de;q=0.9,fr;q=0.5", "fr-BE", "Accepter votre invitation"),
        ("en;q=0.1, nl-BE;q=0.9", "nl-BE", "Aanvaard je uitnodiging"),
        ("fr;q=0, nl;q=0.5", "nl-BE", "Aanvaard je uitnodiging"),
        ("de", "en", "Accept your invitation"),
        ("", "en", "Accept your invitation"),
        ("*;q=oops,,;", "en", "Accept your invitation"),
    ],
)
async def test_the_language_follows_the_browser(
    site: httpx.AsyncClient, accept_language: str, locale: str, title: str
) -> None:
    response = await site.get("/invite", headers={"Accept-Language": accept_language})
    assert html_lang(response.text) == locale
    assert response.headers["content-language"] == locale
    # Signed in, the account's language comes first: the answer varies with the cookie too.
    assert response.headers["vary"] == "Accept-Language, Cookie"
    assert f"<h1>{title}</h1>" in response.text


async def test_the_switch_overrides_the_browser_and_lists_every_platform_locale(
    site: httpx.AsyncClient,
) -> None:
    french_browser = {"Accept-Language": "fr-BE"}
    chosen = await site.get("/invite", params={"lang": "nl-be"}, headers=french_browser)
    assert html_lang(chosen.text) == "nl-BE"
    links = [
        (attrs["href"], "aria-current" in attrs)
        for tag, attrs in parse(chosen.text).tags
        if tag == "a" and "data-locale-link" in attrs
    ]
    assert links == [("?lang=en", False), ("?lang=nl-BE", True), ("?lang=fr-BE", False)]
    unknown = await site.get("/invite", params={"lang": "xx"}, headers=french_browser)
    assert html_lang(unknown.text) == "fr-BE"


async def test_nothing_from_the_url_is_written_into_the_page(site: httpx.AsyncClient) -> None:
    hostile = "<script>alert(1)</script>"
    response = await site.get(
        "/invite", params={"lang": hostile, "token": "ABCDE-FGHJK-MNPQR", "x": hostile}
    )
    assert "alert(1)" not in response.text
    assert "ABCDE-FGHJK-MNPQR" not in response.text.replace("like ABCDE-FGHJK-MNPQR", "")


async def test_the_page_shows_the_password_rules_from_the_settings(
    site: httpx.AsyncClient,
) -> None:
    minimum = get_settings().password_min_length
    response = await site.get("/invite", headers={"Accept-Language": "nl-BE"})
    assert f"minstens {minimum} tekens" in response.text
    # The upper bound holds (maxlength, and the server refuses more) but is no rule to read.
    rules = response.text.split('id="password-rules"')[1].split("</div>")[0]
    assert "1024" not in rules and "hoogstens" not in rules
    password = next(
        attrs for tag, attrs in parse(response.text).tags if attrs.get("id") == "password"
    )
    assert password["minlength"] == str(minimum) and password["maxlength"] == "1024"
    assert password["autocomplete"] == "new-password"


async def client_for(settings: Settings) -> httpx.AsyncClient:
    app = create_app(settings, manage_database=False)

    async def broken(request: Request) -> Response:
        raise RuntimeError("a bug, with a secret in its message: hunter2")

    async def refused(request: Request) -> Response:
        raise HTTPException(400, "Unknown parameter: colour.")

    app.router.routes += [Route("/broken", broken), Route("/refused", refused)]
    # Starlette raises the bug on after answering (for the server to log it): keep the answer.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


@pytest.mark.parametrize(
    ("method", "path", "status", "language", "title", "code"),
    [
        ("GET", "/no/such/page", 404, "nl-BE", "Pagina niet gevonden", "NOT_FOUND"),
        ("GET", "/static/nothing-here.js", 404, "fr-BE", "Page introuvable", "NOT_FOUND"),
        ("POST", "/invite", 405, "en", "This page cannot be used that way", "METHOD_NOT_ALLOWED"),
        (
            "GET",
            "/broken",
            500,
            "fr-BE",
            "Un problème est survenu de notre côté",
            "INTERNAL_SERVER_ERROR",
        ),
    ],
)
async def test_errors_are_a_page_in_the_readers_language_for_browsers_and_json_for_the_rest(
    method: str, path: str, status: int, language: str, title: str, code: str
) -> None:
    async with await client_for(get_settings()) as site:
        page = await site.request(method, path, headers={**BROWSER, "Accept-Language": language})
        assert page.status_code == status
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert html_lang(page.text) == language
        assert f"<h1>{title}</h1>" in page.text
        assert f"{status}</p>" in page.text
        assert '<a href="/invite">' in page.text and '<a href="/">' in page.text
        for name, value in SECURITY_HEADERS.items():
            assert page.headers[name] == value, name
        assert page.headers["cache-control"] == "no-store"
        assert "hunter2" not in page.text and "RuntimeError" not in page.text

        api = await site.request(method, path, headers={"Accept": "application/json"})
        assert api.status_code == status
        if status == 500:
            # A reference to the request's log lines instead of what went wrong.
            reference = api.headers["x-request-id"]
            assert api.json() == {
                "errors": [
                    {
                        "code": code,
                        "message": f"Unexpected error. Reference: {reference}",
                        "reference": reference,
                    }
                ]
            }
            assert "hunter2" not in api.text and "RuntimeError" not in api.text
            reference = page.headers["x-request-id"]
            assert f"Référence : {reference}</p>" in page.text
        else:
            assert api.json() == {"errors": [{"code": code, "message": HTTPStatus(status).phrase}]}
        if status == 405:
            for allowed in (page.headers["allow"], api.headers["allow"]):
                assert sorted(allowed.split(", ")) == ["GET", "HEAD"]


async def test_an_error_page_says_what_the_route_said_and_leads_to_the_host_platform() -> None:
    settings = load_settings(platform_url="https://platform.example.org/home")
    async with await client_for(settings) as site:
        page = await site.get("/refused", headers={**BROWSER, "Accept-Language": "nl-BE"})
        assert page.status_code == 400
        assert "<h1>Op deze vraag kunnen we niet antwoorden</h1>" in page.text
        assert '<p class="hint" lang="en">Unknown parameter: colour.</p>' in page.text
        assert '<a href="https://platform.example.org/home">Naar Participate Example</a>' in (
            page.text
        )
        api = await site.get("/refused")
        assert api.json() == {
            "errors": [{"code": "BAD_REQUEST", "message": "Unknown parameter: colour."}]
        }


async def test_the_home_page_leads_to_the_invitation_or_to_the_host_platform() -> None:
    async with await client_for(get_settings()) as site:
        home = await site.get("/", headers={"Accept-Language": "fr-BE"})
        assert home.status_code == 200 and html_lang(home.text) == "fr-BE"
        links = [attrs["href"] for tag, attrs in parse(home.text).tags if tag == "a"]
        assert {"/invite", "/account", "/reset-password"} <= set(links)
        invite = await site.get("/invite", headers={"Accept-Language": "nl-BE"})
        done = next(
            attrs for tag, attrs in parse(invite.text).tags if attrs.get("id") == "done-next"
        )
        assert done["href"] == "/welcome?lang=nl-BE" and "data-landing" in done
        # Signed out, the landing page claims no account: it leads on, as the home page does.
        welcome = await site.get("/welcome", headers={"Accept-Language": "nl-BE"})
        assert "<h1>Welkom bij Participate Example</h1>" in welcome.text
        assert "Je account is klaar" not in welcome.text
        links = [attrs["href"] for tag, attrs in parse(welcome.text).tags if tag == "a"]
        assert {"/invite", "/account"} <= set(links)

    settings = load_settings(platform_url="https://platform.example.org/home")
    async with await client_for(settings) as site:
        home = await site.get("/", headers=BROWSER)
        assert home.status_code == 302
        assert home.headers["location"] == "https://platform.example.org/home"
        invite = await site.get("/invite")
        done = next(
            attrs for tag, attrs in parse(invite.text).tags if attrs.get("id") == "done-next"
        )
        assert done["href"] == "https://platform.example.org/home" and "data-landing" not in done


@pytest.mark.parametrize("path", ["/", "/welcome", "/no/such/page"])
async def test_every_resident_page_has_the_headers_and_no_inline_script_or_style(
    site: httpx.AsyncClient, path: str
) -> None:
    response = await site.get(path, headers=BROWSER)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value, name
    markup = parse(response.text)
    assert not [tag for tag, _ in markup.tags if tag in ("script", "style")]
    for tag, attrs in markup.tags:
        assert "style" not in attrs, tag
        assert not [name for name in attrs if name.startswith("on")], (tag, attrs)


def test_the_host_platform_must_be_an_address() -> None:
    with pytest.raises(SettingsError, match="INVITES_PLATFORM_URL"):
        load_settings(platform_url="platform.example.org")


async def test_every_sign_in_form_leads_to_the_password_reset(site: httpx.AsyncClient) -> None:
    for path, sign_in_form in (
        ("/account", "sign-in-form"),  # the residents' sign-in
        ("/confirm", "password-part"),  # the password chosen when registering
        ("/invite", "step-unusable"),  # a used code: sign in instead
        ("/graphql/console/sign-in", None),  # the admins' console
        ("/", None),
        ("/welcome", None),
    ):
        page = (await site.get(path, headers=BROWSER)).text
        links = [attrs.get("href") for tag, attrs in parse(page).tags if tag == "a"]
        assert "/reset-password" in links, path
        if sign_in_form:
            assert f'id="{sign_in_form}"' in page


@pytest.mark.parametrize("path", ["/invite", "/confirm", "/reset-password"])
async def test_each_journey_ends_on_the_host_platform_or_the_landing_page(path: str) -> None:
    settings = load_settings(platform_url="https://platform.example.org/home")
    async with await client_for(settings) as site:
        page = parse((await site.get(path)).text)
        done = next(attrs for tag, attrs in page.tags if attrs.get("id") == "done-next")
        assert done["href"] == "https://platform.example.org/home" and "data-landing" not in done
        main = next(attrs for tag, attrs in page.tags if tag == "main")
        assert main["data-landing"] == "https://platform.example.org/home"
    async with await client_for(get_settings()) as site:
        page = parse((await site.get(path, params={"lang": "fr-BE"})).text)
        done = next(attrs for tag, attrs in page.tags if attrs.get("id") == "done-next")
        # The script puts the account's language on it once the journey is done.
        assert done["href"].startswith("/welcome") and "data-landing" in done


async def test_a_language_picked_with_the_switch_goes_along_on_every_link(
    site: httpx.AsyncClient,
) -> None:
    for path in ("/account", "/", "/no/such/page"):
        page = await site.get(path, params={"lang": "fr-BE"}, headers=BROWSER)
        assert html_lang(page.text) == "fr-BE", path
        links = [attrs["href"] for tag, attrs in parse(page.text).tags if tag == "a"]
        own = [href for href in links if href.startswith("/")]
        assert own and all(href.endswith("?lang=fr-BE") for href in own), (path, own)
    # An error page asked for has the switch too: the same error, in another language.
    missing = await site.get("/no/such/page", params={"lang": "fr-BE"}, headers=BROWSER)
    switch = [attrs["href"] for tag, attrs in parse(missing.text).tags if "hreflang" in attrs]
    assert switch == ["?lang=en", "?lang=nl-BE", "?lang=fr-BE"]
