"""Every form of the admin console before its page's script has come (a slow connection), in a
real Chromium: a click or Enter sends nothing the browser's way (what was typed in the address,
nothing saved, the page reloaded); once the script is there, the buttons work. The filters of
All invitations are the exception: sent the browser's way they make the list's address, which
the script reads, in the language of the page."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, expect

from api.admin import PAGES
from tests.admin_browser import an_admin, sign_in
from tests.browser import DESKTOP, PHONE, browse, check_accessibility
from tests.fixtures import GraphQLClient
from tests.invitations_helpers import create

pytestmark = pytest.mark.browser

# Written in a form: Enter there submits it (implicit submission), unless its button is
# disabled. A textarea is left out (Enter there is a new line).
TYPED = "input[type=text], input[type=email], input[type=url], input[type=number]"

# The console's forms that post to the server, as forms do without any script.
SERVER_FORMS = "form[method=post]"


async def watch_submissions(page: Page) -> None:
    """Count the forms the browser would send, and keep the page (the count) where it is."""
    await page.evaluate(
        """() => {
          window.submissions = 0;
          document.addEventListener("submit", (event) => {
            window.submissions += 1;
            event.preventDefault();
          }, true);
        }"""
    )


async def test_before_its_script_runs_no_console_form_sends_anything_the_browsers_way(
    database: None, browser: Browser, live_server: str
) -> None:
    await an_admin(locale="nl-BE")
    async with browse(browser, live_server, locale="nl-BE", viewport=PHONE) as visit:
        page = visit.page
        await sign_in(page, "/admin/groups")
        checked = set()
        for admin_page in (admin_page for admin_page in PAGES if admin_page.script):
            path = f"/admin/{admin_page.path}"
            script = f"**/static/admin/{admin_page.script}"
            await page.route(script, lambda route: route.abort())
            await page.goto(path)
            await watch_submissions(page)
            forms = page.locator(f"main form:not(#filters):not({SERVER_FORMS})")
            buttons = []
            for index in range(await forms.count()):
                form = forms.nth(index)
                if not await form.is_visible():
                    continue  # in a dialog only the script opens, or a step not reached
                submit = form.locator("button[type=submit]")
                await expect(submit, f"{path}: the button of form #{index}").to_be_disabled()
                buttons.append(submit)
                typed = form.locator(TYPED).first
                if await typed.count():
                    await typed.fill("2" if await typed.get_attribute("type") == "number" else "x")
                    await typed.press("Enter")
                await submit.click(force=True)
                assert await page.evaluate("window.submissions") == 0, path
            if buttons:
                checked.add(admin_page.path)
            await check_accessibility(page)
            await page.unroute(script)
            await page.goto(path)
            for submit in buttons:
                await expect(submit).to_be_enabled()
        assert checked == {"invite", "codes", "groups", "fields", "mail", "webhooks"}
        visit.problems.clear()  # the scripts refused on purpose, in Chromium's console


async def test_the_filters_sent_before_the_script_make_the_lists_address_in_its_language(
    admin: GraphQLClient, browser: Browser, live_server: str
) -> None:
    """Without its script the filters form is a search form like any (its fields named as the
    list's address has them): Enter opens the list at that address, the language kept."""
    assert (await create(admin, ["lea@example.org", "tom@example.org"], sendEmail=False))[
        "errors"
    ] == []
    async with browse(browser, live_server, viewport=DESKTOP) as visit:
        page = visit.page
        await sign_in(page, "/admin/invitations")  # in English, the account's language
        script = "**/static/admin/invitations.js"
        await page.route(script, lambda route: route.abort())
        await page.goto("/admin/invitations?lang=fr-BE")
        await page.fill("#search", "lea")
        await page.unroute(script)
        await page.press("#search", "Enter")
        await page.wait_for_url("**/admin/invitations?*search=lea*")
        await expect(page.locator("h1")).to_have_text("Toutes les invitations")
        await expect(page.locator("#search")).to_have_value("lea")
        rows = page.locator("#invitations tbody tr")
        await expect(rows).to_have_count(1)
        await expect(rows.first).to_contain_text("lea@example.org")
        await expect(page).to_have_url(f"{live_server}/admin/invitations?lang=fr-BE&search=lea")
        await check_accessibility(page)
        visit.problems.clear()  # the script refused on purpose, in Chromium's console
