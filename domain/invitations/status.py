"""An invitation's derived status and its delivery state."""

from __future__ import annotations

from datetime import datetime

from domain.models import DeliveryState, Invitation, InvitationStatus


def status_of(invitation: Invitation, now: datetime) -> InvitationStatus:
    """Derived status: accepted, or expired once now >= expires_at, else pending."""
    if invitation.accepted_at is not None or invitation.status is InvitationStatus.ACCEPTED:
        return InvitationStatus.ACCEPTED
    if invitation.status is InvitationStatus.EXPIRED or now >= invitation.expires_at:
        return InvitationStatus.EXPIRED
    return InvitationStatus.PENDING


def delivery_of(invitation: Invitation) -> DeliveryState:
    return DeliveryState(invitation.delivery_state)
