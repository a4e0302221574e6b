"""At /admin/invite in Dutch, a failed import says what exactly is wrong and how to fix it (the
column, the template's columns), and how many problems there are when not all are listed; so
does /admin/imports."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser, expect

from tests.admin_browser import an_admin, sign_in
from tests.browser import PHONE, browse, check_accessibility
from tests.import_helpers import HEADER, workbook

pytestmark = pytest.mark.browser

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COLUMNS = "email, first_name, last_name, language, groups, admin, address"


async def test_a_dutch_admin_reads_the_precise_problem_and_the_real_count(
    database: None, browser: Browser, live_server: str, run_worker: Any
) -> None:
    await an_admin(locale="nl-BE")
    unknown_column = workbook([*HEADER, "Telefoonnummer"], ["lea@gent.example"])
    many = workbook(HEADER, *[[f"geen-adres-{n}"] for n in range(1003)])
    async with browse(browser, live_server, locale="nl-BE", viewport=PHONE) as visit:
        page = visit.page
        await sign_in(page, "/admin/invite")
        await expect(page.locator("#upload-submit")).to_be_enabled()
        await page.set_input_files(
            "#file", files=[{"name": "Kolom.xlsx", "mimeType": XLSX_TYPE, "buffer": unknown_column}]
        )
        await page.click("#upload-submit")
        await expect(page.locator("#import-progress-box")).to_be_visible()
        await run_worker()
        cells = page.locator("#import-problems tbody tr").first.locator("td")
        await expect(cells.last).to_have_text(
            f"Kolom G (\u2018Telefoonnummer\u2019) is geen kolom van het sjabloon: {COLUMNS}."
            " Geef ze een van die namen, of verwijder ze."
        )
        await check_accessibility(page)

        await page.set_input_files(
            "#file", files=[{"name": "Veel.xlsx", "mimeType": XLSX_TYPE, "buffer": many}]
        )
        await page.click("#upload-submit")
        await expect(page.locator("#import-progress-box")).to_be_visible()
        await run_worker()
        await expect(page.locator("#import-failed-text")).to_contain_text(
            "Veel.xlsx: 1.003 problemen."
        )
        rows = page.locator("#import-problems tbody tr")
        await expect(rows).to_have_count(1001)
        await expect(rows.last.locator("td").last).to_have_text(
            "De eerste 1.000 van 1.003 problemen staan in de lijst; nog 3 problemen niet:"
            " verbeter deze en laad het bestand opnieuw op om ze te zien."
        )

        await page.goto("/admin/imports")
        links = page.locator("#imports tbody tr td a")
        await expect(links).to_have_text(["1.003 problemen (.xlsx)", "1 probleem (.xlsx)"])
