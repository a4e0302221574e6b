"""What the admin console says about mail that does not go out, in a real Chromium against the
real API, a real worker and a scripted relay: sending paused while the relay refuses every
mail (the invitations list and the Mail delivery page), a queued invitation being retried and
why, a reminder not delivered, and resends said as queued, not as sent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from playwright.async_api import expect

from domain.clock import clock
from domain.mail.relay import relay_outage
from domain.models import DeliveryState, Invitation
from tests.admin_browser import sign_in
from tests.browser import DESKTOP, PHONE, browse, check_accessibility
from tests.fixtures import GraphQLClient, SmtpSink
from tests.invitations_helpers import create, enqueue_sweep
from tests.mail_relay import ScriptedRelay, relay_settings, serve

pytestmark = pytest.mark.browser

# A relay that wants a sign-in and was given none, quoting our sender address back.
NO_AUTH = "530 5.7.0 <invitations@participate.example.org>: Authentication required"


@asynccontextmanager
async def refusing_relay(run_worker: Any, redis: Any) -> AsyncIterator[ScriptedRelay]:
    """A worker sending to a relay that refuses every mail, until the block ends (then the
    relay takes mail again and the worker sends what waited)."""
    relay = ScriptedRelay(mail_refusal=NO_AUTH)
    async with serve(relay) as port:
        worker = asyncio.create_task(run_worker(ctx={"settings": relay_settings(port)}))
        try:
            for _ in range(500):
                if await relay_outage(redis) is not None:
                    break
                await asyncio.sleep(0.01)
            assert await relay_outage(redis) is not None
            yield relay
        finally:
            relay.mail_refusal = None
            await worker


WORDS = {
    "en": {
        "title": "Sending is paused",
        "since": "Since ",
        "answer": "Its last answer: 530 5.7.0 <address>: Authentication required",
        "resumes": "go out by themselves as soon as the relay takes mail again",
        "retrying": "Retrying: 530 5.7.0",
        "last_attempt": "Last attempt",
    },
    "nl-BE": {
        "title": "Het verzenden ligt stil",
        "since": "Sinds ",
        "answer": "Zijn laatste antwoord: 530 5.7.0 <address>: Authentication required",
        "resumes": "vertrekken vanzelf zodra de relay weer mail aanneemt",
        "retrying": "Wordt opnieuw geprobeerd: 530 5.7.0",
        "last_attempt": "Laatste poging",
    },
    "fr-BE": {
        "title": "L'envoi est en pause",
        "since": "Depuis le ",
        "answer": "Sa dernière réponse : 530 5.7.0 <address>: Authentication required",
        "resumes": "partiront d'eux-mêmes dès que le relais acceptera à nouveau des e-mails",
        "retrying": "Nouvel essai à venir : 530 5.7.0",
        "last_attempt": "Dernière tentative",
    },
}


@pytest.mark.parametrize(
    ("locale", "viewport", "path"),
    [
        ("en", DESKTOP, "/admin/invitations"),
        ("nl-BE", PHONE, "/admin/mail"),
        ("fr-BE", PHONE, "/admin/invitations"),
        ("en", PHONE, "/admin/mail"),
    ],
)
async def test_while_the_relay_refuses_every_mail_the_console_says_sending_is_paused(
    admin: GraphQLClient,
    run_worker: Any,
    redis: Any,
    browser: object,
    live_server: str,
    locale: str,
    viewport: dict[str, int],
    path: str,
) -> None:
    words = WORDS[locale]
    assert (await create(admin, ["ann@example.org", "bob@example.org"]))["errors"] == []
    async with browse(browser, live_server, locale=locale, viewport=viewport) as visit:  # type: ignore[arg-type]
        page = visit.page
        async with refusing_relay(run_worker, redis) as relay:
            await sign_in(page, f"{path}?lang={locale}")
            notice = page.locator("#sending-pause")
            await expect(notice).to_be_visible()
            await expect(notice.get_by_role("heading", level=2)).to_have_text(words["title"])
            await expect(notice).to_contain_text(words["since"])
            await expect(notice).to_contain_text(words["answer"])
            await expect(notice).to_contain_text(words["resumes"])
            await expect(notice).not_to_contain_text("@")
            assert await page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
            await check_accessibility(page)
            await visit.screenshot(f"sending-paused-{path.rsplit('/', 1)[1]}-{locale}")
            if path == "/admin/invitations":
                # The invitation tried says why it is still queued, in the list and its details.
                tried = await Invitation.exclude(last_error="").first()
                assert tried is not None
                tried_row = page.locator("#invitations tbody tr", has_text=tried.email)
                await expect(tried_row.locator(".reason")).to_contain_text(words["retrying"])
                await tried_row.locator("button").first.click()
                details = page.locator("#details")
                await expect(details).to_be_visible()
                await expect(
                    details.locator(f'dt:text-is("{words["last_attempt"]}") + dd')
                ).to_contain_text("Authentication required")
                await check_accessibility(page)
                await page.keyboard.press("Escape")
            assert relay.mails == []
        # The relay takes mail again: the mails went, the notice goes.
        assert await Invitation.filter(delivery_state=DeliveryState.SENT).count() == 2
        await page.reload()
        await expect(page.locator("h1")).to_be_visible()
        await page.wait_for_load_state("networkidle")
        await expect(page.locator("#sending-pause")).to_be_hidden()


@pytest.mark.parametrize(
    ("locale", "viewport", "sent", "line", "label"),
    [
        (
            "nl-BE",
            PHONE,
            "Verstuurd",
            "Herinnering niet bezorgd: 550 5.1.1",
            "Herinnering niet bezorgd",
        ),
        ("en", DESKTOP, "Sent", "Reminder not delivered: 550 5.1.1", "Reminder not delivered"),
    ],
)
async def test_a_reminder_the_relay_refused_shows_on_its_sent_row(
    admin: GraphQLClient,
    smtp_sink: SmtpSink,
    run_worker: Any,
    redis: Any,
    browser: object,
    live_server: str,
    locale: str,
    viewport: dict[str, int],
    sent: str,
    line: str,
    label: str,
) -> None:
    assert (await create(admin, ["remind@example.org"]))["errors"] == []
    await run_worker()
    clock.advance(timedelta(days=3, minutes=1))
    smtp_sink.refuse, smtp_sink.refuse_times = (550, "5.1.1 mailbox unavailable"), -1
    await enqueue_sweep(redis)
    await run_worker()
    smtp_sink.refuse = None
    invitation = await Invitation.get(email="remind@example.org")
    assert invitation.delivery_state is DeliveryState.SENT and invitation.last_error

    async with browse(browser, live_server, locale=locale, viewport=viewport) as visit:  # type: ignore[arg-type]
        page = visit.page
        await sign_in(page, f"/admin/invitations?lang={locale}")
        reminded = page.locator("#invitations tbody tr", has_text="remind@example.org")
        await expect(reminded.locator(".badge.delivery-sent")).to_have_text(sent)
        await expect(reminded.locator(".reason")).to_have_text(f"{line} mailbox unavailable")
        await reminded.locator("button").first.click()
        details = page.locator("#details")
        await expect(details.locator(f'dt:text-is("{label}") + dd')).to_have_text(
            "550 5.1.1 mailbox unavailable"
        )
        await check_accessibility(page)
        await page.keyboard.press("Escape")


async def test_a_resend_says_the_mail_is_queued_and_its_row_shows_it_gone_once_sent(
    admin: GraphQLClient,
    smtp_sink: SmtpSink,
    run_worker: Any,
    browser: object,
    live_server: str,
) -> None:
    assert (await create(admin, ["ann@example.org"]))["errors"] == []
    await run_worker()
    smtp_sink.refuse, smtp_sink.refuse_times = (550, "5.1.1 mailbox unavailable"), -1
    assert (await create(admin, ["bob@example.org"]))["errors"] == []
    await run_worker()
    smtp_sink.refuse = None
    smtp_sink.mails.clear()
    async with browse(browser, live_server, locale="fr-BE", viewport=PHONE) as visit:  # type: ignore[arg-type]
        page = visit.page
        await sign_in(page, "/admin/invitations?lang=fr-BE")
        ann = page.locator("#invitations tbody tr", has_text="ann@example.org")
        await ann.get_by_role("button", name="Renvoyer").click()
        await expect(page.locator("#bulk-result")).to_have_text(
            "L'invitation à ann@example.org est en file d'attente pour être renvoyée : elle est"
            " valable 30 jours à partir de maintenant. Sa ligne indique quand l'e-mail est parti."
        )
        await expect(ann.locator("td.delivery .badge")).to_have_text("En file d'attente")
        await check_accessibility(page)
        await run_worker()
        assert [mail.to for mail in smtp_sink.mails] == ["ann@example.org"]
        # Without a reload: the row asks again while its mail waits.
        await expect(ann.locator("td.delivery .badge")).to_have_text("Envoyée")

        # In bulk too (on a desktop, in English).
        await page.goto("/admin/invitations?lang=en")
        await page.set_viewport_size(DESKTOP)
        await page.check("#pick-page")
        await page.click("#bulk-resend")
        await expect(page.locator("#bulk-result")).to_contain_text(
            "1 invitation queued to be sent."
        )
        bob = page.locator("#invitations tbody tr", has_text="bob@example.org")
        await expect(bob.locator("td.delivery .badge")).to_have_text("Queued")
        await run_worker()
        await expect(bob.locator("td.delivery .badge")).to_have_text("Sent")
        await check_accessibility(page)
