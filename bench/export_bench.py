"""The token export of 100,000 invitations, end to end: GET /invitations/export.xlsx.

Seeds a scratch PostgreSQL database the way an import writes (COPY), starts the API as in
production (`invitations serve`: uvicorn, its own process), and downloads the export over
HTTP as an admin. Prints the time to the response headers and to the last byte, rows per
second, and the server process's resident memory before and during the export. Beside them:
the time to read the same rows without writing a workbook (database, decryption, status), so
the share openpyxl takes is visible. Then reads the file back with calamine to check that
every row is there.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.common import ROOT, free_port, reset_database

INVITATIONS = int(os.environ.get("BENCH_EXPORT_INVITATIONS", "100000"))
# Its own scratch database: the other benches may reset theirs meanwhile.
DATABASE = os.environ.get(
    "BENCH_EXPORT_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/invitations_bench_export"
)
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10")  # the API's lifespan


def _environment() -> dict[str, str]:
    return {
        "INVITES_ENV": "production",
        "INVITES_SECRET_KEY": "bench-secret-key-" + "x" * 40,
        "INVITES_DATABASE_URL": DATABASE,
        "INVITES_REDIS_URL": REDIS,
        "INVITES_PUBLIC_URL": "https://participate.example.org",
        "INVITES_MAIL_FROM": "invitations@participate.example.org",
        "INVITES_LOG_LEVEL": "WARNING",
    }


async def _seed() -> tuple[str, float]:
    """100,000 invitations: a tenth code-only, a seventh admins, two thirds with one or two
    groups. Returns an admin's session token and the seconds the invitations took."""
    from domain.clock import clock
    from domain.groups.service import create_group
    from domain.invitations.writer import NewInvitation, insert_invitations
    from domain.models import GroupKind
    from domain.users.service import create_admin, open_session

    admin = await create_admin(email="bench-admin@example.org", password="bench passphrase 2026")
    groups = [
        (await create_group(title=title, kind=GroupKind.MANUAL)).id
        for title in ("North Avenue Residents", "Youth council", "Riverside park")
    ]
    started = time.perf_counter()
    now = await clock.now()
    rows = [
        NewInvitation(
            email="" if i % 10 == 0 else f"person{i:06d}@example.org",
            first_name=f"Firstname{i}",
            last_name=f"Lastname{i}",
            locale=("en", "nl-BE", "fr-BE")[i % 3],
            personal_message="",
            is_admin=i % 7 == 0,
            registration_field_values={},
            send_email=False,
            group_ids=(groups[:2], groups[2:], [])[i % 3],
            project_ids=[],
        )
        for i in range(INVITATIONS)
    ]
    await insert_invitations(
        rows, inviter_id=None, import_id=None, now=now, expires_at=now + timedelta(days=30)
    )
    seconds = time.perf_counter() - started
    return (await open_session(admin)).token, seconds


def _memory_mib(pid: int, field: str) -> float:
    """VmRSS (resident now) or VmHWM (peak resident so far) of a process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field}: this bench needs Linux")


async def _sample_rss(pid: int, samples: list[float]) -> None:
    """The server's resident memory every 20 ms: its peak while exporting, whatever the peak
    its start-up reached."""
    while True:
        samples.append(_memory_mib(pid, "VmRSS"))
        await asyncio.sleep(0.02)


async def _wait_until_up(base_url: str, server: subprocess.Popen[bytes]) -> None:
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


async def _download(base_url: str, token: str, destination: Path) -> dict[str, float]:
    import httpx

    async with httpx.AsyncClient(base_url=base_url, timeout=3600) as client:
        started = time.perf_counter()
        async with client.stream(
            "GET", "/invitations/export.xlsx", headers={"Authorization": f"Bearer {token}"}
        ) as response:
            headers_seconds = time.perf_counter() - started
            assert response.status_code == 200, await response.aread()
            with destination.open("wb") as file:
                async for chunk in response.aiter_bytes():
                    file.write(chunk)
        return {
            "headers_seconds": headers_seconds,
            "export_seconds": time.perf_counter() - started,
        }


async def _run() -> dict[str, float]:
    from python_calamine import CalamineWorkbook
    from tortoise import Tortoise

    from domain import db
    from domain.clock import clock
    from domain.exports.rows import export_rows
    from domain.invitations.listing import InvitationFilter
    from domain.models import InvitationExport
    from domain.settings import get_settings

    await reset_database(DATABASE)
    await db.init(get_settings(), apply_migrations=True)
    figures: dict[str, float] = {}
    try:
        token, figures["seed_seconds"] = await _seed()
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [sys.executable, "-m", "cli", "serve", "--port", str(port)],
            cwd=ROOT,
            env={**os.environ, **_environment()},
        )
        descriptor, name = tempfile.mkstemp(prefix="export-bench-", suffix=".xlsx")
        os.close(descriptor)
        path = Path(name)
        try:
            await _wait_until_up(base_url, server)
            figures["server_rss_before_mib"] = _memory_mib(server.pid, "VmRSS")
            samples: list[float] = []
            sampler = asyncio.ensure_future(_sample_rss(server.pid, samples))
            figures.update(await _download(base_url, token, path))
            sampler.cancel()
            figures["server_rss_max_mib"] = max(samples)
            figures["server_hwm_mib"] = _memory_mib(server.pid, "VmHWM")
        finally:
            server.terminate()
            server.wait(timeout=30)
        figures["file_mib"] = path.stat().st_size / 2**20
        record = await InvitationExport.all().order_by("-id").first()
        assert record is not None
        figures["rows"] = record.row_count

        # The same rows without a workbook: what the database and decryption cost.
        started = time.perf_counter()
        count = 0
        async for batch in export_rows(InvitationFilter(), now=await clock.now()):
            count += len(batch)
        figures["rows_only_seconds"] = time.perf_counter() - started
        assert count == record.row_count

        started = time.perf_counter()
        read = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("invitations").to_python()
        figures["calamine_read_seconds"] = time.perf_counter() - started
        assert len(read) == record.row_count + 1, len(read)
        path.unlink()
    finally:
        await Tortoise.close_connections()
    return figures


def main() -> dict[str, Any]:
    from domain.settings import get_settings

    os.environ.update(_environment())
    get_settings.cache_clear()  # another bench may have read its own settings in this process
    figures = asyncio.run(_run())
    rows = figures["rows"]
    assert rows == INVITATIONS, f"exported {rows} of {INVITATIONS}"
    print(
        f"export bench: {INVITATIONS:,} invitations on PostgreSQL"
        f" (seeded in {figures['seed_seconds']:.1f} s), over HTTP from `invitations serve`"
    )
    print(
        f"  export:     {figures['export_seconds']:.2f} s to the last byte,"
        f" {rows / figures['export_seconds']:,.0f} rows/s; headers after"
        f" {figures['headers_seconds']:.2f} s; file {figures['file_mib']:.1f} MiB"
    )
    print(
        f"  memory:     server RSS {figures['server_rss_before_mib']:.0f} MiB before the export,"
        f" at most {figures['server_rss_max_mib']:.0f} MiB during it"
        f" (VmHWM, start-up included: {figures['server_hwm_mib']:.0f} MiB)"
    )
    print(
        f"  rows alone: {figures['rows_only_seconds']:.2f} s to read the same rows without a"
        " workbook (database, decryption, status); the export overlaps that reading with"
        " openpyxl's writing, which takes the rest"
    )
    print(f"  read back:  calamine, all {rows:,} rows, {figures['calamine_read_seconds']:.2f} s")
    return figures


if __name__ == "__main__":
    main()
