"""Sending as it really happens: relays that refuse for now, go down, drop connections; mails
that cannot be written; deletes landing mid-send; crashes; international addresses."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from domain.clock import clock
from domain.invitations import delivery
from domain.mail import references
from domain.mail.mailer import Mailer
from domain.models import DeliveryState, Invitation
from domain.settings import get_settings
from tests.conftest import DATABASE_KIND, DATABASE_URL
from tests.fixtures import GraphQLClient, SmtpSink
from tests.invitations_helpers import (
    CREATE,
    INVITATION,
    create,
    enqueue_sweep,
    new_invitation,
    store_invitations,
)
from tests.mail_relay import ScriptedRelay, free_port, relay_settings, serve


async def queued(*emails: str, **changes: Any) -> list[int]:
    """Invitations waiting for their first mail (no job enqueued: the tests send them)."""
    return await store_invitations(
        [new_invitation(e, send_email=True, first_name="Lea", **changes) for e in emails]
    )


async def states(ids: list[int]) -> dict[int, tuple[str, int, str]]:
    return {
        i.id: (i.delivery_state.value, i.send_attempts, i.last_error)
        for i in await Invitation.filter(id__in=ids)
    }


async def test_one_recipients_refusal_for_now_defers_it_alone_and_its_neighbours_go_out(
    database: None,
) -> None:
    relay = ScriptedRelay(rcpt_replies={"full@example.org": ["452 4.2.2 mailbox full"]})
    async with serve(relay) as port:
        mailer = Mailer(relay_settings(port))
        emails = [f"n{i}@example.org" for i in range(25)]
        emails[7] = "full@example.org"
        ids = await queued(*emails)
        outcome = await delivery.send_invitations(ids, 1, mailer)
        await mailer.close()
    assert (outcome.sent, outcome.deferred, outcome.failed) == (24, 1, 0)
    assert outcome.retry_in == 0  # the test settings' retry base is 0
    found = await states(ids)
    assert found[ids[7]][:2] == ("queued", 1) and "452" in found[ids[7]][2]
    assert all(found[i] == ("sent", 1, "") for i in ids if i != ids[7])
    assert len(relay.mails) == 24


async def test_a_deferred_mail_is_retried_with_backoff_and_failed_only_after_a_day(
    database: None,
) -> None:
    relay = ScriptedRelay(rcpt_replies={"slow@example.org": ["451 4.7.1 greylisted"] * 10})
    settings = get_settings()
    async with serve(relay) as port:
        mailer = Mailer(relay_settings(port))
        [invitation_id] = await queued("slow@example.org")
        await delivery.send_invitations([invitation_id], 1, mailer)
        first = await Invitation.get(id=invitation_id)
        assert first.delivery_state is DeliveryState.QUEUED and first.deferred_since is not None
        # Not due yet: a job running early leaves it alone (with a real retry base).
        await Invitation.filter(id=invitation_id).update(
            send_due_at=await clock.now() + timedelta(minutes=5)
        )
        early = await delivery.send_invitations([invitation_id], 1, mailer)
        assert early.skipped == 1 and relay.transactions == 1
        clock.advance(timedelta(hours=23))
        await delivery.send_invitations([invitation_id], 1, mailer)
        assert (await Invitation.get(id=invitation_id)).delivery_state is DeliveryState.QUEUED
        clock.advance(timedelta(hours=1, minutes=1))
        await delivery.send_invitations([invitation_id], 1, mailer)
        await mailer.close()
    last = await Invitation.get(id=invitation_id)
    assert last.delivery_state is DeliveryState.FAILED and last.send_attempts == 3
    assert last.last_error.startswith("Not accepted within 24 hours: 451")
    assert delivery.retry_delay(settings, 1) == settings.send_retry_base_seconds
    capped = settings.model_copy(update={"send_retry_base_seconds": 30})
    assert [delivery.retry_delay(capped, n) for n in (1, 2, 3, 7, 20)] == [30, 60, 120, 900, 900]


async def test_an_outage_of_the_relay_longer_than_the_old_tries_ends_with_every_mail_sent(
    admin: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    # The old mailer gave each mail 3 tries: 20 refusals in a row failed them all.
    smtp_sink.refuse = (451, "4.3.0 try again later")
    smtp_sink.refuse_times = 20
    emails = [f"patient{i}@example.org" for i in range(30)]
    await create(admin, emails)
    await run_worker()
    assert smtp_sink.refuse_times == 0
    assert sorted(m.recipients[0] for m in smtp_sink.mails) == sorted(emails)
    assert await Invitation.filter(delivery_state=DeliveryState.SENT).count() == 30


async def test_while_the_relay_is_down_sending_pauses_and_resumes_when_it_is_back(
    admin: GraphQLClient, run_worker: Any
) -> None:
    port = free_port()  # nothing listens yet: connections are refused
    relay = ScriptedRelay()
    emails = [f"waiting{i}@example.org" for i in range(12)]
    await create(admin, emails)

    done = asyncio.Event()

    async def relay_back_later() -> None:
        await asyncio.sleep(0.4)
        async with serve(relay, port):
            await done.wait()

    back = asyncio.create_task(relay_back_later())
    try:
        await run_worker(ctx={"settings": relay_settings(port)})
    finally:
        done.set()
        await back
    assert sorted(m.recipients[0] for m in relay.mails) == sorted(emails)
    invitations = await Invitation.all()
    assert {i.delivery_state for i in invitations} == {DeliveryState.SENT}
    # Paused, not tried over and over: no invitation burned tries on the outage.
    assert max(i.send_attempts for i in invitations) <= 2


SENDING_PAUSE = "{ mailSendingPause { since relayAnswer } }"


async def test_admins_see_sending_paused_with_the_relays_answer_until_it_takes_mail(
    admin: GraphQLClient, run_worker: Any
) -> None:
    # A relay that wants AUTH and was given none refuses every mail, quoting the sender.
    relay = ScriptedRelay(
        mail_refusal="530 5.7.0 <invitations@participate.example.org>: Authentication required"
    )
    assert (await admin(SENDING_PAUSE))["mailSendingPause"] is None
    async with serve(relay) as port:
        await create(admin, ["ann@example.org", "bob@example.org"])
        worker = asyncio.create_task(run_worker(ctx={"settings": relay_settings(port)}))
        try:
            pause = None
            for _ in range(500):
                pause = (await admin(SENDING_PAUSE))["mailSendingPause"]
                if pause:
                    break
                await asyncio.sleep(0.01)
            assert pause is not None
            assert pause["relayAnswer"] == "530 5.7.0 <address>: Authentication required"
            assert "@" not in pause["relayAnswer"]
            assert {i.delivery_state for i in await Invitation.all()} <= {
                DeliveryState.QUEUED,
                DeliveryState.SENDING,
            }
            # Still paused, since the first refusal, while the relay goes on refusing.
            await asyncio.sleep(0.3)
            again = (await admin(SENDING_PAUSE))["mailSendingPause"]
            assert again == {**pause, "relayAnswer": again["relayAnswer"]}
        finally:
            relay.mail_refusal = None
            await worker
    assert sorted(m.recipients[0] for m in relay.mails) == ["ann@example.org", "bob@example.org"]
    assert (await admin(SENDING_PAUSE))["mailSendingPause"] is None


async def test_a_mail_that_cannot_be_written_fails_its_invitation_and_the_rest_are_sent(
    database: None,
) -> None:
    relay = ScriptedRelay()  # no SMTPUTF8
    async with serve(relay) as port:
        mailer = Mailer(relay_settings(port))
        ids = await queued("a@example.org", "b@example.org", "c@example.org", "d@example.org")
        # One token no key can read any more, one address no relay without SMTPUTF8 takes.
        await Invitation.filter(id=ids[1]).update(token_encrypted="not-a-sealed-token")
        await Invitation.filter(id=ids[2]).update(email="josé@example.org")
        outcome = await delivery.send_invitations(ids, 1, mailer)
        await mailer.close()
    assert (outcome.sent, outcome.failed) == (2, 2)
    found = await states(ids)
    assert found[ids[1]][0] == "failed" and "could not be written" in found[ids[1]][2]
    assert found[ids[2]][0] == "failed" and "SMTPUTF8" in found[ids[2]][2]
    assert sorted(m.recipients[0] for m in relay.mails) == ["a@example.org", "d@example.org"]


async def test_international_addresses_idna_domains_always_unicode_local_parts_with_smtputf8(
    admin: GraphQLClient, database: None
) -> None:
    plain = ScriptedRelay()
    utf8 = ScriptedRelay()
    async with serve(plain) as plain_port, serve(utf8, enable_SMTPUTF8=True) as utf8_port:
        ids = await queued("jan@münchen.de", "josé@exämple.org")
        mailer = Mailer(relay_settings(plain_port))
        await delivery.send_invitations(ids, 1, mailer)
        await mailer.close()
        [jan] = plain.mails
        assert jan.recipients == ["jan@xn--mnchen-3ya.de"]
        assert "jan@xn--mnchen-3ya.de" in jan.to
        found = await states(ids)
        assert found[ids[1]][0] == "failed" and "SMTPUTF8" in found[ids[1]][2]

        await Invitation.filter(id=ids[1]).update(
            delivery_state=DeliveryState.QUEUED, last_error=""
        )
        mailer = Mailer(relay_settings(utf8_port, smtp_utf8=True))
        await delivery.send_invitations([ids[1]], 1, mailer)
        await mailer.close()
        [jose] = utf8.mails
        assert jose.recipients == ["josé@xn--exmple-cua.org"]
        assert "SMTPUTF8" in jose.raw.decode() or "josé" in jose.raw.decode()
        assert str(jose.message["To"]).endswith("josé@xn--exmple-cua.org>")

    # Where the relay takes no SMTPUTF8 (the default), such an address is refused at input.
    refused = await admin.post(CREATE, {"input": {"emails": ["zoë@example.org"]}})
    errors = refused["data"]["createInvitations"]["errors"]
    assert [e["code"] for e in errors] == ["EMAIL_NOT_DELIVERABLE"]
    assert "beyond ASCII" in errors[0]["message"]
    assert (await admin(CREATE, {"input": {"emails": ["anna@münchen.de"]}}))["createInvitations"][
        "invitedCount"
    ] == 1


async def test_a_delete_landing_during_the_send_stops_the_mail_before_its_content(
    database: None,
) -> None:
    from domain.invitations.management import delete_invitation

    ids = await queued("first@example.org", "withdrawn@example.org", "third@example.org")

    async def admin_deletes_it_meanwhile(address: str) -> None:
        if address == "withdrawn@example.org":
            await delete_invitation(ids[1])

    relay = ScriptedRelay(on_rcpt=admin_deletes_it_meanwhile)
    async with serve(relay) as port:
        mailer = Mailer(relay_settings(port))
        outcome = await delivery.send_invitations(ids, 1, mailer)
        await mailer.close()
    assert sorted(m.recipients[0] for m in relay.mails) == [
        "first@example.org",
        "third@example.org",
    ]
    assert not any(b"withdrawn@example.org" in raw for raw in relay.received)
    assert outcome.sent == 2


async def test_each_mail_is_marked_sent_as_soon_as_the_relay_accepts_it(database: None) -> None:
    ids = await queued(*(f"p{i}@example.org" for i in range(6)))
    seen_sent: list[int] = []

    async def count_sent(address: str) -> None:
        seen_sent.append(await Invitation.filter(delivery_state=DeliveryState.SENT).count())

    relay = ScriptedRelay(on_data=count_sent)
    async with serve(relay) as port:
        mailer = Mailer(relay_settings(port), connections=1)
        await delivery.send_invitations(ids, 1, mailer)
        await mailer.close()
    # When the relay has the n-th mail, the n-1 before it are recorded as sent already: a
    # crash at any point sends at most the mail in flight again.
    assert seen_sent == [0, 1, 2, 3, 4, 5]


async def test_a_send_keeps_its_message_id_across_retries_and_no_copy_goes_out_at_once(
    database: None,
) -> None:
    relay = ScriptedRelay(data_replies=["451 4.3.0 try again"], drop_after_data={"b@example.org"})
    async with serve(relay) as port:
        mailer = Mailer(relay_settings(port), connections=1)
        ids = await queued("a@example.org", "b@example.org")
        first = await delivery.send_invitations(ids, 1, mailer)
        # a: refused for now; b: the connection dropped after its whole message was sent, so
        # it may have arrived: deferred, not sent again at once.
        assert (first.sent, first.deferred) == (0, 2)
        assert len(relay.received) == 2
        assert "may have arrived" in (await states(ids))[ids[1]][2]
        second = await delivery.send_invitations(ids, 1, mailer)
        await mailer.close()
    assert second.sent == 2
    domain = "participate.example.org"
    for invitation_id, address in zip(ids, ("a@example.org", "b@example.org"), strict=True):
        expected = references.Reference("i", invitation_id, 1).message_id(domain)
        tries = [raw for raw in relay.received if address.encode() in raw]
        assert len(tries) == 2
        assert all(f"Message-ID: {expected}".encode() in raw for raw in tries)


async def test_a_dead_workers_claims_are_taken_over_within_a_minute_a_live_ones_are_kept(
    database: None, redis: Any, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    dead = await queued("dead1@example.org", "dead2@example.org")
    live = await queued("live@example.org")
    now = await clock.now()
    # What a claim writes: this worker (alive, renewing) and one killed mid-send.
    await Invitation.filter(id__in=dead).update(
        delivery_state=DeliveryState.SENDING,
        claimed_by="killed-worker",
        send_due_at=now + delivery.SEND_LEASE,
    )
    await Invitation.filter(id__in=live).update(
        delivery_state=DeliveryState.SENDING,
        claimed_by=delivery.worker_id(),
        send_due_at=now + delivery.SEND_LEASE,
    )
    delivery.claims.held.update(live)
    try:
        sweep_every = timedelta(seconds=20)  # the cron's period (workers/settings.py)
        assert delivery.SEND_LEASE + sweep_every <= timedelta(minutes=1)
        for _ in range(3):  # the live worker renews its lease as time goes by
            clock.advance(delivery.SEND_LEASE / 3)
            assert await delivery.claims.renew() == 1
        clock.advance(timedelta(seconds=1))
        await enqueue_sweep(redis)
        await run_worker()
    finally:
        delivery.claims.held.difference_update(live)
    assert sorted(m.recipients[0] for m in smtp_sink.mails) == [
        "dead1@example.org",
        "dead2@example.org",
    ]
    assert (await Invitation.get(id=live[0])).delivery_state is DeliveryState.SENDING


@pytest.mark.skipif(
    DATABASE_KIND != "postgres",
    reason="row locks between sessions: SQLite has one writer at a time, nothing to wait for",
)
async def test_renewing_claims_never_waits_for_a_send_being_marked(database: None) -> None:
    """A send being marked sent holds its row; the renewal skips it rather than wait (waiting
    deadlocked with that statement, which locks the same rows in another order)."""
    ids = await queued("busy@example.org", "free@example.org")
    now = await clock.now()
    await Invitation.filter(id__in=ids).update(
        delivery_state=DeliveryState.SENDING,
        claimed_by=delivery.worker_id(),
        send_due_at=now + delivery.SEND_LEASE,
    )
    delivery.claims.held.update(ids)
    marking = await asyncpg.connect(DATABASE_URL.replace("postgres://", "postgresql://", 1))
    try:
        async with marking.transaction():
            await marking.execute("SELECT id FROM invitations WHERE id = $1 FOR UPDATE", ids[0])
            renewed = await asyncio.wait_for(delivery.claims.renew(), timeout=30)
        assert renewed == 1  # the free one; the busy one's lease is its marker's business
        assert await delivery.claims.renew() == 2  # unlocked, both
    finally:
        await marking.close()
        delivery.claims.held.difference_update(ids)


async def test_the_sweep_recovers_every_lost_send_at_once_in_jobs_of_a_hundred(
    database: None, redis: Any
) -> None:
    from domain import outbox

    ids = await queued(*(f"lost{i}@example.org" for i in range(6001)))
    clock.advance(delivery.SEND_GRACE + timedelta(seconds=1))
    async with outbox.unit_of_work(redis) as jobs:
        report = await delivery.sweep()
    assert report.sends_enqueued == 6001  # not 5,000 a minute
    covered = sorted(i for job in jobs.jobs for i in job.args[1:])
    assert covered == sorted(ids)
    assert max(len(job.args) - 1 for job in jobs.jobs) <= delivery.RECOVERY_BLOCK
    assert await redis.zcard("arq:queue") == len(jobs.jobs)
    # While the relay is paused the queued sends are waiting for it, not lost.
    async with outbox.unit_of_work(redis):
        assert (await delivery.sweep(relay_paused=True)).sends_enqueued == 0


async def test_create_invitations_while_redis_is_down_stores_them_and_the_sweep_sends_them(
    app: Any, admin: GraphQLClient, redis: Any, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    from arq.connections import ArqRedis

    up = app.state.redis
    app.state.redis = ArqRedis(host="127.0.0.1", port=free_port(), socket_connect_timeout=1)
    try:
        result = await create(admin, ["during@example.org", "outage@example.org"])
    finally:
        await app.state.redis.aclose()
        app.state.redis = up
    assert result["errors"] == [] and result["invitedCount"] == 2
    clock.advance(timedelta(minutes=2))
    await enqueue_sweep(redis)
    await run_worker()
    assert sorted(m.recipients[0] for m in smtp_sink.mails) == [
        "during@example.org",
        "outage@example.org",
    ]


async def test_a_resend_keeps_working_while_the_first_send_is_deferred(
    admin: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    smtp_sink.refuse = (451, "4.3.0 later")
    smtp_sink.refuse_times = 1
    [invitation] = (await create(admin, "again@example.org"))["invitations"]
    await run_worker()
    shown = (await admin(INVITATION, {"id": invitation["id"]}))["invitation"]["delivery"]
    assert shown == {"state": "SENT", "attempts": 2, "lastError": None}


async def test_a_reminder_is_checked_again_just_before_its_message_goes(database: None) -> None:
    from domain.invitations.management import delete_invitation

    [invitation_id] = await queued("reminded@example.org")
    await Invitation.filter(id=invitation_id).update(
        delivery_state=DeliveryState.SENT, sent_at=await clock.now()
    )
    clock.advance(timedelta(days=4))

    async def deleted_meanwhile(address: str) -> None:
        await delete_invitation(invitation_id)

    relay = ScriptedRelay(on_rcpt=deleted_meanwhile)
    async with serve(relay) as port:
        mailer = Mailer(relay_settings(port))
        assert not await delivery.send_reminder(invitation_id, 1, mailer)
        await mailer.close()
    assert relay.received == []
