"""Invite users at /admin/invite in a real Chromium against the real API, worker, database
and SMTP sink: typed addresses (a wrong one shown beside its entry, corrected, then the mails
in the sink) and an Excel file (problems table, the problems workbook, fixed, uploaded again,
the progress bar up to the counts)."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.async_api import Browser, Page, expect

from domain.groups.service import create_group
from domain.models import GroupKind, Invitation, InvitationGroup, InvitationProject
from domain.projects.service import create_project
from tests.admin_browser import an_admin, sign_in
from tests.browser import DESKTOP, PHONE, browse, check_accessibility
from tests.fixtures import SmtpSink
from tests.import_helpers import workbook

pytestmark = pytest.mark.browser

HEADER = ["email", "first_name", "last_name", "language", "groups", "admin"]
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def choose(page: Page, label: str) -> None:
    await page.get_by_label(label, exact=True).check()


@pytest.mark.parametrize(
    ("locale", "viewport", "words"),
    [
        (
            "en",
            DESKTOP,
            {
                "project": "Riverside",
                "group": "North Avenue Residents",
                "invite": "Invite",
                "problems": "Nothing was sent: correct {count} problem below, then invite again.",
                "invalid": "This is not a valid email address.",
                "done": "2 invitations created.",
            },
        ),
        (
            "nl-BE",
            PHONE,
            {
                "project": "Riverside",
                "group": "North Avenue Residents",
                "invite": "Uitnodigen",
                "problems": (
                    "Er is niets verstuurd: verbeter het probleem hieronder en nodig dan opnieuw"
                    " uit."
                ),
                "invalid": "Dit is geen geldig e-mailadres.",
                "done": "2 uitnodigingen aangemaakt.",
            },
        ),
    ],
)
async def test_an_admin_invites_typed_addresses_after_correcting_a_wrong_one(
    database: None,
    browser: Browser,
    live_server: str,
    smtp_sink: SmtpSink,
    run_worker: Any,
    locale: str,
    viewport: dict[str, int],
    words: dict[str, str],
) -> None:
    await an_admin(locale=locale)
    project = await create_project(title="Riverside")
    group = await create_group(title="North Avenue Residents", kind=GroupKind.MANUAL)
    async with browse(browser, live_server, locale=locale, viewport=viewport) as visit:
        page = visit.page
        await sign_in(page, "/admin/invite")
        await expect(page.get_by_label(words["group"], exact=True)).to_be_visible()
        await check_accessibility(page)

        await choose(page, words["project"])
        await choose(page, words["group"])
        await page.select_option("#invite-locale", "nl-BE")
        await page.fill("#invite-message", "Welkom in de buurt!")
        await page.fill(
            # Lea's name written last name first, as Outlook copies it: one entry, so the
            # page and the server agree that the wrong one is the second.
            "#emails",
            "Peeters, Lea <lea@example.org>, not-an-address\nkoen@example.org",
        )
        await page.click("#typed-submit")
        status = page.locator("#typed-status")
        await expect(status).to_have_text(words["problems"].replace("{count}", "1"))
        rows = page.locator("#typed-problems tbody tr")
        await expect(rows).to_have_count(1)
        await expect(rows.nth(0).locator("td")).to_have_text(
            ["2", "not-an-address", "INVALID_EMAIL", words["invalid"]]
        )
        await expect(page.locator("#emails")).to_have_attribute("aria-invalid", "true")
        await check_accessibility(page)
        assert await Invitation.all().count() == 0  # nothing until every entry is right

        await page.fill("#emails", "Peeters, Lea <lea@example.org>,\nkoen@example.org")
        await page.click("#typed-submit")
        await expect(page.locator("#typed-done")).to_contain_text(words["done"])
        await expect(page.locator("#typed-problems-box")).to_be_hidden()
        await expect(page.locator("#emails")).to_have_value("")
        await check_accessibility(page)
        await visit.screenshot("invite" if viewport is DESKTOP else "invite-phone")

    invitations = await Invitation.all()
    assert sorted(i.email or "" for i in invitations) == ["koen@example.org", "lea@example.org"]
    names = {(i.email, i.first_name, i.last_name) for i in invitations}
    assert names == {("lea@example.org", "Lea", "Peeters"), ("koen@example.org", "", "")}
    for invitation in invitations:
        assert invitation.locale == "nl-BE"
        grants = await InvitationGroup.filter(invitation=invitation).values_list(
            "group_id", flat=True
        )
        assert grants == [group.id]
        managed = await InvitationProject.filter(invitation=invitation).values_list(
            "project_id", flat=True
        )
        assert managed == [project.id]
    await run_worker()
    for address in ("lea@example.org", "koen@example.org"):
        [mail] = smtp_sink.to(address)
        assert "Welkom in de buurt!" in mail.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


async def drop_file(page: Page, content: bytes, name: str) -> None:
    """Drag a file from the desktop onto the drop zone (a real `drop` with a DataTransfer)."""
    transfer = await page.evaluate_handle(
        """([bytes, name]) => {
            const transfer = new DataTransfer();
            const type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
            transfer.items.add(new File([new Uint8Array(bytes)], name, { type }));
            return transfer;
        }""",
        [list(content), name],
    )
    await page.dispatch_event("#drop", "dragenter", {"dataTransfer": transfer})
    await page.dispatch_event("#drop", "drop", {"dataTransfer": transfer})


@pytest.mark.parametrize(
    ("locale", "viewport", "words"),
    [
        (
            "en",
            PHONE,
            {
                "failed": "Nothing was imported from North.xlsx: 2 problems.",
                "invalid": "This is not a valid email address.",
                "done": "North.xlsx is imported.",
                "progress": "4 of 4 rows checked",
                "statuses": ["Imported", "Nothing imported"],
                "sheets": ["Invitations", "How to fill it in"],
            },
        ),
        (
            "fr-BE",
            DESKTOP,
            {
                "failed": "Rien n'a été importé de North.xlsx : 2 problèmes.",
                "invalid": "Ce n'est pas une adresse e-mail valide.",
                "done": "North.xlsx est importé.",
                "progress": "4 lignes vérifiées sur 4",
                "statuses": ["Importé", "Rien d'importé"],
                "sheets": ["Liste des invitations", "Comment le remplir"],
            },
        ),
    ],
)
async def test_an_admin_uploads_a_file_fixes_its_problems_and_uploads_it_again(
    database: None,
    browser: Browser,
    live_server: str,
    smtp_sink: SmtpSink,
    run_worker: Any,
    locale: str,
    viewport: dict[str, int],
    words: dict[str, str],
) -> None:
    await an_admin(locale=locale)
    group = await create_group(title="North Avenue Residents", kind=GroupKind.MANUAL)
    content = workbook(
        HEADER,
        ["lea@example.org", "Lea", "Peeters", "nl-BE", "North Avenue Residents", None],
        ["not-an-address", "Tom", "Maes", None, None, "maybe"],
        [],
        [None, "Letter", "Only", None, "North Avenue Residents", None],
    )
    async with browse(browser, live_server, locale=locale, viewport=viewport) as visit:
        page = visit.page
        await sign_in(page, "/admin/invite")
        await expect(page.locator("#upload-submit")).to_be_enabled()

        # The template downloads with the console's cookie.
        async with page.expect_download() as started:
            await page.click("#template-link")
        template = load_workbook(io.BytesIO(Path(await (await started.value).path()).read_bytes()))
        assert [c.value for c in next(template.active.iter_rows(max_row=1))][:6] == HEADER  # type: ignore[union-attr]
        assert template.sheetnames == words["sheets"]  # in the console's language

        await page.set_input_files(
            "#file",
            files=[
                {"name": "North.xlsx", "mimeType": "application/octet-stream", "buffer": content}
            ],
        )
        await page.click("#upload-submit")
        await expect(page.locator("#import-progress-box")).to_be_visible()
        await run_worker()
        await expect(page.locator("#import-failed-text")).to_contain_text(words["failed"])
        rows = page.locator("#import-problems tbody tr")
        await expect(rows).to_have_count(2)
        await expect(rows.locator("td:nth-child(2)")).to_have_text(["admin", "email"])
        await expect(rows.nth(1).locator("td")).to_have_text(
            ["3", "email", "not-an-address", words["invalid"]]
        )
        await check_accessibility(page)
        if viewport is DESKTOP:
            await visit.screenshot("invite-problems")
        assert await Invitation.all().count() == 0

        async with page.expect_download() as started:
            await page.click("#problems-file")
        problems = load_workbook(io.BytesIO(Path(await (await started.value).path()).read_bytes()))
        sheet = problems.worksheets[0]
        assert sheet["A3"].comment is not None and sheet["F3"].comment is not None
        assert sheet["A3"].comment.text == words["invalid"]  # what the console says
        sheet["A3"] = "tom@example.org"
        sheet["F3"] = True
        fixed = io.BytesIO()
        problems.save(fixed)

        await drop_file(page, fixed.getvalue(), "North.xlsx")
        await expect(page.locator("#file-chosen")).to_contain_text("North.xlsx")
        await page.click("#upload-submit")
        await expect(page.locator("#import-progress-box")).to_be_visible()
        await expect(page.locator("#import-failed")).to_be_hidden()
        await run_worker()
        await expect(page.locator("#import-done-text")).to_have_text(words["done"])
        await expect(page.locator("#import-progress-text")).to_have_text(words["progress"])
        progress = page.locator("#import-progress")
        assert await progress.evaluate("p => [p.value, p.max]") == [4, 4]
        await expect(page.locator("#count-invited")).to_have_text("3")
        await expect(page.locator("#count-existing")).to_have_text("0")
        await expect(page.locator("#count-skipped")).to_have_text("1")
        await expect(page.locator("#count-hidden")).to_have_text("0")
        await expect(page.locator("#count-admins")).to_have_text("1")
        await check_accessibility(page)
        if viewport is DESKTOP:
            await visit.screenshot("invite-imported")

        # This file's invitations, with their codes, in an export of their own, in the page's
        # language.
        await expect(page.locator("#import-export")).to_have_attribute(
            "href", re.compile(rf"&lang={re.escape(locale)}$")
        )
        async with page.expect_download() as started:
            await page.click("#import-export")
        exported = load_workbook(io.BytesIO(Path(await (await started.value).path()).read_bytes()))
        table = list(exported.worksheets[0].iter_rows(values_only=True))
        columns = [str(cell) for cell in table[0]]
        assert sorted(str(row[columns.index("email")] or "") for row in table[1:]) == [
            "",
            "lea@example.org",
            "tom@example.org",
        ]
        assert all(row[columns.index("token")] for row in table[1:])

        # Both uploads are in the past imports, the failed one with its problems file.
        await page.click("#main a[href^='/admin/imports']")
        rows = page.locator("#imports tbody tr")
        await expect(rows).to_have_count(2)
        await expect(rows.locator("td:nth-child(4)")).to_have_text(words["statuses"])
        await expect(rows.nth(1).locator("td a")).to_have_attribute(
            "href",
            re.compile(rf"^/invitations/imports/\d+/problems\.xlsx\?lang={re.escape(locale)}$"),
        )
        await expect(rows.nth(0).locator("td:nth-child(5)")).to_have_text("3")
        await expect(rows.nth(0).locator("td:nth-child(8)")).to_have_text("0")  # hidden rows
        await expect(rows.nth(0).locator("td a")).to_have_attribute(
            "href",
            re.compile(rf"^/invitations/export\.xlsx\?importId=\d+&lang={re.escape(locale)}$"),
        )
        await check_accessibility(page)
        if viewport is DESKTOP:
            await visit.screenshot("imports")

    invitations = await Invitation.all()
    assert sorted(i.email or "" for i in invitations) == ["", "lea@example.org", "tom@example.org"]
    assert await InvitationGroup.filter(group=group).count() == 2
    await run_worker()
    assert smtp_sink.to("tom@example.org") and smtp_sink.to("lea@example.org")


async def test_typed_invitations_work_from_the_keyboard_alone(
    database: None, browser: Browser, live_server: str
) -> None:
    await an_admin()
    await create_group(title="North Avenue Residents", kind=GroupKind.MANUAL)
    async with browse(browser, live_server, viewport=DESKTOP) as visit:
        page = visit.page
        await sign_in(page, "/admin/invite")
        group = page.get_by_label("North Avenue Residents", exact=True)
        await expect(group).to_be_visible()
        await group.focus()
        await page.keyboard.press("Space")
        await expect(group).to_be_checked()
        await page.focus("#emails")
        await page.keyboard.type("lea@example.org")
        await page.keyboard.press("Tab")
        await expect(page.locator("#typed-submit")).to_be_focused()
        await page.keyboard.press("Enter")
        # The result takes the focus, so a screen reader reads it out.
        await expect(page.locator("#typed-done")).to_be_focused()
        await expect(page.locator("#typed-done")).to_contain_text("1 invitation created.")
    assert await Invitation.filter(email="lea@example.org").count() == 1


async def test_past_imports_before_the_first_upload_say_so_and_lead_to_it(
    database: None, browser: Browser, live_server: str
) -> None:
    await an_admin(locale="fr-BE")
    async with browse(browser, live_server, viewport=PHONE) as visit:
        page = visit.page
        await sign_in(page, "/admin/imports")
        await expect(page.locator("#imports-total")).to_have_text(
            "Aucun fichier n'a encore été téléversé."
        )
        await expect(page.locator("#imports")).to_be_hidden()  # no table of nothing
        await check_accessibility(page)
        await page.click("#main a[href^='/admin/invite']")
        await expect(page.locator("#upload-submit")).to_be_visible()


async def in_view(page: Page, selector: str) -> None:
    """Every cell `selector` finds is within the window, and its table needs no scrolling."""
    width = await page.evaluate("window.innerWidth")
    for box in await page.locator(selector).evaluate_all(
        "cells => cells.map(c => c.getBoundingClientRect()).map(r => [r.left, r.right])"
    ):
        assert box[0] >= 0 and box[1] <= width, (box, width)
    box = page.locator(selector).first.locator("xpath=ancestor::div[@class='table-box']")
    assert await box.evaluate("b => b.scrollWidth <= b.clientWidth")


@pytest.mark.parametrize(
    ("locale", "viewport", "words"),
    [
        (
            "en",
            DESKTOP,
            {
                "example": "This is the template's example row: replace it",
                "name": "at most 100 characters",
                "language": "languages: en, nl-BE, fr-BE.",
            },
        ),
        (
            "nl-BE",
            PHONE,
            {
                "example": "Dit is de voorbeeldrij van het sjabloon",
                "name": "hoogstens 100 tekens",
                "language": "taal van het platform: en, nl-BE, fr-BE.",
            },
        ),
    ],
)
async def test_import_problems_keep_their_explanation_in_view_and_say_what_is_wrong(
    database: None,
    browser: Browser,
    live_server: str,
    run_worker: Any,
    locale: str,
    viewport: dict[str, int],
    words: dict[str, str],
) -> None:
    await an_admin(locale=locale)
    content = workbook(
        HEADER,
        ["jan.peeters@example.org", "Jan", "Peeters"],  # the template's example row, left in
        ["long@example.org", "Loooong" * 43],
        ["dutch@example.org", None, None, "Dutch"],
    )
    async with browse(browser, live_server, locale=locale, viewport=viewport) as visit:
        page = visit.page
        await sign_in(page, "/admin/invite")
        # As a person sees the page ready: its script set up (it keeps the file chosen).
        await expect(page.locator("#upload-submit")).to_be_enabled()
        await page.set_input_files(
            "#file", files=[{"name": "Long.xlsx", "mimeType": XLSX_TYPE, "buffer": content}]
        )
        await page.click("#upload-submit")
        await expect(page.locator("#import-progress-box")).to_be_visible()
        await run_worker()
        messages = page.locator("#import-problems tbody td:last-child")
        await expect(messages).to_have_count(3)
        for position, expected in enumerate((words["example"], words["name"], words["language"])):
            await expect(messages.nth(position)).to_contain_text(expected)
        await in_view(page, "#import-problems tbody td:last-child")
        await check_accessibility(page)

        # Typed: the explanation in view on a phone too, the raw code giving way to it.
        await page.fill("#emails", "not-an-address, " + "x" * 300 + "@example.org")
        await page.click("#typed-submit")
        await expect(page.locator("#typed-problems tbody tr")).to_have_count(2)
        await in_view(page, "#typed-problems tbody td:last-child")
        code_shown = await page.locator("#typed-problems tbody td:nth-child(3)").first.is_visible()
        assert code_shown is (viewport is DESKTOP)
        await check_accessibility(page)


async def upload_by_keyboard(page: Page, name: str, content: bytes) -> None:
    """The file picked, then Tab to the upload button and Enter."""
    await page.set_input_files(
        "#file", files=[{"name": name, "mimeType": XLSX_TYPE, "buffer": content}]
    )
    await page.focus("#file")
    await page.keyboard.press("Tab")
    await expect(page.locator("#upload-submit")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator("#import-progress-box")).to_be_visible()


async def test_from_the_keyboard_an_uploads_result_takes_the_focus_and_is_read_out_once(
    database: None, browser: Browser, live_server: str, run_worker: Any
) -> None:
    """Whatever the upload ends with, the focus goes to its heading (a screen reader reads it
    there), not to the top of the page; an admin who went on to type addresses meanwhile keeps
    her place and hears the outcome from the status instead. A typed batch with a problem
    gives the focus back to its button."""
    await an_admin(locale="nl-BE")
    residents = workbook(HEADER, ["lea@example.org", "Lea", "Peeters", None, None, None])
    mistaken = workbook(HEADER, ["not-an-address", "Tom", "Maes", None, None, None])
    async with browse(browser, live_server, locale="nl-BE", viewport=PHONE) as visit:
        page = visit.page
        await sign_in(page, "/admin/invite")
        await expect(page.locator("#upload-submit")).to_be_enabled()
        outcome = page.locator("#import-outcome")
        for name, content, heading, words in (
            ("Mistaken.xlsx", mistaken, "#import-failed-text", "Er is niets geïmporteerd"),
            ("Residents.xlsx", residents, "#import-done-text", "Residents.xlsx is geïmporteerd."),
        ):
            await upload_by_keyboard(page, name, content)
            await run_worker()
            await expect(page.locator(heading)).to_be_focused()
            await expect(page.locator(heading)).to_contain_text(words)
            assert await page.locator(heading).evaluate("h => h.tagName") == "H3"
            # Read out where the focus is, not a second time from a live region.
            await expect(outcome).to_have_text("")
            await check_accessibility(page)

        # Typing addresses while a file is read: the focus stays there, the status says it.
        await upload_by_keyboard(page, "Mistaken.xlsx", mistaken)
        await page.focus("#emails")
        await page.keyboard.type("koen@example.org")
        await run_worker()
        await expect(page.locator("#import-failed")).to_be_visible()
        await expect(page.locator("#emails")).to_be_focused()
        await expect(outcome).to_have_attribute("role", "status")
        await expect(outcome).to_contain_text("Er is niets geïmporteerd uit Mistaken.xlsx")

        # A typed batch: a problem is said in its status, the focus back on its button.
        await page.fill("#emails", "not-an-address")
        await page.focus("#typed-submit")
        await page.keyboard.press("Enter")
        await expect(page.locator("#typed-status")).to_contain_text("Er is niets verstuurd")
        await expect(page.locator("#typed-submit")).to_be_focused()
        await page.fill("#emails", "koen@example.org")
        await page.focus("#typed-submit")
        await page.keyboard.press("Enter")
        await expect(page.locator("#typed-done")).to_be_focused()
        await expect(page.locator("#typed-status")).to_be_hidden()
        await check_accessibility(page)


async def test_the_progress_agrees_with_the_rows_checked_in_french(
    database: None, browser: Browser, live_server: str, run_worker: Any
) -> None:
    await an_admin(locale="fr-BE")
    one = workbook(HEADER, ["lea@example.org", "Lea", "Peeters", None, None, None])
    async with browse(browser, live_server, locale="fr-BE", viewport=DESKTOP) as visit:
        page = visit.page
        await sign_in(page, "/admin/invite")
        await expect(page.locator("#upload-submit")).to_be_enabled()
        await page.set_input_files(
            "#file", files=[{"name": "Une.xlsx", "mimeType": XLSX_TYPE, "buffer": one}]
        )
        await page.click("#upload-submit")
        await expect(page.locator("#import-progress-box")).to_be_visible()
        await run_worker()
        await expect(page.locator("#import-done")).to_be_visible()
        await expect(page.locator("#import-progress-text")).to_have_text("1 ligne vérifiée sur 1")
