"""What happens to a mail after the relay took it: bounces and complaints, and suppression.

A relay accepts almost every mail and reports the bounce later: through a provider's webhook
(`domain.mail.providers`) or a bounce message at the return path (`domain.mail.dsn`). Each
report becomes a DeliveryEvent (`domain.mail.events`), matched to its invitation by the send's
reference (the Message-ID or VERP return path, `domain.mail.references`) or else by the
address:

- a hard bounce: the invitation shows BOUNCED (hard) with the reason, and the address is
  suppressed: no reminder, no resend, the sweep never sends to it, until an admin lifts it;
- a soft bounce (the provider gave up for now: mailbox full, ...): BOUNCED (soft), not
  suppressed (an admin may resend);
- a complaint (marked as spam): COMPLAINED, and the address suppressed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from domain import metrics
from domain.clock import clock
from domain.errors import DomainError, ErrorCode
from domain.mail.events import DeliveryEvent, EventKind
from domain.models import (
    BounceKind,
    DeliveryState,
    Invitation,
    MailSuppression,
    SuppressionReason,
    WebhookEventType,
)
from domain.validation import email_problem, normalize_email
from domain.webhooks import events as webhook_events

log = logging.getLogger(__name__)


# Where reports come from (the metrics' `source` label).
_SOURCES = frozenset({"mailgun", "ses", "postmark", "dsn"})


@dataclass(frozen=True, slots=True)
class Recorded:
    invitation_id: int | None  # the invitation whose state changed, if any
    suppressed: bool


async def is_suppressed(email: str) -> bool:
    return bool(email) and await MailSuppression.filter(email=email).exists()


async def record(event: DeliveryEvent) -> Recorded:
    """Apply one report. Idempotent: providers retry their webhooks, and a bounce may arrive
    both by webhook and by message."""
    email = normalize_email(event.recipient) or ""
    async with in_transaction():
        invitation = await _matching(event, email)
        if invitation is None:
            log.info("%s %s from %s matches no invitation", event.kind, "event", event.source)
            return Recorded(None, False)
        email = invitation.email or email
        suppress = event.kind is EventKind.COMPLAINT or event.hard
        if suppress and email:
            reason = (
                SuppressionReason.COMPLAINT
                if event.kind is EventKind.COMPLAINT
                else SuppressionReason.HARD_BOUNCE
            )
            if not await MailSuppression.filter(email=email).exists():
                await MailSuppression.create(
                    email=email,
                    reason=reason,
                    detail=event.reason[:2000],
                    source=event.source,
                    invitation_id=invitation.id,
                )
        # A provider retrying its webhook reports the same bounce again: counted once.
        repeated = (
            event.kind is EventKind.BOUNCE
            and invitation.delivery_state is DeliveryState.BOUNCED
            and invitation.bounce_kind is (BounceKind.HARD if event.hard else BounceKind.SOFT)
        )
        changed = await _mark(invitation, event)
    if changed and not repeated:
        kind = (
            "complaint" if event.kind is EventKind.COMPLAINT else "hard" if event.hard else "soft"
        )
        source = event.source if event.source in _SOURCES else "other"
        metrics.mails_bounced.labels(kind, source).inc()
    return Recorded(invitation.id if changed else None, suppress)


async def _matching(event: DeliveryEvent, email: str) -> Invitation | None:
    """The invitation the report is about: the send it names, or the latest invitation
    mailed to its address."""
    if event.reference is not None:
        found = await Invitation.filter(id=event.reference.invitation_id).first()
        if found is not None:
            return found
    if not email:
        return None
    return (
        await Invitation.filter(
            email=email,
            delivery_state__in=[
                DeliveryState.SENT,
                DeliveryState.BOUNCED,
                DeliveryState.COMPLAINED,
            ],
        )
        .order_by("-id")
        .first()
    )


async def _mark(invitation: Invitation, event: DeliveryEvent) -> bool:
    """The invitation's delivery state, if the report is about its current send (a report
    on an earlier send, before a resend, suppresses the address but leaves the new send)."""
    if event.reference is not None and event.reference.send_no != invitation.send_no:
        return False
    now = await clock.now()
    if event.kind is EventKind.COMPLAINT:
        return bool(
            await Invitation.filter(
                id=invitation.id,
                delivery_state__in=[DeliveryState.SENT, DeliveryState.BOUNCED],
            ).update(delivery_state=DeliveryState.COMPLAINED, feedback_at=now)
        )
    kind = BounceKind.HARD if event.hard else BounceKind.SOFT
    states = (
        [DeliveryState.SENT]
        if event.hard is False
        else [
            DeliveryState.SENT,
            DeliveryState.BOUNCED,
        ]
    )
    bounced = await Invitation.filter(id=invitation.id, delivery_state__in=states).update(
        delivery_state=DeliveryState.BOUNCED,
        bounce_kind=kind,
        last_error=(event.reason or f"{kind.value} bounce")[:2000],
        feedback_at=now,
    )
    if bounced:
        await webhook_events.record(WebhookEventType.INVITATION_BOUNCED, [invitation.id])
    return bool(bounced)


async def lift_suppression(raw_email: str) -> MailSuppression:
    """An admin lets mail go to the address again (then resends the invitation)."""
    email = normalize_email(raw_email)
    if email is None:
        raise DomainError(email_problem(raw_email))
    suppression = await MailSuppression.filter(email=email).first()
    if suppression is None:
        raise DomainError.single(
            ErrorCode.NOT_FOUND, "This address is not suppressed.", "email", value=raw_email
        )
    await MailSuppression.filter(id=suppression.id).delete()
    log.info("suppression %d lifted", suppression.id)
    return suppression


async def record_all(events: list[DeliveryEvent]) -> int:
    """Record a report's events; how many matched an invitation."""
    matched = 0
    for event in events:
        recorded = await record(event)
        matched += recorded.invitation_id is not None or recorded.suppressed
    return matched
