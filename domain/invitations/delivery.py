"""Sending invitation mails and reminders, and the sweep that keeps them going.

The database is the source of truth: a send is wanted while delivery_state is 'queued' for the
current send_no and send_due_at has come. A worker claims a few of them (queued -> sending, in
one conditional UPDATE that re-checks the invitation is still pending, unexpired and due) only
once it holds an open connection to send them on: a worker holds no more claims than it is
about to send (its connections x CLAIM_CHUNK). A claim names its worker process and holds for
SEND_LEASE, which that process renews while it is alive (`Claims.renew`), so the sweep hands a
dead worker's claims to another within a minute.

Each mail:
- is re-checked while the relay answers its envelope, just before its content goes (a delete or
  an acceptance that landed meanwhile stops it);
- is marked sent as soon as the relay accepted it, so a crash sends at most the mails in flight
  (one per connection) again, under the same Message-ID (`domain.mail.references`);
- that cannot be written (an address, a template) fails alone, with the reason;
- refused for now (4xx, a dropped connection) is deferred: retried after capped backoff, and
  failed only when still refused a day after its first refusal (`send_give_up_hours`). Its
  neighbours go on. When the relay is down, every worker pauses (`domain.mail.relay`).

The sweep re-enqueues sends whose job was lost or whose worker died, enqueues due reminders,
fails deferrals past the day and marks expirations, all by the database's clock. The send
path's statements are written in SQL rather than built by the ORM for every mail.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from markupsafe import escape
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from domain import db, outbox
from domain.clock import clock
from domain.crypto import keyring
from domain.i18n import format_date
from domain.invitations import tokens
from domain.invitations.jobs import reminder_job_id
from domain.invitations.message import as_html, as_text
from domain.mail import references
from domain.mail.compose import Address, Mail
from domain.mail.mailer import DeliveryError, Mailer
from domain.mail.references import Reference
from domain.mail.render import Rendered, render
from domain.mail.smtp import SmtpConnection, Withdrawn
from domain.models import (
    DeliveryState,
    Invitation,
    InvitationImport,
    InvitationStatus,
    WebhookEventType,
)
from domain.settings import Settings, get_settings
from domain.webhooks import events as webhook_events

log = logging.getLogger(__name__)

SEND_LEASE = timedelta(seconds=30)
LEASE_RENEW_SECONDS = 10.0
# A queued send not claimed a minute after it was due has probably lost its job (Redis
# flushed, a crash between commit and enqueue, a worker that died holding the job): the sweep
# enqueues it again. A copy of a job still waiting is harmless: claims are atomic.
SEND_GRACE = timedelta(minutes=1)
CLAIM_CHUNK = 10
RECOVERY_BLOCK = 100  # a recovery job covers the lost sends among 100 consecutive ids
RECOVERY_MAX = 200_000  # lost sends re-enqueued by one sweep (20,000 jobs' worth)
REMINDER_SWEEP_MAX = 5000
_INVITER_CACHE_SECONDS = 60.0


@lru_cache(maxsize=1)
def worker_id() -> str:
    """This process, as its claims name it."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


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
        # Plain text: escaped for the HTML part, as typed in the text part.
        message_html=as_html(message),
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


def compose_invitation_mail(
    invitation: Sendable, *, reminder: bool, reference: Reference | None = None
) -> Mail:
    """The invitation's mail (or its reminder). With a reference, the Message-ID (and, with
    INVITES_MAIL_VERP, the return path) name this send, the same on every try."""
    settings = get_settings()
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
        message_id=reference.message_id(_message_id_domain(settings)) if reference else None,
        in_reply_to=_first_mail_id(reference, settings) if reminder and reference else None,
        return_path=reference.return_path(settings.envelope_sender)
        if reference and settings.mail_verp
        else None,
    )


def _message_id_domain(settings: Settings) -> str:
    return settings.mail_message_id_domain or settings.mail_domain


def _first_mail_id(reminder: Reference, settings: Settings) -> str:
    """The Message-ID the reminder's invitation mail was sent with (the same send), made
    again from its reference: nothing of it is stored."""
    first = Reference(references.INVITATION, reminder.invitation_id, reminder.send_no)
    return first.message_id(_message_id_domain(settings))


_SENDABLE = (
    """email, first_name, last_name, locale, personal_message, token_encrypted,
  expires_at, send_attempts, deferred_since, """  # noqa: S608 (constant text)
    + _INVITER_ID
    + """ AS inviter_id,
  EXISTS (SELECT 1 FROM mail_suppressions s WHERE s.email = invitations.email) AS suppressed"""
)
# Claim: queued and due -> sending, re-checking the invitation is still pending and not
# expired; a claim whose lease ran out (its worker died) can be taken over.
_CLAIM = """UPDATE invitations SET delivery_state = 'sending', send_due_at = $4, claimed_by = $5
WHERE {ids} AND send_no = $2 AND status = 'pending' AND expires_at > $3 AND email <> ''
  AND ((delivery_state = 'queued' AND (send_due_at IS NULL OR send_due_at <= $3))
    OR (delivery_state = 'sending' AND send_due_at <= $3))
RETURNING id, {sendable}"""
_STILL_CLAIMED = """SELECT id, send_no FROM invitations WHERE {ids}
  AND status = 'pending' AND delivery_state = 'sending' AND claimed_by = $2"""
# Marked sent whoever holds the claim now: it went out, so nobody should send it again.
_SENT = """UPDATE invitations SET delivery_state = 'sent', sent_at = $3, send_due_at = NULL,
  send_attempts = send_attempts + 1, last_error = '', deferred_since = NULL, claimed_by = NULL
WHERE {ids} AND send_no = $2 AND delivery_state = 'sending'"""
_NOT_SENT = """UPDATE invitations SET delivery_state = $3, send_due_at = $4,
  send_attempts = send_attempts + $5, last_error = $6, deferred_since = $7, claimed_by = NULL
WHERE id = $1 AND send_no = $2 AND delivery_state = 'sending'"""
_RELEASE = """UPDATE invitations SET delivery_state = 'queued', send_due_at = $3, claimed_by = NULL
WHERE {ids} AND send_no = $2 AND delivery_state = 'sending' AND claimed_by = $4"""
_RENEW = """UPDATE invitations SET send_due_at = $2
WHERE {ids} AND delivery_state = 'sending' AND claimed_by = $3"""
# On PostgreSQL the renewal never waits for a row: one that another statement holds (its mail
# being marked sent or deferred right now) needs no longer lease, and waiting for it could
# deadlock with that statement, which locks the same rows in another order.
_RENEW_UNLOCKED = """UPDATE invitations SET send_due_at = $2
WHERE id IN (SELECT id FROM invitations
  WHERE {ids} AND delivery_state = 'sending' AND claimed_by = $3
  ORDER BY id FOR UPDATE SKIP LOCKED)"""
_NEXT_TRY = """SELECT MIN(send_due_at) AS due FROM invitations
WHERE {ids} AND send_no = $2 AND status = 'pending' AND delivery_state = 'queued'
  AND expires_at > $3 AND email <> ''"""


def _ids_clause() -> str:
    """`id` in the list passed as $1: an array on PostgreSQL, a JSON array on SQLite."""
    if db.dialect() == "postgres":
        return "id = ANY($1::int[])"
    return "id IN (SELECT value FROM json_each($1))"


def _ids_param(ids: Sequence[int]) -> object:
    return list(ids) if db.dialect() == "postgres" else json.dumps(list(ids))


class Claims:
    """The sends this process has claimed; `renew` extends their lease (the worker calls it
    every LEASE_RENEW_SECONDS while it lives)."""

    def __init__(self) -> None:
        self.held: set[int] = set()

    async def renew(self) -> int:
        if not self.held:
            return 0
        renew = _RENEW_UNLOCKED if db.dialect() == "postgres" else _RENEW
        count, _ = await db.connection().execute_query(
            db.sql(renew.format(ids=_ids_clause())),
            [_ids_param(sorted(self.held)), await clock.now() + SEND_LEASE, worker_id()],
        )
        return count


claims = Claims()

Send = tuple[int, int]  # an invitation's id and send number


class _Coalesced:
    """Calls from every lane of the process answered by one statement for all of them: a
    call finding no statement running starts one for whatever is waiting, so a call waits at
    most for the statement before its own. Each caller still waits for its own answer (a mail
    is recorded sent before its lane goes on)."""

    def __init__(self, run: Callable[[list[Send]], Awaitable[set[Send]]]) -> None:
        self._run = run
        self._waiting: list[tuple[Send, asyncio.Future[bool]]] = []
        self._running = False

    async def __call__(self, send: Send) -> bool:
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((send, future))
        if not self._running:
            self._running = True
            asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    done = await self._run([send for send, _ in batch])
                except Exception as error:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(error)
                    continue
                for send, future in batch:
                    if not future.done():
                        future.set_result(send in done)
        finally:
            self._running = False


async def _still_claimed(sends: list[Send]) -> set[Send]:
    """Which of these sends this process still holds (not deleted, accepted or resent since,
    not taken over)."""
    rows = await db.connection().execute_query_dict(
        db.sql(_STILL_CLAIMED.format(ids=_ids_clause())),
        [_ids_param(sorted({i for i, _ in sends})), worker_id()],
    )
    return {(int(row["id"]), int(row["send_no"])) for row in rows} & set(sends)


async def _mark_sent(sends: list[Send]) -> set[Send]:
    now = await clock.now()
    by_send_no: dict[int, list[int]] = {}
    for invitation_id, send_no in sends:
        by_send_no.setdefault(send_no, []).append(invitation_id)
    for send_no, ids in by_send_no.items():
        statement = db.sql(_SENT.format(ids=_ids_clause()))
        if not await webhook_events.wanted(WebhookEventType.INVITATION_SENT):
            await db.connection().execute_query(statement, [_ids_param(ids), send_no, now])
            continue
        async with in_transaction() as connection:
            rows = await connection.execute_query_dict(
                statement + " RETURNING id", [_ids_param(ids), send_no, now]
            )
            await webhook_events.record(
                WebhookEventType.INVITATION_SENT,
                [int(row["id"]) for row in rows],
                connection=connection,
            )
    return set(sends)


still_claimed = _Coalesced(_still_claimed)
mark_sent = _Coalesced(_mark_sent)


@dataclass
class SendOutcome:
    sent: int = 0
    skipped: int = 0  # accepted, expired, withdrawn, resent since, sent already, or not due
    failed: int = 0  # given up: shown as failed with the reason
    deferred: int = 0  # refused for now: tried again later
    # Seconds until this job should run again for its sends still waiting (deferred ones,
    # or all of them while the relay is down); None when none is left.
    retry_in: float | None = None
    relay_down: bool = False
    errors: list[str] = field(default_factory=list)


def retry_delay(settings: Settings, attempts: int) -> float:
    """A deferred mail's wait before its next try: base, 2x, 4x ... capped."""
    return float(
        min(
            settings.send_retry_base_seconds * 2 ** max(attempts - 1, 0),
            settings.send_retry_max_seconds,
        )
    )


async def send_invitations(
    invitation_ids: Sequence[int], send_no: int, mailer: Mailer
) -> SendOutcome:
    """Send the invitation mails of one send for these invitations over the mailer's
    connections, each connection taking CLAIM_CHUNK of them at a time."""
    outcome = SendOutcome()
    pause = await mailer.gate.remaining()
    if pause > 0:
        outcome.retry_in = pause
        outcome.relay_down = True
        return outcome
    batch = _Batch(sorted(set(invitation_ids)), send_no, mailer, outcome)
    lanes = min(mailer.connections, -(-len(batch.waiting) // CLAIM_CHUNK))
    async with asyncio.TaskGroup() as group:
        for _ in range(lanes):
            group.create_task(batch.lane())
    if outcome.sent + outcome.failed < len(batch.ids):
        # Deferred, released, or not due yet (released by a job that met the relay down):
        # this job runs again when the first of them is due.
        outcome.retry_in = await _next_try(batch.ids, send_no, mailer)
    return outcome


async def _next_try(invitation_ids: Sequence[int], send_no: int, mailer: Mailer) -> float | None:
    now = await clock.now()
    rows = await db.connection().execute_query_dict(
        db.sql(_NEXT_TRY.format(ids=_ids_clause())), [_ids_param(invitation_ids), send_no, now]
    )
    due = db.as_datetime(rows[0]["due"]) if rows else None
    if due is None:
        return None
    return max((due - now).total_seconds(), await mailer.gate.remaining(), 0.0)


class _Batch:
    """One job's sends, taken CLAIM_CHUNK at a time by lanes, one lane per connection."""

    def __init__(self, ids: list[int], send_no: int, mailer: Mailer, outcome: SendOutcome) -> None:
        self.ids = ids
        self.waiting = deque(ids)
        self.send_no = send_no
        self.mailer = mailer
        self.outcome = outcome
        self.settings = get_settings()
        self.stopped = False

    async def lane(self) -> None:
        while self.waiting and not self.stopped:
            try:
                async with self.mailer.connection() as connection:
                    if self.stopped or not self.waiting:
                        return
                    chunk = [
                        self.waiting.popleft() for _ in range(min(CLAIM_CHUNK, len(self.waiting)))
                    ]
                    await self._send_chunk(connection, chunk)
            except DeliveryError:
                # The relay cannot be reached (the gate knows): the rest waits for the pause.
                self.stopped = True
                self.outcome.relay_down = True

    async def _send_chunk(self, connection: SmtpConnection, chunk: list[int]) -> None:
        connection_db = db.connection()
        now = await clock.now()
        owner = worker_id()
        rows = await connection_db.execute_query_dict(
            db.sql(_CLAIM.format(ids=_ids_clause(), sendable=_SENDABLE)),
            [_ids_param(chunk), self.send_no, now, now + SEND_LEASE, owner],
        )
        self.outcome.skipped += len(chunk) - len(rows)
        rows.sort(key=lambda row: int(row["id"]))
        pending = [int(row["id"]) for row in rows]
        claims.held.update(pending)
        # The mail before's sent mark, written while this one's envelope travels: it is
        # awaited before this one's message goes (so at most the mail in flight on this
        # connection is unrecorded at any time).
        marking: asyncio.Task[bool] | None = None
        try:
            for row in rows:
                if self.stopped:
                    break
                invitation_id = int(row["id"])
                pending.remove(invitation_id)
                marking = await self._send_one(connection, row, invitation_id, marking)
            if marking is not None:
                await marking
        finally:
            if marking is not None and not marking.done():
                await asyncio.gather(marking, return_exceptions=True)
            claims.held.difference_update(int(row["id"]) for row in rows)
            if pending:
                await self._release(pending)

    async def _send_one(
        self,
        connection: SmtpConnection,
        row: dict[str, Any],
        invitation_id: int,
        marking: asyncio.Task[bool] | None,
    ) -> asyncio.Task[bool] | None:
        """Send one claimed mail; returns the task recording it sent (or `marking`, the
        previous mail's, when this one was not sent)."""
        send_no = self.send_no
        if row["suppressed"]:
            await self._not_sent(
                row,
                "Not sent: this address is suppressed (it bounced for good or reported our mail"
                " as spam). An admin can lift the suppression, then resend.",
                permanent=True,
                tried=False,
            )
            return marking
        try:
            mail = compose_invitation_mail(
                await _sendable(row),
                reminder=False,
                reference=Reference(references.INVITATION, invitation_id, send_no),
            )
        except Exception as error:
            # Whatever went wrong is this invitation's alone: it fails, the batch goes on.
            log.warning(
                "invitation %d: its mail cannot be written (%s)",
                invitation_id,
                type(error).__name__,
            )
            await self._not_sent(
                row, f"The mail could not be written: {_error_text(error)}", permanent=True
            )
            return marking

        async def still_wanted() -> bool:
            if marking is not None:
                await marking
            return await still_claimed((invitation_id, send_no))

        try:
            await self.mailer.deliver(connection, mail, still_wanted=still_wanted)
        except Withdrawn:
            self.outcome.skipped += 1
            return marking
        except DeliveryError as error:
            await self._not_sent(row, error.reason, permanent=error.permanent)
            if error.relay:
                self.stopped = True
                self.outcome.relay_down = True
            return marking
        if marking is not None:
            await marking
        self.outcome.sent += 1
        return asyncio.get_running_loop().create_task(mark_sent((invitation_id, send_no)))

    async def _not_sent(
        self, row: dict[str, Any], reason: str, *, permanent: bool, tried: bool = True
    ) -> None:
        """Failed for good, or deferred to its next try (failed once deferred too long)."""
        now = await clock.now()
        deferred_since = db.as_datetime(row["deferred_since"])
        give_up = timedelta(hours=self.settings.send_give_up_hours)
        final = permanent or (deferred_since is not None and now - deferred_since >= give_up)
        if final:
            state, due, since = DeliveryState.FAILED, None, deferred_since
            if not permanent:
                reason = f"Not accepted within {self.settings.send_give_up_hours:g} hours: {reason}"
            self.outcome.failed += 1
        else:
            attempts = int(row["send_attempts"]) + 1
            state = DeliveryState.QUEUED
            due = now + timedelta(seconds=retry_delay(self.settings, attempts))
            since = deferred_since or now
            self.outcome.deferred += 1
        params = [int(row["id"]), self.send_no, state.value, due, int(tried), reason[:2000], since]
        if not final:
            await db.connection().execute_query(db.sql(_NOT_SENT), params)
            return
        async with in_transaction() as connection:
            changed, _ = await connection.execute_query(db.sql(_NOT_SENT), params)
            if changed:
                await webhook_events.record(
                    WebhookEventType.INVITATION_FAILED, [int(row["id"])], connection=connection
                )

    async def _release(self, ids: list[int]) -> None:
        """Claims not tried (the relay went down, the job stopped): queued again, for when
        the pause ends."""
        due = await clock.now() + timedelta(seconds=await self.mailer.gate.remaining())
        await db.connection().execute_query(
            db.sql(_RELEASE.format(ids=_ids_clause())),
            [_ids_param(ids), self.send_no, due, worker_id()],
        )


async def _sendable(row: dict[str, Any]) -> Sendable:
    return Sendable(
        email=row["email"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        locale=row["locale"],
        personal_message=row["personal_message"],
        token_encrypted=row["token_encrypted"],
        expires_at=db.as_datetime(row["expires_at"]) or await clock.now(),
        inviter=await _inviter(row["inviter_id"]),
    )


def _error_text(error: Exception) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


async def send_reminder(invitation_id: int, send_no: int, mailer: Mailer) -> bool:
    """The one reminder that follows a send, if the invitation is still waiting and its
    address is not suppressed."""
    from domain.invitations import feedback

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
        or await feedback.is_suppressed(invitation.email)
    ):
        return False
    sendable = Sendable.of(invitation, await inviter_of(invitation))

    async def still_wanted() -> bool:
        # Just before the message goes: not deleted, accepted or resent meanwhile.
        return await Invitation.filter(
            id=invitation_id,
            send_no=send_no,
            status=InvitationStatus.PENDING,
            reminded_send_no__lt=send_no,
        ).exists()

    try:
        await mailer.send(
            compose_invitation_mail(
                sendable,
                reminder=True,
                reference=Reference(references.REMINDER, invitation_id, send_no),
            ),
            still_wanted=still_wanted,
        )
    except Withdrawn:
        return False
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
    given_up: int = 0


def recovery_job_id(block: int, send_no: int) -> str:
    return f"recover:{block}:{send_no}"


async def sweep(*, relay_paused: bool = False) -> SweepReport:
    """Mark expirations, give up deferrals past the day, re-enqueue lost sends (all of them,
    in jobs of up to RECOVERY_BLOCK), enqueue due reminders (call inside an outbox). While
    the relay is paused, queued sends are waiting for it, not lost: only dead workers' claims
    are taken back."""
    settings = get_settings()
    now = await clock.now()
    expired = await _expire(now)
    given_up = await _give_up_deferrals(settings, now)
    lost = await _lost_sends(now, relay_paused=relay_paused)
    blocks: dict[tuple[int, int], list[int]] = {}
    for invitation_id, send_no in lost:
        blocks.setdefault((invitation_id // RECOVERY_BLOCK, send_no), []).append(invitation_id)
    for (block, send_no), ids in blocks.items():
        outbox.enqueue("send_invitations", send_no, *ids, job_id=recovery_job_id(block, send_no))
    due_reminders = await (
        Invitation.filter(
            status=InvitationStatus.PENDING,
            delivery_state=DeliveryState.SENT,
            sent_at__lte=now - timedelta(days=settings.reminder_delay_days),
            expires_at__gt=now,
            reminded_send_no__lt=F("send_no"),
        )
        .order_by("sent_at")
        .limit(REMINDER_SWEEP_MAX)
        .values_list("id", "send_no")
    )
    for invitation_id, send_no in due_reminders:
        outbox.enqueue(
            "send_reminder", invitation_id, send_no, job_id=reminder_job_id(invitation_id, send_no)
        )
    return SweepReport(
        expired=expired,
        sends_enqueued=len(lost),
        reminders_enqueued=len(due_reminders),
        given_up=given_up,
    )


async def _expire(now: datetime) -> int:
    """Pending invitations past their expiry are marked expired (with their events)."""
    if not await webhook_events.wanted(WebhookEventType.INVITATION_EXPIRED):
        return await Invitation.filter(status=InvitationStatus.PENDING, expires_at__lte=now).update(
            status=InvitationStatus.EXPIRED
        )
    async with in_transaction() as connection:
        rows = await connection.execute_query_dict(
            db.sql(
                "UPDATE invitations SET status = 'expired'"
                " WHERE status = 'pending' AND expires_at <= $1 RETURNING id"
            ),
            [now],
        )
        ids = [int(row["id"]) for row in rows]
        await webhook_events.record(WebhookEventType.INVITATION_EXPIRED, ids, connection=connection)
    return len(ids)


async def _lost_sends(now: datetime, *, relay_paused: bool) -> list[tuple[int, int]]:
    """Sends claimed by a worker whose lease ran out, and (unless the relay is paused) queued
    sends a minute past due."""
    wanted = ["(delivery_state = 'sending' AND send_due_at <= $1)"]
    params: list[Any] = [now]
    if not relay_paused:
        wanted.append("(delivery_state = 'queued' AND send_due_at <= $2)")
        params.append(now - SEND_GRACE)
    rows = await db.connection().execute_query_dict(
        db.sql(
            "SELECT id, send_no FROM invitations WHERE send_due_at <= $1"  # noqa: S608
            f" AND ({' OR '.join(wanted)}) AND status = 'pending' AND expires_at > $1"
            f" AND email <> '' ORDER BY id LIMIT {RECOVERY_MAX:d}"
        ),
        params,
    )
    return [(int(row["id"]), int(row["send_no"])) for row in rows]


async def _give_up_deferrals(settings: Settings, now: datetime) -> int:
    """Queued sends still not accepted a day after they were first deferred (or, never
    tried because the relay was down, a day after they were due) are failed."""
    cutoff = now - timedelta(hours=settings.send_give_up_hours)
    hours = f"{settings.send_give_up_hours:g}"
    statement = db.sql(
        "UPDATE invitations SET delivery_state = 'failed', send_due_at = NULL,"
        " claimed_by = NULL, last_error = CASE WHEN last_error = ''"
        " THEN $2 ELSE $3 || last_error END"
        " WHERE delivery_state = 'queued' AND status = 'pending'"
        " AND (deferred_since <= $1 OR (deferred_since IS NULL AND send_due_at <= $1))"
    )
    params: list[Any] = [
        cutoff,
        f"Not accepted by the mail relay within {hours} hours (it could not be reached).",
        f"Not accepted within {hours} hours: ",
    ]
    if not await webhook_events.wanted(WebhookEventType.INVITATION_FAILED):
        count, _ = await db.connection().execute_query(statement, params)
        return int(count)
    async with in_transaction() as connection:
        rows = await connection.execute_query_dict(statement + " RETURNING id", params)
        ids = [int(row["id"]) for row in rows]
        await webhook_events.record(WebhookEventType.INVITATION_FAILED, ids, connection=connection)
    return len(ids)
