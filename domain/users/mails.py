"""The mails of accounts: a registration's code, and the link to choose a new password.

Each job gets an id and decides here what, if anything, to mail: the requests that enqueue
them do the same work whatever the address, so only these jobs know whether it has an account.
"""

from __future__ import annotations

from urllib.parse import quote

from domain.clock import clock
from domain.crypto import keyring
from domain.invitations.grants import granted
from domain.mail.compose import Address, Mail
from domain.mail.mailer import Mailer
from domain.mail.render import render
from domain.models import EmailConfirmation, PasswordReset, Registration, User
from domain.settings import get_settings
from domain.users.registrations import shown_code


def confirm_url(email: str, code: str, locale: str) -> str:
    """The one-click link of a code mail, opening the page in the mail's language (the
    fragment never reaches a server's logs)."""
    return (
        f"{get_settings().public_url}/confirm?lang={quote(locale)}"
        f"#email={quote(email, safe='@')}&code={code}"
    )


def reset_request_url(locale: str) -> str:
    """The password reset page, in the mail's language."""
    return f"{get_settings().public_url}/reset-password?lang={quote(locale)}"


async def send_registration_code(registration_id: int, send_no: int, mailer: Mailer) -> None:
    """A claim's code: to confirm the address, or, if the address has an account already, to
    sign in to that account (its owner learns that someone used the address)."""
    claim = await Registration.get_or_none(id=registration_id)
    now = await clock.now()
    if (
        claim is None
        or claim.code_send_no != send_no
        or claim.code_sent_no >= send_no
        or claim.code_expires_at <= now
    ):
        return  # nothing there, a newer code, already sent, or too late
    code = keyring("registration").decrypt(claim.code_encrypted)
    account = await User.get_or_none(email=claim.email, email_confirmed_at__isnull=False)
    settings = get_settings()
    locale = claim.locale if account is None else account.locale
    values = {
        "code": shown_code(code),
        "minutes": settings.confirmation_code_ttl_minutes,
        "confirm_url": confirm_url(claim.email, code, locale),
    }
    if account is None:
        # No name: whoever made the claim typed it, and may not be the mailbox's owner.
        rendered = render("confirm_email", claim.locale, "mail.confirm_subject", **values)
        to = Address(claim.email)
    else:
        # A letter's code typed with this address: confirming accepts its invitation into the
        # account, so the mail says what it gives (its owner decides, knowing).
        letter = claim.invitation_id  # type: ignore[attr-defined]
        rendered = render(
            "account_exists",
            account.locale,
            "mail.exists_subject",
            name=account.first_name,
            reset_url=reset_request_url(locale),
            letter=await granted(letter, account.locale) if letter is not None else None,
            **values,
        )
        to = Address(account.email, account.full_name)
    await mailer.send(Mail(to=to, subject=rendered.subject, text=rendered.text, html=rendered.html))
    await Registration.filter(id=claim.id, code_sent_no__lt=send_no).update(code_sent_no=send_no)


async def send_password_reset(reset_id: int, mailer: Mailer) -> None:
    reset = await PasswordReset.get_or_none(id=reset_id).select_related("user")
    now = await clock.now()
    if (
        reset is None
        or reset.used_at is not None
        or reset.sent_at is not None
        or reset.expires_at <= now
    ):
        return
    user: User | None = reset.user
    if user is not None:
        email, name, full_name, locale = user.email, user.first_name, user.full_name, user.locale
    elif reset.email:
        newest = (
            await Registration.filter(email=reset.email, expires_at__gt=now).order_by("-id").first()
        )
        if newest is None:
            return  # the claims are gone: the link would create nothing anyone asked for
        email, name, full_name, locale = reset.email, "", "", newest.locale
    else:
        return  # an address with neither an account nor a claim: nothing to mail
    token = keyring("password-reset").decrypt(reset.token_encrypted)
    rendered = render(
        "password_reset",
        locale,
        "mail.reset_subject",
        name=name,
        reset_url=f"{reset_request_url(locale)}#token={token}",
        minutes=get_settings().password_reset_ttl_minutes,
        new_account=user is None,
    )
    await mailer.send(
        Mail(
            to=Address(email, full_name),
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
        )
    )
    await PasswordReset.filter(id=reset.id).update(sent_at=await clock.now())


async def send_email_change_code(change_id: int, mailer: Mailer) -> None:
    """The code that proves the new address of a signed-in person's change."""
    change = await EmailConfirmation.get_or_none(id=change_id).select_related("user")
    now = await clock.now()
    if (
        change is None
        or change.used_at is not None
        or change.sent_at is not None
        or change.expires_at <= now
        or not change.new_email
    ):
        return
    user: User = change.user
    code = keyring("email-change").decrypt(change.code_encrypted)
    # No name, in the greeting or the To header: the mailbox is not proven to be this
    # person's, and its owner should not learn who typed the address.
    rendered = render(
        "email_change",
        user.locale,
        "mail.change_subject",
        code=shown_code(code),
        minutes=get_settings().confirmation_code_ttl_minutes,
    )
    await mailer.send(
        Mail(
            to=Address(change.new_email),
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
        )
    )
    await EmailConfirmation.filter(id=change.id).update(sent_at=await clock.now())


async def send_email_changed_notice(change_id: int, mailer: Mailer) -> None:
    """To the old address, once the change is made: if it was not its owner, they can act."""
    change = await EmailConfirmation.get_or_none(id=change_id).select_related("user")
    if change is None or change.used_at is None or not change.old_email:
        return
    user: User = change.user
    rendered = render(
        "email_changed",
        user.locale,
        "mail.changed_subject",
        name=user.first_name,
        new_email=change.new_email,
        reset_url=reset_request_url(user.locale),
    )
    await mailer.send(
        Mail(
            to=Address(change.old_email, user.full_name),
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
        )
    )
