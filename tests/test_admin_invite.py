"""Invite users at /admin/invite in a real Chromium against the real API, worker, database
and SMTP sink: typed addresses (a wrong one shown beside its entry, corrected, then the mails
in the sink) and an Excel file (problems table, the problems workbook, fixed, uploaded again,
the progress bar up to the counts)."""

from __future__ import annotations

import io
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
            "#emails", "Lea Peeters <lea@example.org>, not-an-address\nkoen@example.org"
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

        await page.fill("#emails", "Lea Peeters <lea@example.org>,\nkoen@example.org")
        await page.click("#typed-submit")
        await expect(page.locator("#typed-done")).to_contain_text(words["done"])
        await expect(page.locator("#typed-problems-box")).to_be_hidden()
        await expect(page.locator("#emails")).to_have_value("")
        await check_accessibility(page)
        await visit.screenshot(f"invite-{locale}")

    invitations = await Invitation.all()
    assert sorted(i.email or "" for i in invitations) == ["koen@example.org", "lea@example.org"]
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
