"""Events for the host platform: the subscriptions admins configure, the outbox of messages
to deliver (one row per event and subscription) and each delivery attempt."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model


class WebhookEventType(StrEnum):
    INVITATION_CREATED = "invitation.created"
    INVITATION_SENT = "invitation.sent"
    INVITATION_FAILED = "invitation.failed"
    INVITATION_BOUNCED = "invitation.bounced"
    INVITATION_ACCEPTED = "invitation.accepted"
    INVITATION_EXPIRED = "invitation.expired"
    INVITATION_DELETED = "invitation.deleted"
    USER_REGISTERED = "user.registered"
    USER_EMAIL_CONFIRMED = "user.email_confirmed"
    # Sent only by the sendTestWebhook mutation, to the subscription named.
    WEBHOOK_TEST = "webhook.test"


class WebhookDeliveryState(StrEnum):
    PENDING = "pending"  # to deliver at next_attempt_at (while claimed: its lease's end)
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # not delivered within a day, or its subscription was turned off


class WebhookSubscription(Model):
    id = fields.IntField(primary_key=True)
    url = fields.CharField(max_length=2000)
    # Encrypted with the service's key (domain.crypto): it must be read back to sign.
    secret_encrypted = fields.TextField()
    # The event types wanted, comma-separated and wrapped in commas (",invitation.sent,"), so
    # the outbox's INSERT ... SELECT matches them with one LIKE on either database.
    event_types = fields.CharField(max_length=1000)
    active = fields.BooleanField(default=True)
    description = fields.CharField(max_length=200, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "webhook_subscriptions"


class WebhookDelivery(Model):
    """An outbox row. A large import writes one per invitation in its transaction, so the
    table carries only what claims need: no foreign key check per row (it cost 40% of the
    INSERT; the rows are written from the subscriptions table itself and deleted with their
    subscription, `domain.webhooks.subscriptions`) and one index besides the key."""

    id = fields.BigIntField(primary_key=True)
    subscription: fields.ForeignKeyRelation[WebhookSubscription] = fields.ForeignKeyField(
        "models.WebhookSubscription",
        related_name="deliveries",
        on_delete=fields.NO_ACTION,
        db_constraint=False,
    )
    # The message id (webhook-id header and the payload's id): the same on every attempt, so
    # a receiver drops what it has seen already.
    event_id = fields.CharField(max_length=40)
    event_type = fields.CharField(max_length=40)
    occurred_at = fields.DatetimeField()
    # What the event is about: ids only, never an address, a name or a token.
    invitation_id = fields.IntField(null=True)
    user_id = fields.IntField(null=True)
    import_id = fields.IntField(null=True)
    state = fields.CharEnumField(WebhookDeliveryState, default=WebhookDeliveryState.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(null=True)
    claimed_by = fields.CharField(max_length=80, null=True)
    last_status = fields.IntField(null=True)
    last_error = fields.CharField(max_length=500, default="")
    delivered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "webhook_deliveries"
        indexes = (Index(fields=("state", "next_attempt_at"), name="webhook_deliveries_due_idx"),)


class WebhookAttempt(Model):
    id = fields.BigIntField(primary_key=True)
    delivery: fields.ForeignKeyRelation[WebhookDelivery] = fields.ForeignKeyField(
        "models.WebhookDelivery", related_name="attempt_log", on_delete=fields.CASCADE
    )
    attempted_at = fields.DatetimeField()
    status_code = fields.IntField(null=True)  # None: no answer (error says why)
    error = fields.CharField(max_length=500, default="")
    duration_ms = fields.IntField(default=0)

    class Meta:
        table = "webhook_attempts"
