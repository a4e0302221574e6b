"""/metrics: Prometheus reads what the service did, behind a bearer token, without personal data."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from api.app import create_app
from domain.models import DeliveryState, Invitation
from domain.settings import get_settings
from schema.prepared import INVITATION_BY_TOKEN
from tests.fixtures import ADMIN_PASSWORD, SIGN_IN, GraphQLClient, SmtpSink
from tests.import_helpers import HEADER, upload, workbook
from tests.invitations_helpers import BY_TOKEN, RESEND, create
from tests.mail_relay import free_port, relay_settings
from tests.test_accounts import CONFIRM
from tests.test_password_reset import RESET

METRICS_TOKEN = "a-scraper-token-of-some-length"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
async def scraped_http(database: None, redis: ArqRedis) -> AsyncIterator[httpx.AsyncClient]:
    settings = get_settings().model_copy(update={"metrics_token": SecretStr(METRICS_TOKEN)})
    application = create_app(settings, manage_database=False)
    application.state.redis = redis
    transport = httpx.ASGITransport(app=application, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def scrape(http: httpx.AsyncClient) -> Samples:
    response = await http.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return parse(response.text)


def parse(text: str) -> Samples:
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


async def signed_in_admin(http: httpx.AsyncClient) -> GraphQLClient:
    from domain.users.service import create_admin

    await create_admin(
        email="admin@participate.example.org",
        password=ADMIN_PASSWORD,
        first_name="Ada",
        last_name="Admin",
    )
    gql = GraphQLClient(http)
    data = await gql(
        SIGN_IN, {"email": "admin@participate.example.org", "password": ADMIN_PASSWORD}
    )
    return gql.as_user(data["signIn"]["session"]["token"])


async def test_metrics_are_off_without_a_token_and_refused_without_the_right_one(
    http: httpx.AsyncClient, scraped_http: httpx.AsyncClient
) -> None:
    assert (await http.get("/metrics")).status_code == 404
    assert (await scraped_http.get("/metrics")).status_code == 401
    wrong = await scraped_http.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert "invitations_graphql_requests" not in wrong.text
    samples = await scrape(scraped_http)
    assert ("invitations_queue_jobs", ()) in samples


async def test_the_counters_move_by_what_a_flow_did(
    scraped_http: httpx.AsyncClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    admin = await signed_in_admin(scraped_http)
    before = await scrape(scraped_http)

    # Three invitations typed in, mailed by a worker.
    created = await create(admin, ["ann@example.org", "bob@example.org", "cas@example.org"])
    assert created["invitedCount"] == 3
    await run_worker()
    assert len(smtp_sink.mails) == 3

    # An import of two rows, mailed too.
    content = workbook(
        HEADER,
        ["dirk@example.org", "Dirk", "Peeters", "nl-BE", None, None],
        ["eva@example.org", "Eva", "Claes", "fr-BE", None, None],
    )
    response = await upload(scraped_http, admin.token, content)
    assert response.json()["data"]["importInvitations"]["errors"] == []
    await run_worker()
    assert len(smtp_sink.mails) == 5

    # A mail the relay refuses for good.
    smtp_sink.refuse, smtp_sink.refuse_times = (550, "5.1.1 No such mailbox"), 1
    await create(admin, ["gone@example.org"])
    await run_worker()

    # Resends of one invitation until its daily limit refuses one; left in the queue.
    invitation_id = created["invitations"][0]["id"]
    limit = get_settings().limit_resends_per_invitation_per_day
    for _ in range(limit):
        data = await admin(RESEND, {"id": invitation_id})
        assert data["resendInvitation"]["errors"] == []
    refused = await admin.post(RESEND, {"id": invitation_id})
    assert "RATE_LIMITED" in str(refused)

    after = await scrape(scraped_http)
    assert moved(before, after, "invitations_created_total", source="request") == 4
    assert moved(before, after, "invitations_created_total", source="import") == 2
    assert moved(before, after, "invitations_mails_sent_total") == 5
    assert moved(before, after, "invitations_mails_failed_total", reason="permanent") == 1
    assert moved(before, after, "invitations_mail_send_duration_seconds_count") == 6
    assert moved(before, after, "invitations_imports_total", outcome="done") == 1
    assert moved(before, after, "invitations_import_rows_sum", outcome="done") == 2
    assert moved(before, after, "invitations_import_duration_seconds_count", outcome="done") == 1
    assert (
        moved(before, after, "invitations_rate_limit_refusals_total", limit="resend:invitation")
        == 1
    )
    # Operations by the schema's root field, whatever the client named them.
    assert (
        moved(
            before,
            after,
            "invitations_graphql_requests_total",
            operation="createInvitations",
            outcome="ok",
        )
        == 2
    )
    assert (
        moved(
            before,
            after,
            "invitations_graphql_requests_total",
            operation="resendInvitation",
            outcome="ok",
        )
        == limit
    )
    assert (
        moved(
            before,
            after,
            "invitations_graphql_requests_total",
            operation="resendInvitation",
            outcome="refused",
        )
        == 1  # the rate limit's refusal: a typed error in the payload
    )
    assert (
        moved(
            before,
            after,
            "invitations_graphql_request_duration_seconds_count",
            operation="importInvitations",
        )
        == 1
    )
    # The resends wait in the queue (no worker ran since).
    assert after[("invitations_queue_jobs", ())] >= 1
    assert after[("invitations_queue_oldest_job_age_seconds", ())] >= 0


async def test_operation_labels_are_the_schemas_names_never_the_clients(
    scraped_http: httpx.AsyncClient,
) -> None:
    before = await scrape(scraped_http)
    gql = GraphQLClient(scraped_http)
    await gql.post("query lea_janssens_at_example_org { me { email } }")
    await gql.post("query { __typename me { email } }")
    await gql.post("query Mine { notAField }")
    await gql.post("query Other { me { notAField } }")
    after = await scrape(scraped_http)
    assert (
        moved(before, after, "invitations_graphql_requests_total", operation="me", outcome="ok")
        == 2
    )
    assert (
        moved(
            before,
            after,
            "invitations_graphql_requests_total",
            operation="other",
            outcome="invalid",
        )
        == 1
    )
    assert (
        moved(
            before, after, "invitations_graphql_requests_total", operation="me", outcome="invalid"
        )
        == 1
    )
    exposed = (
        await scraped_http.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    ).text
    assert "lea_janssens" not in exposed and "Mine" not in exposed and "notAField" not in exposed


async def test_operations_answered_with_errors_in_their_payload_count_as_refused(
    scraped_http: httpx.AsyncClient,
) -> None:
    await signed_in_admin(scraped_http)
    before = await scrape(scraped_http)
    gql = GraphQLClient(scraped_http)
    email = "admin@participate.example.org"
    wrong = await gql(SIGN_IN, {"email": email, "password": "not the admin's passphrase"})
    assert wrong["signIn"]["errors"][0]["code"] == "INVALID_CREDENTIALS"
    # Refused too when the client does not ask for the errors.
    unasked = f'mutation {{ signIn(email: "{email}", password: "nope") {{ session {{ token }} }} }}'
    assert (await gql(unasked))["signIn"]["session"] is None
    right = await gql(SIGN_IN, {"email": email, "password": ADMIN_PASSWORD})
    assert right["signIn"]["errors"] == []
    confirmed = await gql(CONFIRM, {"email": "nobody@example.org", "code": "123456"})
    assert confirmed["confirmEmail"]["errors"][0]["code"] == "INVALID_CODE"
    reset = await gql(RESET, {"t": "A" * 43, "p": "a long enough new passphrase 7"})
    assert reset["resetPassword"]["errors"][0]["code"] == "INVALID_RESET_TOKEN"
    # The token check, by the schema and by /invite's prepared document.
    unknown = "ABCDE-FGHJK-MNPQR"
    assert (await gql(BY_TOKEN, {"token": unknown}))["invitationByToken"]["valid"] is False
    prepared = await gql(INVITATION_BY_TOKEN, {"token": unknown, "locale": "en"})
    assert prepared["invitationByToken"]["errors"]
    after = await scrape(scraped_http)

    def counted(operation: str, outcome: str) -> float:
        return moved(
            before,
            after,
            "invitations_graphql_requests_total",
            operation=operation,
            outcome=outcome,
        )

    assert (counted("signIn", "refused"), counted("signIn", "ok")) == (2, 1)
    assert counted("confirmEmail", "refused") == 1 and counted("confirmEmail", "ok") == 0
    assert counted("resetPassword", "refused") == 1 and counted("resetPassword", "ok") == 0
    assert counted("invitationByToken", "refused") == 2
    assert counted("invitationByToken", "ok") == 0
    outcomes = {
        dict(labels)["outcome"]
        for name, labels in after
        if name == "invitations_graphql_requests_total"
    }
    assert outcomes <= {"ok", "refused", "error", "invalid"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_worker_serves_its_metrics_on_its_port(
    database: None, redis: ArqRedis, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    from workers.settings import serve_metrics

    port = _free_port()
    settings = get_settings().model_copy(update={"worker_metrics_port": port})
    server = serve_metrics(settings, redis)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            text = response.read().decode()
    finally:
        await server.stop()
    samples = parse(text)
    assert ("invitations_mails_sent_total", ()) in samples
    assert ("invitations_queue_jobs", ()) in samples


async def test_bounces_are_counted_by_kind_and_source_once_each(
    scraped_http: httpx.AsyncClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    from domain.invitations import feedback
    from domain.mail.events import DeliveryEvent, EventKind

    admin = await signed_in_admin(scraped_http)
    await create(admin, ["full@example.org", "gone@example.org"])
    await run_worker()
    before = await scrape(scraped_http)
    soft = DeliveryEvent(EventKind.BOUNCE, "full@example.org", "mailgun", "mailbox full", False)
    hard = DeliveryEvent(EventKind.BOUNCE, "gone@example.org", "dsn", "5.1.1 unknown", True)
    for event in (soft, hard, hard):  # providers retry: the second report changes nothing
        await feedback.record(event)
    after = await scrape(scraped_http)
    assert (
        moved(before, after, "invitations_mails_bounced_total", kind="soft", source="mailgun") == 1
    )
    assert moved(before, after, "invitations_mails_bounced_total", kind="hard", source="dsn") == 1


async def test_while_the_relay_cannot_be_reached_the_documented_alerts_fire(
    admin: GraphQLClient, redis: ArqRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    # docs/operations.md: rate(invitations_mails_failed_total{reason="relay_unreachable"}[5m])
    # > 0, and invitations_queue_oldest_job_age_seconds > 300 (here: its age grows while the
    # mails wait for the relay, paused and deferred as they are).
    from arq.worker import Worker

    import workers.settings as worker_settings
    from workers.settings import WorkerSettings, shutdown, startup

    monkeypatch.setattr(worker_settings, "QUEUE_EVERY", 0.1)
    metrics_port = _free_port()
    settings = relay_settings(
        free_port(),  # nothing listens: every connection is refused
        worker_metrics_port=metrics_port,
        relay_pause_seconds=0.3,
        relay_pause_max_seconds=0.3,
    )
    before = parse(generate_latest().decode())
    await create(admin, ["first@example.org", "second@example.org"])
    worker = Worker(
        functions=WorkerSettings.functions,
        cron_jobs=[],
        redis_pool=redis,
        poll_delay=0.01,
        handle_signals=False,
        on_startup=startup,
        on_shutdown=shutdown,
        ctx={"database_ready": True, "settings": settings},
    )
    running = asyncio.create_task(worker.main())

    def scraped() -> Samples:
        url = f"http://127.0.0.1:{metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            return parse(response.read().decode())

    try:
        failed = age = 0.0
        for _ in range(100):
            await asyncio.sleep(0.2)
            if "metrics_server" not in worker.ctx:
                continue
            after = await asyncio.to_thread(scraped)
            failed = moved(
                before, after, "invitations_mails_failed_total", reason="relay_unreachable"
            )
            age = after[("invitations_queue_oldest_job_age_seconds", ())]
            if failed >= 2 and age >= 3:
                break
        assert after[("invitations_queue_jobs", ())] >= 1
        assert failed >= 2, "a relay that cannot be reached is counted at each attempt"
        assert age >= 3, "the mails waiting for the relay are the queue's oldest jobs"
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await shutdown(worker.ctx)
    assert await Invitation.filter(delivery_state=DeliveryState.SENT).count() == 0
