"""Sending invitation mails and reminders, and the sweep that keeps them going.

The database is the source of truth: a send is wanted while delivery_state is 'queued' for
the current send_no. A send job re-checks that (and that the invitation is still pending and
not expired) before talking to SMTP, and records the outcome after. The sweep re-enqueues
due sends whose job was lost, enqueues due reminders and marks expirations, all decided by
the database's clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from markupsafe import Markup
from tortoise.expressions import F

from domain import outbox
from domain.clock import clock
from domain.crypto import keyring
from domain.invitations import tokens
from domain.invitations.message import as_html, as_text
from domain.invitations.service import reminder_job_id, send_job_id
from domain.mail.catalog import format_date
from domain.mail.compose import Address, Mail
from domain.mail.mailer import DeliveryError, Mailer
from domain.mail.render import render
from domain.models import DeliveryState, Invitation, InvitationStatus
from domain.settings import get_settings

SWEEP_BATCH = 5000
# A send not done a minute after it was wanted has lost its job (Redis flushed, a crash
# between commit and enqueue): the sweep enqueues it again. Enqueueing is idempotent anyway.
SEND_GRACE = timedelta(minutes=1)


def invite_link(token: str) -> str:
    # The token travels in the fragment: browsers never send it to a server or a referrer.
    return f"{get_settings().public_url}/invite#token={tokens.display(token)}"


@lru_cache(maxsize=1)
def _invite_url() -> str:
    return f"{get_settings().public_url}/invite"


def compose_invitation_mail(invitation: Invitation, *, reminder: bool) -> Mail:
    token = keyring("invitation-token").decrypt(invitation.token_encrypted)
    inviter = invitation.inviter
    inviter_name = inviter.full_name if inviter else ""
    rendered = render(
        "invitation",
        invitation.locale,
        "remind_subject"
        if reminder
        else ("invite_subject" if inviter_name else "invite_subject_anonymous"),
        name=invitation.first_name,
        subject_values={"inviter": inviter_name} if inviter_name else {},
        reminder=reminder,
        inviter=inviter_name,
        # Sanitized to the allowlist when it was stored, and again here.
        message_html=Markup(as_html(invitation.personal_message)),  # noqa: S704
        message_text=as_text(invitation.personal_message),
        link=invite_link(token),
        invite_url=_invite_url(),
        code=tokens.display(token),
        expires=format_date(invitation.expires_at.date(), invitation.locale),
        email_known=True,
    )
    full_name = f"{invitation.first_name} {invitation.last_name}".strip()
    return Mail(
        to=Address(invitation.email, full_name),
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        reply_to=Address(inviter.email, inviter_name) if inviter else None,
    )


async def send_invitation(invitation_id: int, send_no: int, mailer: Mailer) -> bool:
    """Send the invitation mail for one send. Returns False when there is nothing to do."""
    now = await clock.now()
    invitation = await Invitation.get_or_none(id=invitation_id).select_related("inviter")
    if (
        invitation is None
        or invitation.send_no != send_no
        or invitation.delivery_state != DeliveryState.QUEUED
        or invitation.status != InvitationStatus.PENDING
        or invitation.expires_at <= now
        or not invitation.email
    ):
        return False
    await mailer.send(compose_invitation_mail(invitation, reminder=False))
    await Invitation.filter(id=invitation_id, send_no=send_no).update(
        delivery_state=DeliveryState.SENT,
        sent_at=await clock.now(),
        send_due_at=None,
        send_attempts=F("send_attempts") + 1,
        last_error="",
    )
    return True


async def record_send_failure(
    invitation_id: int, send_no: int, error: DeliveryError, *, final: bool
) -> None:
    """Count a failed attempt; after the last one the invitation shows `failed` and why."""
    changes: dict[str, object] = {
        "send_attempts": F("send_attempts") + 1,
        "last_error": error.reason[:2000],
    }
    if final:
        changes.update(delivery_state=DeliveryState.FAILED, send_due_at=None)
    await Invitation.filter(
        id=invitation_id, send_no=send_no, delivery_state=DeliveryState.QUEUED
    ).update(**changes)


async def send_reminder(invitation_id: int, send_no: int, mailer: Mailer) -> bool:
    """The one reminder that follows a send, if the invitation is still waiting."""
    settings = get_settings()
    now = await clock.now()
    invitation = await Invitation.get_or_none(id=invitation_id).select_related("inviter")
    if (
        invitation is None
        or invitation.send_no != send_no
        or invitation.reminded_send_no >= send_no
        or invitation.delivery_state != DeliveryState.SENT
        or invitation.status != InvitationStatus.PENDING
        or invitation.expires_at <= now
        or invitation.sent_at is None
        or invitation.sent_at > now - timedelta(days=settings.reminder_delay_days)
    ):
        return False
    await mailer.send(compose_invitation_mail(invitation, reminder=True))
    await Invitation.filter(id=invitation_id, send_no=send_no).update(
        reminded_at=await clock.now(), reminded_send_no=send_no
    )
    return True


async def record_reminder_failure(invitation_id: int, send_no: int, error: DeliveryError) -> None:
    """A reminder that cannot be delivered is given up (never retried forever), and says so."""
    await Invitation.filter(id=invitation_id, send_no=send_no).update(
        reminded_send_no=send_no, last_error=f"Reminder not delivered: {error.reason}"[:2000]
    )


@dataclass(frozen=True, slots=True)
class SweepReport:
    expired: int
    sends_enqueued: int
    reminders_enqueued: int


async def sweep() -> SweepReport:
    """Mark expirations, re-enqueue lost sends, enqueue due reminders (call inside an outbox)."""
    settings = get_settings()
    now = await clock.now()
    expired = await Invitation.filter(status=InvitationStatus.PENDING, expires_at__lte=now).update(
        status=InvitationStatus.EXPIRED
    )
    due_sends = await (
        Invitation.filter(
            delivery_state=DeliveryState.QUEUED,
            send_due_at__lte=now - SEND_GRACE,
            status=InvitationStatus.PENDING,
            expires_at__gt=now,
        )
        .order_by("send_due_at")
        .limit(SWEEP_BATCH)
        .values_list("id", "send_no")
    )
    for invitation_id, send_no in due_sends:
        outbox.enqueue(
            "send_invitation", invitation_id, send_no, job_id=send_job_id(invitation_id, send_no)
        )
    due_reminders = await (
        Invitation.filter(
            status=InvitationStatus.PENDING,
            delivery_state=DeliveryState.SENT,
            sent_at__lte=now - timedelta(days=settings.reminder_delay_days),
            expires_at__gt=now,
            reminded_send_no__lt=F("send_no"),
        )
        .order_by("sent_at")
        .limit(SWEEP_BATCH)
        .values_list("id", "send_no")
    )
    for invitation_id, send_no in due_reminders:
        outbox.enqueue(
            "send_reminder", invitation_id, send_no, job_id=reminder_job_id(invitation_id, send_no)
        )
    return SweepReport(
        expired=expired, sends_enqueued=len(due_sends), reminders_enqueued=len(due_reminders)
    )
