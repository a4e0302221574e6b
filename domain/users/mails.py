"""The mails of accounts: confirmation codes and 'you already have an account'."""

from __future__ import annotations

from domain.clock import clock
from domain.crypto import keyring
from domain.mail.compose import Address, Mail
from domain.mail.mailer import Mailer
from domain.mail.render import render
from domain.models import EmailConfirmation, User
from domain.settings import get_settings


async def send_email_confirmation(confirmation_id: int, mailer: Mailer) -> None:
    confirmation = await EmailConfirmation.get_or_none(id=confirmation_id).select_related("user")
    now = await clock.now()
    if (
        confirmation is None
        or confirmation.used_at is not None
        or confirmation.sent_at is not None
        or confirmation.expires_at <= now
    ):
        return  # superseded, used, already sent or too late: nothing to do
    user: User = confirmation.user
    code = keyring("email-confirmation").decrypt(confirmation.code_encrypted)
    rendered = render(
        "confirm_email",
        user.locale,
        "mail.confirm_subject",
        name=user.first_name,
        code=code,
        minutes=get_settings().confirmation_code_ttl_minutes,
    )
    await mailer.send(
        Mail(
            to=Address(user.email, user.full_name),
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
        )
    )
    await EmailConfirmation.filter(id=confirmation.id).update(sent_at=await clock.now())


async def send_account_exists_notice(user_id: int, mailer: Mailer) -> None:
    user = await User.get_or_none(id=user_id)
    if user is None:
        return
    rendered = render("account_exists", user.locale, "mail.exists_subject", name=user.first_name)
    await mailer.send(
        Mail(
            to=Address(user.email, user.full_name),
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
        )
    )
