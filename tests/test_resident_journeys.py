"""Every resident journey, end to end in a real Chromium, in each platform language and at a
desktop's and a phone's width: each journey runs once per language, the sizes alternating, so
every journey is seen at both sizes and every page in every language. axe-core checks each
page and step; forms are sent with the keyboard. Set INVITES_TEST_SCREENSHOTS to a folder to
keep a picture of each step.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Browser, Page

from domain import i18n
from domain.clock import clock
from domain.models import User
from domain.users.passwords import hash_password
from tests.browser import DESKTOP, PHONE, Visit, browse, check_accessibility
from tests.conftest import DATABASE_KIND
from tests.fixtures import SIGN_IN, GraphQLClient, SmtpSink, wrong_code
from tests.invitations_helpers import GENERATE, ME, PASSWORD, create
from tests.test_accounts import CONFIRM_LINK, SIGN_UP, code_in
from tests.test_invitations import platform
from tests.test_password_reset import LINK as RESET_LINK

pytestmark = pytest.mark.browser

NORTH = [{"key": "neighbourhood", "value": "north"}]
INVITE_LINK = re.compile(r"https://participate\.example\.org(/invite#token=[0-9A-Z-]{17})")
PLATFORM = "Participate Example"


def each_language(*sizes: dict[str, int], on_sqlite: str) -> Any:
    """The three languages, at the sizes given in turn. The pages do the same whatever the
    database: on SQLite (the second run of the suite) one language proves the journey there,
    and keeps the suite's time in check."""
    runs = zip(("en", "nl-BE", "fr-BE"), sizes, strict=True)
    return pytest.mark.parametrize(
        ("locale", "size"),
        [
            pytest.param(locale, size, id=f"{locale}-{'desktop' if size == DESKTOP else 'phone'}")
            for locale, size in runs
            if DATABASE_KIND != "sqlite" or locale == on_sqlite
        ],
    )


def words(locale: str) -> i18n.Words:
    return i18n.words(locale, platform=PLATFORM)


async def looks_right(visit: Visit, name: str, page: Page | None = None) -> None:
    """axe-core finds nothing serious, nothing is wider than the window, and a picture."""
    page = page or visit.page
    await check_accessibility(page)
    width = await page.evaluate("window.innerWidth")
    assert await page.evaluate("document.documentElement.scrollWidth") <= width, name
    await visit.screenshot(name, page)


async def text(page: Page, selector: str) -> str:
    """The element's text with the markup's line breaks and indents as single spaces (and
    French non-breaking spaces kept)."""
    return re.sub(r"[ \t\r\n]+", " ", await page.text_content(selector) or "").strip()


async def press_enter_in(page: Page, selector: str) -> None:
    await page.focus(selector)
    await page.keyboard.press("Enter")


async def fill_profile(page: Page, email: str | None = None) -> None:
    if email is not None:
        await page.fill("#email", email)
    await page.fill("#firstName", "Lea")
    await page.fill("#lastName", "Janssens")
    await page.fill("#password", PASSWORD)


async def continues_to_the_landing_page(visit: Visit, locale: str, email: str, page: Page) -> None:
    """The done step's button, by keyboard, to the landing page: signed in, in the language."""
    await press_enter_in(page, "#done-next")
    await page.wait_for_url(re.compile(rf"/welcome\?lang={re.escape(locale)}$"))
    t = words(locale)
    assert await page.get_attribute("html", "lang") == locale
    assert await text(page, "h1") == t("welcome.title")
    assert await text(page, "#signed-in") == t("welcome.signed_in", email=email)


async def signed_in_user(visit: Visit, gql: GraphQLClient) -> dict[str, Any]:
    """Who the browser's session cookie signs in, asked over GraphQL as any client would."""
    me: dict[str, Any] = (await gql(ME, token=await visit.session_token()))["me"]
    assert me is not None
    return me


# The registration field and the smart group in each language: (field, smart group).
TITLES = {
    "en": ("Neighbourhood", "Northerners"),
    "nl-BE": ("Wijk", "Noorderlingen"),
    "fr-BE": ("Quartier", "Gens du Nord"),
}


async def platform_in_every_language() -> dict[str, Any]:
    """The sample platform, its field, options and smart group titled in every language."""
    from domain.groups.service import update_group
    from domain.models import RegistrationField
    from domain.registration_fields.service import update_registration_field

    data = await platform()
    field = await RegistrationField.get(key="neighbourhood")
    await update_registration_field(
        field.id,
        titles={locale: titles[0] for locale, titles in TITLES.items() if locale != "en"},
        options=[
            {"key": "north", "title": "North", "titles": {"nl-BE": "Noord", "fr-BE": "Nord"}},
            {"key": "south", "title": "South", "titles": {"nl-BE": "Zuid", "fr-BE": "Sud"}},
        ],
    )
    await update_group(
        data["smart"].id,
        titles={locale: titles[1] for locale, titles in TITLES.items() if locale != "en"},
    )
    return data


async def a_resident(email: str, locale: str, **values: Any) -> User:
    """Someone with an account (and the password PASSWORD), living in the south."""
    return await User.create(
        email=email,
        first_name="Sam",
        last_name="Peeters",
        locale=locale,
        password_hash=await hash_password(PASSWORD),
        email_confirmed_at=await clock.now(),
        registration_field_values={"neighbourhood": "south", **values},
    )


# ---------------------------------------------------------------------------------------------
# 1. An invitation by mail -> the landing page


@each_language(DESKTOP, PHONE, DESKTOP, on_sqlite="en")
async def test_an_email_invitation_leads_to_the_landing_page_signed_in_with_the_grants(
    locale: str,
    size: dict[str, int],
    admin: GraphQLClient,
    gql: GraphQLClient,
    smtp_sink: SmtpSink,
    run_worker: Any,
    browser: Browser,
    live_server: str,
) -> None:
    data = await platform()
    email = f"mail.{locale.lower()}@example.org"
    groups = [str(data["manual"].id), str(data["smart"].id)]
    await create(admin, email, groupIds=groups, registrationFieldValues=NORTH, locale=locale)
    await run_worker()
    [mail] = smtp_sink.to(email)
    link = INVITE_LINK.search(mail.text)
    assert link, mail.text
    t = words(locale)

    async with browse(browser, live_server, viewport=size) as visit:  # an English browser
        page = visit.page
        await page.goto(link.group(1))
        await page.wait_for_selector("#step-profile:not([hidden])")
        assert await page.get_attribute("html", "lang") == locale  # the invitation's language
        assert await text(page, "h1") == t("invite.title")
        await looks_right(visit, f"mail-{locale}-1-profile")

        await fill_profile(page)
        await page.keyboard.press("Enter")  # in the password box
        await page.wait_for_selector("#step-done:not([hidden])")
        assert await page.evaluate("document.activeElement.id") == "done-title"
        assert await text(page, "#done-text") == t("invite.done")
        await looks_right(visit, f"mail-{locale}-2-done")

        await continues_to_the_landing_page(visit, locale, email, page)
        await looks_right(visit, f"mail-{locale}-3-landing")
        me = await signed_in_user(visit, gql)
    assert me["email"] == email and me["locale"] == locale
    assert sorted(g["title"] for g in me["groups"]) == ["North Avenue Residents", "Northerners"]


# ---------------------------------------------------------------------------------------------
# 2. A letter's code -> the confirmation link from the mail -> signed in, grants applied


async def a_letter(admin: GraphQLClient, locale: str, group_id: str) -> str:
    generated = await admin(
        GENERATE, {"count": 1, "options": {"groupIds": [group_id], "locale": locale}}
    )
    token: str = generated["generateInvitationCodes"]["invitations"][0]["token"]
    return token


async def register_with_the_letter(page: Page, code: str, locale: str, email: str) -> None:
    """Type the letter's code, then the profile with an address; the page asks for its code."""
    await page.goto("/invite")
    await page.focus("#code")
    await page.keyboard.type(code.lower().replace("-", ""))
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#step-profile:not([hidden])")
    assert await page.get_attribute("html", "lang") == locale  # the letter's language
    await fill_profile(page, email)
    await page.select_option("#field-neighbourhood", "north")
    await press_enter_in(page, "#password")
    await page.wait_for_selector("#step-confirm:not([hidden])")
    assert await page.evaluate("document.activeElement.id") == "confirm-title"


@each_language(PHONE, DESKTOP, PHONE, on_sqlite="nl-BE")
async def test_a_letters_code_then_the_link_in_the_mail_signs_in_with_the_letters_grants(
    locale: str,
    size: dict[str, int],
    admin: GraphQLClient,
    gql: GraphQLClient,
    smtp_sink: SmtpSink,
    run_worker: Any,
    browser: Browser,
    live_server: str,
) -> None:
    data = await platform_in_every_language()
    code = await a_letter(admin, locale, str(data["manual"].id))
    email = f"letter.{locale.lower()}@example.org"
    t = words(locale)

    async with browse(browser, live_server, viewport=size) as visit:
        page = visit.page
        await register_with_the_letter(page, code, locale, email)
        assert await text(page, "label[for=field-neighbourhood]") == f"{TITLES[locale][0]} *"
        assert await text(page, "#confirm-intro") == t("confirm.step_intro", email=email)
        await looks_right(visit, f"letter-link-{locale}-1-confirm-step")
        # No account and no session yet: the letter's grants wait for the address.
        assert await page.context.cookies() == []
        assert not await User.filter(email=email).exists()

        await run_worker()
        [mail] = smtp_sink.to(email)
        assert mail.subject == t("mail.confirm_subject")
        link = CONFIRM_LINK.search(mail.text)
        assert link, mail.text
        # The mail's link, opened beside the page: this browser made the registration, so
        # one click confirms it.
        tab = await visit.new_tab()
        await tab.goto(link.group(0).removeprefix("https://participate.example.org"))
        await tab.wait_for_selector("#step-done:not([hidden])")
        assert await tab.get_attribute("html", "lang") == locale
        assert await text(tab, "h1") == t("confirm.title")
        assert await text(tab, "#done-title") == t("confirm.done_title")
        assert "#" not in tab.url  # the code left the address bar
        assert await tab.evaluate("localStorage.getItem('invitations.registration')") is None
        await looks_right(visit, f"letter-link-{locale}-2-confirmed", tab)

        await continues_to_the_landing_page(visit, locale, email, tab)
        await looks_right(visit, f"letter-link-{locale}-3-landing", tab)
        me = await signed_in_user(visit, gql)
    assert me["email"] == email and me["emailConfirmed"] is True
    assert sorted(g["title"] for g in me["groups"]) == ["North Avenue Residents", "Northerners"]


# ---------------------------------------------------------------------------------------------
# 3. A letter's code -> the confirmation code typed (after correcting a mistyped address)


@each_language(DESKTOP, PHONE, DESKTOP, on_sqlite="fr-BE")
async def test_a_letters_code_then_the_typed_code_after_correcting_the_address(
    locale: str,
    size: dict[str, int],
    admin: GraphQLClient,
    gql: GraphQLClient,
    smtp_sink: SmtpSink,
    run_worker: Any,
    browser: Browser,
    live_server: str,
) -> None:
    data = await platform()
    code = await a_letter(admin, locale, str(data["manual"].id))
    mistyped = f"typed.{locale.lower()}@exmaple.org"
    email = f"typed.{locale.lower()}@example.org"
    t = words(locale)

    async with browse(browser, live_server, viewport=size) as visit:
        page = visit.page
        await register_with_the_letter(page, code, locale, mistyped)
        assert await text(page, "#confirm-intro") == t("confirm.step_intro", email=mistyped)
        # From the step's title, the keyboard meets the code box, its button, then the rest.
        order = []
        for _ in range(4):
            await page.keyboard.press("Tab")
            order.append(
                await page.evaluate("document.activeElement.id || document.activeElement.type")
            )
        assert order == ["confirm-code", "submit", "confirm-resend", "confirm-change"]

        # The address was mistyped: correct it, by keyboard.
        await press_enter_in(page, "#confirm-change")
        assert await page.get_attribute("#confirm-change", "aria-expanded") == "true"
        assert await page.evaluate("document.activeElement.id") == "confirm-email"
        await looks_right(visit, f"letter-typed-{locale}-1-correct-the-address")
        await page.fill("#confirm-email", email)
        await page.keyboard.press("Enter")
        await page.wait_for_selector("#confirm-change-form", state="hidden")
        assert await text(page, "#confirm-note") == t("confirm.changed", email=email)
        assert await text(page, "#confirm-intro") == t("confirm.step_intro", email=email)
        # And a new code, as someone whose mail is slow would ask.
        await press_enter_in(page, "#confirm-resend")
        await page.wait_for_function(
            "text => document.getElementById('confirm-note').textContent === text",
            arg=t("confirm.resent", email=email),
        )

        await run_worker()
        assert smtp_sink.to(mistyped) == []  # its code was replaced before it left
        [mail] = smtp_sink.to(email)  # only the newest code is sent
        right = code_in(mail)
        wrong = wrong_code(right)
        await page.fill("#confirm-code", wrong)
        await page.keyboard.press("Enter")
        await page.wait_for_selector("#confirm-code-error:not(:empty)")
        assert await text(page, "#confirm-code-error") == t("confirm.invalid_code")
        assert await page.get_attribute("#confirm-code", "aria-invalid") == "true"
        assert await page.evaluate("document.activeElement.id") == "confirm-code"
        await looks_right(visit, f"letter-typed-{locale}-2-wrong-code")

        await page.fill("#confirm-code", right)
        await page.keyboard.press("Enter")
        await page.wait_for_selector("#step-done:not([hidden])")
        assert await text(page, "#done-confirmed") == t("invite.done_confirmed")
        assert await page.is_hidden("#done-text")
        await looks_right(visit, f"letter-typed-{locale}-3-done")
        await continues_to_the_landing_page(visit, locale, email, page)
        me = await signed_in_user(visit, gql)
    assert me["email"] == email and me["locale"] == locale
    assert sorted(g["title"] for g in me["groups"]) == ["North Avenue Residents", "Northerners"]
    assert not await User.filter(email=mistyped).exists()


# ---------------------------------------------------------------------------------------------
# 4. A forgotten password -> the mail -> a new password -> signed in, other sessions gone


@each_language(PHONE, DESKTOP, PHONE, on_sqlite="en")
async def test_a_forgotten_password_is_chosen_anew_from_the_mail_and_other_sessions_end(
    locale: str,
    size: dict[str, int],
    gql: GraphQLClient,
    smtp_sink: SmtpSink,
    run_worker: Any,
    browser: Browser,
    live_server: str,
) -> None:
    email = f"forgot.{locale.lower()}@example.org"
    await a_resident(email, locale)
    elsewhere = (await gql(SIGN_IN, {"email": email, "password": PASSWORD}))["signIn"]
    t = words(locale)

    async with browse(browser, live_server, locale=locale, viewport=size) as visit:
        page = visit.page
        # From the sign-in form, by keyboard.
        await page.goto("/account")
        await page.wait_for_selector("#step-sign-in:not([hidden])")
        await press_enter_in(page, "#sign-in-reset")
        await page.wait_for_url(re.compile(r"/reset-password$"))
        assert await text(page, "h1") == t("reset.title")
        await looks_right(visit, f"reset-{locale}-1-ask")
        await page.fill("#email", email)
        await page.keyboard.press("Enter")
        await page.wait_for_selector("#step-sent:not([hidden])")
        minutes = 60  # INVITES_PASSWORD_RESET_TTL_MINUTES
        assert await text(page, "#sent-text") == t.plural("reset.sent", minutes, email=email)
        await looks_right(visit, f"reset-{locale}-2-sent")

        await run_worker()
        [mail] = smtp_sink.to(email)
        assert mail.subject == t("mail.reset_subject")
        link = RESET_LINK.search(mail.text)
        assert link, mail.text
        path = link.group(0).removeprefix("https://participate.example.org")
        assert path.startswith(f"/reset-password?lang={locale}#token=")
        await page.goto(path)
        await page.wait_for_selector("#step-choose:not([hidden])")
        assert "#" not in page.url
        await page.fill("#password", "password1234")
        await page.keyboard.press("Enter")
        await page.wait_for_selector("#password-error:not(:empty)")
        if locale != "en":
            assert await text(page, "#password-error") == t("invite.weak_password")
        await looks_right(visit, f"reset-{locale}-3-choose")
        await page.fill("#password", "a brand new lighthouse passphrase 5")
        await page.keyboard.press("Enter")
        await page.wait_for_selector("#step-done:not([hidden])")
        assert await text(page, "#done-title") == t("reset.done_title")
        await looks_right(visit, f"reset-{locale}-4-done")
        await continues_to_the_landing_page(visit, locale, email, page)
        me = await signed_in_user(visit, gql)
        assert me["email"] == email

        # The link works once, and says so as it opens, before a password is typed.
        await page.goto(path)
        await page.wait_for_selector("#expired:not([hidden])")
        assert await page.is_hidden("#step-choose")
        assert await text(page, "#expired-title") == t("reset.expired_title")
        assert await page.is_visible("#request-form")
    # The session opened elsewhere before the reset has ended.
    assert (await gql(ME, token=elsewhere["session"]["token"]))["me"] is None


# ---------------------------------------------------------------------------------------------
# 5. An existing user updates a registration field and joins the smart group


@each_language(DESKTOP, PHONE, DESKTOP, on_sqlite="nl-BE")
async def test_a_resident_signs_in_updates_a_field_and_joins_the_smart_group(
    locale: str,
    size: dict[str, int],
    gql: GraphQLClient,
    browser: Browser,
    live_server: str,
) -> None:
    await platform_in_every_language()
    email = f"moved.{locale.lower()}@example.org"
    await a_resident(email, locale)
    t = words(locale)

    async with browse(browser, live_server, locale=locale, viewport=size) as visit:
        page = visit.page
        await page.goto("/account")
        await page.wait_for_selector("#step-sign-in:not([hidden])")
        assert await text(page, "h1") == t("account.title")
        await looks_right(visit, f"account-{locale}-1-sign-in")
        await page.fill("#email", email)
        await page.fill("#password", "not the password at all 1")
        await page.keyboard.press("Enter")
        await page.wait_for_selector("#sign-in-status:not(:empty)")
        assert await text(page, "#sign-in-status") == t("account.wrong_credentials")
        await page.fill("#password", PASSWORD)
        await page.keyboard.press("Enter")

        await page.wait_for_selector("#step-account:not([hidden])")
        assert await text(page, "#signed-in-as") == t("account.signed_in_as", email=email)
        assert await page.input_value("#field-neighbourhood") == "south"
        assert await text(page, "label[for=field-neighbourhood]") == f"{TITLES[locale][0]} *"
        assert await text(page, "#groups-none") == t("account.groups_none")
        await looks_right(visit, f"account-{locale}-2-signed-in")

        # Moved north: the smart group for the north follows.
        await page.select_option("#field-neighbourhood", "north")
        await page.fill("#firstName", "Samira")
        await page.keyboard.press("Enter")
        await page.wait_for_function(
            "text => document.getElementById('profile-progress').textContent === text",
            arg=t("account.saved"),
        )
        # The group's title in the page's language.
        assert await page.locator("#groups li").all_text_contents() == [TITLES[locale][1]]
        await looks_right(visit, f"account-{locale}-3-saved")
        me = await signed_in_user(visit, gql)
        assert me["firstName"] == "Samira"
        assert me["groups"] == [{"title": "Northerners"}]

        token = await visit.session_token()
        await press_enter_in(page, "#sign-out")
        await page.wait_for_selector("#step-sign-in:not([hidden])")
        assert await text(page, "#sign-in-note") == t("account.signed_out")
    assert (await gql(ME, token=token))["me"] is None


# ---------------------------------------------------------------------------------------------
# The other ways through the pages


async def test_signing_in_before_confirming_leads_to_the_confirmation_step_with_that_password(
    gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any, browser: Browser, live_server: str
) -> None:
    email = "early@example.org"
    signed_up = await gql(
        SIGN_UP, {"input": {"email": email, "password": PASSWORD, "firstName": "Eva"}}
    )
    assert signed_up["signUp"]["ok"] is True
    await run_worker()
    [mail] = smtp_sink.to(email)
    t = words("en")

    async with browse(browser, live_server, viewport=PHONE) as visit:
        page = visit.page
        await page.goto("/account")
        await page.fill("#email", email)
        await page.fill("#password", PASSWORD)
        await page.keyboard.press("Enter")
        await page.wait_for_selector("#step-confirm:not([hidden])")
        assert await text(page, "#confirm-intro") == t("confirm.step_intro", email=email)
        await looks_right(visit, "early-1-confirm-step")
        await page.fill("#confirm-code", code_in(mail))
        await page.keyboard.press("Enter")
        await page.wait_for_selector("#step-account:not([hidden])")
        assert await text(page, "#signed-in-as") == t("account.signed_in_as", email=email)
        assert await page.input_value("#firstName") == "Eva"
        me = await signed_in_user(visit, gql)
    assert me["emailConfirmed"] is True


async def test_the_link_opened_in_another_browser_asks_the_password_chosen_with_it(
    gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any, browser: Browser, live_server: str
) -> None:
    email = "other.device@example.org"
    await gql(SIGN_UP, {"input": {"email": email, "password": PASSWORD, "locale": "fr-BE"}})
    await run_worker()
    [mail] = smtp_sink.to(email)
    link = CONFIRM_LINK.search(mail.text)
    assert link
    t = words("fr-BE")

    async with browse(browser, live_server, viewport=PHONE) as visit:  # no registration here
        page = visit.page
        await page.goto(link.group(0).removeprefix("https://participate.example.org"))
        await page.wait_for_selector("#password-part:not([hidden])")
        assert await page.get_attribute("html", "lang") == "fr-BE"  # the mail's language
        assert await page.input_value("#email") == email
        assert await page.input_value("#code") == link.group(2)  # the link carries the digits alone
        assert await page.evaluate("document.activeElement.id") == "password"
        assert (
            await page.get_attribute("#password-part a", "href") == "/reset-password?lang=fr-BE"
        )  # forgot it, or not them
        await looks_right(visit, "other-device-1-password")
        await page.fill("#password", "not the password at all 1")
        await page.keyboard.press("Enter")
        await page.wait_for_selector("#password-error:not(:empty)")
        assert await text(page, "#password-error") == t("confirm.wrong_password")
        await page.fill("#password", PASSWORD)
        await page.keyboard.press("Enter")
        await page.wait_for_selector("#step-done:not([hidden])")
        await looks_right(visit, "other-device-2-done")
        me = await signed_in_user(visit, gql)
    assert me["email"] == email and me["locale"] == "fr-BE"


async def test_a_resident_changes_the_password_and_the_address_on_the_account_page(
    gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any, browser: Browser, live_server: str
) -> None:
    email = "changes@example.org"
    await a_resident(email, "nl-BE")
    elsewhere = (await gql(SIGN_IN, {"email": email, "password": PASSWORD}))["signIn"]
    t = words("nl-BE")

    async with browse(browser, live_server, viewport=DESKTOP) as visit:  # an English browser
        page = visit.page
        await page.goto("/account")
        await page.fill("#email", email)
        await page.fill("#password", PASSWORD)
        await page.keyboard.press("Enter")
        # Signed in, the page speaks the account's language.
        await page.wait_for_url(re.compile(r"/account\?lang=nl-BE$"))
        await page.wait_for_selector("#step-account:not([hidden])")
        assert await text(page, "h1") == t("account.title")

        await page.fill("#currentPassword", "not the password at all 1")
        await page.fill("#newPassword", "a brand new lighthouse passphrase 5")
        await page.keyboard.press("Enter")
        await page.wait_for_selector("#currentPassword-error:not(:empty)")
        assert await text(page, "#currentPassword-error") == t("account.wrong_password")
        await page.fill("#currentPassword", PASSWORD)
        await page.focus("#newPassword")
        await page.keyboard.press("Enter")
        await page.wait_for_function(
            "text => document.getElementById('password-progress').textContent === text",
            arg=t("account.password_changed"),
        )
        assert (await gql(ME, token=elsewhere["session"]["token"]))["me"] is None

        await page.fill("#newEmail", "changed@example.org")
        await page.fill("#emailPassword", "a brand new lighthouse passphrase 5")
        await page.keyboard.press("Enter")
        await page.wait_for_selector("#email-code-form:not([hidden])")
        assert await text(page, "#email-code-intro") == t(
            "account.email_code_intro", email="changed@example.org"
        )
        await looks_right(visit, "changes-1-address-code")
        await run_worker()
        [mail] = smtp_sink.to("changed@example.org")
        await page.fill("#emailCode", code_in(mail))
        await page.keyboard.press("Enter")
        await page.wait_for_selector("#email-code-form", state="hidden")
        assert await text(page, "#account-note") == t(
            "account.email_changed", email="changed@example.org"
        )
        assert await text(page, "#signed-in-as") == t(
            "account.signed_in_as", email="changed@example.org"
        )
        me = await signed_in_user(visit, gql)  # the new session, kept in the cookie
    assert me["email"] == "changed@example.org"


async def test_asking_too_often_for_a_link_says_how_long_to_wait_in_the_right_plural(
    browser: Browser, live_server: str
) -> None:
    async with browse(browser, live_server, locale="nl-BE", viewport=PHONE) as visit:
        page = visit.page
        await page.goto("/reset-password")
        for _ in range(4):  # three an hour for an address
            await page.fill("#email", "often@example.org")
            await page.keyboard.press("Enter")
            await page.wait_for_selector("#step-sent:not([hidden]), #request-status:not(:empty)")
            if await page.is_visible("#step-sent"):
                await press_enter_in(page, "#again")
        message = await text(page, "#request-status")
    # The fourth in an hour: how long to wait, in minutes or (from an hour on) hours, each
    # number with its own form.
    match = re.fullmatch(r"Te veel pogingen\. Wacht (\d+) (minuut|minuten|uur) en .*", message)
    assert match, message
    count, unit = int(match.group(1)), match.group(2)
    assert unit == "uur" or (unit == "minuut") == (count == 1)
