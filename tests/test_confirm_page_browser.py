"""/confirm in a real Chromium, after the address is confirmed: reloaded, or its mail's link
opened again elsewhere, the page says the address is confirmed and leads on; and its title at
a phone's width. axe-core on each step.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page

from tests.browser import PHONE, browse, check_accessibility
from tests.test_resident_journeys import words

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
