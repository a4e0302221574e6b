"""Webhook subscriptions (admins)."""

from __future__ import annotations

import strawberry

from domain.webhooks import subscriptions
from schema.context import Info
from schema.ids import parse_id
from schema.permissions import IsAdmin
from schema.webhooks.types import WebhookSubscription


@strawberry.type
class WebhookQueries:
    @strawberry.field(
        permission_classes=[IsAdmin],
        description="Where the host platform receives events (invitation.*, user.*).",
    )
    async def webhook_subscriptions(self, info: Info) -> list[WebhookSubscription]:
        return [WebhookSubscription.from_model(s) for s in await subscriptions.list_subscriptions()]

    @strawberry.field(
        permission_classes=[IsAdmin],
        description="One webhook subscription by its id, with its recent deliveries (null if"
        " none).",
    )
    async def webhook_subscription(
        self, info: Info, id: strawberry.ID
    ) -> WebhookSubscription | None:
        found = await subscriptions.find_subscription(parse_id(id))
        return WebhookSubscription.from_model(found) if found else None
