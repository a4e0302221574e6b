"""The residents' session cookie: set by the server from a live session, HttpOnly and
SameSite=Strict, honoured only on the pages' own JSON POSTs, ended by signing out."""

from __future__ import annotations

from typing import Any

import httpx

from domain.clock import clock
from domain.models import User
from domain.users.passwords import hash_password
from tests.fixtures import SIGN_IN, GraphQLClient
from tests.invitations_helpers import ME, PASSWORD

PAGE = {"X-Resident-Page": "1"}
COOKIE = "invitations_session"


async def signed_in(gql: GraphQLClient, email: str = "sam@example.org", locale: str = "en") -> str:
    await User.create(
        email=email,
        first_name="Sam",
        last_name="Peeters",
        locale=locale,
        password_hash=await hash_password(PASSWORD),
        email_confirmed_at=await clock.now(),
    )
    data = await gql(SIGN_IN, {"email": email, "password": PASSWORD})
    token: str = data["signIn"]["session"]["token"]
    return token


async def keep(
    http: httpx.AsyncClient, token: Any, headers: dict[str, str] = PAGE
) -> httpx.Response:
    response = await http.post("/account/session", json={"token": token}, headers=headers)
    if response.status_code == 200:
        # The cookie is Secure (the tests' public URL is https) and the test client speaks
        # http: put it in the jar as a browser on https would keep it.
        http.cookies.clear()
        http.cookies.set(COOKIE, token)
    return response


def me_query(http: httpx.AsyncClient, **headers: str) -> Any:
    return http.post("/graphql", json={"query": ME}, headers=headers)


async def test_the_page_hands_over_a_session_and_the_cookie_keeps_it_away_from_scripts(
    gql: GraphQLClient, http: httpx.AsyncClient
) -> None:
    token = await signed_in(gql)
    response = await keep(http, token)
    assert response.status_code == 200 and response.json() == {"ok": True}
    assert response.headers["cache-control"] == "no-store"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}={token};")
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    # Tests run with an https public URL: Secure too.
    assert {"httponly", "samesite=strict", "path=/", "secure"} <= attributes
    assert f"max-age={365 * 86400}" in attributes  # INVITES_SESSION_TTL_DAYS in the tests

    # The pages' requests are signed in by it; nothing else is.
    me = (await me_query(http, **PAGE)).json()["data"]["me"]
    assert me["email"] == "sam@example.org"
    assert (await me_query(http)).json()["data"]["me"] is None  # no header: not a page
    form = await http.post(
        "/graphql",
        content=f'{{"query": "{ME.strip()}"}}',
        headers={**PAGE, "Content-Type": "text/plain"},
    )
    assert form.status_code == 415  # what a cross-site form could send


async def test_only_a_live_session_from_the_pages_own_request_sets_the_cookie(
    gql: GraphQLClient, http: httpx.AsyncClient
) -> None:
    token = await signed_in(gql)
    for response in (
        await keep(http, token, headers={}),  # no header: a form or a script elsewhere
        await http.post("/account/session", data={"token": token}, headers=PAGE),  # a form
        await http.get("/account/session", headers=PAGE),
    ):
        assert response.status_code in (400, 405), response.text
        assert "set-cookie" not in response.headers
    for made_up in ("x" * 43, "", None, ["list"]):
        refused = await keep(http, made_up)
        assert refused.status_code == 401 and "set-cookie" not in refused.headers
        assert refused.json()["errors"][0]["code"] == "INVALID_SESSION"
    await gql.post("mutation { signOut { ok } }", token=token)
    assert (await keep(http, token)).status_code == 401  # ended


async def test_a_session_handed_over_from_another_origin_sets_no_cookie(
    gql: GraphQLClient, http: httpx.AsyncClient
) -> None:
    """Browsers ask before sending the pages' header from elsewhere (never granted); should
    one send it anyway, another site still cannot sign the browser in (login CSRF)."""
    token = await signed_in(gql)
    for headers in (
        {"Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "null", "Sec-Fetch-Site": "cross-site"},
    ):
        refused = await keep(http, token, headers={**PAGE, **headers})
        assert refused.status_code == 403 and "set-cookie" not in refused.headers
    ours = {**PAGE, "Origin": "https://participate.example.org", "Sec-Fetch-Site": "same-origin"}
    assert (await keep(http, token, headers=ours)).status_code == 200


async def test_signing_out_ends_the_session_and_forgets_the_cookie(
    gql: GraphQLClient, http: httpx.AsyncClient
) -> None:
    token = await signed_in(gql)
    await keep(http, token)
    assert (await me_query(http, **PAGE)).json()["data"]["me"] is not None
    refused = await http.post("/account/sign-out", json={})  # not from a page: nothing happens
    assert refused.status_code == 400
    assert (await gql(ME, token=token))["me"] is not None

    response = await http.post("/account/sign-out", json={}, headers=PAGE)
    assert response.status_code == 200
    assert response.headers["set-cookie"].startswith(f'{COOKIE}="";')
    assert "max-age=0" in response.headers["set-cookie"].lower()
    assert (await gql(ME, token=token))["me"] is None


async def test_a_new_session_in_the_browser_ends_the_one_it_replaces(
    gql: GraphQLClient, http: httpx.AsyncClient
) -> None:
    first = await signed_in(gql)
    second = await signed_in(gql, "other@example.org")
    await keep(http, first)
    response = await keep(http, second)
    assert response.headers["set-cookie"].startswith(f"{COOKIE}={second};")
    assert (await gql(ME, token=first))["me"] is None
    assert (await gql(ME, token=second))["me"]["email"] == "other@example.org"


async def test_the_landing_page_says_who_is_signed_in_in_their_language(
    gql: GraphQLClient, http: httpx.AsyncClient
) -> None:
    token = await signed_in(gql, locale="nl-BE")
    html = {"Accept": "text/html", "Accept-Language": "fr-BE"}
    anonymous = await http.get("/welcome", headers=html)
    assert '<html lang="fr-BE">' in anonymous.text and 'id="signed-in"' not in anonymous.text

    await keep(http, token)
    welcome = await http.get("/welcome", headers=html)
    assert '<html lang="nl-BE">' in welcome.text  # the account's language, over the browser's
    assert "Je bent ingelogd als sam@example.org." in welcome.text
    assert welcome.headers["vary"] == "Accept-Language, Cookie"
    chosen = await http.get("/welcome", params={"lang": "en"}, headers=html)
    assert '<html lang="en">' in chosen.text  # the reader's pick wins
    assert 'href="/account?lang=en"' in chosen.text  # and goes along to the next page

    await gql.post("mutation { signOut { ok } }", token=token)
    ended = await http.get("/welcome", headers=html)
    assert "Bienvenue sur" in ended.text and "Votre compte est prêt" not in ended.text
    assert 'id="signed-in"' not in ended.text
    assert ended.headers["set-cookie"].startswith(f'{COOKIE}="";')  # stop sending it


async def test_the_invitation_page_speaks_the_signed_in_accounts_language_and_leads_to_it(
    gql: GraphQLClient, http: httpx.AsyncClient
) -> None:
    """A resident who opens their used link again is signed in: no new invitation to ask for."""
    html = {"Accept": "text/html", "Accept-Language": "en-US"}
    anonymous = await http.get("/invite", headers=html)
    assert '<html lang="en">' in anonymous.text and 'id="unusable-account"' not in anonymous.text

    await keep(http, await signed_in(gql, locale="nl-BE"))
    page = await http.get("/invite", headers=html)
    assert '<html lang="nl-BE">' in page.text  # the account's language, over the browser's
    assert "Je bent ingelogd als sam@example.org" in page.text
    assert (
        '<a class="button" id="unusable-account" href="/account">Naar je account</a>' in page.text
    )
    assert "Vraag de beheerder" not in page.text
    assert page.headers["vary"] == "Accept-Language, Cookie"
