"""A resident with a letter's code at /invite, in a real Chromium on a phone: the page reloaded
during the confirmation step, the code typed again after a mistyped address, the language
switched mid-form, and the letter's QR link pasted into the code box.

The shared set-up (a real uvicorn, Debian's Chromium, axe-core) is in tests/browser.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.async_api import Page, expect

from domain.models import Invitation, InvitationStatus, Registration, User
from tests.admin_browser import sign_in
from tests.browser import PHONE, browse, check_accessibility
from tests.fixtures import GraphQLClient, SmtpSink
from tests.invitations_helpers import GENERATE, ME, PASSWORD, accept
from tests.test_accounts import CONFIRM_LINK, code_in
from tests.test_invitations import platform
from tests.test_resident_journeys import words

pytestmark = pytest.mark.browser

MISTYPED = "piet.janssens@gmial.com"
RIGHT = "piet.janssens@gmail.com"


async def a_letter(admin: GraphQLClient, locale: str) -> dict[str, Any]:
    data = await platform()
    options = {"groupIds": [str(data["manual"].id)], "locale": locale}
    generated = (await admin(GENERATE, {"count": 1, "options": options}))["generateInvitationCodes"]
    letter: dict[str, Any] = generated["invitations"][0]
    return letter


async def fits_a_phone(page: Page) -> None:
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await check_accessibility(page)


async def type_the_code(page: Page, code: str) -> None:
    await page.focus("#code")
    await page.keyboard.type(code.lower().replace("-", " "))
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#step-profile:not([hidden])")


async def fill_the_profile(page: Page, email: str) -> None:
    await page.fill("#email", email)
    await page.fill("#firstName", "Piet")
    await page.fill("#lastName", "Janssens")
    await page.select_option("#field-neighbourhood", "south")
    await page.fill("#password", PASSWORD)


@pytest.mark.parametrize("locale", ["nl-BE", "fr-BE"])
async def test_a_reloaded_page_resumes_the_confirmation_and_the_code_typed_again_starts_over(
    admin: GraphQLClient,
    gql: GraphQLClient,
    smtp_sink: SmtpSink,
    run_worker: Any,
    browser: object,
    live_server: str,
    locale: str,
) -> None:
    letter = await a_letter(admin, locale)
    words = {
        "nl-BE": ("Een andere code gebruiken", "Wacht op bevestiging van het adres"),
        "fr-BE": ("Utiliser un autre code", "En attente de confirmation de l'adresse"),
    }[locale]
    async with browse(browser, live_server, locale=locale, viewport=PHONE) as visit:  # type: ignore[arg-type]
        page = visit.page
        await page.goto("/invite")
        await type_the_code(page, letter["token"])
        assert await page.is_hidden("#waiting-notice")
        await fill_the_profile(page, MISTYPED)
        await page.press("#password", "Enter")
        await page.wait_for_selector("#step-confirm:not([hidden])")
        assert MISTYPED in (await page.text_content("#confirm-intro") or "")

        # The phone drops the tab while its owner reads the mail: the page comes back at the
        # confirmation step of the registration this browser made.
        await page.reload()
        await page.wait_for_selector("#step-confirm:not([hidden])")
        assert await page.is_hidden("#step-code")
        assert MISTYPED in (await page.text_content("#confirm-intro") or "")
        await fits_a_phone(page)

        # Meanwhile the console lists the letter as waiting, not accepted.
        console = await page.context.new_page()
        await sign_in(console, f"/admin/invitations?lang={locale}")
        await expect(console.locator("#invitations tbody tr .badge").first).to_have_text(words[1])
        await check_accessibility(console)
        await console.close()

        # The mail never comes (the address is mistyped): leave the step, by keyboard, and
        # type the code again. The page says which address waits, masked, and starts over.
        other = page.locator("#confirm-other-code")
        await expect(other).to_have_text(words[0])
        await other.focus()
        await page.keyboard.press("Enter")
        await page.wait_for_selector("#step-code:not([hidden])")
        assert await page.evaluate("document.activeElement.id") == "code"
        assert await page.evaluate("localStorage.getItem('invitations.registration')") is None
        await page.fill("#code", "")
        await type_the_code(page, letter["token"])
        notice = page.locator("#waiting-notice")
        await expect(notice).to_be_visible()
        await expect(notice).to_contain_text("p***@gmial.com")
        assert MISTYPED not in (await page.content())
        await fits_a_phone(page)

        await fill_the_profile(page, RIGHT)
        await page.press("#password", "Enter")
        await page.wait_for_selector("#step-confirm:not([hidden])")
        assert RIGHT in (await page.text_content("#confirm-intro") or "")
        assert not await Registration.filter(email=MISTYPED).exists()

        await run_worker()
        [mail] = smtp_sink.to(RIGHT)
        await page.fill("#confirm-code", code_in(mail))
        await page.press("#confirm-code", "Enter")
        await page.wait_for_selector("#step-done:not([hidden])")
        me = (await gql(ME, token=await visit.session_token()))["me"]
        assert me["email"] == RIGHT and me["groups"] == [{"title": "North Avenue Residents"}]
    stored = await Invitation.get(id=int(letter["id"]))
    assert stored.status is InvitationStatus.ACCEPTED
    assert await User.filter(email__in=[MISTYPED, RIGHT]).count() == 1


@pytest.mark.parametrize("locale", ["nl-BE", "fr-BE"])
async def test_switching_the_language_mid_form_keeps_all_but_the_password(
    admin: GraphQLClient, browser: object, live_server: str, locale: str
) -> None:
    from domain.models import FieldType
    from domain.registration_fields.service import create_registration_field

    await create_registration_field(
        key="member", title="I live here", type=FieldType.CHECKBOX, required=True
    )
    letter = await a_letter(admin, locale)
    switch_to = "fr-BE" if locale == "nl-BE" else "nl-BE"
    async with browse(browser, live_server, locale=switch_to, viewport=PHONE) as visit:  # type: ignore[arg-type]
        page = visit.page
        # The QR link of a letter in `locale`, in a browser speaking the other language.
        await page.goto(f"/invite#token={letter['token']}")
        await page.wait_for_selector("#step-profile:not([hidden])")
        assert await page.get_attribute("html", "lang") == locale
        await fill_the_profile(page, RIGHT)
        await page.check("#field-member")
        await page.focus(f"a[hreflang={switch_to}]")
        await page.keyboard.press("Enter")
        await page.wait_for_url(f"**lang={switch_to}**")
        await page.wait_for_selector("#step-profile:not([hidden])")
        assert await page.get_attribute("html", "lang") == switch_to
        assert await page.input_value("#email") == RIGHT
        assert await page.input_value("#firstName") == "Piet"
        assert await page.input_value("#lastName") == "Janssens"
        assert await page.input_value("#field-neighbourhood") == "south"
        assert await page.is_checked("#field-member")
        assert await page.input_value("#password") == ""
        # Kept for this tab, for the switch only: nothing stays behind.
        assert await page.evaluate("JSON.stringify(sessionStorage)") == "{}"
        assert await page.evaluate("JSON.stringify(localStorage)") == "{}"
        await fits_a_phone(page)


@pytest.mark.parametrize(
    "link",
    [
        "https://participate.example.org/invite#token={code}",
        "http://localhost:8123/invite?token={code}",
    ],
    ids=["fragment", "query"],
)
async def test_the_letters_qr_link_pasted_into_the_code_box_is_taken_for_its_code(
    admin: GraphQLClient, browser: object, live_server: str, link: str
) -> None:
    letter = await a_letter(admin, "nl-BE")
    async with browse(browser, live_server, locale="nl-BE", viewport=PHONE) as visit:  # type: ignore[arg-type]
        page = visit.page
        await page.goto("/invite")
        await page.context.grant_permissions(["clipboard-read", "clipboard-write"])
        pasted = link.format(code=letter["token"])
        await page.evaluate("text => navigator.clipboard.writeText(text)", pasted)
        await page.focus("#code")
        await page.keyboard.press("Control+V")
        await expect(page.locator("#code")).to_have_value(letter["token"])
        await page.keyboard.press("Enter")
        await page.wait_for_selector("#step-profile:not([hidden])")
        assert await page.is_hidden("#code-error") or not await page.text_content("#code-error")
        await fits_a_phone(page)
        # Typed or filled in one go (a reader app's "copy" then a long press): the same.
        await page.goto("/invite")
        await page.fill("#code", json.dumps(pasted)[1:-1])
        await page.press("#code", "Enter")
        await page.wait_for_selector("#step-profile:not([hidden])")


@pytest.mark.parametrize("locale", ["en", "nl-BE", "fr-BE"])
async def test_a_look_alike_address_typed_with_a_letters_code_is_said_to_be_one(
    admin: GraphQLClient, browser: object, live_server: str, locale: str
) -> None:
    letter = await a_letter(admin, locale)
    t = words(locale)
    async with browse(browser, live_server, locale=locale, viewport=PHONE) as visit:  # type: ignore[arg-type]
        page = visit.page
        await page.goto("/invite")
        await type_the_code(page, letter["token"])
        # "example" with a Cyrillic e (U+0435): it looks like another address.
        await fill_the_profile(page, "piet@\u0435xample.org")
        await page.press("#password", "Enter")
        await expect(page.locator("#email-error")).to_have_text(t("invite.email_mixed_scripts"))
        assert await page.get_attribute("#email", "aria-invalid") == "true"
        await fits_a_phone(page)
        if locale != "en":
            return
        # The other reasons an address is refused get their own words too.
        await page.fill("#email", "piet\u00a0janssens@example.org")
        await page.press("#password", "Enter")
        await expect(page.locator("#email-error")).to_have_text(
            t("invite.email_non_breaking_space")
        )
        await page.fill("#email", "piet@example.org;")
        await page.press("#password", "Enter")
        await expect(page.locator("#email-error")).to_have_text(
            t("invite.email_ends_with", character=";")
        )
    assert not await Registration.filter(invitation_id=int(letter["id"])).exists()


@pytest.mark.parametrize("locale", ["en", "nl-BE", "fr-BE"])
async def test_a_registration_cancelled_by_the_letters_code_typed_again_says_so_to_its_maker(
    admin: GraphQLClient,
    gql: GraphQLClient,
    smtp_sink: SmtpSink,
    run_worker: Any,
    browser: object,
    live_server: str,
    locale: str,
) -> None:
    letter = await a_letter(admin, locale)
    t = words(locale)
    async with browse(browser, live_server, locale=locale, viewport=PHONE) as visit:  # type: ignore[arg-type]
        page = visit.page
        await page.goto("/invite")
        await type_the_code(page, letter["token"])
        await fill_the_profile(page, RIGHT)
        await page.press("#password", "Enter")
        await page.wait_for_selector("#step-confirm:not([hidden])")
        await run_worker()
        [mail] = smtp_sink.to(RIGHT)

        # Meanwhile someone else types the same letter's code with another address.
        other = await accept(
            gql,
            letter["token"],
            email="someone.else@example.org",
            registrationFieldValues=[{"key": "neighbourhood", "value": "south"}],
        )
        assert other["errors"] == []

        await page.fill("#confirm-code", code_in(mail))
        await page.press("#confirm-code", "Enter")
        await expect(page.locator("#confirm-code-error")).to_have_text(
            t("confirm.letter_code_used_again")
        )
        await fits_a_phone(page)

        # The mail's link, opened in the same browser (which keeps the registration's token),
        # says the same, and asks no password: none would help.
        link = CONFIRM_LINK.search(mail.text)
        assert link, mail.text
        tab = await page.context.new_page()
        await tab.goto(link.group(0).removeprefix("https://participate.example.org"))
        await expect(tab.locator("#code-error")).to_have_text(t("confirm.letter_code_used_again"))
        assert await tab.is_hidden("#password-part")
        await fits_a_phone(tab)
        await tab.close()

        # What to do is at hand, by keyboard: type the letter's code again.
        await page.focus("#confirm-other-code")
        await page.keyboard.press("Enter")
        await page.wait_for_selector("#step-code:not([hidden])")
