"""What every benchmark shares: a scratch database and Redis, an SMTP sink process, timing."""

from __future__ import annotations

import asyncio
import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
BENCH_DATABASE = os.environ.get(
    "BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/invitations_bench"
)
BENCH_REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bench_environment(
    smtp_port: int, *, database: str = BENCH_DATABASE, redis: str = BENCH_REDIS
) -> dict[str, str]:
    """Settings for the service under test: production-like, scratch database and Redis."""
    return {
        "INVITES_ENV": "production",
        "INVITES_SECRET_KEY": "bench-secret-key-" + "x" * 40,
        "INVITES_DATABASE_URL": database,
        "INVITES_REDIS_URL": redis,
        "INVITES_PUBLIC_URL": "https://participate.example.org",
        "INVITES_MAIL_FROM": "invitations@participate.example.org",
        "INVITES_SMTP_HOST": "127.0.0.1",
        "INVITES_SMTP_PORT": str(smtp_port),
        "INVITES_SMTP_TLS": "none",
        "INVITES_LOG_LEVEL": "WARNING",
    }


async def reset_database(url: str = BENCH_DATABASE) -> None:
    dsn = url.replace("postgres://", "postgresql://", 1)
    name = dsn.rsplit("/", 1)[1]
    admin = await asyncpg.connect(dsn.rsplit("/", 1)[0] + "/postgres")
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


@contextmanager
def smtp_sink_process(port: int) -> Iterator[subprocess.Popen[bytes]]:
    """aiosmtpd's discarding sink in its own process, as a real mail server would be."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Sink",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.05)
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=10)


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Figure:
    name: str
    value: float
    unit: str

    def __str__(self) -> str:
        return f"{self.name}: {self.value:,.1f} {self.unit}"


def run(coro: object) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]


def process_memory_mib(pid: int, field: str = "VmRSS") -> float:
    """VmRSS (resident now) or VmHWM (peak resident so far) of a process, in MiB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field}: this bench needs Linux")


def process_cpu_seconds(pid: int) -> float:
    """A process's CPU time so far, user and system (Linux); 0 once it has gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def sample_memory(pid: int, samples: list[float]) -> None:
    """A process's resident memory every 20 ms, until cancelled."""
    while True:
        samples.append(process_memory_mib(pid))
        await asyncio.sleep(0.02)


async def wait_until_up(base_url: str, server: subprocess.Popen[bytes]) -> None:
    """Until the API started by the bench answers /health (60 s at most)."""
    import httpx

    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(base_url=base_url) as client:
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise RuntimeError(f"the API exited with code {server.returncode}")
            try:
                if (await client.get("/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the API did not answer /health within 60 s")
