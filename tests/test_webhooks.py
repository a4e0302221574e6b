"""Events for the host platform: subscriptions, signed deliveries to a real HTTP receiver,
retries, a killed worker, refused private addresses, and payloads without personal data."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections import deque
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.worker import Worker

from domain.clock import clock
from domain.models import WebhookDelivery, WebhookDeliveryState
from domain.settings import get_settings
from domain.webhooks import addresses, delivery, signing
from tests.fixtures import GraphQLClient, SmtpSink, wait_for
from tests.invitations_helpers import DELETE, accept, create, token_from

SUBSCRIBE = """
mutation($input: CreateWebhookSubscriptionInput!) {
  createWebhookSubscription(input: $input) {
    subscription { id url eventTypes active }
    secret
    errors { code message field }
  }
}
"""
SUBSCRIPTIONS = """
{ webhookSubscriptions { id url active
    deliveries(first: 50) { eventId eventType state
      attempts { statusCode error durationMs attemptedAt } } } }
"""
UPDATE = """
mutation($id: ID!, $input: UpdateWebhookSubscriptionInput!) {
  updateWebhookSubscription(id: $id, input: $input) {
    subscription { id active eventTypes } errors { code message field }
  }
}
"""
SEND_TEST = """
mutation($id: ID!) {
  sendTestWebhook(id: $id) { delivery { eventId eventType state } errors { code } }
}
"""
REMOVE = """
mutation($id: ID!) { deleteWebhookSubscription(id: $id) { deletedId errors { code } } }
"""
DELETE_MANY = """
mutation($input: InvitationSelectionInput!) {
  deleteInvitations(input: $input) { deletedCount }
}
"""
ALL_EVENTS = [
    "INVITATION_CREATED",
    "INVITATION_SENT",
    "INVITATION_FAILED",
    "INVITATION_BOUNCED",
    "INVITATION_ACCEPTED",
    "INVITATION_EXPIRED",
    "INVITATION_DELETED",
    "USER_REGISTERED",
    "USER_EMAIL_CONFIRMED",
]


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def event(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.body)
        return value


@dataclass
class Receiver:
    """A small HTTP server on a free port: answers each POST with the next queued status
    (200 when none is queued), or holds it without answering while `hang` is set (until the
    server stops)."""

    statuses: deque[int] = field(default_factory=deque)
    received: list[Received] = field(default_factory=list)
    held: int = 0
    hang: bool = False
    port: int = 0
    server: asyncio.Server | None = None
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            lines = head.split("\r\n")
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            if self.hang:
                self.held += 1
                headers["held"] = "yes"
                self.received.append(Received(headers, body, 0))
                await self.stopping.wait()
                return
            status = self.statuses.popleft() if self.statuses else 200
            self.received.append(Received(headers, body, status))
            writer.write(
                f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode()
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass  # the client went away, or the test is over
        finally:
            writer.close()

    def answered(self) -> list[Received]:
        return [r for r in self.received if r.status and 200 <= r.status < 300]

    async def stop(self) -> None:
        self.stopping.set()  # the held requests end, unanswered
        if self.server is not None:
            self.server.close()
        await asyncio.sleep(0)


@pytest.fixture
async def receiver() -> Any:
    server = Receiver()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture(autouse=True)
def private_addresses_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The receiver listens on 127.0.0.1 (INVITES_WEBHOOKS_ALLOW_PRIVATE=true)."""
    monkeypatch.setattr(get_settings(), "webhooks_allow_private", True)


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Standard Webhooks verification, written from the specification."""
    key = base64.b64decode(secret.split("_", 1)[1])
    content = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    return any(
        hmac.compare_digest(signature.split(",", 1)[1], expected)
        for signature in headers["webhook-signature"].split(" ")
        if signature.startswith("v1,")
    )


async def subscribe(admin: GraphQLClient, url: str, events: list[str] | None = None) -> Any:
    result = (await admin(SUBSCRIBE, {"input": {"url": url, "eventTypes": events or ALL_EVENTS}}))[
        "createWebhookSubscription"
    ]
    assert result["errors"] == [], result
    return result


async def deliver(redis: ArqRedis, run_worker: Any) -> None:
    """What the workers do every few seconds: the cron asks for a delivery job, a worker runs it."""
    from workers import jobs

    await jobs.sweep_webhooks({"redis": redis})
    await run_worker()


def test_signatures_match_the_specifications_example() -> None:
    # The example of the Standard Webhooks specification's reference libraries.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    signature = signing.sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


async def test_the_host_platform_gets_each_step_of_an_invitation_signed_and_without_personal_data(
    admin: GraphQLClient,
    gql: GraphQLClient,
    receiver: Receiver,
    redis: ArqRedis,
    run_worker: Any,
    smtp_sink: SmtpSink,
) -> None:
    subscribed = await subscribe(admin, receiver.url)
    secret = subscribed["secret"]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32

    created = await create(
        admin,
        ["lea.janssens@example.org", "tom.peeters@example.org"],
        personalMessage="Welcome, Lea",
    )
    lea, tom = created["invitations"]
    await run_worker()  # the mails, and the created events
    token = token_from(smtp_sink.to("lea.janssens@example.org")[0])
    accepted = await accept(gql, token)
    assert accepted["errors"] == []
    deleted = (await admin(DELETE, {"id": tom["id"]}))["deleteInvitation"]
    assert deleted["errors"] == []
    await deliver(redis, run_worker)

    events = [r.event for r in receiver.answered()]
    lea_user = accepted["session"]["user"]["id"]
    by_type = sorted(
        (e["type"], e["data"].get("invitationId"), e["data"].get("userId")) for e in events
    )
    assert by_type == sorted(
        [
            ("invitation.created", int(lea["id"]), None),
            ("invitation.created", int(tom["id"]), None),
            ("invitation.sent", int(lea["id"]), None),
            ("invitation.sent", int(tom["id"]), None),
            ("invitation.accepted", int(lea["id"]), int(lea_user)),
            ("user.registered", int(lea["id"]), int(lea_user)),
            ("invitation.deleted", int(tom["id"]), None),
        ]
    )
    for request in receiver.answered():
        assert verify(secret, request.headers, request.body)
        assert request.headers["webhook-id"] == request.event["id"]
        assert request.headers["content-type"] == "application/json"
        # ids only: no address, name, token or message.
        assert set(request.event) == {"id", "type", "timestamp", "data"}
        assert set(request.event["data"]) <= {"invitationId", "userId", "importId"}
        assert all(isinstance(value, int) for value in request.event["data"].values())
        text = request.body.decode()
        for personal in (
            "lea",
            "janssens",
            "example.org",
            "Welcome",
            token,
            token.replace("-", ""),
        ):
            assert personal.lower() not in text.lower()
    # A tampered body does not verify.
    first = receiver.answered()[0]
    assert not verify(secret, first.headers, first.body.replace(b"}", b" }", 1))

    listed = (await admin(SUBSCRIPTIONS))["webhookSubscriptions"]
    [subscription] = listed
    assert len(subscription["deliveries"]) == 7
    for row in subscription["deliveries"]:
        assert row["state"] == "DELIVERED"
        [attempt] = row["attempts"]
        assert attempt["statusCode"] == 200 and attempt["error"] == ""
        assert attempt["durationMs"] >= 0


async def test_a_receiver_that_fails_then_recovers_gets_every_event_once_delivered(
    admin: GraphQLClient, receiver: Receiver, redis: ArqRedis, run_worker: Any
) -> None:
    await subscribe(admin, receiver.url, ["INVITATION_CREATED"])
    await create(admin, [f"r{i}@example.org" for i in range(3)], sendEmail=False)
    receiver.statuses.extend([500] * 8)
    await run_worker()
    assert [r.status for r in receiver.received] == [500, 500, 500]
    rows = await WebhookDelivery.all()
    assert all(row.state is WebhookDeliveryState.PENDING and row.attempts == 1 for row in rows)
    # Not due again before its backoff.
    await deliver(redis, run_worker)
    assert len(receiver.received) == 3
    waited = timedelta(0)
    while len(receiver.answered()) < 3:
        step = timedelta(seconds=delivery.retry_delay(get_settings(), 10))
        clock.advance(step)
        waited += step
        await deliver(redis, run_worker)
        assert waited < timedelta(hours=24)
    ids = [r.event["id"] for r in receiver.received]
    assert len(set(ids)) == 3  # every event, each retried under its own id
    assert sorted({r.event["id"] for r in receiver.answered()}) == sorted(set(ids))
    listed = (await admin(SUBSCRIPTIONS))["webhookSubscriptions"][0]["deliveries"]
    for row in listed:
        assert row["state"] == "DELIVERED"
        codes = [attempt["statusCode"] for attempt in row["attempts"]]
        assert codes[-1] == 200 and set(codes[:-1]) == {500}
        assert all("500" in a["error"] for a in row["attempts"][:-1])


async def test_a_receiver_down_for_a_day_is_given_up(
    admin: GraphQLClient, redis: ArqRedis, run_worker: Any
) -> None:
    # Nobody listens on this port: every attempt fails to connect.
    closed = Receiver()
    await closed.start()
    await closed.stop()
    await subscribe(admin, closed.url, ["INVITATION_CREATED"])
    await create(admin, "gone@example.org", sendEmail=False)
    await run_worker()
    [row] = await WebhookDelivery.all()
    assert row.state is WebhookDeliveryState.PENDING and "No answer" in row.last_error
    for _ in range(40):
        clock.advance(timedelta(hours=1))
        await deliver(redis, run_worker)
    [row] = await WebhookDelivery.all()
    assert row.state is WebhookDeliveryState.FAILED
    # Capped backoff: about one try an hour once the waits reach the cap.
    assert 20 <= row.attempts <= 40


async def test_a_worker_killed_mid_delivery_loses_no_event(
    admin: GraphQLClient, receiver: Receiver, redis: ArqRedis, run_worker: Any
) -> None:
    from workers.settings import WorkerSettings, shutdown, startup

    await subscribe(admin, receiver.url, ["INVITATION_CREATED"])
    await create(admin, "kept@example.org", sendEmail=False)
    receiver.hang = True
    pool = await create_pool(RedisSettings.from_dsn(get_settings().redis_url))
    worker = Worker(
        functions=WorkerSettings.functions,
        redis_pool=pool,
        burst=True,
        poll_delay=0.01,
        handle_signals=False,
        on_startup=startup,
        ctx={"database_ready": True},
    )
    running = asyncio.create_task(worker.main())
    try:
        await wait_for(lambda: receiver.held == 1, timeout=10)
    finally:
        # Killed while the receiver has the request: the worker and the job it runs (its
        # own task: left running, it would write its attempt during a later test).
        jobs = list(worker.tasks.values())
        for task in (running, *jobs):
            task.cancel()
        await asyncio.gather(running, *jobs, return_exceptions=True)
        await shutdown(worker.ctx)
        await pool.aclose()
    receiver.hang = False
    # Its arq job stays "in progress" in Redis for minutes: the database is what counts.
    await redis.flushdb()
    [row] = await WebhookDelivery.all()
    assert row.state is WebhookDeliveryState.PENDING and row.claimed_by
    await deliver(redis, run_worker)  # still claimed by the dead worker: not yet
    assert receiver.answered() == []
    clock.advance(delivery.LEASE + timedelta(seconds=1))
    await deliver(redis, run_worker)
    [held] = [r for r in receiver.received if r.headers.get("held")]
    [answered] = receiver.answered()
    assert answered.headers["webhook-id"] == held.headers["webhook-id"]  # de-duplicable
    [row] = await WebhookDelivery.all()
    assert row.state is WebhookDeliveryState.DELIVERED


async def test_private_addresses_are_refused_unless_allowed(
    admin: GraphQLClient,
    receiver: Receiver,
    redis: ArqRedis,
    run_worker: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(get_settings(), "webhooks_allow_private", False)
    for url in (
        receiver.url,
        "http://10.1.2.3/hooks",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:8080/hooks",
        "http://[::ffff:127.0.0.1]/hooks",
        "ftp://hooks.example.org/",
        "https://user:pass@hooks.example.org/",
        # Other spellings of loopback the resolver reads as 127.0.0.1, and localhost itself.
        "https://127.1/",
        "https://0x7f000001/",
        "https://2130706433/",
        "https://0177.0.0.1/",
        "https://localhost/",
        "https://LocalHost./hooks",
        "https://api.localhost/",
        "http://10.1/",
    ):
        result = (await admin(SUBSCRIBE, {"input": {"url": url, "eventTypes": ALL_EVENTS}}))[
            "createWebhookSubscription"
        ]
        assert result["subscription"] is None and result["secret"] is None
        assert [e["code"] for e in result["errors"]] == ["INVALID_URL"], url
    assert (await admin(SUBSCRIPTIONS))["webhookSubscriptions"] == []
    # Checked again when it is called (a subscription made while private addresses were
    # allowed): refused, and failed at once: trying again for a day cannot help.
    monkeypatch.setattr(get_settings(), "webhooks_allow_private", True)
    local = await subscribe(
        admin, f"http://localhost:{receiver.port}/hooks", ["INVITATION_CREATED"]
    )
    monkeypatch.setattr(get_settings(), "webhooks_allow_private", False)
    await create(admin, "ssrf@example.org", sendEmail=False)
    await run_worker()
    assert receiver.received == []
    [row] = await WebhookDelivery.all()
    assert row.state is WebhookDeliveryState.FAILED and row.attempts == 1
    assert "not public" in row.last_error
    listed = (await admin(SUBSCRIPTIONS))["webhookSubscriptions"][0]
    assert listed["id"] == local["subscription"]["id"]
    assert listed["deliveries"][0]["state"] == "FAILED"
    [attempt] = listed["deliveries"][0]["attempts"]
    assert attempt["statusCode"] is None and attempt["error"].startswith("Refused")
    # Allowed (a test receiver, a private network the operator trusts): delivered.
    monkeypatch.setattr(get_settings(), "webhooks_allow_private", True)
    await create(admin, "allowed@example.org", sendEmail=False)
    await deliver(redis, run_worker)
    assert len(receiver.answered()) == 1


async def test_a_host_that_resolves_to_a_private_address_fails_at_once() -> None:
    # Resolved when called: this machine's loopback name (set in every hosts file)...
    settings = get_settings().model_copy(update={"webhooks_allow_private": False})
    with pytest.raises(addresses.Refused) as refused:
        await addresses.resolve("https://localhost/hooks", settings)
    assert refused.value.permanent
    # ... whereas a name that does not resolve (now) may resolve later: tried again.
    with pytest.raises(addresses.Refused) as unresolved:
        await addresses.resolve("https://does-not-exist.invalid/hooks", settings)
    assert not unresolved.value.permanent


def test_only_public_addresses_count_as_public() -> None:
    import ipaddress

    for text in (
        "127.0.0.1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:10.0.0.1",
    ):
        assert not addresses.is_public(ipaddress.ip_address(text)), text
    for text in ("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"):
        assert addresses.is_public(ipaddress.ip_address(text)), text


async def test_bulk_creation_and_deletion_write_one_event_per_invitation(
    admin: GraphQLClient, receiver: Receiver, redis: ArqRedis, run_worker: Any
) -> None:
    await subscribe(admin, receiver.url, ["INVITATION_CREATED", "INVITATION_DELETED"])
    created = await create(admin, [f"bulk{i}@example.org" for i in range(12)], sendEmail=False)
    ids = [invitation["id"] for invitation in created["invitations"]]
    deleted = (await admin(DELETE_MANY, {"input": {"ids": ids}}))["deleteInvitations"]
    assert deleted["deletedCount"] == 12
    await deliver(redis, run_worker)
    events = [r.event for r in receiver.answered()]
    for kind in ("invitation.created", "invitation.deleted"):
        assert sorted(e["data"]["invitationId"] for e in events if e["type"] == kind) == sorted(
            int(i) for i in ids
        )


async def test_nothing_is_written_without_a_subscription_and_a_test_event_can_be_sent(
    admin: GraphQLClient, receiver: Receiver, redis: ArqRedis, run_worker: Any
) -> None:
    await create(admin, "quiet@example.org", sendEmail=False)
    assert await WebhookDelivery.all().count() == 0
    subscribed = await subscribe(admin, receiver.url, ["USER_REGISTERED"])
    subscription_id = subscribed["subscription"]["id"]
    await create(admin, "still-quiet@example.org", sendEmail=False)
    assert await WebhookDelivery.all().count() == 0
    sent = (await admin(SEND_TEST, {"id": subscription_id}))["sendTestWebhook"]
    assert sent["errors"] == [] and sent["delivery"]["eventType"] == "WEBHOOK_TEST"
    await run_worker()
    [request] = receiver.answered()
    assert request.event["type"] == "webhook.test" and request.event["data"] == {}
    assert verify(subscribed["secret"], request.headers, request.body)
    # Turned off: nothing more; a test event is refused.
    updated = (await admin(UPDATE, {"id": subscription_id, "input": {"active": False}}))[
        "updateWebhookSubscription"
    ]
    assert updated["subscription"]["active"] is False
    refused = (await admin(SEND_TEST, {"id": subscription_id}))["sendTestWebhook"]
    assert [e["code"] for e in refused["errors"]] == ["INVALID_INPUT"]
    removed = (await admin(REMOVE, {"id": subscription_id}))["deleteWebhookSubscription"]
    assert removed["deletedId"] == subscription_id
    assert await WebhookDelivery.all().count() == 0


async def test_a_given_secret_is_checked_and_never_echoed(admin: GraphQLClient) -> None:
    bad = "whsec_not base64 at all"
    result = (
        await admin(
            SUBSCRIBE,
            {
                "input": {
                    "url": "https://hooks.example.org/",
                    "eventTypes": ALL_EVENTS,
                    "secret": bad,
                }
            },
        )
    )["createWebhookSubscription"]
    [error] = result["errors"]
    assert error["code"] == "INVALID_SECRET" and bad not in json.dumps(result)
    given = signing.new_secret()
    result = (
        await admin(
            SUBSCRIBE,
            {
                "input": {
                    "url": "https://hooks.example.org/",
                    "eventTypes": ["USER_REGISTERED"],
                    "secret": given,
                }
            },
        )
    )["createWebhookSubscription"]
    assert result["errors"] == [] and result["secret"] == given
    from domain.models import WebhookSubscription

    stored = await WebhookSubscription.get(id=int(result["subscription"]["id"]))
    assert given not in stored.secret_encrypted


async def test_imports_failures_bounces_expiry_and_sign_ups_are_events_too(
    admin: GraphQLClient,
    gql: GraphQLClient,
    http: Any,
    receiver: Receiver,
    redis: ArqRedis,
    run_worker: Any,
    smtp_sink: SmtpSink,
) -> None:
    from domain.invitations import delivery as sending
    from domain.invitations import feedback
    from domain.mail.events import DeliveryEvent, EventKind
    from tests.import_helpers import HEADER, upload, workbook
    from tests.test_accounts import PASSWORD, code_in, confirm, sign_up

    await subscribe(admin, receiver.url)
    # An import: one created event per row, naming the import.
    content = workbook(
        HEADER,
        ["imported@example.org", "Ima", "Ported", None, None, None],
        [None, "Letter", "Only", None, None, None],
    )
    response = await upload(http, admin.token, content)
    import_id = int(response.json()["data"]["importInvitations"]["invitationImport"]["id"])
    # A mail refused for good: failed.
    smtp_sink.refuse, smtp_sink.refuse_times = (550, "5.1.1 No such user"), 1
    await run_worker()
    await deliver(redis, run_worker)
    events = [r.event for r in receiver.answered()]
    created = [e for e in events if e["type"] == "invitation.created"]
    assert len(created) == 2 and {e["data"]["importId"] for e in created} == {import_id}
    [failed] = [e for e in events if e["type"] == "invitation.failed"]
    assert set(failed["data"]) == {"invitationId"}
    assert failed["data"]["invitationId"] in {e["data"]["invitationId"] for e in created}
    assert "invitation.sent" not in {e["type"] for e in events}

    # A bounce report after a send.
    [sent] = (await create(admin, "bounces@example.org"))["invitations"]
    await run_worker()
    await feedback.record(
        DeliveryEvent(EventKind.BOUNCE, "bounces@example.org", "dsn", "550 mailbox unknown")
    )
    # A sign-up confirmed with its code: an account, its address proven.
    await sign_up(gql, "resident@example.org")
    await run_worker()
    confirmed = await confirm(
        gql,
        "resident@example.org",
        code_in(smtp_sink.to("resident@example.org")[0]),
        password=PASSWORD,
    )
    assert confirmed["errors"] == [], confirmed
    user_id = int(confirmed["session"]["user"]["id"])
    # Expiry, found by the sweep.
    clock.advance(timedelta(days=31))
    from domain import outbox

    async with outbox.unit_of_work(redis):
        report = await sending.sweep()
    assert report.expired >= 2
    await deliver(redis, run_worker)
    events = [r.event for r in receiver.answered()]
    kinds = {(e["type"], e["data"].get("invitationId"), e["data"].get("userId")) for e in events}
    assert ("invitation.sent", int(sent["id"]), None) in kinds
    assert ("invitation.bounced", int(sent["id"]), None) in kinds
    assert ("invitation.expired", int(sent["id"]), None) in kinds
    assert ("user.registered", None, user_id) in kinds
    assert ("user.email_confirmed", None, user_id) in kinds
    for request in receiver.answered():
        assert b"@" not in request.body


async def test_secrets_survive_a_key_rotation(
    admin: GraphQLClient,
    receiver: Receiver,
    redis: ArqRedis,
    run_worker: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pydantic import SecretStr

    from domain.security.keys import rotate_keys

    subscribed = await subscribe(admin, receiver.url, ["INVITATION_CREATED"])
    settings = get_settings()
    monkeypatch.setattr(settings, "previous_secret_keys", [settings.secret_key])
    monkeypatch.setattr(settings, "secret_key", SecretStr("a-new-secret-key-" + "y" * 40))
    assert (await rotate_keys()).webhook_secrets == 1
    await create(admin, "rotated@example.org", sendEmail=False)
    monkeypatch.setattr(settings, "previous_secret_keys", [])  # the old key is gone
    await run_worker()
    [request] = receiver.answered()
    assert verify(subscribed["secret"], request.headers, request.body)


async def test_old_deliveries_are_pruned_and_pending_ones_kept(
    admin: GraphQLClient, receiver: Receiver, run_worker: Any
) -> None:
    await subscribe(admin, receiver.url, ["INVITATION_CREATED"])
    await create(admin, "delivered@example.org", sendEmail=False)
    await run_worker()
    receiver.statuses.extend([500] * 5)
    await create(admin, "waiting@example.org", sendEmail=False)
    await run_worker()
    clock.advance(timedelta(days=get_settings().webhooks_keep_days, hours=1))
    assert await delivery.prune() == 1
    [left] = await WebhookDelivery.all()
    assert left.state is WebhookDeliveryState.PENDING


async def test_a_receiver_that_never_answers_is_given_up_on_in_time(
    admin: GraphQLClient,
    receiver: Receiver,
    run_worker: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(get_settings(), "webhooks_timeout_seconds", 0.3)
    await subscribe(admin, receiver.url, ["INVITATION_CREATED"])
    receiver.hang = True
    await create(admin, "silent@example.org", sendEmail=False)
    await run_worker()
    assert receiver.held == 1
    [row] = await WebhookDelivery.all()
    assert row.state is WebhookDeliveryState.PENDING and row.attempts == 1
    assert row.last_error.startswith("No answer in time")


@dataclass
class SilentReceiver:
    """Accepts every connection, reads the request and never answers: counts the
    connections it holds open at once (a client that gives up closes its own)."""

    open: int = 0
    most_open: int = 0
    requests: int = 0
    server: asyncio.Server | None = None
    port: int = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open += 1
        self.most_open = max(self.most_open, self.open)
        try:
            await reader.readuntil(b"\r\n\r\n")
            self.requests += 1
            while await reader.read(1024):
                pass  # until the client hangs up
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.open -= 1
            writer.close()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
        await asyncio.sleep(0)


@pytest.fixture
async def silent() -> Any:
    server = SilentReceiver()
    await server.start()
    yield server
    await server.stop()


async def test_a_receiver_that_hangs_never_holds_up_imports_and_mails(
    admin: GraphQLClient,
    http: Any,
    silent: SilentReceiver,
    smtp_sink: SmtpSink,
    run_worker: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.import_helpers import HEADER, upload, workbook

    settings = get_settings()
    monkeypatch.setattr(settings, "webhooks_timeout_seconds", 0.5)
    monkeypatch.setattr(settings, "webhooks_retry_base_seconds", 3600)  # one try each here
    await subscribe(admin, silent.url, ["INVITATION_CREATED"])
    # Many events written by many changes: each change asks for a delivery job.
    for batch in range(6):
        emails = [f"e{batch}-{i}@example.org" for i in range(20)]
        assert (await create(admin, emails, sendEmail=False))["errors"] == []
    # Then a resident's invitation mail and an upload, queued behind all of them.
    assert (await create(admin, "mailed@example.org"))["errors"] == []
    content = workbook(HEADER, ["imported@example.org", "Ima"])
    response = await upload(http, admin.token, content, {"sendEmail": False})
    import_id = response.json()["data"]["importInvitations"]["invitationImport"]["id"]

    # Watched (not changed): how many delivery rounds run at once.
    delivering = 0
    most_delivering = 0
    deliver_due = delivery.deliver_due

    async def watched(*args: Any, **kwargs: Any) -> delivery.DeliveryReport:
        nonlocal delivering, most_delivering
        delivering += 1
        most_delivering = max(most_delivering, delivering)
        try:
            return await deliver_due(*args, **kwargs)
        finally:
            delivering -= 1

    monkeypatch.setattr(delivery, "deliver_due", watched)
    tried_when_done: dict[str, int] = {}
    ended: list[str] = []

    async def finished(ctx: dict[str, Any]) -> None:
        kind = ctx["job_id"].split(":", 1)[0]
        ended.append(kind)
        tried_when_done.setdefault(kind, silent.requests)

    # A few worker slots, as a busy worker has: the deliveries may take one of them.
    await run_worker(max_jobs=4, on_job_end=finished)

    total = await WebhookDelivery.all().count()
    assert total == 122
    assert silent.requests == total  # every event was tried, CONCURRENCY at a time at most
    assert silent.most_open <= delivery.CONCURRENCY
    assert most_delivering == 1  # one worker slot at a time waits on the receiver
    # The mail and the import were done while the deliveries had barely begun.
    assert smtp_sink.to("mailed@example.org")
    assert (await state_of_import(admin, import_id)) == "DONE"
    assert tried_when_done["send"] < total / 2, tried_when_done
    assert tried_when_done["import"] < total / 2, tried_when_done
    assert ended.index("send") < len(ended) - 1 - ended[::-1].index("webhooks")


async def state_of_import(admin: GraphQLClient, import_id: str) -> str:
    from tests.import_helpers import IMPORT_STATE

    status: str = (await admin(IMPORT_STATE, {"id": import_id}))["invitationImport"]["status"]
    return status


async def test_a_deleted_subscription_gets_no_new_request(
    admin: GraphQLClient,
    silent: SilentReceiver,
    run_worker: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(get_settings(), "webhooks_timeout_seconds", 1)
    subscribed = await subscribe(admin, silent.url, ["INVITATION_CREATED"])
    await create(admin, [f"d{i}@example.org" for i in range(40)], sendEmail=False)
    working = asyncio.create_task(run_worker())
    try:
        await wait_for(lambda: silent.requests >= 1, timeout=10)
        removed = await admin(REMOVE, {"id": subscribed["subscription"]["id"]})
        assert removed["deleteWebhookSubscription"]["errors"] == []
        worker = await asyncio.wait_for(working, timeout=30)
    finally:
        working.cancel()
    # Only the requests already under way when it was deleted, and their end is no error.
    assert silent.requests <= delivery.CONCURRENCY
    assert worker.jobs_failed == 0
    assert await WebhookDelivery.all().count() == 0
