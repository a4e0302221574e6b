"""The admin console at GET /graphql: who gets it, its sign-in, its cookie and what it may do."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from http.cookies import Morsel, SimpleCookie
from pathlib import Path
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis
from starlette.requests import Request

from api.app import create_app
from api.graphql import CONSOLE_COOKIE, console_session_token
from domain.models import Session, User
from domain.settings import Environment, GraphiqlAccess, get_settings
from domain.users.service import open_session
from tests.fixtures import ADMIN_PASSWORD, SIGN_IN, GraphQLClient
from tests.invitations_helpers import create
from tests.test_invite_page import parse
from tests.test_platform import PASSWORD, person

ADMIN_EMAIL = "admin@participate.example.org"
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
PAGE_HEADERS = {
    "content-security-policy": CSP,
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
}
STATIC = Path(__file__).parent.parent / "api" / "static" / "console"
# The SRI digests strawberry-graphql 0.341 pins for the same files on unpkg.
VENDORED = {
    "graphiql.min.js": "HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie",
    "graphiql.min.css": "Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM",
    "react.production.min.js": "tMH8h3BGESGckSAVGZ82T9n90ztNXxvdwvdM6UoR56cYcf+0iGXBliJ29D+wZ/x8",
    "react-dom.production.min.js": (
        "bm7MnzvK++ykSwVJ2tynSE5TRdN+xL418osEVF2DE/L/gfWHj91J2Sphe582B1Bh"
    ),
}
ME = "{ me { email } }"
INTROSPECTION = "{ __schema { queryType { name } } }"


# ---------------------------------------------------------------------------------------------
# Helpers


Client = Callable[..., Any]


@pytest.fixture
def client_with(database: None, redis: ArqRedis) -> Client:
    """A client of an app built with changed settings (the console is chosen at build time)."""

    @asynccontextmanager
    async def open_client(**changes: Any) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(get_settings().model_copy(update=changes), manage_database=False)
        app.state.redis = redis
        transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http

    return open_client


async def sign_in(http: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    response = await http.post(
        "/graphql/console/sign-in", data={"email": email, "password": password}, headers=BROWSER
    )
    # The service is on https (PUBLIC_URL), so the cookie is Secure and httpx would not send
    # it to http://testserver: tests send it by hand.
    http.cookies.clear()
    return response


def set_cookies(response: httpx.Response) -> dict[str, Morsel[str]]:
    """The console cookies a response sets, by path."""
    found = {}
    for header in response.headers.get_list("set-cookie"):
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(header)
        found[cookie[CONSOLE_COOKIE]["path"]] = cookie[CONSOLE_COOKIE]
    return found


def set_cookie(response: httpx.Response) -> Morsel[str]:
    """The console cookie a response sets for the whole service."""
    return set_cookies(response)["/"]


def with_cookie(token: str, **headers: str) -> dict[str, str]:
    return {"Cookie": f"{CONSOLE_COOKIE}={token}", **headers}


async def post_json(http: httpx.AsyncClient, query: str, token: str) -> dict[str, Any]:
    response = await http.post("/graphql", json={"query": query}, headers=with_cookie(token))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def error_text(html: str) -> str:
    start = html.index('id="sign-in-error"')
    return html[html.index(">", start) + 1 : html.index("</p>", start)]


def assert_page_headers(response: httpx.Response) -> None:
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    for name, value in PAGE_HEADERS.items():
        assert response.headers[name] == value, name


def assert_no_inline_script(html: str) -> list[dict[str, str | None]]:
    markup = parse(html)
    assert markup.script_text.strip() == ""
    for tag, attrs in markup.tags:
        assert not [name for name in attrs if name.startswith("on")], (tag, attrs)
    return [attrs for tag, attrs in markup.tags if tag == "script"]


# ---------------------------------------------------------------------------------------------
# The files


def test_the_vendored_graphiql_is_the_release_strawberry_pins() -> None:
    for name, digest in VENDORED.items():
        content = (STATIC / name).read_bytes()
        assert base64.b64encode(hashlib.sha384(content).digest()).decode() == digest, name
    for licence in ("LICENSE.graphiql", "LICENSE.react", "LICENSE.react-dom"):
        assert "MIT License" in (STATIC / licence).read_text()


# ---------------------------------------------------------------------------------------------
# Signing in


async def test_a_browser_without_a_session_gets_the_sign_in_form(http: httpx.AsyncClient) -> None:
    assert get_settings().graphiql is GraphiqlAccess.ADMINS
    response = await http.get("/graphql", headers=BROWSER)
    assert response.status_code == 200
    assert_page_headers(response)
    assert "set-cookie" not in response.headers
    html = response.text
    assert assert_no_inline_script(html) == []
    assert "graphiql.min.js" not in html
    tags = parse(html).tags
    [form] = [attrs for tag, attrs in tags if tag == "form"]
    assert form == {"method": "post", "action": "/graphql/console/sign-in"}
    labels = {attrs["for"] for tag, attrs in tags if tag == "label"}
    inputs = {attrs["id"]: attrs for tag, attrs in tags if tag == "input"}
    assert labels == set(inputs) == {"email", "password"}
    assert inputs["email"]["type"] == "email" and inputs["email"]["name"] == "email"
    assert inputs["password"]["type"] == "password" and "value" not in inputs["password"]
    # Strawberry's own GraphiQL page (scripts from a public CDN) is gone for good.
    assert "unpkg" not in html
    # Apps are unaffected: JSON in, JSON out.
    assert (await GraphQLClient(http)("{ __typename }")) == {"__typename": "Query"}


async def test_a_wrong_password_answers_as_an_unknown_email_until_rate_limited(
    http: httpx.AsyncClient, admin: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "limit_sign_in_failures_per_account", 3)
    unknown = await sign_in(http, "nobody@participate.example.org", ADMIN_PASSWORD)
    answers = [unknown]
    for _ in range(3):
        answers.append(await sign_in(http, ADMIN_EMAIL, "not the password at all"))
    for response in answers:
        assert response.status_code == 401
        assert_page_headers(response)
        assert "set-cookie" not in response.headers
        assert error_text(response.text) == "The email or the password is not right."
        assert ADMIN_PASSWORD not in response.text and "not the password" not in response.text
    assert unknown.text.replace("nobody@", "admin@") == answers[1].text

    limited = await sign_in(http, ADMIN_EMAIL, ADMIN_PASSWORD)
    assert limited.status_code == 429
    assert "set-cookie" not in limited.headers
    retry_after = int(limited.headers["retry-after"])
    assert 0 < retry_after <= 15 * 60
    minutes = -(-retry_after // 60)  # rounded up, as the admin pages say it
    assert error_text(limited.text) == (
        f"Too many attempts. Wait {minutes} minute{'s' if minutes > 1 else ''}, then try again."
    )
    # The same counters as the signIn mutation.
    body = await GraphQLClient(http).post(
        SIGN_IN, {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    )
    assert body["data"]["signIn"]["errors"][0]["code"] == "RATE_LIMITED"


async def test_the_console_speaks_the_browsers_language_then_the_admins(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    dutch = {**BROWSER, "Accept-Language": "nl-BE,nl;q=0.9"}
    form = await http.get("/graphql", headers=dutch)
    assert form.headers["content-language"] == "nl-BE"
    assert '<html lang="nl-BE">' in form.text and "<h1>GraphQL-console</h1>" in form.text
    assert "Wachtwoord vergeten?" in form.text
    refused = await http.post(
        "/graphql/console/sign-in",
        data={"email": ADMIN_EMAIL, "password": "not the password at all"},
        headers=dutch,
    )
    assert refused.status_code == 401
    assert error_text(refused.text) == "Het e-mailadres of het wachtwoord klopt niet."
    french = await http.get("/graphql?lang=fr", headers=dutch)  # the switch's ?lang= wins
    assert "<h1>Console GraphQL</h1>" in french.text

    # Signed in, the admin's own language (French here), whatever the browser says; GraphiQL
    # itself is marked as the English it speaks.
    user = await User.get(email=ADMIN_EMAIL)
    user.locale = "fr-BE"
    await user.save(update_fields=["locale"])
    signed_in = await sign_in(http, ADMIN_EMAIL, ADMIN_PASSWORD)
    page = await http.get("/graphql", headers=with_cookie(set_cookie(signed_in).value, **dutch))
    assert page.headers["content-language"] == "fr-BE"
    assert "Connecté en tant que" in page.text and ">Se déconnecter</button>" in page.text
    assert '<main id="graphiql" class="console-graphiql" lang="en"' in page.text


async def test_missing_fields_and_other_bodies_are_refused(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    empty = await sign_in(http, ADMIN_EMAIL, "")
    assert empty.status_code == 400
    assert error_text(empty.text) == "Type your email address and your password."
    as_json = await http.post(
        "/graphql/console/sign-in", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    )
    assert as_json.status_code == 415 and "set-cookie" not in as_json.headers


# What browsers send with a form another site's page posts here (login CSRF), and with our own.
OTHER_SITES = (
    {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    {"Origin": "https://evil.example"},  # a browser that sends no Fetch Metadata
    {"Sec-Fetch-Site": "cross-site"},
    {"Origin": "https://app.participate.example.org", "Sec-Fetch-Site": "same-site"},
    {"Origin": "null", "Sec-Fetch-Site": "cross-site"},  # a page with no-referrer, elsewhere
    {"Origin": "https://participate.example.org:8443"},  # another port: another origin
)
OUR_OWN = (
    {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},  # as the request sees it
    {"Origin": "https://participate.example.org"},  # INVITES_PUBLIC_URL, behind a proxy
    {"Origin": "https://Participate.example.org:443", "Sec-Fetch-Site": "same-origin"},
    # What our own pages' forms send (their Referrer-Policy is no-referrer).
    {"Origin": "null", "Sec-Fetch-Site": "same-origin"},
    {},  # not a browser
)


async def test_a_sign_in_posted_by_another_site_signs_nobody_in(
    admin: GraphQLClient, http: httpx.AsyncClient
) -> None:
    """Another site's page auto-submitting the form with its own account's credentials would
    sign the admin's browser in to that account (login CSRF): refused, in the page's words."""
    credentials = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    for headers in OTHER_SITES:
        refused = await http.post(
            "/graphql/console/sign-in", data=credentials, headers={**BROWSER, **headers}
        )
        assert refused.status_code == 403, headers
        assert "set-cookie" not in refused.headers
        assert error_text(refused.text) == (
            "This sign-in was sent by another website, so it was refused. To sign in, type "
            "your email and password here."
        )
        assert ADMIN_EMAIL not in refused.text  # the other site's address is not kept
    dutch = await http.post(
        "/graphql/console/sign-in",
        data=credentials,
        headers={**BROWSER, **OTHER_SITES[0], "Accept-Language": "nl-BE"},
    )
    assert error_text(dutch.text).startswith("Deze aanmelding kwam van een andere website")
    for headers in OUR_OWN:
        signed_in = await http.post(
            "/graphql/console/sign-in", data=credentials, headers={**BROWSER, **headers}
        )
        assert signed_in.status_code == 303, headers
        assert set_cookie(signed_in).value


async def test_someone_who_is_not_an_admin_is_told_so_and_gets_no_session(
    http: httpx.AsyncClient, redis: ArqRedis
) -> None:
    member = await person("member@participate.example.org")
    response = await sign_in(http, member.email, PASSWORD)
    assert response.status_code == 403
    assert "set-cookie" not in response.headers
    assert error_text(response.text).startswith("Only admins can use the GraphQL console.")
    assert await Session.filter(user_id=member.id).count() == 0
    # A right password is not a failure: it does not count towards the limits.
    assert [key async for key in redis.scan_iter("rl:sign-in:*")] != []
    assert all([int(await redis.get(key) or 0) == 0 async for key in redis.scan_iter("rl:*")])

    # A member's own session (from the signIn mutation) does not open the console either.
    opened = await open_session(member)
    page = await http.get("/graphql", headers=with_cookie(opened.token, **BROWSER))
    assert 'action="/graphql/console/sign-in"' in page.text
    assert set_cookie(page).value == ""  # the useless cookie is cleared


async def test_an_admin_signs_in_with_a_strict_cookie_and_gets_the_console(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    response = await sign_in(http, "  Admin@Participate.example.org ", ADMIN_PASSWORD)
    assert response.status_code == 303
    assert response.headers["location"] == "/graphql"
    assert response.headers["cache-control"] == "no-store"
    cookie = set_cookie(response)
    assert cookie["httponly"] is True
    assert cookie["secure"] is True  # PUBLIC_URL is https in the tests
    assert cookie["samesite"].lower() == "strict"
    # The whole service: GraphQL, the downloads and the console pages (each with its rules).
    assert cookie["path"] == "/"
    assert int(cookie["max-age"]) == get_settings().session_ttl_days * 86400
    token = cookie.value
    user = await User.get(email=ADMIN_EMAIL)
    assert await Session.filter(user_id=user.id).count() == 2  # the fixture's and this one

    page = await http.get("/graphql", headers=with_cookie(token, **BROWSER))
    assert page.status_code == 200
    assert_page_headers(page)
    scripts = assert_no_inline_script(page.text)
    assert scripts == [
        {"src": "/static/console/react.production.min.js"},
        {"src": "/static/console/react-dom.production.min.js"},
        {"src": "/static/console/graphiql.min.js"},
        {"src": "/static/console/console.js"},
    ]
    assert 'data-graphql-url="/graphql"' in page.text
    assert ADMIN_EMAIL in page.text and "/graphql/console/sign-out" in page.text
    for script in scripts:
        src = script["src"]
        assert src is not None
        served = await http.get(src)
        assert served.status_code == 200 and served.headers["x-content-type-options"] == "nosniff"
        assert served.headers["content-type"].startswith("text/javascript")


async def test_the_cookie_authenticates_json_posts_and_preflighted_uploads_only(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    token = set_cookie(await sign_in(http, ADMIN_EMAIL, ADMIN_PASSWORD)).value
    assert (await post_json(http, ME, token))["data"] == {"me": {"email": ADMIN_EMAIL}}
    introspection = await post_json(http, INTROSPECTION, token)
    assert introspection["data"] == {"__schema": {"queryType": {"name": "Query"}}}
    charset = await http.post(
        "/graphql",
        content=json.dumps({"query": ME}),
        headers=with_cookie(token, **{"Content-Type": "application/json; charset=utf-8"}),
    )
    assert charset.json()["data"] == {"me": {"email": ADMIN_EMAIL}}

    # A multipart upload counts only with the preflight header (the admin pages' Excel
    # import), which no other site can make a browser send without the server's consent...
    multipart = await http.post(
        "/graphql",
        data={"operations": json.dumps({"query": ME}), "map": "{}"},
        files={"0": ("note.txt", b"hello", "text/plain")},
        headers=with_cookie(token, **{"Apollo-Require-Preflight": "true"}),
    )
    assert multipart.status_code == 200, multipart.text
    assert multipart.json()["data"] == {"me": {"email": ADMIN_EMAIL}}
    # ... and without it, a form another site can post, it is refused before anything runs...
    form_upload = await http.post(
        "/graphql",
        data={"operations": json.dumps({"query": ME}), "map": "{}"},
        files={"0": ("note.txt", b"hello", "text/plain")},
        headers=with_cookie(token),
    )
    assert form_upload.status_code == 400 and "data" not in form_upload.json()
    # ... and anonymous is a text/plain body, which a cross-site form can send (GraphQL refuses it).
    plain = await http.post(
        "/graphql",
        content=json.dumps({"query": ME}),
        headers=with_cookie(token, **{"Content-Type": "text/plain"}),
    )
    assert plain.status_code == 415  # only application/json is read as JSON
    anonymous = await http.post("/graphql", json={"query": INTROSPECTION})
    assert anonymous.json()["data"] is None

    def request(method: str, content_type: str) -> Request:
        headers = [
            (b"content-type", content_type.encode()),
            (b"cookie", with_cookie(token)["Cookie"].encode()),
        ]
        return Request({"type": "http", "method": method, "headers": headers})

    assert console_session_token(request("POST", "application/json")) == token
    assert console_session_token(request("POST", "Application/JSON ; charset=utf-8")) == token
    for method, content_type in [
        ("POST", "multipart/form-data; boundary=x"),
        ("POST", "application/x-www-form-urlencoded"),
        ("POST", "text/plain"),
        ("POST", "application/json-seq"),
        ("GET", "application/json"),
    ]:
        assert console_session_token(request(method, content_type)) is None, content_type


async def test_a_bearer_token_still_wins_over_the_cookie(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    token = set_cookie(await sign_in(http, ADMIN_EMAIL, ADMIN_PASSWORD)).value
    member = await person("member@participate.example.org")
    member_token = (await open_session(member)).token
    response = await http.post(
        "/graphql",
        json={"query": ME},
        headers=with_cookie(token, Authorization=f"Bearer {member_token}"),
    )
    assert response.json()["data"] == {"me": {"email": member.email}}


async def test_signing_out_ends_the_session_and_clears_the_cookie(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    token = set_cookie(await sign_in(http, ADMIN_EMAIL, ADMIN_PASSWORD)).value
    response = await http.post("/graphql/console/sign-out", headers=with_cookie(token))
    assert response.status_code == 303 and response.headers["location"] == "/graphql"
    # The cookie is cleared, and so is one an earlier release scoped to /graphql.
    cleared = set_cookies(response)
    assert set(cleared) == {"/", "/graphql"}
    assert all(c.value == "" and int(c["max-age"]) == 0 for c in cleared.values())
    assert (await post_json(http, ME, token))["data"] == {"me": None}
    page = await http.get("/graphql", headers=with_cookie(token, **BROWSER))
    assert 'action="/graphql/console/sign-in"' in page.text
    # The fixture's own session is untouched.
    assert (await admin(ME))["me"]["email"] == ADMIN_EMAIL


# ---------------------------------------------------------------------------------------------
# The setting


async def test_with_graphiql_off_there_is_no_console_and_the_cookie_counts_for_nothing(
    client_with: Client, admin: GraphQLClient
) -> None:
    user = await User.get(email=ADMIN_EMAIL)
    token = (await open_session(user)).token
    async with client_with(graphiql=GraphiqlAccess.OFF) as http:
        page = await http.get("/graphql", headers=with_cookie(token, **BROWSER))
        assert page.status_code == 404
        assert page.headers["x-content-type-options"] == "nosniff"
        form = await sign_in(http, ADMIN_EMAIL, ADMIN_PASSWORD)
        assert form.status_code == 404 and "set-cookie" not in form.headers
        assert (await http.get("/graphql/console/sign-in")).status_code == 404
        assert (await post_json(http, ME, token))["data"] == {"me": None}


@pytest.mark.parametrize(
    "changes",
    [
        {"graphiql": GraphiqlAccess.ALL},
        {"env": Environment.DEVELOPMENT, "graphiql": GraphiqlAccess.OFF},
    ],
    ids=["graphiql=all", "development"],
)
async def test_open_to_all_shows_the_console_without_signing_in(
    client_with: Client, admin: GraphQLClient, changes: dict[str, Any]
) -> None:
    async with client_with(**changes) as http:
        page = await http.get("/graphql", headers=BROWSER)
        assert page.status_code == 200
        assert_page_headers(page)
        assert len(assert_no_inline_script(page.text)) == 4
        assert 'id="graphiql"' in page.text
        assert 'href="/graphql/console/sign-in"' in page.text
        # An admin may still sign in, to run queries as themselves.
        form = await http.get("/graphql/console/sign-in", headers=BROWSER)
        assert form.status_code == 200 and 'href="/graphql"' in form.text
        token = set_cookie(await sign_in(http, ADMIN_EMAIL, ADMIN_PASSWORD)).value
        assert (await post_json(http, ME, token))["data"] == {"me": {"email": ADMIN_EMAIL}}


# ---------------------------------------------------------------------------------------------
# Downloads in the browser: the cookie on GET, under the server's own rules


async def download_paths() -> list[str]:
    """Every admin download of the authorization matrix (docs/authorization.md)."""
    from tests.test_authorization import failed_import, matrix

    failed = str(await failed_import())
    return [
        row.removeprefix("GET ").replace("{import}", failed)
        for row in matrix()
        if row.startswith("GET ")
    ]


async def test_the_console_cookie_opens_every_admin_download_from_our_own_pages(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    token = set_cookie(await sign_in(http, ADMIN_EMAIL, ADMIN_PASSWORD)).value
    paths = await download_paths()
    assert {"/invitations/template.xlsx", "/invitations/export.xlsx"} <= set(paths)
    await create(admin, ["lea@example.org"], sendEmail=False)  # something to export and print
    for path in paths:
        # No Fetch Metadata (an older browser), a link on our pages, a typed address.
        for fetched_from in (None, "same-origin", "none", "Same-Origin"):
            extra = {"Sec-Fetch-Site": fetched_from} if fetched_from else {}
            response = await http.get(path, headers=with_cookie(token, **extra))
            assert response.status_code == 200, (path, fetched_from, response.text[:300])
            disposition = response.headers["content-disposition"]
            assert disposition.startswith(("attachment", "inline")), disposition
            assert response.headers["cache-control"] == "no-store"
            assert response.headers["cross-origin-resource-policy"] == "same-origin"
        # A request another page started (a sibling subdomain is `same-site`): the cookie does
        # not count, as if there were none.
        for fetched_from in ("cross-site", "same-site"):
            refused = await http.get(
                path, headers=with_cookie(token, **{"Sec-Fetch-Site": fetched_from})
            )
            assert refused.status_code == 401, (path, fetched_from)
            assert refused.json()["errors"][0]["code"] == "UNAUTHENTICATED"
            assert refused.headers["cross-origin-resource-policy"] == "same-origin"
        # Only GET: nothing else runs a download, whatever it carries.
        for method in ("HEAD", "POST", "PUT", "DELETE"):
            other = await http.request(method, path, headers=with_cookie(token))
            assert other.status_code == 405, (path, method)
    # Nothing of this was a change: the only record is the one of who took tokens (the export
    # and the letters record each download that ran, four each here).
    from domain.models import InvitationExport

    recording = [p for p in paths if p.startswith(("/invitations/export", "/invitations/letters"))]
    assert await InvitationExport.all().count() == 4 * len(recording)


async def test_a_download_with_a_cookie_of_no_admin_or_of_no_session_is_refused(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    paths = await download_paths()
    member = await person("member@participate.example.org")
    member_token = (await open_session(member)).token
    admin_token = set_cookie(await sign_in(http, ADMIN_EMAIL, ADMIN_PASSWORD)).value
    for path in paths:
        assert (await http.get(path, headers=with_cookie(member_token))).status_code == 403
        assert (await http.get(path, headers=with_cookie("not-a-session"))).status_code == 401
        # A bearer token wins over the cookie, as on /graphql.
        both = with_cookie(admin_token, Authorization=f"Bearer {member_token}")
        assert (await http.get(path, headers=both)).status_code == 403
    await http.post("/graphql/console/sign-out", headers=with_cookie(admin_token))
    for path in paths:
        assert (await http.get(path, headers=with_cookie(admin_token))).status_code == 401


async def test_with_the_console_off_its_cookie_opens_no_download(
    client_with: Client, admin: GraphQLClient
) -> None:
    user = await User.get(email=ADMIN_EMAIL)
    token = (await open_session(user)).token
    paths = await download_paths()
    await create(admin, ["lea@example.org"], sendEmail=False)
    async with client_with(graphiql=GraphiqlAccess.OFF) as http:
        for path in paths:
            assert (await http.get(path, headers=with_cookie(token))).status_code == 401
            bearer = await http.get(path, headers={"Authorization": f"Bearer {token}"})
            assert bearer.status_code == 200
