"""Every mail the service sends, read on a phone: its HTML part rendered in Chromium at 390 px
wide never scrolls sideways, however long its written-out links and addresses are."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import Browser

from domain.crypto import keyring
from domain.invitations import tokens
from domain.invitations.delivery import Inviter, Sendable, compose_invitation_mail
from domain.invitations.grants import Granted
from domain.mail.render import render
from domain.users.mails import confirm_url, reset_request_url
from tests.browser import PHONE

pytestmark = pytest.mark.browser

LOCALES = ("en", "nl-BE", "fr-BE")
LONG_EMAIL = "jan.peeters-vandenbroucke.bewonersraad@noordelijke-buurt.example.org"


def _invitation(locale: str, *, reminder: bool) -> str:
    sendable = Sendable(
        email=LONG_EMAIL,
        first_name="Jan",
        last_name="Peeters",
        locale=locale,
        personal_message="Zie https://participate.example.org/projects/riverside-park-renewal-2025",
        token_encrypted=keyring("invitation-token").encrypt(tokens.generate()),
        expires_at=datetime.now(UTC) + timedelta(days=30),
        inviter=Inviter("admin@participate.example.org", "Ada Admin"),
    )
    return compose_invitation_mail(sendable, reminder=reminder).html


def _mails(locale: str) -> Iterator[tuple[str, str]]:
    yield "invitation", _invitation(locale, reminder=False)
    yield "reminder", _invitation(locale, reminder=True)
    code = "".join(secrets.choice("0123456789") for _ in range(6))
    confirm = {"code": code, "minutes": 15, "confirm_url": confirm_url(LONG_EMAIL, code, locale)}
    yield "confirm_email", render("confirm_email", locale, "mail.confirm_subject", **confirm).html
    letter = Granted(admin=True, projects=["Riverside park"], groups=["North Avenue Residents"])
    yield (
        "account_exists",
        render(
            "account_exists",
            locale,
            "mail.exists_subject",
            name="Jan",
            reset_url=reset_request_url(locale),
            letter=letter,
            **confirm,
        ).html,
    )
    reset = f"{reset_request_url(locale)}#token={secrets.token_urlsafe(32)}"
    yield (
        "password_reset",
        render(
            "password_reset",
            locale,
            "mail.reset_subject",
            name="Jan",
            reset_url=reset,
            minutes=60,
            new_account=False,
        ).html,
    )
    yield (
        "email_change",
        render("email_change", locale, "mail.change_subject", code=code, minutes=15).html,
    )
    yield (
        "email_changed",
        render(
            "email_changed",
            locale,
            "mail.changed_subject",
            name="Jan",
            new_email=LONG_EMAIL,
            reset_url=reset_request_url(locale),
        ).html,
    )


async def test_no_mail_scrolls_sideways_on_a_phone(browser: Browser) -> None:
    context = await browser.new_context(viewport=PHONE, java_script_enabled=True)
    page = await context.new_page()
    wide = []
    try:
        for locale in LOCALES:
            for kind, html in _mails(locale):
                await page.set_content(html)
                width = await page.evaluate("document.documentElement.scrollWidth")
                if width > PHONE["width"]:
                    wide.append(f"{kind} ({locale}): {width} px")
    finally:
        await context.close()
    assert wide == []
