"""Invite 10,000 addresses over GraphQL, then drain one worker process into an SMTP sink.

Prints invitations created per second and mails sent per second, beside the floor measured
in the same run: raw aiosmtplib sending the same number of prebuilt messages (the same
invitation mails) to the same sink over the same number of connections (the worker's
INVITES_SMTP_CONNECTIONS, each kept busy).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from typing import Any

from bench.common import (
    BENCH_REDIS,
    ROOT,
    bench_environment,
    free_port,
    reset_database,
    smtp_sink_process,
)

INVITATIONS = int(os.environ.get("BENCH_INVITATIONS", "10000"))
PER_REQUEST = 1000  # addresses per createInvitations request (the documented batch size)
CREATE = """
mutation($input: CreateInvitationsInput!) {
  createInvitations(input: $input) { invitedCount errors { code message } }
}
"""
SIGN_IN = """
mutation($email: String!, $password: String!) {
  signIn(email: $email, password: $password) { session { token } errors { code } }
}
"""


async def _main(smtp_port: int) -> dict[str, float]:
    import aiosmtplib
    import httpx
    from arq import create_pool
    from arq.connections import RedisSettings
    from tortoise import Tortoise

    from api.app import create_app
    from domain import db
    from domain.invitations.delivery import Sendable, compose_invitation_mail, inviter_of
    from domain.mail.compose import Composer
    from domain.models import Invitation
    from domain.settings import get_settings
    from domain.users.service import create_admin

    settings = get_settings()
    await reset_database()
    await db.init(settings, apply_migrations=True)
    redis = await create_pool(RedisSettings.from_dsn(BENCH_REDIS))
    await redis.flushdb()
    password = "bench admin passphrase 2026"
    await create_admin(email="bench-admin@example.org", password=password, first_name="Bench")

    app = create_app(settings, manage_database=False)
    app.state.redis = redis
    figures: dict[str, float] = {}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=600
    ) as client:
        signed_in = await client.post(
            "/graphql",
            json={
                "query": SIGN_IN,
                "variables": {"email": "bench-admin@example.org", "password": password},
            },
        )
        token = signed_in.json()["data"]["signIn"]["session"]["token"]
        started = time.perf_counter()
        for batch in range(0, INVITATIONS, PER_REQUEST):
            emails = [
                f"person{i:06d}@example.org"
                for i in range(batch, min(batch + PER_REQUEST, INVITATIONS))
            ]
            response = await client.post(
                "/graphql",
                json={
                    "query": CREATE,
                    "variables": {"input": {"emails": emails, "locale": "nl-BE"}},
                },
                headers={"Authorization": f"Bearer {token}"},
            )
            payload = response.json()["data"]["createInvitations"]
            assert payload["errors"] == [], payload["errors"]
        created_seconds = time.perf_counter() - started
    figures["invitations"] = INVITATIONS
    figures["create_seconds"] = created_seconds
    figures["created_per_second"] = INVITATIONS / created_seconds
    queued = await redis.zcard("arq:queue")
    figures["jobs_enqueued"] = queued

    # Drain: one real worker process, burst mode, default settings.
    env = {**os.environ, **bench_environment(smtp_port)}
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "cli", "worker", "--burst"], cwd=ROOT, env=env, check=True
    )
    drain_seconds = time.perf_counter() - started
    sent = await Invitation.filter(delivery_state="sent").count()
    assert sent == INVITATIONS, f"only {sent} of {INVITATIONS} sent"
    first = await Invitation.all().order_by("sent_at").first()
    last = await Invitation.all().order_by("-sent_at").first()
    assert first and last and first.sent_at and last.sent_at
    steady = (last.sent_at - first.sent_at).total_seconds()
    figures["drain_seconds"] = drain_seconds
    figures["sent_per_second"] = INVITATIONS / drain_seconds
    figures["sent_per_second_steady"] = INVITATIONS / steady if steady else float("inf")

    # Floor: the same mails, prebuilt, sent by raw aiosmtplib over one connection.
    invitations = await Invitation.all()
    composer = Composer(settings)
    prebuilt = [
        composer.compose(
            compose_invitation_mail(Sendable.of(i, await inviter_of(i)), reminder=False)
        )
        for i in invitations
    ]
    # As many connections as the worker has (INVITES_SMTP_CONNECTIONS), each kept busy.
    clients = [
        aiosmtplib.SMTP(hostname="127.0.0.1", port=smtp_port, use_tls=False, start_tls=False)
        for _ in range(settings.smtp_connections)
    ]
    await asyncio.gather(*(client.connect() for client in clients))
    waiting = list(reversed(prebuilt))

    async def lane(client: aiosmtplib.SMTP) -> None:
        while waiting:
            mail = waiting.pop()
            await client.sendmail(mail.sender, [mail.recipient], mail.message)

    started = time.perf_counter()
    await asyncio.gather(*(lane(client) for client in clients))
    floor_seconds = time.perf_counter() - started
    await asyncio.gather(*(client.quit() for client in clients))
    figures["floor_per_second"] = len(prebuilt) / floor_seconds
    figures["connections"] = settings.smtp_connections
    figures["ratio_to_floor"] = figures["sent_per_second"] / figures["floor_per_second"]
    figures["ratio_to_floor_steady"] = (
        figures["sent_per_second_steady"] / figures["floor_per_second"]
    )
    await redis.aclose()
    await Tortoise.close_connections()
    return figures


def main() -> dict[str, Any]:
    smtp_port = free_port()
    os.environ.update(bench_environment(smtp_port))
    with smtp_sink_process(smtp_port):
        figures = asyncio.run(_main(smtp_port))
    print(f"invite bench: {INVITATIONS:,} invitations, {PER_REQUEST:,} addresses per request")
    print(
        f"  created:  {figures['created_per_second']:,.0f} invitations/s"
        f" ({figures['create_seconds']:.2f} s)"
    )
    print(
        f"  sent:     {figures['sent_per_second']:,.0f} mails/s over the whole drain "
        f"({figures['drain_seconds']:.2f} s, worker start-up included); "
        f"{figures['sent_per_second_steady']:,.0f} mails/s first to last mail"
    )
    print(
        f"  floor:    {figures['floor_per_second']:,.0f} mails/s"
        f" (raw aiosmtplib, prebuilt, {figures['connections']} connections)"
    )
    print(
        f"  ratio:    {figures['ratio_to_floor']:.0%} of the floor "
        f"({figures['ratio_to_floor_steady']:.0%} first to last mail); goal >= 50%"
    )
    return figures


if __name__ == "__main__":
    main()
