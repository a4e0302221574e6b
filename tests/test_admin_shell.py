"""The admin console's frame at /admin: the sign-in it shows to whoever is not signed in (in
their language, back to the page asked for, never to another site), the navigation, the
language switch, sign-out, the page for a signed-in non-admin, and its security headers."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import expect

from api.admin import PAGES, safe_return_path
from api.graphql import CONSOLE_COOKIE
from tests.admin_browser import ADMIN_EMAIL, an_admin, sign_in
from tests.browser import DESKTOP, PHONE, browse, check_accessibility
from tests.fixtures import ADMIN_PASSWORD, SIGN_IN, GraphQLClient


@pytest.mark.parametrize(
    ("asked", "goes_to"),
    [
        ("/admin/invite?lang=nl-BE", "/admin/invite?lang=nl-BE"),
        ("/admin", "/admin"),
        ("//evil.example/admin", "/admin"),
        ("https://evil.example/admin", "/admin"),
        ("/\\evil.example/admin", "/admin"),
        ("/admin/../graphql", "/admin"),
        ("/graphql", "/admin"),
        ("/administrator", "/admin"),
        ("/admin/x\r\nSet-Cookie: a=b", "/admin"),
        ("", "/admin"),
    ],
)
def test_the_sign_in_returns_only_to_an_admin_page_of_this_service(
    asked: str, goes_to: str
) -> None:
    assert safe_return_path(asked) == goes_to


@pytest.mark.browser
async def test_an_admin_signs_in_on_the_page_asked_for_in_their_language(
    database: None, browser: object, live_server: str
) -> None:
    await an_admin(locale="nl-BE")
    async with browse(browser, live_server, locale="nl-BE", viewport=PHONE) as visit:  # type: ignore[arg-type]
        page = visit.page
        await page.goto("/admin/codes")
        await expect(page.locator("h1")).to_have_text("Aanmelden bij de beheerconsole")
        await check_accessibility(page)
        await visit.screenshot("sign-in-phone")
        await page.fill("#email", ADMIN_EMAIL)
        await page.fill("#password", "not the password")
        await page.click("main button[type=submit]")
        await expect(page.locator("#sign-in-error")).to_have_text(
            "Het e-mailadres of het wachtwoord klopt niet."
        )
        visit.problems.clear()  # Chromium reports the 401 of the refused sign-in
        # The address is kept and the focus waits in the password box for the next try.
        await expect(page.locator("#password")).to_be_focused()
        assert await page.input_value("#email") == ADMIN_EMAIL
        await page.keyboard.type("a sturdy admin passphrase 42")
        await page.keyboard.press("Enter")
        await expect(page.locator("#admin-email")).to_have_text(ADMIN_EMAIL)
        assert page.url.endswith("/admin/codes")
        [cookie] = await page.context.cookies()
        assert cookie["name"] == CONSOLE_COOKIE and cookie["httpOnly"]
        assert cookie["sameSite"] == "Strict"
        nav = page.locator("nav.sections a")
        await expect(nav).to_have_count(len(PAGES))
        await expect(page.locator("nav.sections a[aria-current=page]")).to_have_text(
            "Codes aanmaken"
        )
        await check_accessibility(page)

        # The switch changes the language, and the navigation keeps it.
        await page.click("nav.languages a[hreflang=fr-BE]")
        await expect(page.locator("nav.sections a[aria-current=page]")).to_have_text(
            "Générer des codes"
        )
        await page.click("nav.sections a >> text=Inviter des utilisateurs")
        assert page.url.endswith("/admin/invite?lang=fr-BE")
        await expect(page.locator("html")).to_have_attribute("lang", "fr-BE")

        await page.click("header button[type=submit]")
        await expect(page.locator("h1")).to_have_text("Se connecter à la console d'administration")
        assert await page.context.cookies() == []


@pytest.mark.browser
async def test_the_language_an_admin_picks_is_the_one_the_console_opens_in_next_time(
    database: None, browser: object, live_server: str
) -> None:
    from domain.models import User

    admin = await an_admin(locale="en")
    # A browser in Dutch: the sign-in page speaks it, the console the account's English.
    async with browse(browser, live_server, locale="nl-BE", viewport=PHONE) as visit:  # type: ignore[arg-type]
        page = visit.page
        await sign_in(page, "/admin/invitations")
        await expect(page.locator("html")).to_have_attribute("lang", "en")
        # Once the page's script runs (it writes the export's link): a person picks the
        # language on the page as they see it ready, not while it still loads.
        await expect(page.locator("#export")).to_have_attribute("href", re.compile("lang=en"))
        await page.locator("nav.languages a[hreflang=nl-BE]").focus()
        await page.keyboard.press("Enter")
        await expect(page.locator("html")).to_have_attribute("lang", "nl-BE")
        assert page.url.endswith("/admin/invitations?lang=nl-BE")
        # The next visit (a bookmark, no ?lang=) opens in Dutch: the account's language now.
        await page.goto("/admin/invitations")
        await expect(page.locator("html")).to_have_attribute("lang", "nl-BE")
        await expect(page.locator("nav.sections a[aria-current=page]")).to_have_text(
            "Alle uitnodigingen"
        )
        await check_accessibility(page)
    assert (await User.get(id=admin.id)).locale == "nl-BE"

    # Signed out, the switch only switches: there is no account to write to, until the
    # sign-in it leads to; then the account takes it too.
    async with browse(browser, live_server, locale="nl-BE") as visit:  # type: ignore[arg-type]
        page = visit.page
        await page.goto("/admin/codes")
        await page.click("nav.languages a[hreflang=fr-BE]")
        await expect(page.locator("html")).to_have_attribute("lang", "fr-BE")
        assert (await User.get(id=admin.id)).locale == "nl-BE"
        await page.fill("#email", ADMIN_EMAIL)
        await page.fill("#password", ADMIN_PASSWORD)
        await page.click("main button[type=submit]")
        await expect(page.locator("h1")).to_have_text("Générer des codes")
        assert (await User.get(id=admin.id)).locale == "fr-BE"
        await page.goto("/admin/invitations")
        await expect(page.locator("html")).to_have_attribute("lang", "fr-BE")


@pytest.mark.browser
async def test_admin_leads_a_signed_in_admin_to_the_first_task(
    database: None, browser: object, live_server: str
) -> None:
    await an_admin(locale="fr-BE")
    async with browse(browser, live_server, viewport=DESKTOP) as visit:  # type: ignore[arg-type]
        await sign_in(visit.page, "/admin")
        # The admin's own language, without a switch.
        await expect(visit.page.locator("html")).to_have_attribute("lang", "fr-BE")
        assert visit.page.url.endswith("/admin/invite")
        # The skip link leads the keyboard to the content.
        await visit.page.keyboard.press("Tab")
        await expect(visit.page.locator(".skip")).to_be_focused()


async def test_a_signed_in_user_who_is_not_an_admin_is_told_so_in_their_language(
    gql: GraphQLClient, http: httpx.AsyncClient
) -> None:
    from domain.models import Role
    from domain.users.service import create_admin

    former = await create_admin(email="former@participate.example.org", password=ADMIN_PASSWORD)
    data = await gql(
        SIGN_IN, {"email": "former@participate.example.org", "password": ADMIN_PASSWORD}
    )
    session = data["signIn"]["session"]
    await Role.filter(user=former).delete()
    http.cookies.set(CONSOLE_COOKIE, session["token"])
    response = await http.get("/admin/invite", headers={"Accept-Language": "nl-BE,nl;q=0.9"})
    assert response.status_code == 403
    assert "Dit account is geen beheerder" in response.text
    assert response.headers["content-language"] == "nl-BE"
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["cache-control"] == "no-store"


async def test_without_a_session_every_admin_page_shows_the_sign_in(
    database: None, http: httpx.AsyncClient
) -> None:
    for page in ["", *(f"/{page.path}" for page in PAGES)]:
        response = await http.get(f"/admin{page}")
        assert response.status_code == 200
        assert 'action="/admin/sign-in"' in response.text
        assert f'name="back" value="/admin{page}"' in response.text


async def test_forgot_password_on_the_sign_in_keeps_the_language_picked(
    database: None, http: httpx.AsyncClient
) -> None:
    shown = await http.get("/admin/invitations?lang=nl-BE")
    assert 'href="/reset-password?lang=nl-BE">Wachtwoord vergeten?</a>' in shown.text
    refused = await http.post(
        "/admin/sign-in?lang=fr-BE", data={"email": ADMIN_EMAIL, "password": "not it at all"}
    )
    assert 'href="/reset-password?lang=fr-BE"' in refused.text
    assert 'href="/reset-password"' in (await http.get("/admin")).text


async def test_a_sign_in_posted_by_another_site_signs_nobody_in(
    database: None, http: httpx.AsyncClient
) -> None:
    """Login CSRF: another site's page posting the form with its own account's credentials
    gets no session, and the admin is told why in their language."""
    await an_admin()
    credentials = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "back": "/admin/groups"}
    for headers in (
        {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "https://evil.example"},
    ):
        refused = await http.post(
            "/admin/sign-in", data=credentials, headers={**headers, "Accept-Language": "fr-BE"}
        )
        assert refused.status_code == 403
        assert "set-cookie" not in refused.headers
        assert "Cette connexion venait d'un autre site web et a donc été refusée." in (
            refused.text.replace("&#39;", "'")
        )
        assert ADMIN_EMAIL not in refused.text
    ours = await http.post(
        "/admin/sign-in",
        data=credentials,
        headers={"Origin": "https://participate.example.org", "Sec-Fetch-Site": "same-origin"},
    )
    assert ours.status_code == 303 and ours.headers["location"] == "/admin/groups"
    assert CONSOLE_COOKIE in ours.headers["set-cookie"]


async def test_the_sign_in_form_refuses_in_the_language_and_never_leads_elsewhere(
    database: None, http: httpx.AsyncClient
) -> None:
    from domain.models import Role
    from domain.users.service import create_admin

    await an_admin()
    resident = await create_admin(email="resident@participate.example.org", password=ADMIN_PASSWORD)
    await Role.filter(user=resident).delete()
    french = {"Accept-Language": "fr-BE"}

    refused = await http.post(
        "/admin/sign-in",
        data={"email": "resident@participate.example.org", "password": ADMIN_PASSWORD},
        headers=french,
    )
    assert refused.status_code == 403
    assert "Seuls les administrateurs peuvent utiliser" in refused.text
    assert CONSOLE_COOKIE not in refused.cookies

    empty = await http.post("/admin/sign-in", data={"email": ADMIN_EMAIL}, headers=french)
    assert empty.status_code == 400
    assert "Saisissez votre adresse e-mail et votre mot de passe." in empty.text
    assert f'value="{ADMIN_EMAIL}"' in empty.text

    signed_in = await http.post(
        "/admin/sign-in",
        data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "back": "//evil.example/admin"},
    )
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/admin"
    cookie = signed_in.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie

    # Signed in, /admin leads on to the first task; signing out ends the session. (The cookie
    # is Secure, the service's address being https: httpx keeps it off http, so it is set.)
    http.cookies.set(CONSOLE_COOKIE, signed_in.cookies[CONSOLE_COOKIE])
    home = await http.get("/admin")
    assert home.status_code == 303 and home.headers["location"] == "/admin/invite"
    out = await http.post("/admin/sign-out")
    assert out.status_code == 303 and out.headers["location"] == "/admin"
    http.cookies.clear()
    again = await http.get(  # the old cookie, kept: its session is over
        "/admin/invite",
        headers={"Cookie": f"{CONSOLE_COOKIE}={signed_in.cookies[CONSOLE_COOKIE]}"},
    )
    assert again.status_code == 200 and 'action="/admin/sign-in"' in again.text


async def test_the_smart_group_form_says_members_answers_prove_nothing(
    database: None, http: httpx.AsyncClient
) -> None:
    """Smart groups' rules test registration answers the members change themselves on
    /account: the form and the API's description say a smart group proves nothing."""
    import html

    from schema.app import schema

    await an_admin()
    signed_in = await http.post(
        "/admin/sign-in", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    )
    http.cookies.set(CONSOLE_COOKIE, signed_in.cookies[CONSOLE_COOKIE])
    for lang, words in {
        "en": "so a smart group proves nothing about them: do not use one to give access to",
        "nl-BE": "Een slimme groep bewijst dus niets over hen",
        "fr-BE": "un groupe intelligent ne prouve donc rien à leur sujet",
    }.items():
        page = await http.get(f"/admin/groups?lang={lang}")
        assert page.status_code == 200
        assert words in html.unescape(page.text), lang
    assert "a smart group proves nothing about its members" in " ".join(schema.as_str().split())


async def test_a_console_page_whose_session_ended_says_to_sign_in_again(
    browser: object, live_server: str
) -> None:
    """The session ended while the page was open (expired, signed out elsewhere): what the
    admin does next is refused as UNAUTHENTICATED, and the page says to sign in again."""
    from domain.models import Session

    await an_admin()
    async with browse(browser, live_server) as visit:  # type: ignore[arg-type]
        page = visit.page
        await sign_in(page, "/admin/groups")
        await Session.all().delete()
        await page.fill("#new-title-en", "City staff")
        await page.click("#new-group button[type=submit]")
        await expect(
            page.get_by_text("Your session has ended; what you typed is still here.")
        ).to_be_visible()
        assert await page.input_value("#new-title-en") == "City staff"
