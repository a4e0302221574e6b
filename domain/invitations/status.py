"""An invitation's derived status and its delivery state."""

from __future__ import annotations

from datetime import datetime

from domain.models import DeliveryState, Invitation, InvitationStatus


def status_of(invitation: Invitation, now: datetime) -> InvitationStatus:
    """Derived status: accepted, or expired once now >= expires_at, else pending."""
    return derived_status(
        InvitationStatus(invitation.status), invitation.accepted_at, invitation.expires_at, now
    )


def derived_status(
    stored: InvitationStatus, accepted_at: datetime | None, expires_at: datetime, now: datetime
) -> InvitationStatus:
    """status_of() from the columns themselves (a row read without the ORM)."""
    if accepted_at is not None or stored is InvitationStatus.ACCEPTED:
        return InvitationStatus.ACCEPTED
    if stored is InvitationStatus.EXPIRED or now >= expires_at:
        return InvitationStatus.EXPIRED
    return InvitationStatus.PENDING


# derived_status() in SQL, for a table's alias and the placeholder of `now`.
_STATUS_SQL = """CASE WHEN {t}.accepted_at IS NOT NULL OR {t}.status = 'accepted' THEN 'accepted'
WHEN {t}.status = 'expired' OR {t}.expires_at <= {now} THEN 'expired' ELSE 'pending' END"""


def status_sql(table: str, now: str) -> str:
    """derived_status() as an SQL expression over `table`'s columns (`now` a placeholder)."""
    return _STATUS_SQL.format(t=table, now=now)


def delivery_of(invitation: Invitation) -> DeliveryState:
    return DeliveryState(invitation.delivery_state)
