"""Reflow (WCAG 1.4.10): every page of the admin console, with something in its lists, fits a
window 320 CSS pixels wide without scrolling sideways, in English, Dutch and French; and a
phone at 200% zoom (195 pixels) too. So does what an upload ends with: its counts, or its
problems."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Page, expect

from api.admin import PAGES
from domain.models import ImportStatus, InvitationImport, User
from tests.admin_browser import ADMIN_EMAIL, sign_in
from tests.browser import DESKTOP, PHONE, browse, check_accessibility
from tests.fixtures import GraphQLClient
from tests.import_helpers import HEADER, XLSX, workbook
from tests.invitations_helpers import create
from tests.test_platform import create_field, create_group, rule

pytestmark = pytest.mark.browser

NARROW = {"width": 320, "height": 640}
ZOOMED = {"width": 195, "height": 422}  # a phone of 390 pixels at 200% zoom
LOCALES = ("en", "nl-BE", "fr-BE")

# What is wider than the window, and where (to say what overflows when one does).
WIDER = """(width) => [...document.querySelectorAll("body *")]
  .filter((node) => node.getClientRects().length)
  .filter((node) => node.getBoundingClientRect().right > width + 0.5)
  .slice(-5)
  .map((node) => `${node.tagName.toLowerCase()}#${node.id}.${node.className}`
    + ` ${Math.round(node.getBoundingClientRect().right)}`)"""


async def some_of_everything(admin: GraphQLClient) -> None:
    """Invitations (more than a page of them), a smart group and a select field, with long
    titles in every language."""
    emails = [f"resident.number.{n:02}@neighbourhood-association.example.org" for n in range(30)]
    assert (await create(admin, emails, sendEmail=False))["errors"] == []
    titles = [
        {"locale": "nl-BE", "text": "Bewoners van de Rivierkantwijk"},
        {"locale": "fr-BE", "text": "Habitants du quartier Bord-de-rivière"},
    ]
    field = await create_field(
        admin,
        "neighbourhood",
        "SELECT",
        title="Neighbourhood of residence",
        titles=[{"locale": "nl-BE", "text": "Woonwijk"}, {"locale": "fr-BE", "text": "Quartier"}],
        options=[{"key": "riverside", "title": "Riverside"}, {"key": "north", "title": "North"}],
    )
    assert field["errors"] == []
    rules = [rule("FIELD", "IS", "riverside", fieldKey="neighbourhood")]
    made = await create_group(
        admin, "Riverside neighbourhood residents", "SMART", rules=rules, titles=titles
    )
    assert made["errors"] == []


async def too_wide(page: Page, viewport: dict[str, int], where: str) -> list[str]:
    """Nothing if the page fits the window's width, else what is wider."""
    width = viewport["width"]
    scroll = await page.evaluate("document.documentElement.scrollWidth")
    if scroll <= width:
        return []
    wider: Any = await page.evaluate(WIDER, width)
    return [f"{where} at {width}px is {scroll}px wide: {wider}"]


@pytest.mark.parametrize("locale", LOCALES)
async def test_every_console_page_fits_a_narrow_window_without_scrolling_sideways(
    admin: GraphQLClient, browser: object, live_server: str, locale: str
) -> None:
    await some_of_everything(admin)
    async with browse(browser, live_server, locale=locale, viewport=NARROW) as visit:  # type: ignore[arg-type]
        page = visit.page
        await sign_in(page, f"/admin/invitations?lang={locale}")
        overflows: list[str] = []
        for admin_page in PAGES:
            await page.goto(f"/admin/{admin_page.path}?lang={locale}")
            await page.wait_for_load_state()
            # The lists the page fills in have come.
            await expect(page.locator("[aria-busy=true]")).to_have_count(0)
            if admin_page.path == "invitations":
                await expect(page.locator("#invitations tbody tr")).to_have_count(25)
            for viewport in (NARROW, ZOOMED):
                await page.set_viewport_size(viewport)
                overflows += await too_wide(page, viewport, f"/admin/{admin_page.path}")
            await page.set_viewport_size(NARROW)
            if admin_page.path in ("invitations", "fields"):
                await check_accessibility(page)
            await visit.screenshot(f"reflow-{locale}-{admin_page.path}")
        assert overflows == [], "\n".join(overflows)


@pytest.mark.parametrize("locale", LOCALES)
async def test_an_imports_result_fits_a_phone_without_scrolling_sideways(
    admin: GraphQLClient,
    browser: object,
    live_server: str,
    run_worker: Any,
    locale: str,
) -> None:
    """The counts beside their labels (the longest, about new admins, wraps), and a failed
    file's problems, at a phone's width and narrower, in every language."""
    residents = workbook(
        HEADER,
        ["lea.peeters@neighbourhood-association.example.org", "Lea", "Peeters", None, None, True],
        ["koen@example.org", "Koen", "Maes", None, None, None],
        [],
        ["tom@example.org", "Tom", "Claes", None, None, None],
    )
    mistaken = workbook(HEADER, ["not-an-address", "Tom", "Maes", None, None, "maybe"])
    async with browse(browser, live_server, locale=locale, viewport=PHONE) as visit:  # type: ignore[arg-type]
        page = visit.page
        await sign_in(page, f"/admin/invite?lang={locale}")
        overflows: list[str] = []
        for name, content, result in (
            ("Bewoners-Rivierkantwijk-2026.xlsx", residents, "#import-done"),
            ("Bewoners-met-fouten.xlsx", mistaken, "#import-failed"),
        ):
            await page.set_viewport_size(PHONE)
            await expect(page.locator("#upload-submit")).to_be_enabled()
            await page.set_input_files(
                "#file", files=[{"name": name, "mimeType": XLSX, "buffer": content}]
            )
            await page.click("#upload-submit")
            await expect(page.locator("#import-progress-box")).to_be_visible()
            await run_worker()
            await expect(page.locator(result)).to_be_visible()
            if result == "#import-done":
                await expect(page.locator("#count-invited")).to_have_text("3")
            for viewport in (PHONE, NARROW, ZOOMED):
                await page.set_viewport_size(viewport)
                overflows += await too_wide(page, viewport, f"{result} ({locale})")
                await visit.screenshot(f"reflow-{locale}-{result[1:]}-{viewport['width']}")
            await page.set_viewport_size(PHONE)
            await check_accessibility(page)
        assert overflows == [], "\n".join(overflows)


@pytest.mark.parametrize("locale", ("nl-BE", "fr-BE"))
async def test_past_imports_fit_a_desktop_and_become_cards_on_a_phone(
    admin: GraphQLClient, browser: object, live_server: str, locale: str
) -> None:
    """Every column of the past imports in view at 1280 pixels (its downloads last), and on a
    phone each import a card of labelled values, without scrolling sideways."""
    uploader = await User.get(email=ADMIN_EMAIL)
    for name, status, invited in (
        (
            "Inwoners_Rivierkantwijk_Noordelijke_Wijken_en_Centrum_Bevolkingsregister.xlsx",
            ImportStatus.DONE,
            1250,
        ),
        ("Bewoners-met-fouten-in-de-adressen.xlsx", ImportStatus.FAILED, 0),
    ):
        await InvitationImport.create(
            file_name=name,
            status=status,
            invited_count=invited,
            existing_users_updated_count=12,
            skipped_count=3,
            created_by=uploader,
            errors=[{"code": "INVALID_EMAIL", "message": "Not an address.", "row": 2}],
        )
    async with browse(browser, live_server, locale=locale, viewport=DESKTOP) as visit:  # type: ignore[arg-type]
        page = visit.page
        await sign_in(page, f"/admin/imports?lang={locale}")
        rows = page.locator("#imports tbody tr")
        await expect(rows).to_have_count(2)
        box = page.locator("#imports-box")
        overflows: list[str] = []
        for viewport in (DESKTOP, PHONE, NARROW):
            await page.set_viewport_size(viewport)
            overflows += await too_wide(page, viewport, f"/admin/imports ({locale})")
            if await box.evaluate("b => b.scrollWidth > b.clientWidth"):
                overflows.append(f"the table scrolls at {viewport['width']}px")
            await visit.screenshot(f"imports-{locale}-{viewport['width']}")
        assert overflows == [], "\n".join(overflows)
        await expect(rows.nth(0).locator("td").last).to_have_attribute(
            "data-label", re.compile(".")
        )
        await check_accessibility(page)
