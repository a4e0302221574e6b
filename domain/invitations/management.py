"""What admins do with existing invitations: resend and delete."""

from __future__ import annotations

from datetime import timedelta

from tortoise.transactions import in_transaction

from domain import outbox
from domain.clock import clock
from domain.errors import DomainError, ErrorCode
from domain.invitations import feedback
from domain.invitations.service import send_job_id
from domain.models import DeliveryState, Invitation, InvitationStatus
from domain.settings import get_settings


def _not_found() -> DomainError:
    return DomainError.single(ErrorCode.NOT_FOUND, "There is no such invitation.", "id")


async def resend_invitation(invitation_id: int) -> Invitation:
    """A new mail with the same token; expiry back to 30 days from now, reminder cycle reset.
    A code-only invitation (no address) only gets its expiry reset: its letter keeps working."""
    settings = get_settings()
    async with in_transaction():
        invitation = await Invitation.filter(id=invitation_id).select_for_update().first()
        if invitation is None:
            raise _not_found()
        if invitation.accepted_at is not None or invitation.status is InvitationStatus.ACCEPTED:
            raise DomainError.single(
                ErrorCode.INVITATION_ACCEPTED, "This invitation was accepted already.", "id"
            )
        if invitation.email and await feedback.is_suppressed(invitation.email):
            raise DomainError.single(
                ErrorCode.ADDRESS_SUPPRESSED,
                f"{invitation.email} bounced for good or reported our mail as spam, so it is"
                " sent nothing: lift its suppression first (liftMailSuppression).",
                "id",
            )
        now = await clock.now()
        invitation.expires_at = now + timedelta(days=settings.invitation_expiry_days)
        invitation.status = InvitationStatus.PENDING
        invitation.reminded_at = None
        invitation.send_no += 1
        invitation.send_attempts = 0
        invitation.last_error = ""
        if invitation.email:
            invitation.send_email = True
            invitation.delivery_state = DeliveryState.QUEUED
            invitation.send_due_at = now
        await invitation.save(
            update_fields=[
                "expires_at",
                "status",
                "reminded_at",
                "send_no",
                "send_attempts",
                "last_error",
                "send_email",
                "delivery_state",
                "send_due_at",
            ]
        )
    if invitation.email:
        outbox.enqueue(
            "send_invitation",
            invitation.id,
            invitation.send_no,
            job_id=send_job_id(invitation.id, invitation.send_no),
        )
    return invitation


async def delete_invitation(invitation_id: int) -> None:
    """Pending and expired invitations only: the token stops working and its grants go with
    it. Accepted invitations stay as the record of how someone got their access."""
    async with in_transaction():
        invitation = await Invitation.filter(id=invitation_id).select_for_update().first()
        if invitation is None:
            raise _not_found()
        deleted = await Invitation.filter(
            id=invitation_id, accepted_at=None, status__not=InvitationStatus.ACCEPTED
        ).delete()
        if not deleted:
            raise DomainError.single(
                ErrorCode.INVITATION_ACCEPTED,
                "An accepted invitation stays as the record; remove the person's roles or"
                " groups instead.",
                "id",
            )
