"""Letters for 10,000 code-only invitations, end to end: GET /invitations/letters.pdf.

Seeds a scratch PostgreSQL database with 10,000 code-only invitations of one group (names with
accents and Chinese characters, the three languages, half of them with a postal address, a
personal message on a fifth), starts the API as in production (`invitations serve`, its own
process) and downloads the group's letters over HTTP as an admin, sampling the server's memory.

The floor, in the same run: the same 10,000 letters (the same text and QR codes, read from the
database beforehand) drawn by the PDF writer into a temporary file, in the bench's process,
without the database or HTTP. The goal: the download within 2x the floor, and the server's
memory bounded (pages go to a temporary file as they are drawn). Then the downloaded PDF is
opened with PDFium: its page count, and the QR codes of its first and last pages, decoded.
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

LETTERS = int(os.environ.get("BENCH_LETTERS", "10000"))
DATABASE = os.environ.get(
    "BENCH_LETTERS_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/invitations_bench_letters"
)
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10")  # the API's lifespan
NAMES = [("Léa", "Łukasiewicz"), ("Ayşe", "Doğan"), ("伟", "王"), ("Jan", "Peeters"), ("", "")]


def _environment() -> dict[str, str]:
    return {
        "INVITES_ENV": "production",
        "INVITES_SECRET_KEY": "bench-secret-key-" + "x" * 40,
        "INVITES_DATABASE_URL": DATABASE,
        "INVITES_REDIS_URL": REDIS,
        "INVITES_PUBLIC_URL": "https://participate.example.org",
        "INVITES_MAIL_FROM": "invitations@participate.example.org",
        "INVITES_PLATFORM_NAME": "Participate Example",
        "INVITES_LOG_LEVEL": "WARNING",
    }


async def _seed() -> tuple[str, int]:
    """The invitations; an admin's session token and the group's id."""
    from domain.clock import clock
    from domain.groups.service import create_group
    from domain.invitations.writer import NewInvitation, insert_invitations
    from domain.models import GroupKind
    from domain.users.service import create_admin, open_session

    admin = await create_admin(email="bench-admin@example.org", password="bench passphrase 2026")
    group = await create_group(title="North Avenue Residents", kind=GroupKind.MANUAL)
    now = await clock.now()
    rows = [
        NewInvitation(
            email="",
            first_name=NAMES[i % len(NAMES)][0],
            last_name=NAMES[i % len(NAMES)][1],
            locale=("en", "nl-BE", "fr-BE")[i % 3],
            personal_message="Help decide what the new park on North Avenue becomes: share"
            " your ideas before the end of June."
            if i % 5 == 0
            else "",
            is_admin=False,
            registration_field_values={},
            send_email=False,
            group_ids=[group.id],
            project_ids=[],
            postal_address=f"Resident {i}\nKerkstraat {i % 200 + 1}\n9000 Gent" if i % 2 else "",
        )
        for i in range(LETTERS)
    ]
    await insert_invitations(
        rows, inviter_id=None, import_id=None, now=now, expires_at=now + timedelta(days=30)
    )
    return (await open_session(admin)).token, group.id


async def _download(base_url: str, token: str, group_id: int, destination: Path) -> float:
    import httpx

    async with httpx.AsyncClient(base_url=base_url, timeout=3600) as client:
        started = time.perf_counter()
        async with client.stream(
            "GET",
            "/invitations/letters.pdf",
            params={"groupId": str(group_id)},
            headers={"Authorization": f"Bearer {token}"},
        ) as response:
            assert response.status_code == 200, await response.aread()
            with destination.open("wb") as file:
                async for chunk in response.aiter_bytes():
                    file.write(chunk)
        return time.perf_counter() - started


async def _floor(group_id: int) -> float:
    """The PDF writer drawing the same letters, read from the database beforehand."""
    from domain.invitations.listing import InvitationFilter
    from domain.letters.layout import draw_letter
    from domain.letters.pdf import PdfWriter
    from domain.letters.service import LettersQuery, fonts_of, letters_of, sender_of
    from domain.settings import get_settings

    letters = []
    async for batch in letters_of(LettersQuery(filter=InvitationFilter(group_id=group_id))):
        letters.extend(batch)
    assert len(letters) == LETTERS
    fonts, sender = fonts_of(get_settings()), sender_of(get_settings())
    with tempfile.TemporaryFile() as file:
        started = time.perf_counter()
        writer = PdfWriter(file, title="Invitation letters")
        for letter in letters:
            draw_letter(writer, fonts, sender, letter)
        writer.close()
        return time.perf_counter() - started


def _check(path: Path) -> int:
    import pypdfium2 as pdfium
    import zxingcpp

    pdf = pdfium.PdfDocument(path)
    try:
        for index in (0, len(pdf) - 1):
            bitmap = pdf[index].render(scale=150 / 72, grayscale=True)
            pixels = memoryview(bitmap.buffer).cast("B", shape=(bitmap.height, bitmap.stride))
            [code] = zxingcpp.read_barcodes(pixels, formats=zxingcpp.BarcodeFormat.QRCode)
            assert code.text.startswith("https://participate.example.org/invite#token="), code
        return len(pdf)
    finally:
        pdf.close()


async def _run() -> dict[str, float]:
    from tortoise import Tortoise

    from domain import db
    from domain.settings import get_settings

    await reset_database(DATABASE)
    await db.init(get_settings(), apply_migrations=True)
    figures: dict[str, float] = {}
    try:
        token, group_id = await _seed()
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [sys.executable, "-m", "cli", "serve", "--port", str(port)],
            cwd=ROOT,
            env={**os.environ, **_environment()},
        )
        descriptor, name = tempfile.mkstemp(prefix="letters-bench-", suffix=".pdf")
        os.close(descriptor)
        path = Path(name)
        try:
            await wait_until_up(base_url, server)
            figures["rss_before_mib"] = process_memory_mib(server.pid)
            samples: list[float] = []
            sampler = asyncio.ensure_future(sample_memory(server.pid, samples))
            figures["download_seconds"] = await _download(base_url, token, group_id, path)
            sampler.cancel()
            figures["rss_max_mib"] = max(samples)
        finally:
            server.terminate()
            server.wait(timeout=30)
        figures["file_mib"] = path.stat().st_size / 2**20
        figures["floor_seconds"] = await _floor(group_id)
        figures["pages"] = _check(path)
        path.unlink()
    finally:
        await Tortoise.close_connections()
    return figures


def main() -> dict[str, Any]:
    from domain.settings import get_settings

    os.environ.update(_environment())
    get_settings.cache_clear()  # another bench may have read its own settings in this process
    figures = asyncio.run(_run())
    assert figures["pages"] == LETTERS, f"{figures['pages']} pages for {LETTERS} letters"
    download, floor = figures["download_seconds"], figures["floor_seconds"]
    print(f"letters bench: {LETTERS:,} code-only invitations on PostgreSQL, one letter each")
    print(
        f"  download:  {download:.2f} s to the last byte over HTTP from `invitations serve`,"
        f" {LETTERS / download:,.0f} letters/s; {figures['file_mib']:.1f} MiB,"
        f" {figures['pages']:,.0f} pages (QR codes of the first and last decoded)"
    )
    print(
        f"  floor:     {floor:.2f} s, the PDF writer drawing the same letters in-process"
        f" (no database, no HTTP)"
    )
    print(f"  ratio:     {download / floor:.2f}x the floor (goal: at most 2x)")
    print(
        f"  memory:    server RSS {figures['rss_before_mib']:.0f} MiB before the download,"
        f" at most {figures['rss_max_mib']:.0f} MiB during it"
    )
    return figures


if __name__ == "__main__":
    main()
