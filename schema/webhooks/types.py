"""GraphQL types of webhook subscriptions, their deliveries and attempts."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.models import WebhookAttempt as WebhookAttemptModel
from domain.models import WebhookDelivery as WebhookDeliveryModel
from domain.models import WebhookDeliveryState, WebhookEventType
from domain.models import WebhookSubscription as WebhookSubscriptionModel
from domain.webhooks import subscriptions
from schema.context import Info
from schema.errors import UserError

strawberry.enum(
    WebhookEventType,
    name="WebhookEventType",
    description="What happened. The payload's `type` is the value (invitation.created, ...).",
)
strawberry.enum(WebhookDeliveryState, name="WebhookDeliveryState")


@strawberry.type(description="One try to deliver an event.")
class WebhookAttempt:
    attempted_at: datetime
    status_code: int | None = strawberry.field(
        description="The receiver's HTTP status; null when it did not answer."
    )
    error: str = strawberry.field(description="Why it did not count as delivered; empty if it did.")
    duration_ms: int

    @classmethod
    def from_model(cls, model: WebhookAttemptModel) -> WebhookAttempt:
        return cls(
            attempted_at=model.attempted_at,
            status_code=model.status_code,
            error=model.error,
            duration_ms=model.duration_ms,
        )


@strawberry.type(description="An event on its way to one subscription, with every attempt.")
class WebhookDelivery:
    id: strawberry.ID
    event_id: str = strawberry.field(description="The webhook-id header: the same on retries.")
    event_type: WebhookEventType
    occurred_at: datetime
    state: WebhookDeliveryState
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    attempts: list[WebhookAttempt]

    @classmethod
    def from_model(
        cls, model: WebhookDeliveryModel, attempts: list[WebhookAttemptModel]
    ) -> WebhookDelivery:
        return cls(
            id=strawberry.ID(str(model.id)),
            event_id=model.event_id,
            event_type=WebhookEventType(model.event_type),
            occurred_at=model.occurred_at,
            state=model.state,
            next_attempt_at=model.next_attempt_at
            if model.state is WebhookDeliveryState.PENDING
            else None,
            delivered_at=model.delivered_at,
            attempts=[WebhookAttempt.from_model(a) for a in attempts],
        )


async def deliveries_of(subscription_id: int, first: int) -> list[WebhookDelivery]:
    found = await subscriptions.recent_deliveries(subscription_id, first)
    attempts = await subscriptions.attempts_of([d.id for d in found])
    return [WebhookDelivery.from_model(d, attempts[d.id]) for d in found]


@strawberry.type(
    description="Where the host platform receives events, signed as Standard Webhooks does."
)
class WebhookSubscription:
    id: strawberry.ID
    url: str
    event_types: list[WebhookEventType]
    active: bool
    description: str
    created_at: datetime
    updated_at: datetime

    @strawberry.field(description="The latest deliveries, newest first (at most 100).")
    async def deliveries(self, info: Info, first: int = 20) -> list[WebhookDelivery]:
        return await deliveries_of(int(self.id), first)

    @classmethod
    def from_model(cls, model: WebhookSubscriptionModel) -> WebhookSubscription:
        return cls(
            id=strawberry.ID(str(model.id)),
            url=model.url,
            event_types=subscriptions.event_types_of(model),
            active=model.active,
            description=model.description,
            created_at=model.created_at,
            updated_at=model.updated_at,
        )


@strawberry.input
class CreateWebhookSubscriptionInput:
    url: str
    event_types: list[WebhookEventType]
    secret: str | None = strawberry.field(
        default=None,
        description="whsec_ and the base64 of 24 to 64 bytes; left out, one is generated.",
    )
    description: str = ""
    active: bool = True


@strawberry.input
class UpdateWebhookSubscriptionInput:
    url: str | None = None
    event_types: list[WebhookEventType] | None = None
    secret: str | None = strawberry.field(
        default=None, description="A new secret (whsec_...): signs every delivery from now on."
    )
    description: str | None = None
    active: bool | None = None


@strawberry.type
class CreateWebhookSubscriptionPayload:
    subscription: WebhookSubscription | None
    secret: str | None = strawberry.field(
        description="The signing secret, shown this once: store it with the receiver."
    )
    errors: list[UserError]


@strawberry.type
class UpdateWebhookSubscriptionPayload:
    subscription: WebhookSubscription | None
    errors: list[UserError]


@strawberry.type
class DeleteWebhookSubscriptionPayload:
    deleted_id: strawberry.ID | None
    errors: list[UserError]


@strawberry.type
class SendTestWebhookPayload:
    delivery: WebhookDelivery | None
    errors: list[UserError]
