"""Subscriptions: which events the host platform wants, where, signed with which secret."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from domain.crypto import keyring
from domain.errors import DomainError, ErrorCode, Problem, Reason
from domain.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEventType,
    WebhookSubscription,
)
from domain.settings import get_settings
from domain.webhooks import addresses, events, signing
from domain.webhooks.delivery import SECRET_PURPOSE

MAX_DESCRIPTION = 200
MAX_URL = 2000
# Event types a subscription may ask for (the test event goes to whoever asks for it).
SUBSCRIBABLE = tuple(t for t in WebhookEventType if t is not WebhookEventType.WEBHOOK_TEST)


@dataclass(frozen=True, slots=True)
class Created:
    subscription: WebhookSubscription
    secret: str  # shown once, to the admin who created it


def event_types_of(subscription: WebhookSubscription) -> list[WebhookEventType]:
    return [WebhookEventType(t) for t in subscription.event_types.split(",") if t]


def _stored_types(types: Sequence[WebhookEventType]) -> str:
    return "," + ",".join(sorted({t.value for t in types})) + ","


def _check(
    *,
    url: str | None,
    event_types: Sequence[WebhookEventType] | None,
    secret: str | None,
    description: str | None,
) -> None:
    problems: list[Problem] = []
    if url is not None:
        problem = (
            addresses.UrlProblem(Reason.URL_TOO_LONG, "Keep the URL under 2,000 characters.")
            if len(url) > MAX_URL
            else addresses.url_problem(url, get_settings())
        )
        if problem is not None:
            problems.append(
                Problem(
                    ErrorCode.INVALID_URL,
                    problem.message,
                    "url",
                    value=url[:200],
                    reason=problem.reason,
                )
            )
    if event_types is not None:
        if not event_types:
            problems.append(
                Problem(ErrorCode.NO_EVENT_TYPES, "Choose at least one event.", "eventTypes")
            )
        elif WebhookEventType.WEBHOOK_TEST in event_types:
            problems.append(
                Problem(
                    ErrorCode.INVALID_INPUT,
                    "webhook.test is sent by sendTestWebhook only.",
                    "eventTypes",
                    reason=Reason.TEST_EVENT,
                )
            )
    if secret is not None:
        try:
            signing.secret_key(secret)
        except signing.BadSecret as error:
            # Never echo the secret back.
            problems.append(Problem(ErrorCode.INVALID_SECRET, str(error), "secret"))
    if description is not None and len(description) > MAX_DESCRIPTION:
        problems.append(
            Problem(
                ErrorCode.INVALID_INPUT,
                f"Keep the description under {MAX_DESCRIPTION} characters.",
                "description",
                reason=Reason.DESCRIPTION_TOO_LONG,
            )
        )
    if problems:
        raise DomainError(*problems)


async def create_subscription(
    *,
    url: str,
    event_types: Sequence[WebhookEventType],
    secret: str | None = None,
    description: str = "",
    active: bool = True,
) -> Created:
    """A new subscription; without a secret, one is generated. Either way it is returned
    this once and stored encrypted."""
    url = url.strip()
    _check(url=url, event_types=event_types, secret=secret, description=description)
    secret = secret or signing.new_secret()
    subscription = await WebhookSubscription.create(
        url=url,
        secret_encrypted=keyring(SECRET_PURPOSE).encrypt(secret),
        event_types=_stored_types(event_types),
        active=active,
        description=description.strip(),
    )
    events.forget_subscriptions()
    return Created(subscription, secret)


async def _get(subscription_id: int) -> WebhookSubscription:
    subscription = await WebhookSubscription.get_or_none(id=subscription_id)
    if subscription is None:
        raise DomainError.single(ErrorCode.NOT_FOUND, "No such webhook subscription.", "id")
    return subscription


async def update_subscription(
    subscription_id: int,
    *,
    url: str | None = None,
    event_types: Sequence[WebhookEventType] | None = None,
    secret: str | None = None,
    description: str | None = None,
    active: bool | None = None,
) -> WebhookSubscription:
    """Change what is given; the rest stays. Events already written keep their deliveries
    (to the new URL, signed with the new secret); turning a subscription off fails its
    deliveries not made yet."""
    url = url.strip() if url is not None else None
    _check(url=url, event_types=event_types, secret=secret, description=description)
    subscription = await _get(subscription_id)
    if url is not None:
        subscription.url = url
    if event_types is not None:
        subscription.event_types = _stored_types(event_types)
    if secret is not None:
        subscription.secret_encrypted = keyring(SECRET_PURPOSE).encrypt(secret)
    if description is not None:
        subscription.description = description.strip()
    if active is not None:
        subscription.active = active
    await subscription.save()
    events.forget_subscriptions()
    return subscription


async def delete_subscription(subscription_id: int) -> int:
    """The subscription goes, with its deliveries and their attempts."""
    async with in_transaction():
        subscription = await _get(subscription_id)
        # Their attempts go with them (a foreign key's cascade).
        await WebhookDelivery.filter(subscription_id=subscription.id).delete()
        await subscription.delete()
    events.forget_subscriptions()
    return subscription_id


async def send_test_event(subscription_id: int) -> WebhookDelivery:
    """A webhook.test event to this subscription alone (delivered by the workers)."""
    subscription = await _get(subscription_id)
    if not subscription.active:
        raise DomainError.single(
            ErrorCode.INVALID_INPUT,
            "This subscription is off: turn it on first.",
            "id",
            reason=Reason.SUBSCRIPTION_OFF,
        )
    async with in_transaction() as connection:
        await events.record(
            WebhookEventType.WEBHOOK_TEST,
            subscription_id=subscription.id,
            connection=connection,
        )
        delivery = (
            await WebhookDelivery.filter(subscription_id=subscription.id)
            .using_db(connection)
            .order_by("-id")
            .first()
        )
    assert delivery is not None
    return delivery


async def list_subscriptions() -> list[WebhookSubscription]:
    return await WebhookSubscription.all().order_by("id")


async def find_subscription(subscription_id: int) -> WebhookSubscription | None:
    return await WebhookSubscription.get_or_none(id=subscription_id)


async def recent_deliveries(subscription_id: int, first: int) -> list[WebhookDelivery]:
    """The latest deliveries, newest first."""
    return (
        await WebhookDelivery.filter(subscription_id=subscription_id)
        .order_by("-id")
        .limit(max(min(first, 100), 0))
    )


async def attempts_of(delivery_ids: Sequence[int]) -> dict[int, list[WebhookAttempt]]:
    found: dict[int, list[WebhookAttempt]] = {i: [] for i in delivery_ids}
    for attempt in await WebhookAttempt.filter(delivery_id__in=list(delivery_ids)).order_by("id"):
        found[attempt.delivery_id].append(attempt)  # type: ignore[attr-defined]
    return found
