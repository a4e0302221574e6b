"""/confirm in a real Chromium, after the address is confirmed: reloaded, or its mail's link
opened again elsewhere, the page says the address is confirmed and leads on; and its title at
a phone's width. axe-core on each step.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser, Page

from tests.browser import DESKTOP, PHONE, browse, check_accessibility
from tests.fixtures import GraphQLClient, SmtpSink
from tests.test_accounts import CONFIRM_LINK, PASSWORD, SIGN_UP
from tests.test_resident_journeys import looks_right, text, words

pytestmark = pytest.mark.browser

# The word "email" in each title: a line may not break inside it ("e-" / "mail").
EMAIL_WORD = {"en": "email", "nl-BE": "e-mailadres", "fr-BE": "e-mail"}


async def lines_of(page: Page, selector: str, word: str) -> int:
    """On how many lines the word shows, in the element's text (its hyphen breaking or not)."""
    return int(
        await page.evaluate(
            """([selector, word]) => {
                const node = document.querySelector(selector).firstChild;
                const start = node.textContent.replaceAll('\\u2011', '-').indexOf(word);
                if (start < 0) throw new Error(`${word} is not in ${node.textContent}`);
                const range = document.createRange();
                range.setStart(node, start);
                range.setEnd(node, start + word.length);
                return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
            }""",
            [selector, word],
        )
    )


@pytest.mark.parametrize("locale", ["en", "nl-BE", "fr-BE"])
async def test_the_title_keeps_email_whole_at_a_phones_width(
    locale: str, browser: Browser, live_server: str
) -> None:
    t = words(locale)
    async with browse(browser, live_server, viewport=PHONE) as visit:
        page = visit.page
        await page.goto(f"/confirm?lang={locale}")
        await page.wait_for_selector("#form")
        assert await page.text_content("h1") == t("confirm.title")
        assert await lines_of(page, "h1", EMAIL_WORD[locale]) == 1
        await check_accessibility(page)


async def a_registration(gql: GraphQLClient, email: str, locale: str) -> None:
    """A sign-up made elsewhere (an app): its code is mailed."""
    signed_up = await gql(
        SIGN_UP, {"input": {"email": email, "password": PASSWORD, "locale": locale}}
    )
    assert signed_up["signUp"]["ok"] is True


async def link_to(smtp_sink: SmtpSink, email: str) -> str:
    [mail] = smtp_sink.to(email)
    link = CONFIRM_LINK.search(mail.text)
    assert link, mail.text
    return link.group(0).removeprefix("https://participate.example.org")


@pytest.mark.parametrize(("locale", "size"), [("en", DESKTOP), ("nl-BE", PHONE), ("fr-BE", PHONE)])
async def test_once_confirmed_the_page_and_its_link_say_so_and_lead_on(
    locale: str,
    size: dict[str, int],
    gql: GraphQLClient,
    smtp_sink: SmtpSink,
    run_worker: Any,
    browser: Browser,
    live_server: str,
) -> None:
    email = f"confirmed.{locale.lower()}@example.org"
    await a_registration(gql, email, locale)
    await run_worker()
    path = await link_to(smtp_sink, email)
    t = words(locale)

    async with browse(browser, live_server, viewport=size) as visit:
        page = visit.page
        await page.goto(path)
        await page.wait_for_selector("#password-part:not([hidden])")
        await page.fill("#password", PASSWORD)
        await page.keyboard.press("Enter")
        await page.wait_for_selector("#step-done:not([hidden])")

        # Reloaded: signed in, the address confirmed, the way on; no form to fill again.
        await page.reload()
        await page.wait_for_selector("#step-signed-in")
        assert await page.is_hidden("#step-form")
        assert await text(page, "#signed-in") == t("confirm.signed_in", email=email)
        assert await page.get_attribute("#signed-in-next", "href") == f"/welcome?lang={locale}"
        assert await text(page, "#signed-in-next") == t("invite.done_continue")
        assert await page.get_attribute("#signed-in-account", "href") == f"/account?lang={locale}"
        await looks_right(visit, f"confirm-again-{locale}-1-reloaded")

        # The mail's link again, in this browser: the same.
        tab = await visit.new_tab()
        await tab.goto(path)
        await tab.wait_for_selector("#step-signed-in")
        assert await tab.is_hidden("#step-form")
        assert await tab.is_hidden("#step-already")
        await tab.close()

        # The link of another address, pasted into this page's address bar while signed in:
        # its form.
        other = f"other.{locale.lower()}@example.org"
        await a_registration(gql, other, locale)
        await run_worker()
        await page.goto(await link_to(smtp_sink, other))
        await page.wait_for_selector("#password-part:not([hidden])")
        assert await page.is_hidden("#step-signed-in")
        assert await page.input_value("#email") == other
        assert await page.evaluate("document.activeElement.id") == "password"

    # The same link in another browser: the address is confirmed, sign in; nothing is wrong.
    async with browse(browser, live_server, viewport=size) as visit:
        page = visit.page
        await page.goto(path)
        await page.wait_for_selector("#step-already:not([hidden])")
        assert await page.is_hidden("#step-form")
        assert await page.evaluate("document.activeElement.id") == "already-title"
        assert await text(page, "#already-title") == t("confirm.already_title")
        assert await text(page, "#already-message") == t("confirm.already", email=email)
        assert await page.get_attribute("#already-sign-in", "href") == f"/account?lang={locale}"
        await looks_right(visit, f"confirm-again-{locale}-2-other-browser")
        await page.click("#already-sign-in")
        await page.wait_for_selector("#step-sign-in:not([hidden])")
