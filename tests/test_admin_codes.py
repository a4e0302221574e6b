"""Generate codes at /admin/codes in a real Chromium: 20 code-only invitations for a manual
group, then the export of them (the workbook, with the cookie) and the letters."""

from __future__ import annotations

import io
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from openpyxl import load_workbook
from playwright.async_api import Browser, expect

from domain.groups.service import create_group
from domain.models import GroupKind, Invitation, InvitationGroup
from tests.admin_browser import an_admin, sign_in
from tests.browser import DESKTOP, PHONE, browse, check_accessibility
from tests.invitations_helpers import new_invitation, store_invitations

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("locale", "viewport", "done"),
    [("nl-BE", DESKTOP, "20 codes aangemaakt."), ("en", PHONE, "20 codes generated.")],
)
async def test_an_admin_generates_20_codes_for_a_group_and_exports_them(
    database: None,
    browser: Browser,
    live_server: str,
    locale: str,
    viewport: dict[str, int],
    done: str,
) -> None:
    await an_admin(locale=locale)
    group = await create_group(title="North Avenue Residents", kind=GroupKind.MANUAL)
    await create_group(title="South Street", kind=GroupKind.MANUAL)
    await store_invitations([new_invitation("elsewhere@example.org")])  # not in the group
    async with browse(browser, live_server, locale=locale, viewport=viewport) as visit:
        page = visit.page
        await sign_in(page, "/admin/codes")
        await expect(page.get_by_label("North Avenue Residents", exact=True)).to_be_visible()
        await check_accessibility(page)

        await page.fill("#count", "0")
        await page.click("#codes-submit")
        await expect(page.locator("#count")).to_have_attribute("aria-invalid", "true")
        assert await Invitation.all().count() == 1

        await page.fill("#count", "20")
        await page.get_by_label("North Avenue Residents", exact=True).check()
        await page.select_option("#codes-locale", "fr-BE")
        await page.click("#codes-submit")
        await expect(page.locator("#codes-done-text")).to_have_text(done)
        await expect(page.locator("#codes-scope")).to_contain_text("North Avenue Residents")
        await check_accessibility(page)
        if viewport is DESKTOP:
            await visit.screenshot("codes")

        async with page.expect_download() as started:
            await page.click("#codes-export")
        download = await started.value
        book = load_workbook(io.BytesIO(Path(await download.path()).read_bytes()))
        sheet = book.worksheets[0]
        rows = list(sheet.iter_rows(values_only=True))
        header = [str(cell) for cell in rows[0]]
        tokens = [row[header.index("token")] for row in rows[1:]]
        emails = [row[header.index("email")] for row in rows[1:]]
        assert len(tokens) == 20 and all(tokens) and len(set(tokens)) == 20
        assert all(not email for email in emails)

        async with page.expect_download() as started:
            await page.click("#codes-cards")
        cards = await started.value
        assert Path(await cards.path()).read_bytes().startswith(b"%PDF")

    codes = await Invitation.filter(email="")
    assert len(codes) == 20
    assert {code.locale for code in codes} == {"fr-BE"}
    assert await InvitationGroup.filter(group=group).count() == 20
    assert all(not code.send_email for code in codes)


async def test_codes_without_a_group_download_exactly_this_batch(
    database: None, browser: Browser, live_server: str
) -> None:
    await an_admin(locale="fr-BE")
    await create_group(title="North Avenue Residents", kind=GroupKind.MANUAL)  # not chosen
    await store_invitations([new_invitation(""), new_invitation("")])  # printed long ago
    async with browse(browser, live_server, locale="fr-BE", viewport=PHONE) as visit:
        page = visit.page
        await sign_in(page, "/admin/codes")
        await expect(page.get_by_label("North Avenue Residents", exact=True)).to_be_visible()
        await page.fill("#count", "2")
        await page.click("#codes-submit")  # an earlier batch, printed already
        await expect(page.locator("#codes-done-text")).to_have_text("2 codes générés.")
        await page.fill("#count", "3")
        await page.click("#codes-submit")
        await expect(page.locator("#codes-done-text")).to_have_text("3 codes générés.")
        await expect(page.locator("#codes-scope")).to_have_text(
            "Les téléchargements contiennent exactement ces codes : les lots précédents ne sont"
            " pas réimprimés."
        )
        await check_accessibility(page)
        await visit.screenshot("codes-batch-phone")

        async with page.expect_download() as started:
            await page.click("#codes-export")
        book = load_workbook(io.BytesIO(Path(await (await started.value).path()).read_bytes()))
        rows = list(book.worksheets[0].iter_rows(values_only=True))
        header = [str(cell) for cell in rows[0]]
        tokens = [row[header.index("token")] for row in rows[1:]]
        assert len(tokens) == 3 and all(tokens)  # not the 4 earlier ones

        async with page.expect_download() as started:
            await page.click("#codes-letters")
        letters = pdfium.PdfDocument(Path(await (await started.value).path()).read_bytes())
        assert len(letters) == 3  # a letter a code of this batch
    assert await Invitation.filter(email="").count() == 7


@pytest.mark.parametrize(
    ("browser_locale", "account_locale", "language", "said"),
    [
        ("nl-BE", "nl-BE", "nl-BE", "Taal van de brieven en kaarten: Nederlands."),
        ("fr-BE", "fr-BE", "fr-BE", "Langue des lettres et des cartes : Français."),
        # A console in no language of the platform's opens in its first: so do the letters.
        ("de-DE", None, "en", "Language of the letters and cards: English."),
    ],
)
async def test_codes_are_made_in_the_consoles_language_and_the_done_panel_says_which(
    database: None,
    browser: Browser,
    live_server: str,
    browser_locale: str,
    account_locale: str | None,
    language: str,
    said: str,
) -> None:
    await an_admin(locale=account_locale)
    async with browse(browser, live_server, locale=browser_locale, viewport=PHONE) as visit:
        page = visit.page
        await sign_in(page, "/admin/codes")
        chosen = page.locator("#codes-locale")
        await expect(chosen).to_have_value(language)
        await page.fill("#count", "2")
        await page.click("#codes-submit")
        await expect(page.locator("#codes-done")).to_be_focused()
        await expect(page.locator("#codes-language")).to_have_text(said)
        await check_accessibility(page)
        await visit.screenshot(f"codes-language-{language}-phone")
        assert {code.locale for code in await Invitation.filter(email="")} == {language}

        # Another language chosen on purpose: the panel says that one.
        other = "fr-BE" if language != "fr-BE" else "nl-BE"
        await page.select_option("#codes-locale", other)
        await page.fill("#count", "1")
        await page.click("#codes-submit")
        name = "Français" if other == "fr-BE" else "Nederlands"
        await expect(page.locator("#codes-language")).to_contain_text(f" {name}.")
        assert await Invitation.filter(email="", locale=other).count() == 1

        # The console's switch changes the console's language, and the letters' with it.
        if language != "en":
            await page.click(f"nav.languages a[hreflang='{other}']")
            await expect(page.locator("html")).to_have_attribute("lang", other)
            await expect(chosen).to_have_value(other)
