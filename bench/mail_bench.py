"""Sending through a relay 25 ms away: the service's workers beside raw aiosmtplib.

The relay is `bench.slow_relay` in its own process: it answers each command 25 ms after it
arrived (commands written together are answered together, as over a network). The floor, in
the same run: raw aiosmtplib sending the same invitation mails, prebuilt, over N connections
(one mail after another on each, four round trips a mail). The service: invitations stored
in a scratch database with their send jobs, drained by one worker process
(`invitations worker --burst`), which composes, claims, sends and records every mail.

Runs (BENCH_MAILS sets the default-settings run's count, 10,000):
- floor and service over 1, 4, 8 and 16 connections (the default is 8: see bench/README.md);
- the default settings with 10,000 mails (goal: within 2 minutes, and 80% of the floor);
- the same with sends split into single-mail jobs (resends), and with DKIM signing;
- a relay that does not offer PIPELINING;
- a relay without delay (CPU-bound): DKIM on and off (goal: 80% of the rate without).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import BENCH_REDIS, ROOT, bench_environment, free_port, reset_database

MAILS = int(os.environ.get("BENCH_MAILS", "10000"))
DELAY = 0.025
DATABASE = os.environ.get(
    "BENCH_MAIL_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/invitations_bench_mail"
)


@contextmanager
def relay_process(port: int, delay: float, *, pipelining: bool = True) -> Any:
    command = [sys.executable, "-m", "bench.slow_relay", "--port", str(port)]
    command += ["--delay", str(delay)] + ([] if pipelining else ["--no-pipelining"])
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        import socket

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.05)
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


@dataclass
class Run:
    name: str
    mails: int
    seconds: float  # first mail marked sent to last (steady rate)
    wall: float  # worker start to exit, start-up included

    @property
    def rate(self) -> float:
        return (self.mails - 1) / self.seconds if self.seconds else float("inf")


async def _store(count: int, *, single_jobs: bool) -> list[int]:
    from arq import create_pool
    from arq.connections import RedisSettings
    from tortoise.transactions import in_transaction

    from domain import db, outbox
    from domain.clock import clock
    from domain.invitations.service import enqueue_sends, send_job_id
    from domain.invitations.writer import NewInvitation, insert_invitations

    await db.connection().execute_script("TRUNCATE invitations CASCADE")
    redis = await create_pool(RedisSettings.from_dsn(BENCH_REDIS))
    await redis.flushdb()
    rows = [
        NewInvitation(
            email=f"person{i:06d}@example.org",
            first_name="Lea",
            last_name=f"Peeters {i}",
            locale="nl-BE",
            personal_message="",
            is_admin=False,
            registration_field_values={},
            send_email=True,
            group_ids=[],
            project_ids=[],
        )
        for i in range(count)
    ]
    now = await clock.now()
    async with outbox.unit_of_work(redis):
        async with in_transaction():
            ids = await insert_invitations(
                rows, inviter_id=None, import_id=None, now=now, expires_at=now.replace(year=2099)
            )
        if single_jobs:
            for invitation_id in ids:
                outbox.enqueue(
                    "send_invitation", invitation_id, 1, job_id=send_job_id(invitation_id, 1)
                )
        else:
            enqueue_sends(ids, rows)
    await redis.aclose()
    return ids


async def _service(
    name: str, port: int, count: int, *, single_jobs: bool = False, **env: str
) -> Run:
    from domain.models import Invitation

    await _store(count, single_jobs=single_jobs)
    environment = {**os.environ, **bench_environment(port, database=DATABASE), **env}
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "cli", "worker", "--burst"], cwd=ROOT, env=environment, check=True
    )
    wall = time.perf_counter() - started
    sent = await Invitation.filter(delivery_state="sent").count()
    assert sent == count, f"{name}: only {sent} of {count} sent"
    first = await Invitation.all().order_by("sent_at").first()
    last = await Invitation.all().order_by("-sent_at").first()
    assert first and last and first.sent_at and last.sent_at
    return Run(name, count, (last.sent_at - first.sent_at).total_seconds(), wall)


async def _prebuilt(count: int) -> list[tuple[bytes, str]]:
    from domain.invitations.delivery import Sendable, compose_invitation_mail
    from domain.mail.compose import Composer
    from domain.models import Invitation
    from domain.settings import get_settings

    composer = Composer(get_settings())
    invitations = await Invitation.all().order_by("id").limit(count)
    built = []
    for invitation in invitations:
        composed = composer.compose(
            compose_invitation_mail(Sendable.of(invitation, None), reminder=False)
        )
        built.append((composed.message, composed.recipient))
    return built


async def _floor(port: int, connections: int, messages: list[tuple[bytes, str]]) -> Run:
    """Raw aiosmtplib: prebuilt mails, one after another on each of `connections`."""
    import aiosmtplib

    from domain.settings import get_settings

    sender = get_settings().envelope_sender
    clients = [
        aiosmtplib.SMTP(hostname="127.0.0.1", port=port, use_tls=False, start_tls=False)
        for _ in range(connections)
    ]
    await asyncio.gather(*(client.connect() for client in clients))
    waiting = deque(messages)

    async def lane(client: aiosmtplib.SMTP) -> None:
        while waiting:
            message, recipient = waiting.popleft()
            await client.sendmail(sender, [recipient], message)

    started = time.perf_counter()
    await asyncio.gather(*(lane(client) for client in clients))
    seconds = time.perf_counter() - started
    await asyncio.gather(*(client.quit() for client in clients))
    # Same measure as the service's: from the first mail's end to the last's.
    return Run(f"raw aiosmtplib, {connections} connections", len(messages), seconds, seconds)


def _dkim_key(folder: Path) -> Path:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = folder / "dkim.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


def _signature_ms(key: Path, message: bytes) -> float:
    from domain.mail.compose import SIGNED_HEADERS
    from domain.mail.signing import DkimSigner

    signer = DkimSigner("bench", "participate.example.org", key.read_bytes())
    started = time.perf_counter()
    for _ in range(200):
        signer.signature_header(message, SIGNED_HEADERS)
    return (time.perf_counter() - started) / 200 * 1000


def _show(run: Run, floor: Run | None = None, extra: str = "") -> None:
    line = f"  {run.name:<52} {run.mails:>6,} mails  {run.rate:>7,.1f}/s"
    if floor is not None:
        line += f"  {run.rate / floor.rate:>5.0%} of the floor ({floor.rate:,.1f}/s)"
    print(line + extra, flush=True)


async def _main(folder: Path) -> dict[str, Any]:
    from domain import db
    from domain.settings import get_settings

    await reset_database(DATABASE)
    await db.init(get_settings(), apply_migrations=True)
    figures: dict[str, Any] = {}
    slow, fast, plain = free_port(), free_port(), free_port()
    key = _dkim_key(folder)
    dkim = {"INVITES_DKIM_SELECTOR": "bench", "INVITES_DKIM_PRIVATE_KEY_PATH": str(key)}
    with relay_process(slow, DELAY), relay_process(fast, 0.0):
        await _store(max(MAILS, 1600), single_jobs=False)
        mails = await _prebuilt(max(MAILS, 1600))
        print(
            f"mail bench: a relay {DELAY * 1000:.0f} ms away (each reply 25 ms after its command)"
        )
        for connections, count in ((1, 100), (4, 400), (8, 800), (16, 1600)):
            floor = await _floor(slow, connections, mails[:count])
            run = await _service(
                f"service, {connections} connections",
                slow,
                count * 2,
                INVITES_SMTP_CONNECTIONS=str(connections),
            )
            _show(run, floor)
            figures[f"floor_{connections}"] = floor.rate
            figures[f"service_{connections}"] = run.rate
        floor8 = await _floor(slow, 8, mails[:1600])
        default = await _service("service, default settings", slow, MAILS)
        _show(default, floor8, f"  ({default.wall:.1f} s worker start to exit)")
        figures["default"] = default.rate
        figures["default_wall"] = default.wall
        figures["floor_default"] = floor8.rate
        single = await _service("service, default, one job per mail", slow, 1000, single_jobs=True)
        _show(single, floor8)
        figures["single_jobs"] = single.rate
        signed = await _service("service, default, DKIM", slow, 3000, **dkim)
        _show(signed, floor8, f"  {signed.rate / default.rate:.0%} of the rate without DKIM")
        figures["dkim"] = signed.rate
        with relay_process(plain, DELAY, pipelining=False):
            floor_plain = await _floor(plain, 8, mails[:800])
            unpipelined = await _service("service, default, relay without PIPELINING", plain, 800)
            _show(unpipelined, floor_plain)
            figures["no_pipelining"] = unpipelined.rate
            figures["floor_no_pipelining"] = floor_plain.rate
        print("a relay without delay (the worker's CPU is the limit):")
        floor_fast = await _floor(fast, 8, mails[:5000])
        local = await _service("service, default settings", fast, 5000)
        _show(local, floor_fast)
        local_signed = await _service("service, default, DKIM", fast, 5000, **dkim)
        _show(
            local_signed, floor_fast, f"  {local_signed.rate / local.rate:.0%} of the rate without"
        )
        figures["fast_floor"] = floor_fast.rate
        figures["fast"] = local.rate
        figures["fast_dkim"] = local_signed.rate
        figures["signature_ms"] = _signature_ms(key, mails[0][0])
        print(
            f"  one DKIM signature (RSA-2048, this process): {figures['signature_ms']:.2f} ms;"
            f" the service's CPU per mail without DKIM: {1000 / local.rate:.2f} ms"
        )
    from tortoise import Tortoise

    await Tortoise.close_connections()
    return figures


def main() -> dict[str, Any]:
    os.environ.update(bench_environment(1025, database=DATABASE))  # each run sets its port
    with tempfile.TemporaryDirectory() as folder:
        figures = asyncio.run(_main(Path(folder)))
    ok = figures["default"] / figures["floor_default"]
    print(
        f"goals: default settings at {ok:.0%} of raw aiosmtplib over 8 connections (>= 80%);"
        f" {MAILS:,} mails in {figures['default_wall']:.0f} s (<= 120 s); DKIM at"
        f" {figures['fast_dkim'] / figures['fast']:.0%} of the rate without, CPU-bound (>= 80%)"
    )
    return figures


if __name__ == "__main__":
    main()
