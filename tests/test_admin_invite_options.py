"""Invite users in a real Chromium: the options of a typed batch never reach the next upload
unseen, the downloads of an import offer only what it has, and what was typed survives the
language switch."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from playwright.async_api import Browser, Page, Route, expect

from domain.models import Invitation, InvitationImport, InvitationProject, InvitationStatus
from domain.projects.service import create_project
from tests.admin_browser import an_admin, sign_in
from tests.browser import DESKTOP, PHONE, browse, check_accessibility
from tests.import_helpers import workbook

pytestmark = pytest.mark.browser

HEADER = ["email", "first_name", "last_name", "admin"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def open_invite(page: Page) -> None:
    """Sign in to Invite users and wait for its script: it shows the projects to choose."""
    await create_project(title="Riverside")
    await sign_in(page, "/admin/invite")
    await expect(page.get_by_label("Riverside", exact=True)).to_be_visible()


async def test_a_typed_batch_resets_the_options_and_an_upload_that_grants_admin_asks_first(
    database: None, browser: Browser, live_server: str, run_worker: Any
) -> None:
    await an_admin(locale="nl-BE")
    project = await create_project(title="Riverside")
    residents = workbook(
        HEADER,
        ["lea@example.org", "Lea", "Peeters", None],
        ["tom@example.org", "Tom", "Maes", False],
    )
    async with browse(browser, live_server, locale="nl-BE", viewport=PHONE) as visit:
        page = visit.page
        await sign_in(page, "/admin/invite")
        await expect(page.get_by_label("Riverside", exact=True)).to_be_visible()
        # The invitations speak the console's language unless another is chosen.
        await expect(page.locator("#invite-locale")).to_have_value("nl-BE")

        await page.check("#invite-admin")
        await page.get_by_label("Riverside", exact=True).check()
        await page.select_option("#invite-locale", "fr-BE")
        await page.fill("#invite-message", "Welkom, collega-beheerder")
        await page.uncheck("#invite-send")
        await page.fill("#emails", "newadmin@example.org")
        await page.click("#typed-submit")
        done = page.locator("#typed-done")
        await expect(done).to_contain_text("1 uitnodiging aangemaakt.")
        await expect(done).to_contain_text(
            "De opties hierboven staan weer op hun standaardwaarden voor de volgende uitnodigingen."
        )
        await expect(done).to_be_focused()
        await expect(page.locator("#invite-admin")).not_to_be_checked()
        await expect(page.get_by_label("Riverside", exact=True)).not_to_be_checked()
        await expect(page.locator("#invite-locale")).to_have_value("nl-BE")
        await expect(page.locator("#invite-message")).to_have_value("")
        await expect(page.locator("#invite-send")).to_be_checked()
        await check_accessibility(page)
        typed = await Invitation.get(email="newadmin@example.org")
        assert typed.is_admin and typed.personal_message == "Welkom, collega-beheerder"

        # Chosen again, on purpose this time: the upload says what every row gets, and waits.
        await page.check("#invite-admin")
        await page.get_by_label("Riverside", exact=True).check()
        await page.set_input_files(
            "#file", files=[{"name": "residents.xlsx", "mimeType": XLSX, "buffer": residents}]
        )
        await page.click("#upload-submit")
        dialog = page.locator("#confirm")
        await expect(dialog).to_be_visible()
        await expect(dialog.locator("#confirm-text")).to_have_text(
            "Elke rij van residents.xlsx zonder eigen waarde in de kolom admin nodigt een"
            " beheerder van het platform uit. Elke rij van residents.xlsx nodigt een"
            " projectbeheerder uit van: Riverside."
        )
        await check_accessibility(page)
        await visit.screenshot("invite-confirm-grants-phone")
        await page.keyboard.press("Escape")
        await expect(dialog).to_be_hidden()
        await expect(page.locator("#upload-submit")).to_be_focused()
        assert await InvitationImport.all().count() == 0

        await page.click("#upload-submit")
        await expect(dialog).to_be_visible()
        await page.keyboard.press("Tab")  # from Cancel to the confirmation
        await expect(dialog.locator("[data-confirm]")).to_be_focused()
        await expect(dialog.locator("[data-confirm]")).to_have_text("Opladen en uitnodigen")
        await page.keyboard.press("Enter")
        await expect(page.locator("#import-progress-box")).to_be_visible()
        await run_worker()
        await expect(page.locator("#count-admins")).to_have_text("1")

    lea = await Invitation.get(email="lea@example.org")
    tom = await Invitation.get(email="tom@example.org")
    assert lea.is_admin and not tom.is_admin  # the row's own FALSE wins
    assert await InvitationProject.filter(project=project).count() == 3


async def test_an_upload_without_roles_in_its_options_goes_ahead_without_asking(
    database: None, browser: Browser, live_server: str, run_worker: Any
) -> None:
    await an_admin()
    residents = workbook(HEADER, ["lea@example.org", "Lea", "Peeters", None])
    async with browse(browser, live_server, viewport=DESKTOP) as visit:
        page = visit.page
        await open_invite(page)
        await page.set_input_files(
            "#file", files=[{"name": "residents.xlsx", "mimeType": XLSX, "buffer": residents}]
        )
        await page.click("#upload-submit")
        await expect(page.locator("#import-progress-box")).to_be_visible()
        await expect(page.locator("#confirm")).to_be_hidden()
        await run_worker()
        await expect(page.locator("#count-invited")).to_have_text("1")
    assert not (await Invitation.get(email="lea@example.org")).is_admin


async def test_an_import_offers_letters_only_for_rows_without_an_email_and_says_why_none(
    database: None, browser: Browser, live_server: str, run_worker: Any
) -> None:
    await an_admin(locale="fr-BE")
    mail_only = workbook(HEADER, ["lea@example.org", "Lea", "Peeters", None])
    with_letter = workbook(
        HEADER, ["tom@example.org", "Tom", "Maes", None], [None, "Letter", "Only", None]
    )
    async with browse(browser, live_server, locale="fr-BE", viewport=PHONE) as visit:
        page = visit.page
        await open_invite(page)

        await page.set_input_files(
            "#file", files=[{"name": "mail.xlsx", "mimeType": XLSX, "buffer": mail_only}]
        )
        await page.click("#upload-submit")
        await expect(page.locator("#import-progress-box")).to_be_visible()
        await run_worker()
        await expect(page.locator("#count-invited")).to_have_text("1")
        await expect(page.locator("#import-export")).to_be_visible()
        await expect(page.locator("#import-letters")).to_be_hidden()
        await check_accessibility(page)

        await page.set_input_files(
            "#file", files=[{"name": "letters.xlsx", "mimeType": XLSX, "buffer": with_letter}]
        )
        await page.click("#upload-submit")
        await expect(page.locator("#import-progress-box")).to_be_visible()
        await run_worker()
        await expect(page.locator("#count-invited")).to_have_text("2")
        letters = page.locator("#import-letters")
        await expect(letters).to_be_visible()
        async with page.expect_download() as started:
            await letters.click()
        download = await started.value
        assert download.suggested_filename.endswith(".pdf")

        # Accepted meanwhile (elsewhere): nothing is left to print, and the page says so.
        await Invitation.filter(email="").update(status=InvitationStatus.ACCEPTED)
        await letters.click()
        await expect(page.locator("#import-download-status")).to_have_text(
            "Rien à imprimer : aucune de ces invitations n'est à la fois en attente et sans"
            " adresse e-mail."
        )
        await check_accessibility(page)
        visit.problems.remove(
            "Failed to load resource: the server responded with a status of 404 (Not Found)"
        )


async def test_what_was_typed_survives_the_language_switch_until_it_is_sent(
    database: None, browser: Browser, live_server: str
) -> None:
    await an_admin()
    async with browse(browser, live_server, viewport=DESKTOP) as visit:
        page = visit.page
        await open_invite(page)
        await page.fill("#emails", "lea@example.org\nkoen@example.org")
        await page.fill("#invite-message", "Welcome to the street!")
        await page.click("nav.languages a[hreflang='fr-BE']")
        await expect(page.locator("html")).to_have_attribute("lang", "fr-BE")
        await expect(page.locator("#emails")).to_have_value("lea@example.org\nkoen@example.org")
        await expect(page.locator("#invite-message")).to_have_value("Welcome to the street!")
        await check_accessibility(page)

        await page.click("#typed-submit")
        await expect(page.locator("#typed-done")).to_contain_text("2 invitations créées.")
        await page.reload()
        await expect(page.locator("#admin-email")).to_be_visible()
        await expect(page.locator("#emails")).to_have_value("")
        await expect(page.locator("#invite-message")).to_have_value("")
    assert await Invitation.all().count() == 2


async def test_a_session_that_ends_while_typing_leads_to_a_sign_in_in_a_new_tab_and_keeps_it(
    database: None, browser: Browser, live_server: str
) -> None:
    from domain.models import Session
    from tests.admin_browser import ADMIN_EMAIL
    from tests.fixtures import ADMIN_PASSWORD

    await an_admin(locale="fr-BE")
    async with browse(browser, live_server, locale="fr-BE", viewport=DESKTOP) as visit:
        page = visit.page
        await sign_in(page, "/admin/invite")
        await page.fill("#emails", "lea@example.org, tom@example.org")
        await page.fill("#invite-message", "Bienvenue !")
        await Session.all().delete()  # expired, or signed out in another tab
        await page.click("#typed-submit")
        again = page.get_by_role("link", name="Se connecter (nouvel onglet)")
        await expect(again).to_be_visible()
        await expect(page.locator("main")).to_contain_text("ce que vous avez tapé est toujours là")
        await check_accessibility(page)
        visit.problems.clear()  # the refused request's 401 in Chromium's console

        async with page.context.expect_page() as opened:
            await again.click()
        tab = await opened.value
        await tab.fill("#email", ADMIN_EMAIL)
        await tab.fill("#password", ADMIN_PASSWORD)
        await tab.click("main button[type=submit]")
        await expect(tab.locator("#admin-email")).to_have_text(ADMIN_EMAIL)
        await tab.close()

        assert await page.input_value("#emails") == "lea@example.org, tom@example.org"
        await page.click("#typed-submit")
        await expect(page.locator("#typed-done")).to_contain_text("2 invitations")
        assert await Invitation.filter(personal_message="Bienvenue !").count() == 2


async def test_a_file_no_worker_takes_says_so_rather_than_waiting_in_silence(
    database: None, browser: Browser, live_server: str
) -> None:
    """No worker runs here: after half a minute the page says the file was not started yet,
    and why it may be."""
    await an_admin(locale="nl-BE")
    residents = workbook(HEADER, ["lea@example.org", "Lea", "Peeters", None])
    async with browse(browser, live_server, locale="nl-BE", viewport=PHONE) as visit:
        page = visit.page
        await page.clock.install()
        await sign_in(page, "/admin/invite")
        await page.set_input_files(
            "#file", files=[{"name": "residents.xlsx", "mimeType": XLSX, "buffer": residents}]
        )
        await page.click("#upload-submit")
        said = page.locator("#import-progress-text")
        # Said once the upload is answered (a busy machine takes some seconds to).
        await expect(said).to_have_text("Wachten tot het bestand gelezen is…", timeout=15_000)
        await page.clock.fast_forward("00:31")
        await expect(said).to_contain_text("Nog geen enkele worker is aan dit bestand begonnen")
        await check_accessibility(page)
        assert (await InvitationImport.get()).status.value == "queued"


async def test_a_file_picked_while_the_page_loads_is_the_one_uploaded(
    database: None, browser: Browser, live_server: str
) -> None:
    """On a slow connection the admin may pick the file before the page's script is there: the
    upload takes that file rather than asking to choose one."""
    await an_admin(locale="nl-BE")
    residents = workbook(HEADER, ["lea@example.org", "Lea", "Peeters", None])
    async with browse(browser, live_server, locale="nl-BE", viewport=PHONE) as visit:
        page = visit.page
        await sign_in(page, "/admin/codes")
        script_asked = asyncio.Event()
        file_picked = asyncio.Event()

        async def slowly(route: Route) -> None:
            script_asked.set()
            await file_picked.wait()
            await route.continue_()

        await page.route("**/static/admin/invite.js", slowly)
        loading = asyncio.create_task(page.goto("/admin/invite"))
        await script_asked.wait()
        await page.set_input_files(
            "#file", files=[{"name": "residents.xlsx", "mimeType": XLSX, "buffer": residents}]
        )
        file_picked.set()
        await loading
        await page.click("#upload-submit")
        await expect(page.locator("#import-progress-text")).to_have_text(
            "Wachten tot het bestand gelezen is…", timeout=15_000
        )
        await expect(page.locator("#upload-status")).to_have_text("")
        assert (await InvitationImport.get()).file_name == "residents.xlsx"


async def test_before_its_script_runs_the_page_sends_nothing_the_browsers_way(
    database: None, browser: Browser, live_server: str
) -> None:
    """A click before the page's script is there (a slow connection) does nothing, instead of
    the browser sending the form itself: the typed addresses in the address bar, no upload."""
    await an_admin()
    async with browse(browser, live_server, viewport=DESKTOP) as visit:
        page = visit.page
        await sign_in(page, "/admin/codes")
        for path, buttons in (
            ("/admin/invite", ("#typed-submit", "#upload-submit")),
            ("/admin/codes", ("#codes-submit",)),
        ):
            script = "**/static/admin/" + path.rsplit("/", 1)[1] + ".js"
            await page.route(script, lambda route: route.abort())
            await page.goto(path)
            for button in buttons:
                await expect(page.locator(button)).to_be_disabled()
            await page.unroute(script)
            await page.goto(path)
            for button in buttons:
                await expect(page.locator(button)).to_be_enabled()
        visit.problems.clear()  # the scripts refused on purpose, in Chromium's console
