"""Sending invitation mails and reminders, and the sweep that keeps them going.

The database is the source of truth: a send is wanted while delivery_state is 'queued' for
the current send_no. A send job claims it (queued -> sending, in one conditional UPDATE that
also re-checks the invitation is still pending and not expired) before talking to SMTP, and
records the outcome after; a claim holds for SEND_LEASE, so a worker that died mid-send gives
it back. The sweep re-enqueues due sends whose job was lost, enqueues due reminders and marks
expirations, all decided by the database's clock.

The send path is the hot one (hundreds of mails a second per worker): its two statements are
written in SQL rather than built by the ORM for every mail.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from markupsafe import Markup, escape
from tortoise.expressions import F, Q

from domain import db, outbox
from domain.clock import clock
from domain.crypto import keyring
from domain.i18n import format_date
from domain.invitations import tokens
from domain.invitations.message import as_html, as_text
from domain.invitations.service import reminder_job_id, send_job_id
from domain.mail.compose import Address, Mail
from domain.mail.mailer import DeliveryError, Mailer
from domain.mail.render import Rendered, render
from domain.models import DeliveryState, Invitation, InvitationImport, InvitationStatus
from domain.settings import get_settings

SWEEP_BATCH = 5000
# A send not done a minute after it was wanted has lost its job (Redis flushed, a crash
# between commit and enqueue): the sweep enqueues it again. Enqueueing is idempotent anyway.
SEND_GRACE = timedelta(minutes=1)
SEND_LEASE = timedelta(minutes=5)
_INVITER_CACHE_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Inviter:
    email: str
    name: str


@dataclass(frozen=True, slots=True)
class Sendable:
    """What a mail about an invitation needs."""

    email: str
    first_name: str
    last_name: str
    locale: str
    personal_message: str
    token_encrypted: str
    expires_at: datetime
    inviter: Inviter | None

    @classmethod
    def of(cls, invitation: Invitation, inviter: Inviter | None) -> Sendable:
        """From an invitation and its inviter (`inviter_of`)."""
        return cls(
            email=invitation.email,
            first_name=invitation.first_name,
            last_name=invitation.last_name,
            locale=invitation.locale,
            personal_message=invitation.personal_message,
            token_encrypted=invitation.token_encrypted,
            expires_at=invitation.expires_at,
            inviter=inviter,
        )


_inviters: dict[int, tuple[float, Inviter | None]] = {}
# Who invites: the invitation's inviter or, for an imported one, who uploaded the file. The
# import keeps its uploader once, instead of on each of its rows (`domain/imports/service.py`).
_INVITER_ID = """COALESCE(inviter_id, (SELECT created_by_id FROM invitation_imports
  WHERE invitation_imports.id = invitations.invitation_import_id))"""


async def inviter_of(invitation: Invitation) -> Inviter | None:
    inviter_id = invitation.inviter_id  # type: ignore[attr-defined]
    import_id = invitation.invitation_import_id  # type: ignore[attr-defined]
    if inviter_id is None and import_id is not None:
        uploaders = await InvitationImport.filter(id=import_id).values_list(
            "created_by_id", flat=True
        )
        inviter_id = uploaders[0] if uploaders else None
    return await _inviter(inviter_id)


async def _inviter(user_id: int | None) -> Inviter | None:
    """Inviters are few and their names rarely change: keep them a minute per worker."""
    if user_id is None:
        return None
    cached = _inviters.get(user_id)
    if cached is not None and time.monotonic() - cached[0] < _INVITER_CACHE_SECONDS:
        return cached[1]
    rows = await db.connection().execute_query_dict(
        db.sql("SELECT email, first_name, last_name FROM users WHERE id = $1"), [user_id]
    )
    inviter = (
        Inviter(rows[0]["email"], f"{rows[0]['first_name']} {rows[0]['last_name']}".strip())
        if rows
        else None
    )
    _inviters[user_id] = (time.monotonic(), inviter)
    return inviter


def invite_link(token: str) -> str:
    # The token travels in the fragment: browsers never send it to a server or a referrer.
    return f"{get_settings().public_url}/invite#token={tokens.display(token)}"


@lru_cache(maxsize=1)
def _invite_url() -> str:
    return f"{get_settings().public_url}/invite"


# Stand-ins for what differs from one invitee to the next. A batch's mails share everything
# else (locale, inviter, message), so the templates run once per batch and each mail only
# fills these in. Random per process: no text a user typed can contain them.
_SLOT = secrets.token_hex(8)
_NAME, _LINK, _CODE, _EXPIRES = (f"\u27e6{what}-{_SLOT}\u27e7" for what in ("n", "l", "c", "e"))


@lru_cache(maxsize=256)
def _invitation_templates(
    locale: str, reminder: bool, inviter_name: str, message: str, named: bool
) -> Rendered:
    return render(
        "invitation",
        locale,
        "mail.remind_subject"
        if reminder
        else ("mail.invite_subject" if inviter_name else "mail.invite_subject_anonymous"),
        name=_NAME if named else "",
        subject_values={"inviter": inviter_name} if inviter_name else {},
        reminder=reminder,
        inviter=inviter_name,
        # Sanitized to the allowlist when it was stored, and again here.
        message_html=Markup(as_html(message)),  # noqa: S704
        message_text=as_text(message),
        link=_LINK,
        invite_url=_invite_url(),
        code=_CODE,
        expires=_EXPIRES,
        email_known=True,
    )


def _fill(text: str, values: dict[str, str]) -> str:
    for slot, value in values.items():
        text = text.replace(slot, value)
    return text


def compose_invitation_mail(invitation: Sendable, *, reminder: bool) -> Mail:
    token = keyring("invitation-token").decrypt(invitation.token_encrypted)
    inviter = invitation.inviter
    inviter_name = inviter.name if inviter else ""
    rendered = _invitation_templates(
        invitation.locale,
        reminder,
        inviter_name,
        invitation.personal_message,
        bool(invitation.first_name),
    )
    values = {
        _NAME: invitation.first_name,
        _LINK: invite_link(token),
        _CODE: tokens.display(token),
        _EXPIRES: format_date(invitation.expires_at.date(), invitation.locale),
    }
    # The HTML part gets the values escaped, as the template would have escaped them.
    html_values = {slot: str(escape(value)) for slot, value in values.items()}
    full_name = f"{invitation.first_name} {invitation.last_name}".strip()
    return Mail(
        to=Address(invitation.email, full_name),
        subject=rendered.subject,
        text=_fill(rendered.text, values),
        html=_fill(rendered.html, html_values),
        reply_to=Address(inviter.email, inviter_name) if inviter else None,
    )


_SENDABLE = (
    """email, first_name, last_name, locale, personal_message, token_encrypted,
  expires_at, """
    + _INVITER_ID
    + " AS inviter_id"
)
# Claim: queued -> sending, re-checking the invitation is still pending and not expired; a
# claim whose lease ran out (its worker died) can be taken over.
_CLAIM_WHERE = """send_no = $2 AND status = 'pending' AND expires_at > $3 AND email <> ''
  AND (delivery_state = 'queued' OR (delivery_state = 'sending' AND send_due_at <= $3))"""
_SENT = """UPDATE invitations SET delivery_state = 'sent', sent_at = $3, send_due_at = NULL,
  send_attempts = send_attempts + 1, last_error = ''
WHERE {ids} AND send_no = $2 AND delivery_state = 'sending'"""
_FAILED = """UPDATE invitations SET delivery_state = $3, send_due_at = $4,
  send_attempts = send_attempts + 1, last_error = $5
WHERE id = $1 AND send_no = $2 AND delivery_state = 'sending'"""
_RELEASE = """UPDATE invitations SET delivery_state = 'queued', send_due_at = $3
WHERE {ids} AND send_no = $2 AND delivery_state = 'sending'"""
_SENT_FLUSH_EVERY = 20  # a crash re-sends at most this many mails (at-least-once)


def _ids_clause() -> str:
    """`id` in the list passed as $1: an array on PostgreSQL, a JSON array on SQLite."""
    if db.dialect() == "postgres":
        return "id = ANY($1::int[])"
    return "id IN (SELECT value FROM json_each($1))"


def _ids_param(ids: list[int]) -> object:
    return ids if db.dialect() == "postgres" else json.dumps(ids)


@dataclass
class SendOutcome:
    sent: int = 0
    skipped: int = 0  # accepted, expired, withdrawn, resent since, or sent already
    failed: int = 0  # given up: shown as failed with the reason
    retry: bool = False  # a temporary failure: try the rest again later


async def send_invitations(
    invitation_ids: list[int], send_no: int, mailer: Mailer, *, final_try: bool
) -> SendOutcome:
    """Send the invitation mails of one send for these invitations, one after another.

    A refusal that retrying cannot help (5xx), or any failure on the final try, marks that
    invitation failed and goes on. A temporary failure gives that invitation and the ones not
    yet tried back (queued) and asks for a retry, which claims them again.
    """
    connection = db.connection()
    now = await clock.now()
    claimed = await connection.execute_query_dict(
        db.sql(
            f"UPDATE invitations SET delivery_state = 'sending', send_due_at = $4"  # noqa: S608
            f" WHERE {_ids_clause()} AND {_CLAIM_WHERE} RETURNING id, {_SENDABLE}"
        ),
        [_ids_param(invitation_ids), send_no, now, now + SEND_LEASE],
    )
    outcome = SendOutcome(skipped=len(invitation_ids) - len(claimed))
    claimed.sort(key=lambda row: int(row["id"]))
    sent: list[int] = []

    async def flush() -> None:
        if sent:
            await connection.execute_query(
                db.sql(_SENT.format(ids=_ids_clause())),
                [_ids_param(sent), send_no, await clock.now()],
            )
            outcome.sent += len(sent)
            sent.clear()

    for position, row in enumerate(claimed):
        sendable = Sendable(
            email=row["email"],
            first_name=row["first_name"],
            last_name=row["last_name"],
            locale=row["locale"],
            personal_message=row["personal_message"],
            token_encrypted=row["token_encrypted"],
            expires_at=db.as_datetime(row["expires_at"]) or now,
            inviter=await _inviter(row["inviter_id"]),
        )
        try:
            await mailer.send(compose_invitation_mail(sendable, reminder=False))
        except DeliveryError as error:
            final = error.permanent or final_try
            await _record_failure(int(row["id"]), send_no, error, final=final)
            if final:
                outcome.failed += 1
                continue
            await flush()
            rest = [int(r["id"]) for r in claimed[position + 1 :]]
            if rest:
                await connection.execute_query(
                    db.sql(_RELEASE.format(ids=_ids_clause())),
                    [_ids_param(rest), send_no, await clock.now()],
                )
            outcome.retry = True
            return outcome
        sent.append(int(row["id"]))
        if len(sent) >= _SENT_FLUSH_EVERY:
            await flush()
    await flush()
    return outcome


async def _record_failure(
    invitation_id: int, send_no: int, error: DeliveryError, *, final: bool
) -> None:
    """Count a failed attempt and give the claim back (a retry claims it again); after the
    last one the invitation shows `failed` and why."""
    state = DeliveryState.FAILED if final else DeliveryState.QUEUED
    due = None if final else await clock.now()
    await db.connection().execute_query(
        db.sql(_FAILED), [invitation_id, send_no, state.value, due, error.reason[:2000]]
    )


async def send_reminder(invitation_id: int, send_no: int, mailer: Mailer) -> bool:
    """The one reminder that follows a send, if the invitation is still waiting."""
    settings = get_settings()
    now = await clock.now()
    invitation = await Invitation.get_or_none(id=invitation_id)
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
    sendable = Sendable.of(invitation, await inviter_of(invitation))
    await mailer.send(compose_invitation_mail(sendable, reminder=True))
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
            # Wanted for a while and not sent, or claimed by a worker whose lease ran out.
            Q(delivery_state=DeliveryState.QUEUED, send_due_at__lte=now - SEND_GRACE)
            | Q(delivery_state=DeliveryState.SENDING, send_due_at__lte=now),
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
