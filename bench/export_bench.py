"""The token export of 100,000 invitations, end to end: GET /invitations/export.xlsx.

Seeds a scratch PostgreSQL database the way an import writes (COPY): invitations with groups,
projects, a personal message and registration field values. Starts the API as in production
(`invitations serve`: uvicorn, its own process) and downloads the export over HTTP as an admin,
sampling the server's resident memory meanwhile.

The floor, measured in the same run: the same rows read from PostgreSQL by the same queries,
written by xlsxwriter in constant-memory mode with no per-cell logic (`write_row` of the values
as the database returns them: no decryption, no neutralizing, no typed cells). Export and floor
run in turns, three times (`BENCH_EXPORT_ROUNDS`); the best of each counts (the machine is
shared). The goal: the export
within 1.5 times the floor, and the server's memory flat. Then the file is read back with
calamine to check that every row is there.
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

from bench.common import (
    ROOT,
    free_port,
    process_memory_mib,
    reset_database,
    sample_memory,
    wait_until_up,
)

INVITATIONS = int(os.environ.get("BENCH_EXPORT_INVITATIONS", "100000"))
GOAL = 1.5
# Export and floor in turns, the best of each counted: on a shared machine a run can be
# slowed by half by other work.
ROUNDS = int(os.environ.get("BENCH_EXPORT_ROUNDS", "3"))
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
    groups, a twentieth managing a project, a third with a personal message, each with values
    for two of the three registration fields. Returns an admin's session token and the seconds
    the invitations took."""
    from domain.clock import clock
    from domain.groups.service import create_group
    from domain.invitations.writer import NewInvitation, insert_invitations
    from domain.models import FieldType, GroupKind
    from domain.projects.service import create_project
    from domain.registration_fields.service import create_registration_field
    from domain.users.service import create_admin, open_session

    admin = await create_admin(email="bench-admin@example.org", password="bench passphrase 2026")
    groups = [
        (await create_group(title=title, kind=GroupKind.MANUAL)).id
        for title in ("North Avenue Residents", "Youth council", "Riverside park")
    ]
    project = (await create_project(title="Riverside park renovation")).id
    await create_registration_field(
        key="district",
        title="District",
        type=FieldType.SELECT,
        options=[{"key": "north"}, {"key": "south"}],
    )
    await create_registration_field(key="household_size", title="Household", type=FieldType.NUMBER)
    await create_registration_field(key="birthday", title="Birthday", type=FieldType.DATE)
    started = time.perf_counter()
    now = await clock.now()
    rows = [
        NewInvitation(
            email="" if i % 10 == 0 else f"person{i:06d}@example.org",
            first_name=f"Firstname{i}",
            last_name=f"Lastname{i}",
            locale=("en", "nl-BE", "fr-BE")[i % 3],
            personal_message="Welcome to the platform!\nSee you at the meeting." if i % 3 else "",
            is_admin=i % 7 == 0,
            registration_field_values={
                "district": ("north", "south")[i % 2],
                "household_size": i % 6 + 1,
            }
            if i % 2
            else {"district": "north", "birthday": "1990-02-28"},
            send_email=False,
            group_ids=(groups[:2], groups[2:], [])[i % 3],
            project_ids=[project] if i % 20 == 0 else [],
        )
        for i in range(INVITATIONS)
    ]
    await insert_invitations(
        rows, inviter_id=None, import_id=None, now=now, expires_at=now + timedelta(days=30)
    )
    seconds = time.perf_counter() - started
    return (await open_session(admin)).token, seconds


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


async def _floor(destination: Path) -> tuple[float, int]:
    """The same rows, read by the same queries, written with `write_row`: seconds, rows."""
    from xlsxwriter import Workbook

    from domain.clock import clock
    from domain.exports.rows import stored_batches
    from domain.invitations.listing import InvitationFilter

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as directory:
        book = Workbook(
            str(destination),
            {"constant_memory": True, "tmpdir": directory, "remove_timezone": True},
        )
        sheet = book.add_worksheet("invitations")
        number = 0
        async for batch in stored_batches(InvitationFilter(), now=await clock.now()):
            for row in batch.rows:
                number += 1
                values = list(row.values())
                values.append(batch.groups.get(row["id"]))
                values.append(batch.projects.get(row["id"]))
                sheet.write_row(number, 0, values)
        book.close()
    return time.perf_counter() - started, number


async def _export_once(
    base_url: str, token: str, pid: int, destination: Path, figures: dict[str, float]
) -> float:
    samples: list[float] = []
    sampler = asyncio.ensure_future(sample_memory(pid, samples))
    try:
        timing = await _download(base_url, token, destination)
    finally:
        sampler.cancel()
    figures["headers_seconds"] = timing["headers_seconds"]
    figures["server_rss_max_mib"] = max(figures.get("server_rss_max_mib", 0.0), *samples)
    return timing["export_seconds"]


async def _run() -> dict[str, float]:
    from python_calamine import CalamineWorkbook
    from tortoise import Tortoise

    from domain import db
    from domain.models import InvitationExport
    from domain.settings import get_settings

    await reset_database(DATABASE)
    await db.init(get_settings(), apply_migrations=True)
    figures: dict[str, float] = {}
    directory = tempfile.TemporaryDirectory(prefix="export-bench-")
    path = Path(directory.name) / "export.xlsx"
    floor_path = Path(directory.name) / "floor.xlsx"
    try:
        token, figures["seed_seconds"] = await _seed()
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [sys.executable, "-m", "cli", "serve", "--port", str(port)],
            cwd=ROOT,
            env={**os.environ, **_environment()},
        )
        exports: list[float] = []
        floors: list[float] = []
        try:
            await wait_until_up(base_url, server)
            figures["server_rss_before_mib"] = process_memory_mib(server.pid)
            for _ in range(ROUNDS):
                seconds, floor_rows = await _floor(floor_path)
                floors.append(seconds)
                exports.append(await _export_once(base_url, token, server.pid, path, figures))
            figures["server_hwm_mib"] = process_memory_mib(server.pid, "VmHWM")
        finally:
            server.terminate()
            server.wait(timeout=30)
        figures["export_seconds"] = min(exports)
        figures["floor_seconds"] = min(floors)
        figures["floor_rows"] = floor_rows
        figures["file_mib"] = path.stat().st_size / 2**20
        figures["floor_file_mib"] = floor_path.stat().st_size / 2**20
        record = await InvitationExport.all().order_by("-id").first()
        assert record is not None
        figures["rows"] = record.row_count

        started = time.perf_counter()
        read = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("invitations").to_python()
        figures["calamine_read_seconds"] = time.perf_counter() - started
        assert len(read) == record.row_count + 1, len(read)
    finally:
        directory.cleanup()
        await Tortoise.close_connections()
    return figures


def main() -> dict[str, Any]:
    from domain.settings import get_settings

    os.environ.update(_environment())
    get_settings.cache_clear()  # another bench may have read its own settings in this process
    figures = asyncio.run(_run())
    rows = figures["rows"]
    assert rows == INVITATIONS == figures["floor_rows"], f"exported {rows} of {INVITATIONS}"
    ratio = figures["export_seconds"] / figures["floor_seconds"]
    print(
        f"export bench: {INVITATIONS:,} invitations on PostgreSQL"
        f" (seeded in {figures['seed_seconds']:.1f} s), over HTTP from `invitations serve`"
    )
    print(
        f"  export:     {figures['export_seconds']:.2f} s to the last byte (best of {ROUNDS}),"
        f" {rows / figures['export_seconds']:,.0f} rows/s; headers after"
        f" {figures['headers_seconds']:.2f} s; file {figures['file_mib']:.1f} MiB"
    )
    print(
        f"  floor:      {figures['floor_seconds']:.2f} s (best of {ROUNDS}): the same rows and"
        " queries, xlsxwriter write_row with no per-cell logic;"
        f" file {figures['floor_file_mib']:.1f} MiB"
    )
    print(f"  ratio:      {ratio:.2f}x the floor (goal: within {GOAL}x)")
    print(
        f"  memory:     server RSS {figures['server_rss_before_mib']:.0f} MiB before the exports,"
        f" at most {figures['server_rss_max_mib']:.0f} MiB during them"
        f" (VmHWM, start-up included: {figures['server_hwm_mib']:.0f} MiB)"
    )
    print(f"  read back:  calamine, all {rows:,} rows, {figures['calamine_read_seconds']:.2f} s")
    return {**figures, "ratio": ratio}


if __name__ == "__main__":
    main()
