"""An invitation: a registration token plus the access it grants once accepted."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

if TYPE_CHECKING:
    from domain.models.group import Group
    from domain.models.invitation_import import InvitationImport
    from domain.models.project import Project
    from domain.models.user import User


class InvitationStatus(StrEnum):
    """Stored status. `pending` rows whose expires_at has passed read as expired before the
    sweep marks them; see domain.invitations.status."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    EXPIRED = "expired"


class DeliveryState(StrEnum):
    NOT_SENT = "not_sent"  # send_email is off (codes for letters, or the admin chose so)
    QUEUED = "queued"  # to send at send_due_at (a deferred mail: after its next retry time)
    SENDING = "sending"  # claimed by a worker (claimed_by) until send_due_at (its lease)
    SENT = "sent"  # the relay accepted it
    FAILED = "failed"  # refused for good, or not accepted within a day; last_error says why
    BOUNCED = "bounced"  # reported undeliverable after it was sent (bounce_kind, last_error)
    COMPLAINED = "complained"  # the recipient marked it as spam


class BounceKind(StrEnum):
    HARD = "hard"  # the address does not exist or refuses for good: suppressed
    SOFT = "soft"  # given up for now (mailbox full, ...): not suppressed


class Invitation(Model):
    id = fields.IntField(primary_key=True)
    # Normalized (lower case); "" for a code-only invitation (letters).
    email = fields.CharField(max_length=320, default="")
    first_name = fields.CharField(max_length=100, default="")
    last_name = fields.CharField(max_length=100, default="")
    locale = fields.CharField(max_length=16)
    personal_message = fields.TextField(default="")
    # Where a letter is posted to (lines separated by line breaks); "" when there is none.
    # Erased once the invitation is accepted: it is only needed to post the letter.
    # (A database default too: invitations made before the column get an empty address.)
    postal_address = fields.CharField(max_length=500, default="", db_default="")
    is_admin = fields.BooleanField(default=False)
    registration_field_values: dict[str, Any] = fields.JSONField(default=dict)
    send_email = fields.BooleanField(default=True)
    inviter: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="invitations_sent", null=True, on_delete=fields.SET_NULL
    )
    # No database constraint: imports are never deleted, and checking it row by row costs a
    # large import a tenth of its time.
    invitation_import: fields.ForeignKeyNullableRelation[InvitationImport] = fields.ForeignKeyField(
        "models.InvitationImport",
        related_name="invitations",
        null=True,
        on_delete=fields.SET_NULL,
        db_constraint=False,
    )

    # HMAC-SHA-256 of the token, its first 128 bits (crypto.Keyring.short_digest).
    token_digest = fields.UUIDField(unique=True)
    token_encrypted = fields.TextField()

    status = fields.CharEnumField(InvitationStatus, max_length=16, default=InvitationStatus.PENDING)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    accepted_at = fields.DatetimeField(null=True)
    accepted_user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="accepted_invitations", null=True, on_delete=fields.SET_NULL
    )

    # Delivery. send_no counts (re)sends; each send has its own job id send:{id}:{send_no}.
    delivery_state = fields.CharEnumField(
        DeliveryState, max_length=16, default=DeliveryState.QUEUED
    )
    send_no = fields.IntField(default=1)
    send_due_at = fields.DatetimeField(null=True)  # set while a send is wanted and not done
    send_attempts = fields.IntField(default=0)
    last_error = fields.TextField(default="")
    # The worker process holding the 'sending' claim; it renews the lease while it is alive.
    claimed_by = fields.CharField(max_length=64, null=True)
    # When this send was first refused for now: deferrals end in 'failed' a day after it.
    deferred_since = fields.DatetimeField(null=True)
    # Delivery events after the relay accepted the mail (provider webhooks, bounce messages).
    bounce_kind = fields.CharEnumField(BounceKind, max_length=8, null=True)
    feedback_at = fields.DatetimeField(null=True)
    sent_at = fields.DatetimeField(null=True)
    reminded_at = fields.DatetimeField(null=True)
    reminded_send_no = fields.IntField(default=0)  # the send the last reminder followed

    groups: fields.ReverseRelation[InvitationGroup]
    projects: fields.ReverseRelation[InvitationProject]

    class Meta:
        table = "invitations"
        # Each index slows every insert (a 100,000-row import writes them all): the ones the
        # model cannot express (email in byte order, lower(last_name), partial ones) are in
        # migrations 0002, 0003 and 0005.
        indexes = [
            Index(fields=("created_at", "id")),
            Index(fields=("status", "id")),
            Index(fields=("status", "expires_at")),
            Index(fields=("send_due_at",)),
        ]


class InvitationGroup(Model):
    """A group the invitee joins on acceptance."""

    id = fields.IntField(primary_key=True)
    # On PostgreSQL, statement triggers instead of foreign key constraints: the same checks,
    # locks and cascades, done once for an import's 30,000 grants rather than row by row
    # (migration 0008). SQLite keeps its constraints.
    invitation: fields.ForeignKeyRelation[Invitation] = fields.ForeignKeyField(
        "models.Invitation", related_name="groups", on_delete=fields.CASCADE, db_constraint=False
    )
    group: fields.ForeignKeyRelation[Group] = fields.ForeignKeyField(
        "models.Group",
        related_name="invitation_grants",
        on_delete=fields.CASCADE,
        db_constraint=False,
    )

    class Meta:
        table = "invitation_groups"
        unique_together = (("invitation", "group"),)
        indexes = [Index(fields=("group_id", "invitation_id"))]


class InvitationProject(Model):
    """A project the invitee will manage on acceptance."""

    id = fields.IntField(primary_key=True)
    invitation: fields.ForeignKeyRelation[Invitation] = fields.ForeignKeyField(
        "models.Invitation", related_name="projects", on_delete=fields.CASCADE
    )
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="invitation_grants", on_delete=fields.CASCADE
    )

    class Meta:
        table = "invitation_projects"
        unique_together = (("invitation", "project"),)
        indexes = [Index(fields=("project_id", "invitation_id"))]


class ExportKind(StrEnum):
    XLSX = "xlsx"  # the token export
    LETTERS = "letters"  # letters.pdf, a letter a page
    CARDS = "cards"  # letters.pdf?layout=cards, eight cards a sheet


class InvitationExport(Model):
    """A record of who downloaded the token export, when, and how many rows."""

    id = fields.IntField(primary_key=True)
    # The token export, or the letters or cards of letters.pdf: each printed code counts as a row.
    kind = fields.CharEnumField(
        ExportKind, max_length=16, default=ExportKind.XLSX, db_default=ExportKind.XLSX
    )
    exported_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="invitation_exports", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    row_count = fields.IntField(default=0)
    filters: dict[str, Any] = fields.JSONField(default=dict)

    class Meta:
        table = "invitation_exports"


class SuppressionReason(StrEnum):
    HARD_BOUNCE = "hard_bounce"
    COMPLAINT = "complaint"


class MailSuppression(Model):
    """An address that is sent nothing (no invitation, reminder or resend) until an admin
    lifts it: it bounced for good, or its owner reported our mail as spam."""

    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=320, unique=True)  # normalized, as invitations store it
    reason = fields.CharEnumField(SuppressionReason, max_length=16)
    detail = fields.TextField(default="")  # the provider's or the bounce message's words
    source = fields.CharField(max_length=16)  # mailgun, ses, postmark, dsn
    invitation_id = fields.IntField(null=True)  # the invitation whose mail it was about
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "mail_suppressions"
