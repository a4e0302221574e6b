"""/invite and the browser's Back and Forward buttons, in a real Chromium at a phone's width:
each step moved on to (the code, the profile, the confirmation) is a history entry, and coming
back to a step finds what was typed there, except the password. axe-core on each step.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page

from tests.browser import PHONE, browse, check_accessibility
from tests.fixtures import GraphQLClient
from tests.invitations_helpers import PASSWORD
from tests.test_resident_journeys import a_letter, platform_in_every_language, text, words

pytestmark = pytest.mark.browser


async def shown(page: Page, step: str) -> None:
    """The step is the one the page shows (and only it), ready to be used."""
    await page.wait_for_selector(f"#{step}:not([hidden])")
    for other in ("step-code", "step-profile", "step-confirm"):
        if other != step:
            assert await page.is_hidden(f"#{other}"), other


@pytest.mark.parametrize("locale", ["en", "nl-BE"])  # nl-BE: the page reloads in the letter's
async def test_back_and_forward_move_between_the_steps_keeping_what_was_typed(
    locale: str, admin: GraphQLClient, browser: Browser, live_server: str
) -> None:
    data = await platform_in_every_language()
    code = await a_letter(admin, locale, str(data["manual"].id))
    t = words(locale)
    async with browse(browser, live_server, viewport=PHONE) as visit:
        page = visit.page
        await page.goto("/invite")
        await shown(page, "step-code")
        await page.focus("#code")
        await page.keyboard.type(code.lower().replace("-", ""))
        await page.keyboard.press("Enter")
        await shown(page, "step-profile")
        assert await page.get_attribute("html", "lang") == locale
        await page.fill("#email", "back@example.org")
        await page.fill("#firstName", "Bea")
        await page.fill("#lastName", "Claes")
        await page.fill("#password", PASSWORD)

        # Back: the code step, with its code; still /invite.
        await page.go_back()
        await shown(page, "step-code")
        assert "/invite" in page.url
        assert (await page.input_value("#code")).upper() == code  # as typed (CSS shows capitals)
        await check_accessibility(page)

        # Forward: the profile as it was typed, but the password.
        await page.go_forward()
        await shown(page, "step-profile")
        assert await page.input_value("#email") == "back@example.org"
        assert await page.input_value("#firstName") == "Bea"
        assert await page.input_value("#lastName") == "Claes"
        assert await page.input_value("#password") == ""
        await check_accessibility(page)

        await page.select_option("#field-neighbourhood", "north")
        await page.fill("#password", PASSWORD)
        await page.focus("#password")
        await page.keyboard.press("Enter")
        await shown(page, "step-confirm")
        assert await text(page, "#confirm-intro") == t(
            "confirm.step_intro", email="back@example.org"
        )

        # Back from the confirmation: the profile, to correct something and send it again.
        await page.go_back()
        await shown(page, "step-profile")
        assert await page.input_value("#firstName") == "Bea"
        assert await page.input_value("#password") == ""
        await page.go_forward()
        await shown(page, "step-confirm")
        await check_accessibility(page)

        # The profile sent again (a letter's code starts its registration over).
        await page.go_back()
        await shown(page, "step-profile")
        await page.fill("#firstName", "Beatrijs")
        await page.fill("#password", PASSWORD)
        await page.focus("#password")
        await page.keyboard.press("Enter")
        await shown(page, "step-confirm")

        # A reload keeps the confirmation step, as before.
        await page.reload()
        await shown(page, "step-confirm")
        assert await text(page, "#confirm-intro") == t(
            "confirm.step_intro", email="back@example.org"
        )
