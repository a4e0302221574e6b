"""Webhooks in the admin console, in a real Chromium against the real API: a subscription to a
real receiver on 127.0.0.1, its generated secret shown once, a test event delivered by a real
worker and its 2xx attempt shown, then edited and deleted; in French at desktop width and in
Dutch at phone width, axe-core on every state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from arq.connections import ArqRedis
from playwright.async_api import expect

from domain.models import WebhookSubscription
from domain.settings import get_settings
from tests.admin_browser import said_at, sign_in
from tests.browser import DESKTOP, PHONE, browse, check_accessibility
from tests.fixtures import GraphQLClient
from tests.invitations_helpers import create
from tests.test_webhooks import Receiver, deliver, subscribe

pytestmark = pytest.mark.browser


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    server = Receiver()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture(autouse=True)
def private_addresses_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The receiver listens on 127.0.0.1 (INVITES_WEBHOOKS_ALLOW_PRIVATE=true)."""
    monkeypatch.setattr(get_settings(), "webhooks_allow_private", True)


async def test_an_admin_subscribes_the_platform_tests_it_and_removes_it_in_french(
    admin: GraphQLClient,
    browser: object,
    live_server: str,
    receiver: Receiver,
    redis: ArqRedis,
    run_worker: Any,
) -> None:
    async with browse(browser, live_server, locale="fr-BE", viewport=DESKTOP) as visit:  # type: ignore[arg-type]
        page = visit.page
        await sign_in(page, "/admin/webhooks?lang=fr-BE")
        await expect(page.locator("h1")).to_have_text("Webhooks vers la plateforme")
        await expect(page.locator("#empty")).to_be_visible()
        await expect(page.locator("nav.sections a[href*='/admin/webhooks']")).to_be_visible()
        await check_accessibility(page)

        # No event chosen: said, and nothing is made.
        await page.fill("#new-url", receiver.url)
        await page.click("#new-subscription button[type=submit]")
        assert await said_at(page, "#new-INVITATION_CREATED") == (
            "Choisissez au moins un événement."
        )
        await expect(page.locator("#new-INVITATION_CREATED")).to_be_focused()
        assert not await WebhookSubscription.exists()
        await check_accessibility(page)

        # Each event says when it happens, in the page's language.
        await expect(page.locator("#new-INVITATION_ACCEPTED")).to_have_accessible_name(
            "invitation.accepted quelqu'un l'a acceptée"
        )
        # Subscribed with the keyboard; the generated secret shown once.
        await page.check("#new-INVITATION_CREATED")
        await page.focus("#new-INVITATION_ACCEPTED")
        await page.keyboard.press("Space")
        await page.focus("#new-subscription button[type=submit]")
        await page.keyboard.press("Enter")
        await expect(page.locator("#done")).to_have_text(f"{receiver.url} est abonné.")
        secret = page.locator("#secret-value")
        await expect(secret).to_be_focused()
        assert (await secret.input_value()).startswith("whsec_")
        card = page.locator("#subscriptions li.card", has_text=receiver.url)
        await expect(card.locator(".event-types")).to_have_text(
            "invitation.created, invitation.accepted"
        )
        await expect(card.locator(".active-state")).to_have_text("Actif")
        await expect(card.locator(".last-delivery")).to_have_text("Pas encore de livraison.")
        await check_accessibility(page)
        await page.click("#secret-done")
        await expect(page.locator("#secret-box")).to_be_hidden()
        assert await secret.input_value() == ""

        # A test event, delivered by a worker: the delivery and its 2xx attempt.
        test = f"Envoyer un événement de test à {receiver.url}"
        await card.get_by_role("button", name=test).click()
        await expect(page.locator("#done")).to_have_text(
            f"Un événement de test est en route vers {receiver.url}."
        )
        await deliver(redis, run_worker)
        assert [r.event["type"] for r in receiver.answered()] == ["webhook.test"]
        await page.reload()
        await expect(card.locator(".last-delivery")).to_contain_text("Dernière livraison : livrée")
        await card.get_by_role("button", name=f"Livraisons à {receiver.url}").click()
        deliveries = page.locator("#deliveries")
        await expect(deliveries).to_be_visible()
        row = deliveries.locator("tbody tr")
        await expect(row).to_have_count(1)
        await expect(row.locator("code")).to_have_text("webhook.test")
        await expect(row.locator(".state")).to_have_text("livrée")
        await expect(row.locator("ul.attempts li")).to_contain_text("statut HTTP 200 en ")
        await check_accessibility(page)
        await visit.screenshot("webhooks-deliveries")
        await page.keyboard.press("Escape")
        await expect(deliveries).to_be_hidden()
        await visit.screenshot("webhooks")

        # Edited: another event, paused.
        await card.get_by_role("button", name=f"Modifier {receiver.url}").click()
        await expect(page.locator("#edit-url")).to_have_value(receiver.url)
        await expect(page.locator("#edit-INVITATION_CREATED")).to_be_checked()
        await page.check("#edit-USER_REGISTERED")
        await page.uncheck("#edit-active")
        await check_accessibility(page)
        await page.click("#edit-form button[type=submit]")
        await expect(card.locator(".active-state")).to_have_text("En pause")
        await expect(card.locator(".event-types")).to_contain_text("user.registered")
        stored = await WebhookSubscription.get()
        assert not stored.active

        # Deleted after confirming; cancelling first keeps it.
        await card.get_by_role("button", name=f"Supprimer {receiver.url}").click()
        await expect(page.locator("#confirm")).to_contain_text(receiver.url)
        await check_accessibility(page)
        await page.locator("#confirm").get_by_role("button", name="Annuler").click()
        assert await WebhookSubscription.exists()
        await card.get_by_role("button", name=f"Supprimer {receiver.url}").click()
        await page.locator("#confirm").get_by_role("button", name="Supprimer").click()
        await expect(page.locator("#done")).to_have_text(f"{receiver.url} n'est plus abonné.")
        await expect(page.locator("#empty")).to_be_visible()
        assert not await WebhookSubscription.exists()
        await check_accessibility(page)


async def test_an_admin_subscribes_with_their_own_secret_in_dutch_on_a_phone(
    admin: GraphQLClient, browser: object, live_server: str, receiver: Receiver
) -> None:
    async with browse(browser, live_server, locale="nl-BE", viewport=PHONE) as visit:  # type: ignore[arg-type]
        page = visit.page
        await sign_in(page, "/admin/webhooks?lang=nl-BE")
        await expect(page.locator("h1")).to_have_text("Webhooks naar het platform")
        await check_accessibility(page)

        # A secret the API refuses: its reason shown, nothing made.
        await page.fill("#new-url", receiver.url)
        await page.check("#new-USER_REGISTERED")
        await page.fill("#new-secret", "not-a-secret")
        await page.click("#new-subscription button[type=submit]")
        assert await said_at(page, "#new-secret") == (
            "Een geheim is whsec_ gevolgd door 24 tot 64 bytes in base64. Laat het leeg om er een"
            " te laten maken."
        )
        await expect(page.locator("#new-secret")).to_be_focused()
        await expect(page.locator("#new-problem")).to_be_hidden()
        assert not await WebhookSubscription.exists()
        await check_accessibility(page)

        await page.fill("#new-secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        await page.click("#new-subscription button[type=submit]")
        await expect(page.locator("#done")).to_have_text(f"{receiver.url} is geabonneerd.")
        await expect(page.locator("#secret-box")).to_be_hidden()
        card = page.locator("#subscriptions li.card", has_text=receiver.url)
        await expect(card.locator(".last-delivery")).to_have_text("Nog geen leveringen.")
        await card.get_by_role("button", name=f"Leveringen aan {receiver.url}").click()
        await expect(page.locator("#deliveries-status")).to_have_text("Nog geen leveringen.")
        await check_accessibility(page)
        await page.locator("#deliveries").get_by_role("button", name="Sluiten").click()
        await visit.screenshot("webhooks-phone")
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


async def test_a_receiver_that_keeps_failing_is_marked_on_a_phone_in_dutch(
    admin: GraphQLClient, browser: object, live_server: str, run_worker: Any
) -> None:
    # Nobody listens on this port: every attempt fails to connect. A long URL, as a
    # platform's often is, without a place to break.
    closed = Receiver()
    await closed.start()
    await closed.stop()
    url = f"http://127.0.0.1:{closed.port}/hooks/" + "residentsplatformreceiver" * 3
    await subscribe(admin, url, ["INVITATION_CREATED"])
    await create(admin, "down@example.org", sendEmail=False)
    await run_worker()
    async with browse(browser, live_server, locale="nl-BE", viewport=PHONE) as visit:  # type: ignore[arg-type]
        page = visit.page
        await sign_in(page, "/admin/webhooks?lang=nl-BE")
        card = page.locator("#subscriptions li.card", has_text=url)
        await expect(card.locator(".failing .badge")).to_have_text("Leveringen mislukken")
        await expect(card.locator(".last-delivery")).to_contain_text(
            "wordt opnieuw geprobeerd: 1 keer mislukt, volgende poging op "
        )
        await check_accessibility(page)
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        await card.get_by_role("button", name=f"Leveringen aan {url}").click()
        # The dialog's title, naming the URL, wraps within the dialog.
        fits = "(e) => e.scrollWidth <= e.clientWidth"
        assert await page.locator("#deliveries-title").evaluate(fits)
        row = page.locator("#deliveries tbody tr")
        await expect(row).to_have_count(1)
        await expect(row.locator(".state")).to_contain_text("1 keer mislukt, volgende poging op ")
        await check_accessibility(page)
        await visit.screenshot("webhooks-failing-phone")


async def test_a_url_webhooks_cannot_go_to_is_said_in_french_at_the_url(
    admin: GraphQLClient, browser: object, live_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "webhooks_allow_private", False)
    async with browse(browser, live_server, locale="fr-BE", viewport=PHONE) as visit:  # type: ignore[arg-type]
        page = visit.page
        await sign_in(page, "/admin/webhooks?lang=fr-BE")
        await page.check("#new-USER_REGISTERED")
        for url, words in [
            (
                "platform.example.org/hooks",
                "Donnez une URL http(s) complète, comme https://platform.example.org/hooks.",
            ),
            (
                "https://localhost/hooks",
                "Cette adresse n'est pas publique : les webhooks vont à l'adresse publique de la"
                " plateforme.",
            ),
        ]:
            await page.fill("#new-url", url)
            await page.fill("#new-secret", "kort")
            await page.click("#new-subscription button[type=submit]")
            assert await said_at(page, "#new-url") == words
            assert await said_at(page, "#new-secret") == (
                "Un secret est whsec_ suivi de 24 à 64 octets en base64. Laissez-le vide pour en"
                " générer un."
            )
            await expect(page.locator("#new-url")).to_be_focused()
            await expect(page.locator("#new-problem")).to_be_hidden()
        await check_accessibility(page)
        assert not await WebhookSubscription.exists()
