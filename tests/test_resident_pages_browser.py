"""The residents' pages in a real Chromium, where a resident could get stuck or lost: a new
address asked for by mistake, the focus after errors and after saving, the reset page's
"ask again", the confirmation page's title, the roles /account shows. In Dutch or French,
with axe-core on each step.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Page

from domain.models import RoleKind
from domain.projects.service import create_project
from domain.roles.service import grant
from tests.browser import DESKTOP, PHONE, Visit, check_accessibility
from tests.fixtures import GraphQLClient, SmtpSink
from tests.invitations_helpers import PASSWORD, create
from tests.test_accounts import code_in
from tests.test_invitations import platform
from tests.test_invite_browser import link_from
from tests.test_resident_journeys import a_resident, each_language, text, words

pytestmark = pytest.mark.browser


async def focused(page: Page) -> str:
    return str(await page.evaluate("document.activeElement.id"))


async def sign_in_to_account(page: Page, email: str, locale: str) -> None:
    await page.goto("/account")
    await page.fill("#email", email)
    await page.fill("#password", PASSWORD)
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(rf"/account\?lang={re.escape(locale)}$"))
    await page.wait_for_selector("#step-account:not([hidden])")


async def test_a_new_address_asked_for_by_mistake_can_get_a_new_code_or_be_corrected(
    smtp_sink: SmtpSink, run_worker: Any, visit: Visit
) -> None:
    await a_resident("dora@example.org", "nl-BE")
    t = words("nl-BE")
    page = visit.page
    await sign_in_to_account(page, "dora@example.org", "nl-BE")

    await page.fill("#newEmail", "dora@exmaple.org")  # a typo
    await page.fill("#emailPassword", PASSWORD)
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#email-code-step:not([hidden])")
    assert await focused(page) == "email-code-intro"
    await check_accessibility(page)
    await run_worker()

    # No mail came: a new code, by keyboard.
    await page.focus("#email-resend")
    assert await text(page, "#email-resend") == t("confirm.resend")
    await page.keyboard.press("Enter")
    await page.wait_for_function(
        "text => document.getElementById('email-code-note').textContent === text",
        arg=t("confirm.resent", email="dora@exmaple.org"),
    )
    await run_worker()
    assert len(smtp_sink.to("dora@exmaple.org")) == 2

    # The typo seen: back to the address form, with what was typed, to correct it.
    await page.keyboard.press("Tab")
    assert await focused(page) == "email-other"
    assert await text(page, "#email-other") == t("account.email_other")
    await page.keyboard.press("Enter")
    assert await page.is_hidden("#email-code-step")
    assert await focused(page) == "newEmail"
    assert await page.input_value("#newEmail") == "dora@exmaple.org"
    assert await page.input_value("#emailPassword") == PASSWORD
    assert await text(page, "#email-progress") == t("account.email_other_note")
    await check_accessibility(page)

    await page.fill("#newEmail", "dora@example.net")
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#email-code-step:not([hidden])")
    await run_worker()
    [mail] = smtp_sink.to("dora@example.net")
    await page.fill("#emailCode", code_in(mail))
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#email-code-step", state="hidden")
    assert await text(page, "#account-note") == t("account.email_changed", email="dora@example.net")


async def test_saving_a_new_language_says_saved_where_the_focus_is(visit: Visit) -> None:
    await a_resident("sam@example.org", "fr-BE")
    page = visit.page
    await sign_in_to_account(page, "sam@example.org", "fr-BE")
    await page.select_option("#locale", "nl-BE")
    await page.focus("#firstName")
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"/account\?lang=nl-BE$"))
    await page.wait_for_function(
        "text => document.getElementById('account-note').textContent === text",
        arg=words("nl-BE")("account.saved"),
    )
    assert await focused(page) == "account-note"
    await check_accessibility(page)


async def test_after_errors_the_focus_goes_to_the_first_field_in_the_page_and_empty_is_empty(
    admin: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any, visit: Visit
) -> None:
    await platform()  # a required registration field, below the password
    await create(admin, "lea@example.org", locale="nl-BE")
    await run_worker()
    page = visit.page
    await page.set_viewport_size(PHONE)
    await page.goto(link_from(smtp_sink, "lea@example.org"))
    await page.wait_for_selector("#step-profile:not([hidden])")
    await page.fill("#firstName", "Lea")
    await page.fill("#lastName", "Janssens")
    await page.focus("#firstName")
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#password-error:not(:empty)")
    t = words("nl-BE")
    assert await text(page, "#password-error") == t("invite.fill_in")
    assert await page.get_attribute("#field-neighbourhood", "aria-invalid") == "true"
    assert await focused(page) == "password"  # above the field, whatever the server's order
    await check_accessibility(page)


async def test_asking_again_for_a_reset_link_keeps_the_address(visit: Visit) -> None:
    page = visit.page
    await page.goto("/reset-password?lang=fr-BE")
    await page.fill("#email", "sam@exmaple.org")
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#step-sent:not([hidden])")
    await page.focus("#again")
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#step-request:not([hidden])")
    assert await page.input_value("#email") == "sam@exmaple.org"
    assert await focused(page) == "email"
    await check_accessibility(page)


async def test_the_confirmation_page_shows_its_title_once(visit: Visit) -> None:
    page = visit.page
    await page.goto("/confirm?lang=nl-BE")
    title = words("nl-BE")("confirm.title")
    headings = await page.locator("h1, h2").all_text_contents()
    assert headings.count(title) == 1, headings
    await check_accessibility(page)


async def signed_in(page: Page, email: str) -> None:
    """Signed in on /account (which comes again in the account's language, if another)."""
    await page.goto("/account")
    await page.fill("#email", email)
    await page.fill("#password", PASSWORD)
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#step-account:not([hidden]) #signed-in-as:not(:empty)")


@each_language(PHONE, DESKTOP, PHONE, on_sqlite="en")
async def test_the_account_page_says_what_its_owner_manages(
    locale: str, size: dict[str, int], visit: Visit
) -> None:
    petra = await a_resident("petra@example.org", locale)
    riverside = await create_project(title="Riverside park redesign")
    await create_project(title="Town hall square")  # someone else's
    await grant(petra.id, RoleKind.PROJECT_MANAGER, riverside.id)
    await a_resident("sam@example.org", locale)  # no role
    t = words(locale)
    page = visit.page
    await page.set_viewport_size(size)

    await signed_in(page, "petra@example.org")
    assert await page.is_visible("#roles")
    assert await text(page, "#roles-title") == t("account.roles_title")
    items = await page.locator("#roles-list li").all_text_contents()
    assert items == [t("account.role_project_manager", project="Riverside park redesign")]
    await check_accessibility(page)
    assert await page.evaluate("document.documentElement.scrollWidth") <= size["width"]

    # An administrator too: said first, then the projects.
    await grant(petra.id, RoleKind.ADMIN)
    await page.reload()
    await page.wait_for_selector("#step-account:not([hidden])")
    items = await page.locator("#roles-list li").all_text_contents()
    assert items == [
        t("account.role_admin"),
        t("account.role_project_manager", project="Riverside park redesign"),
    ]

    # Someone without a role sees no such section.
    await page.click("#sign-out")
    await page.wait_for_selector("#step-sign-in:not([hidden])")
    await signed_in(page, "sam@example.org")
    assert await page.is_hidden("#roles")
    assert await page.locator("#roles-list li").count() == 0


async def test_a_look_alike_new_address_is_said_to_be_one(visit: Visit) -> None:
    await a_resident("dora@example.org", "fr-BE")
    page = visit.page
    await page.set_viewport_size(PHONE)
    await signed_in(page, "dora@example.org")
    # "example" with a Cyrillic e (U+0435): it looks like another address.
    await page.fill("#newEmail", "dora@\u0435xample.org")
    await page.fill("#emailPassword", PASSWORD)
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#newEmail-error:not(:empty)")
    assert await text(page, "#newEmail-error") == words("fr-BE")("invite.email_mixed_scripts")
    assert await focused(page) == "newEmail"
    assert await page.is_hidden("#email-code-step")
    await check_accessibility(page)
