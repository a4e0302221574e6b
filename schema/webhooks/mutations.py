"""Webhook subscription mutations (admins)."""

from __future__ import annotations

import strawberry

from domain.webhooks import subscriptions
from schema.boundary import perform
from schema.context import Info
from schema.ids import parse_id
from schema.permissions import IsAdmin
from schema.webhooks.types import (
    CreateWebhookSubscriptionInput,
    CreateWebhookSubscriptionPayload,
    DeleteWebhookSubscriptionPayload,
    SendTestWebhookPayload,
    UpdateWebhookSubscriptionInput,
    UpdateWebhookSubscriptionPayload,
    WebhookDelivery,
    WebhookSubscription,
)


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Send events to a URL of the host platform. The secret (given, or"
        " generated) is returned this once.",
    )
    async def create_webhook_subscription(
        self, info: Info, input: CreateWebhookSubscriptionInput
    ) -> CreateWebhookSubscriptionPayload:
        created, errors = await perform(
            info,
            subscriptions.create_subscription(
                url=input.url,
                event_types=input.event_types,
                secret=input.secret,
                description=input.description,
                active=input.active,
            ),
        )
        return CreateWebhookSubscriptionPayload(
            subscription=WebhookSubscription.from_model(created.subscription) if created else None,
            secret=created.secret if created else None,
            errors=errors,
        )

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Change a subscription's URL, events, secret, description or turn it on or"
        " off (off: its deliveries not made yet are dropped).",
    )
    async def update_webhook_subscription(
        self, info: Info, id: strawberry.ID, input: UpdateWebhookSubscriptionInput
    ) -> UpdateWebhookSubscriptionPayload:
        updated, errors = await perform(
            info,
            subscriptions.update_subscription(
                parse_id(id),
                url=input.url,
                event_types=input.event_types,
                secret=input.secret,
                description=input.description,
                active=input.active,
            ),
        )
        return UpdateWebhookSubscriptionPayload(
            subscription=WebhookSubscription.from_model(updated) if updated else None,
            errors=errors,
        )

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Remove a subscription with its deliveries.",
    )
    async def delete_webhook_subscription(
        self, info: Info, id: strawberry.ID
    ) -> DeleteWebhookSubscriptionPayload:
        deleted, errors = await perform(info, subscriptions.delete_subscription(parse_id(id)))
        return DeleteWebhookSubscriptionPayload(
            deleted_id=strawberry.ID(str(deleted)) if deleted else None, errors=errors
        )

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Send a webhook.test event to this subscription (delivered by the workers).",
    )
    async def send_test_webhook(self, info: Info, id: strawberry.ID) -> SendTestWebhookPayload:
        delivery, errors = await perform(info, subscriptions.send_test_event(parse_id(id)))
        return SendTestWebhookPayload(
            delivery=WebhookDelivery.from_model(delivery, []) if delivery else None,
            errors=errors,
        )
