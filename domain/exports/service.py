"""Taking the token export: write the xlsx, then record who took it, when and how many rows."""

from __future__ import annotations

import asyncio
import os
import tempfile
from contextlib import aclosing
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any, BinaryIO

from domain.clock import clock
from domain.exports.rows import BATCH_SIZE, export_rows
from domain.exports.workbook import ExportWorkbook
from domain.i18n import SOURCE_LOCALE
from domain.invitations.listing import InvitationFilter
from domain.models import InvitationExport, RegistrationField, User


@dataclass(slots=True)
class ExportFile:
    """A finished export, open for reading. Its file has no name left on disk: closing the
    handle (or the process ending) frees it."""

    file: BinaryIO
    size: int
    record: InvitationExport


async def write_export(
    query: InvitationFilter,
    *,
    exported_by: User | None,
    destination: Path,
    batch_size: int = BATCH_SIZE,
    locale: str = SOURCE_LOCALE,
) -> InvitationExport:
    """Write every invitation `query` selects into `destination` and record the export. Its
    words (status and delivery values, group titles, the sheet about the columns) in `locale`."""
    now = await clock.now()
    fields = await RegistrationField.all().order_by("id")  # the template's order
    # Opened first: a destination that cannot be written fails before any work.
    file = await asyncio.to_thread(destination.open, "wb")
    try:
        workbook = ExportWorkbook(file, fields, locale)
        row_count = await _write(workbook, query, now=now, batch_size=batch_size, locale=locale)
    finally:
        await asyncio.to_thread(file.close)
    return await InvitationExport.create(
        exported_by=exported_by,
        created_at=await clock.now(),
        row_count=row_count,
        filters=filters_of(query),
    )


async def _write(
    workbook: ExportWorkbook,
    query: InvitationFilter,
    *,
    now: datetime,
    batch_size: int,
    locale: str,
) -> int:
    # Writing cells is synchronous work: it runs in a thread, off the event loop, writing one
    # batch while the next is read from the database.
    writing: asyncio.Future[None] | None = None
    try:
        async with aclosing(
            export_rows(query, now=now, batch_size=batch_size, locale=locale)
        ) as batches:
            async for batch in batches:
                if writing is not None:
                    await asyncio.shield(writing)
                writing = asyncio.ensure_future(asyncio.to_thread(workbook.append, batch))
        if writing is not None:
            await asyncio.shield(writing)
        writing = asyncio.ensure_future(asyncio.to_thread(workbook.close))
        await asyncio.shield(writing)
    except BaseException:
        # A thread cannot be stopped (the shields keep a cancelled caller from pretending
        # otherwise): let it end before its workbook is thrown away.
        if writing is not None:
            await asyncio.wait([writing])
        workbook.discard()
        raise
    return workbook.row_count


async def export_to_temporary_file(
    query: InvitationFilter, *, exported_by: User | None, locale: str = SOURCE_LOCALE
) -> ExportFile:
    """The export in a temporary file, for a download to stream.

    The file holds every token in clear, so its name is removed as soon as it is open: nothing
    is left behind when the download ends, fails or is abandoned, or the process dies.
    """
    path = await asyncio.to_thread(_temporary_path)
    try:
        record = await write_export(query, exported_by=exported_by, destination=path, locale=locale)
        file = await asyncio.to_thread(_open, path)
    finally:
        await asyncio.to_thread(path.unlink, missing_ok=True)
    return ExportFile(file=file, size=os.fstat(file.fileno()).st_size, record=record)


def filters_of(query: InvitationFilter) -> dict[str, Any]:
    """The filters an export was taken with, as the record keeps them (unset ones left out)."""
    values = {
        "status": query.status,
        "delivery": query.delivery,
        "search": query.search,
        "group_id": query.group_id,
        "role": query.role,
        "import_id": query.import_id,
        "batch_of": query.batch_of,
    }
    return {
        name: value.value if isinstance(value, Enum) else value
        for name, value in values.items()
        if value is not None
    }


def _temporary_path() -> Path:
    # mkstemp: a new file only this process's user can read.
    descriptor, name = tempfile.mkstemp(prefix="invitations-export-", suffix=".xlsx")
    os.close(descriptor)
    return Path(name)


def _open(path: Path) -> BinaryIO:
    return path.open("rb")
