"""All invitations in the admin console, in a real Chromium against the real API, worker and
SMTP sink: find an invitation by search, resend it (its mail arrives), delete another after a
confirmation that names what it carried, bulk-resend the failed ones; the downloads carry the
filters; a phone in Dutch reads the list as cards."""

from __future__ import annotations

import io
import os
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from openpyxl import load_workbook
from playwright.async_api import Page, expect

from domain.clock import clock
from domain.models import ImportStatus, Invitation, InvitationImport
from tests.admin_browser import sign_in
from tests.browser import DESKTOP, PHONE, Visit, browse, check_accessibility
from tests.fixtures import GraphQLClient, SmtpSink
from tests.invitations_helpers import GENERATE, accept_letter, create

pytestmark = pytest.mark.browser

GROUP = """
mutation($title: String!) {
  createGroup(input: {title: $title, kind: MANUAL}) { group { id } errors { code } }
}
"""


async def failed(admin: GraphQLClient, sink: SmtpSink, run_worker: Any, emails: list[str]) -> None:
    """Invitations whose mail the relay refused for good (550): delivery FAILED."""
    sink.refuse, sink.refuse_times = (550, "5.1.1 mailbox unavailable"), -1
    assert (await create(admin, emails))["errors"] == []
    await run_worker()
    sink.refuse = None


async def screen(visit: Visit, name: str, top: str) -> None:
    """What the screen shows from the element `top` on (not the whole long page), as
    docs/console has it."""
    folder = os.environ.get("INVITES_TEST_SCREENSHOTS")
    if folder:
        await visit.page.evaluate(
            "(selector) => document.querySelector(selector).scrollIntoView()", top
        )
        await visit.page.screenshot(path=f"{folder}/{name}.png")


def row(page: Page, email: str) -> Any:
    return page.locator("#invitations tbody tr", has_text=email)


async def test_an_admin_finds_resends_deletes_and_bulk_resends_invitations(
    admin: GraphQLClient,
    smtp_sink: SmtpSink,
    run_worker: Any,
    browser: object,
    live_server: str,
) -> None:
    group = (await admin(GROUP, {"title": "North Avenue Residents"}))["createGroup"]["group"]
    assert (await create(admin, ["ann.peeters@example.org"]))["errors"] == []
    message = "Vul <uw naam> in bij het aanmelden.\nOnthoud: 5 < 6 & 7 > 3.\nGroetjes,\nAda"
    assert (
        await create(
            admin, ["bob@example.org"], groupIds=[group["id"]], admin=True, personalMessage=message
        )
    )["errors"] == []
    await run_worker()
    await failed(admin, smtp_sink, run_worker, ["dead1@example.org", "dead2@example.org"])
    smtp_sink.mails.clear()

    async with browse(browser, live_server, viewport=DESKTOP) as visit:  # type: ignore[arg-type]
        page = visit.page
        await sign_in(page, "/admin/invitations")
        await expect(page.locator("h1")).to_have_text("All invitations")
        await expect(page.locator("#total")).to_have_text("4 invitations")
        await expect(row(page, "dead1@example.org")).to_contain_text("Failed")
        await expect(row(page, "dead1@example.org")).to_contain_text("mailbox unavailable")
        await check_accessibility(page)
        await visit.screenshot("invitations")

        # Search, then resend: the mail arrives.
        await page.fill("#search", "ann")
        await expect(page.locator("#total")).to_have_text("1 invitation")
        await expect(page.locator("#invitations tbody tr")).to_have_count(1)
        assert page.url.endswith("/admin/invitations?search=ann")
        export = urlsplit(await page.get_attribute("#export", "href") or "")
        assert export.path == "/invitations/export.xlsx"
        assert parse_qs(export.query) == {"search": ["ann"], "lang": ["en"]}
        # The export opens with the console's cookie and holds what the filters select.
        async with page.expect_download() as started:
            await page.click("#export")
        download = await started.value
        book = load_workbook(io.BytesIO(Path(await download.path()).read_bytes()))
        rows = list(book.worksheets[0].iter_rows(values_only=True))
        header = [str(cell) for cell in rows[0]]
        assert [row[header.index("email")] for row in rows[1:]] == ["ann.peeters@example.org"]
        await row(page, "ann.peeters@example.org").get_by_role("button", name="Resend").click()
        await expect(page.locator("#bulk-result")).to_contain_text(
            "The invitation to ann.peeters@example.org is queued to be sent again"
        )
        await run_worker()
        assert [mail.to for mail in smtp_sink.mails] == ["ann.peeters@example.org"]

        # The details: the grants, the inviter and the code.
        await page.fill("#search", "bob")
        await expect(page.locator("#invitations tbody tr")).to_have_count(1)
        await row(page, "bob@example.org").get_by_role("button", name="Details").click()
        details = page.locator("#details")
        await expect(details).to_be_visible()
        await expect(details).to_contain_text("North Avenue Residents")
        await expect(details).to_contain_text("admin@participate.example.org")
        await expect(details).to_contain_text("English")
        # The personal message as typed, its lines kept.
        shown = details.locator("dt:text-is('Personal message') + dd")
        assert await shown.inner_text() == message
        found = await admin('{ invitations(filter: {search: "bob"}) { edges { node { token } } } }')
        [edge] = found["invitations"]["edges"]
        await expect(details.locator("dd.code")).to_have_text(edge["node"]["token"])
        await check_accessibility(page)
        await page.keyboard.press("Escape")
        await expect(details).to_be_hidden()

        # Delete: the confirmation says what will not be applied; Cancel keeps it.
        await row(page, "bob@example.org").get_by_role("button", name="Delete").click()
        dialog = page.locator("#confirm")
        await expect(dialog).to_contain_text("North Avenue Residents")
        await expect(dialog).to_contain_text("will not be applied")
        await check_accessibility(page)
        await dialog.get_by_role("button", name="Cancel").click()
        await expect(dialog).to_be_hidden()
        assert await Invitation.filter(email="bob@example.org").exists()
        await row(page, "bob@example.org").get_by_role("button", name="Delete").click()
        await dialog.get_by_role("button", name="Delete").click()
        await expect(page.locator("#total")).to_have_text("0 invitations")
        assert not await Invitation.filter(email="bob@example.org").exists()

        # Bulk: the failed ones, all that match the filter, resent.
        await page.fill("#search", "")
        await page.select_option("#delivery", "FAILED")
        await expect(page.locator("#total")).to_have_text("2 invitations")
        await page.check("#pick-page")
        await expect(page.locator("#selection")).to_have_text("2 invitations selected.")
        await page.click("#bulk-resend")
        await expect(page.locator("#bulk-result")).to_have_text("2 invitations queued to be sent.")
        await run_worker()
        assert sorted(mail.to for mail in smtp_sink.mails[1:]) == [
            "dead1@example.org",
            "dead2@example.org",
        ]
        await page.select_option("#delivery", "")
        await expect(page.locator("#total")).to_have_text("3 invitations")
        await expect(page.locator("#invitations tbody")).not_to_contain_text("Failed")

        # The column headers sort, from the keyboard too.
        email_header = page.locator("th[data-sort=EMAIL]")
        await email_header.locator("button").focus()
        await page.keyboard.press("Enter")
        await expect(email_header).to_have_attribute("aria-sort", "ascending")
        await expect(page.locator("#sort")).to_have_value("EMAIL:ASC")
        await expect(page.locator("#invitations tbody tr").first).to_contain_text("ann.peeters")
        await page.keyboard.press("Enter")
        await expect(email_header).to_have_attribute("aria-sort", "descending")
        await expect(page.locator("#invitations tbody tr").first).to_contain_text("dead2")

        # An address names the filters: a link or a bookmark opens the same list.
        await page.goto(f"/admin/invitations?delivery=SENT&groupId={group['id']}&lang=en")
        await expect(page.locator("#delivery")).to_have_value("SENT")
        await expect(page.locator("#group")).to_have_value(group["id"])
        await expect(page.locator("#group option:checked")).to_have_text("North Avenue Residents")
        await expect(page.locator("#total")).to_have_text("0 invitations")
        await page.select_option("#group", "")
        await expect(page.locator("#total")).to_have_text("3 invitations")
        assert page.url.endswith("/admin/invitations?lang=en&delivery=SENT")

        # Clearing the filters puts the order back too.
        await page.fill("#search", "dead")
        await expect(page.locator("#total")).to_have_text("2 invitations")
        await page.click("#filters button[type=reset]")
        await expect(page.locator("#total")).to_have_text("3 invitations")
        await expect(page.locator("#sort")).to_have_value("CREATED_AT:DESC")
        await expect(email_header).to_have_attribute("aria-sort", "none")
        await expect(page.locator("th[data-sort=CREATED_AT]")).to_have_attribute(
            "aria-sort", "descending"
        )


async def test_a_phone_in_dutch_pages_through_the_invitations(
    admin: GraphQLClient, browser: object, live_server: str
) -> None:
    emails = [f"person{number:02}@example.org" for number in range(30)]
    assert (await create(admin, emails, sendEmail=False))["errors"] == []

    async with browse(browser, live_server, locale="nl-BE", viewport=PHONE) as visit:  # type: ignore[arg-type]
        page = visit.page
        await sign_in(page, "/admin/invitations?lang=nl-BE")
        await expect(page.locator("h1")).to_have_text("Alle uitnodigingen")
        await expect(page.locator("#total")).to_have_text("30 uitnodigingen")
        rows = page.locator("#invitations tbody tr")
        await expect(rows).to_have_count(25)
        # Sorted by email, a keyset page at a time: next, then back.
        # On a phone the filters fold away under the search, until opened.
        await expect(page.locator("#sort")).to_be_hidden()
        await page.click("#more-filters summary")
        await page.select_option("#sort", "EMAIL:ASC")
        await expect(rows.first).to_contain_text("person00@example.org")
        await page.click("#next")
        await expect(rows).to_have_count(5)
        await expect(rows.first).to_contain_text("person25@example.org")
        await expect(page.locator("#page-number")).to_have_text("Pagina 2")
        # Another page or order of the same invitations: no new count of them all.
        lists = [
            request.post_data_json
            for request in visit.graphql_requests()
            if "query Invitations" in (request.post_data or "")
        ]
        assert [asked["variables"]["withTotal"] for asked in lists] == [True, False, False]
        await expect(page.locator("#total")).to_have_text("30 uitnodigingen")
        await page.click("#previous")
        await expect(rows.first).to_contain_text("person00@example.org")
        await page.click("#more-filters summary")
        # A card per invitation on a phone: nothing wider than the screen.
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        await check_accessibility(page)
        await screen(visit, "invitations-phone", "#total")

        # Every one that matches, beyond this page.
        await page.check("#pick-page")
        await page.click("#select-matching")
        await expect(page.locator("#selection")).to_have_text(
            "Alle 30 uitnodigingen die overeenkomen zijn gekozen."
        )
        await page.click("#bulk-delete")
        await page.locator("#confirm").get_by_role("button", name="Verwijderen").click()
        await expect(page.locator("#bulk-result")).to_have_text("30 uitnodigingen verwijderd.")
        await expect(page.locator("#total")).to_have_text("0 uitnodigingen")
        assert await Invitation.all().count() == 0


async def test_before_anyone_is_invited_the_list_says_where_to_start(
    admin: GraphQLClient, browser: object, live_server: str
) -> None:
    async with browse(browser, live_server, locale="fr-BE", viewport=PHONE) as visit:  # type: ignore[arg-type]
        page = visit.page
        await sign_in(page, "/admin/invitations?lang=fr-BE")
        start = page.locator("#nothing-yet")
        await expect(start).to_contain_text("Il n'y a aucune invitation.")
        # No empty table, bulk tools or downloads of nothing.
        for tool in ("#invitations", "#pick-page", "#export", "#next"):
            await expect(page.locator(tool)).to_be_hidden()
        await expect(page.locator("#empty")).to_be_hidden()
        await check_accessibility(page)
        await start.get_by_role("link", name="Inviter des utilisateurs").click()
        assert page.url.endswith("/admin/invite?lang=fr-BE")

        # Once there are invitations, a search finding none says so, and the list's tools stay.
        assert (await create(admin, ["ann@example.org"], sendEmail=False))["errors"] == []
        await page.goto("/admin/invitations?lang=fr-BE")
        await expect(page.locator("#invitations tbody tr")).to_have_count(1)
        await page.fill("#search", "nobody")
        await page.click("main form button[type=submit]")
        await expect(page.locator("#empty")).to_have_text("Aucune invitation ne correspond.")
        await expect(page.locator("#nothing-yet")).to_be_hidden()
        await expect(page.locator("#pick-page")).to_be_visible()

        # Deleting the last one: what was done is still said, and where to start again.
        await page.click("main form button[type=reset]")
        await row(page, "ann@example.org").get_by_role("button", name="Supprimer").click()
        await page.locator("#confirm").get_by_role("button", name="Supprimer").click()
        await expect(start).to_be_visible()
        said = page.locator("#bulk-result")
        await expect(said).to_have_text("L'invitation à ann@example.org est supprimée.")
        await expect(said).to_be_visible()
        await expect(page.locator("#pick-page")).to_be_hidden()
        await check_accessibility(page)


async def test_in_dutch_resends_refused_code_only_rows_mails_not_sent_and_letters_say_why(
    admin: GraphQLClient,
    gql: GraphQLClient,
    smtp_sink: SmtpSink,
    run_worker: Any,
    browser: object,
    live_server: str,
) -> None:
    [old] = (await create(admin, ["tom@example.org"]))["invitations"]
    await run_worker()
    clock.advance(timedelta(days=31))  # expired: tom@ is invited again
    assert (await create(admin, ["tom@example.org"]))["errors"] == []
    assert (await create(admin, ["later@example.org"], sendEmail=False))["errors"] == []
    codes = (await admin(GENERATE, {"count": 2}))["generateInvitationCodes"]["invitations"]
    await run_worker()
    smtp_sink.clear()

    async with browse(browser, live_server, locale="nl-BE", viewport=DESKTOP) as visit:  # type: ignore[arg-type]
        page = visit.page
        downloads: list[Any] = []
        page.on("download", lambda download: downloads.append(download))
        await sign_in(page, "/admin/invitations?lang=nl-BE")
        await expect(page.locator("#total")).to_have_text("5 uitnodigingen")
        problem, said = page.locator("#problem"), page.locator("#bulk-result")

        # The expired invitation to an address invited again: not resent, and said why.
        await page.fill("#search", "tom")
        await expect(page.locator("#invitations tbody tr")).to_have_count(2)
        expired = row(page, "Verlopen")
        await expired.get_by_role("button", name="Opnieuw sturen").click()
        await expect(problem).to_have_text(
            "tom@example.org heeft al een andere openstaande uitnodiging: stuur die opnieuw, of"
            " verwijder ze eerst. (Zoek op het adres om ze allebei te zien.)"
        )
        assert (await Invitation.get(id=int(old["id"]))).expires_at < await clock.now()
        await check_accessibility(page)
        # In bulk too: the count of each reason.
        await page.check("#pick-page")
        await page.click("#bulk-resend")
        await expect(said).to_contain_text("0 uitnodigingen in de wachtrij om verstuurd te worden.")
        await expect(said).to_contain_text(
            "1 heeft een andere openstaande uitnodiging voor hetzelfde adres"
        )
        assert smtp_sink.mails == []

        # Code-only rows are told apart by their number; resending one says no mail goes.
        await page.fill("#search", "")
        await expect(page.locator("#total")).to_have_text("5 uitnodigingen")
        for code in codes:
            name = f"Details van de uitnodiging voor Alleen code (brief) nr. {code['id']}"
            await expect(page.get_by_role("button", name=name, exact=True)).to_have_count(1)
        # Its action says what it does: nothing is mailed, the code works 30 more days.
        first = f"Alleen code (brief) nr. {codes[0]['id']}"
        code_row = row(page, first)
        await expect(code_row.get_by_role("button", name="Opnieuw sturen")).to_have_count(0)
        extend = code_row.get_by_role(
            "button", name=f"De geldigheid van de code voor {first} verlengen", exact=True
        )
        await expect(extend).to_have_text("Geldigheid verlengen")
        await extend.click()
        await expect(said).to_have_text(
            f"De code van de uitnodiging voor {first} is nog 30 dagen geldig; er gaat geen mail"
            " uit (alleen een code: er is geen adres)."
        )
        # Its details say how long the code works and that it was extended, not mails.
        await row(page, first).get_by_role("button", name="Details").click()
        details = page.locator("#details")
        await expect(details.locator("dt:text-is('Code geldig tot') + dd")).not_to_be_empty()
        await expect(details.locator("dt:text-is('Geldigheid verlengd') + dd")).to_have_text(
            "1 keer"
        )
        for mail_words in ("Verzendingen gevraagd", "Niet gemaild", "Bezorging", "Verloopt"):
            await expect(details).not_to_contain_text(mail_words)
        await check_accessibility(page)
        await page.keyboard.press("Escape")
        # A mailed invitation's details keep the mail's.
        await row(page, "later@example.org").get_by_role("button", name="Details").click()
        await expect(details.locator("dt:text-is('Verzendingen gevraagd') + dd")).to_have_text("1")
        await expect(details.locator("dt:text-is('Verloopt') + dd")).not_to_be_empty()
        await page.keyboard.press("Escape")

        # What a resident reads out on the phone: the letter's code (as typed, in any case and
        # spacing) or its number finds it; a code stays out of the page's address.
        spoken = " ".join(codes[1]["token"].lower().split("-"))
        await page.fill("#search", spoken)
        await expect(page.locator("#total")).to_have_text("1 uitnodiging")
        await expect(page.locator("#invitations tbody tr")).to_contain_text(
            f"Alleen code (brief) nr. {codes[1]['id']}"
        )
        assert "search" not in urlsplit(page.url).query
        await page.fill("#search", f"nr. {codes[0]['id']}")
        await expect(page.locator("#invitations tbody tr")).to_contain_text(first)
        await expect(page.locator("#total")).to_have_text("1 uitnodiging")
        await page.fill("#search", "")
        await expect(page.locator("#total")).to_have_text("5 uitnodigingen")

        # Invitations created without their mail: sent in bulk; the code-only ones stay.
        await page.select_option("#delivery", "NOT_SENT")
        await expect(page.locator("#total")).to_have_text("3 uitnodigingen")
        await page.check("#pick-page")
        bulk = page.locator("#bulk-resend")
        await expect(bulk).to_have_text(
            "De niet-verstuurde, mislukte en verlopen sturen; verlopen codes verlengen"
        )
        await bulk.click()
        await expect(said).to_have_text(
            "1 uitnodiging in de wachtrij om verstuurd te worden. 2 staan open en zijn al gemaild"
            " (of hebben alleen een code): ongemoeid gelaten. Opnieuw sturen op een rij mailt die"
            " opnieuw."
        )
        await run_worker()
        assert [mail.to for mail in smtp_sink.mails] == ["later@example.org"]
        await check_accessibility(page)

        # An expired code in bulk: its code works 30 more days, said apart from the mails.
        lapsed = int(codes[1]["id"])
        await Invitation.filter(id=lapsed).update(expires_at=await clock.now())
        await page.select_option("#delivery", "")
        await page.select_option("#status", "EXPIRED")
        await expect(page.locator("#total")).to_have_text("2 uitnodigingen")
        await page.check("#pick-page")
        await bulk.click()
        await expect(said).to_contain_text(
            "1 uitnodiging met alleen een code is nog 30 dagen geldig (geen mail: er is geen"
            " adres)."
        )
        await expect(said).not_to_contain_text("verstuurd")
        assert (await Invitation.get(id=lapsed)).expires_at > await clock.now()
        await run_worker()
        assert [mail.to for mail in smtp_sink.mails] == ["later@example.org"]

        # Letters of accepted invitations: nothing to print (a used code works no more), said
        # in the page, no download.
        await accept_letter(gql, codes[1]["token"], "lea@example.org", smtp_sink, run_worker)
        await page.goto("/admin/invitations?lang=nl-BE&status=ACCEPTED")
        await expect(row(page, f"Alleen code (brief) nr. {lapsed}")).to_be_visible()
        await expect(page.locator("#status")).to_have_value("ACCEPTED")
        await page.click("#letters")
        await expect(problem).to_have_text(
            "Geen brieven om af te drukken: brieven zijn er voor openstaande uitnodigingen met"
            " alleen een code (zonder adres), en geen enkele komt overeen met deze filters."
        )
        # The refusal answers 404, which Chromium reports; nothing else may be reported.
        visit.problems.remove(
            "Failed to load resource: the server responded with a status of 404 (Not Found)"
        )
        await check_accessibility(page)
        # The pending ones print.
        await page.select_option("#status", "PENDING")
        async with page.expect_download() as started:
            await page.click("#letters")
        download = await started.value
        assert download.suggested_filename.endswith(".pdf")
        assert Path(await download.path()).read_bytes().startswith(b"%PDF-")
        await expect(problem).to_be_hidden()
        assert len(downloads) == 1


async def test_after_a_resend_or_a_delete_by_keyboard_the_focus_is_where_the_result_is(
    admin: GraphQLClient, browser: object, live_server: str
) -> None:
    """The row's button goes with the rows drawn again: the focus goes to what was done, not
    back to the top of the page."""
    emails = ["ann@example.org", "bob@example.org", "cas@example.org"]
    assert (await create(admin, emails, sendEmail=False, locale="nl-BE"))["errors"] == []
    async with browse(browser, live_server, locale="nl-BE", viewport=DESKTOP) as visit:  # type: ignore[arg-type]
        page = visit.page
        await sign_in(page, "/admin/invitations?lang=nl-BE")
        await expect(page.locator("#invitations tbody tr")).to_have_count(3)
        # The details name the language as the switch and the invite form do.
        await row(page, "cas@example.org").get_by_role("button", name="Details").click()
        await expect(page.locator("#details")).to_contain_text("Nederlands")
        await page.keyboard.press("Escape")

        await row(page, "ann@example.org").get_by_role("button", name="Opnieuw sturen").focus()
        await page.keyboard.press("Enter")
        said = page.locator("#bulk-result")
        await expect(said).to_contain_text("ann@example.org")
        await expect(said).to_be_focused()

        await row(page, "bob@example.org").get_by_role("button", name="Verwijderen").focus()
        await page.keyboard.press("Enter")
        dialog = page.locator("#confirm")
        await expect(dialog.get_by_role("button", name="Annuleren")).to_be_focused()
        await page.keyboard.press("Tab")
        await page.keyboard.press("Enter")
        await expect(said).to_have_text("De uitnodiging voor bob@example.org is verwijderd.")
        await expect(said).to_be_focused()
        # Tab goes on from there, not from the top of the page.
        await page.keyboard.press("Tab")
        assert await page.evaluate("document.activeElement.closest('main') !== null")
        await check_accessibility(page)


@pytest.mark.parametrize(
    ("locale", "viewport", "words"),
    [
        (
            "fr-BE",
            PHONE,
            {
                "name": "Code seul (lettre) n° {id}",
                "extend": "Prolonger la validité",
                "extend_of": "Prolonger la validité du code pour {who}",
                "valid_until": "Code valable jusqu'au",
                "extended": "Validité prolongée",
                "times": "1 fois",
                "sends": "Envois demandés",
                "details": "Détails",
            },
        ),
        (
            "en",
            DESKTOP,
            {
                "name": "Code only (letter) no. {id}",
                "extend": "Extend validity",
                "extend_of": "Extend the validity of the code for {who}",
                "valid_until": "Code valid until",
                "extended": "Validity extended",
                "times": "1 time",
                "sends": "Sends asked for",
                "details": "Details",
            },
        ),
    ],
)
async def test_a_code_only_row_offers_to_extend_its_code_and_its_details_say_so(
    admin: GraphQLClient,
    browser: object,
    live_server: str,
    locale: str,
    viewport: dict[str, int],
    words: dict[str, str],
) -> None:
    """Nothing is mailed for a code-only invitation: its action extends the code, by keyboard
    too, and its details say until when the code works, not how often it was "sent"."""
    [code] = (await admin(GENERATE, {"count": 1}))["generateInvitationCodes"]["invitations"]
    before = (await Invitation.get(id=int(code["id"]))).expires_at
    name = words["name"].format(id=code["id"])
    async with browse(browser, live_server, locale=locale, viewport=viewport) as visit:  # type: ignore[arg-type]
        page = visit.page
        await sign_in(page, f"/admin/invitations?lang={locale}")
        code_row = row(page, name)
        extend = code_row.get_by_role(
            "button", name=words["extend_of"].format(who=name), exact=True
        )
        await expect(extend).to_have_text(words["extend"])
        await check_accessibility(page)
        clock.advance(timedelta(days=3))
        await extend.focus()
        await page.keyboard.press("Enter")
        said = page.locator("#bulk-result")
        await expect(said).to_contain_text(name)
        await expect(said).to_be_focused()
        assert (await Invitation.get(id=int(code["id"]))).expires_at > before

        await row(page, name).get_by_role("button", name=words["details"]).focus()
        await page.keyboard.press("Enter")
        details = page.locator("#details")
        await expect(details).to_be_visible()
        await expect(
            details.locator(f'dt:text-is("{words["valid_until"]}") + dd')
        ).not_to_be_empty()
        await expect(details.locator(f'dt:text-is("{words["extended"]}") + dd')).to_have_text(
            words["times"]
        )
        await expect(details).not_to_contain_text(words["sends"])
        await check_accessibility(page)
        await visit.screenshot(f"invitation-code-only-details-{locale}")
        await page.keyboard.press("Escape")
        await expect(details).to_be_hidden()


async def test_the_import_filter_offers_only_the_imports_that_wrote_invitations(
    admin: GraphQLClient, browser: object, live_server: str
) -> None:
    """A failed file, one whose rows were all blank and a preview wrote no invitation: listing
    them would only lead to an empty list."""
    assert (await create(admin, ["ann@example.org"], sendEmail=False))["errors"] == []
    for name, status, invited, dry_run in (
        ("Bewoners.xlsx", ImportStatus.DONE, 3, False),
        ("Fouten.xlsx", ImportStatus.FAILED, 0, False),
        ("Leeg.xlsx", ImportStatus.DONE, 0, False),
        ("Proef.xlsx", ImportStatus.DONE, 2, True),
    ):
        await InvitationImport.create(
            file_name=name, status=status, invited_count=invited, dry_run=dry_run
        )
    async with browse(browser, live_server, locale="nl-BE", viewport=DESKTOP) as visit:  # type: ignore[arg-type]
        page = visit.page
        await sign_in(page, "/admin/invitations?lang=nl-BE")
        choices = page.locator("#import option")
        await expect(choices).to_have_count(2)
        await expect(choices.nth(1)).to_contain_text("Bewoners.xlsx")
        await check_accessibility(page)
