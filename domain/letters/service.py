"""Printing code-only invitations: a PDF of letters (one A4 page each) or of cards (eight a
sheet), written to a temporary file page by page and recorded like an export."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO

from domain.clock import clock
from domain.crypto import keyring
from domain.db import connection
from domain.errors import DomainError, ErrorCode
from domain.exports.service import filters_of
from domain.invitations import tokens
from domain.invitations.delivery import invite_link
from domain.invitations.listing import InvitationFilter
from domain.invitations.listing import filtered as filtered_sql
from domain.invitations.message import as_text
from domain.letters.layout import (
    CARDS_PER_SHEET,
    Fonts,
    Letter,
    Sender,
    draw_cards,
    draw_letter,
)
from domain.letters.pdf import PdfWriter, Typeface, font_face
from domain.models import ExportKind, Invitation, InvitationExport, InvitationStatus, User
from domain.settings import Settings, get_settings

BATCH_SIZE = 500


class Layout(StrEnum):
    LETTERS = "letters"  # one A4 letter an invitation
    CARDS = "cards"  # eight 85 x 55 mm cards an A4 sheet


@dataclass(frozen=True, slots=True)
class LettersQuery:
    """Which invitations to print, and how. Pending ones only, whatever the filter: the codes
    of accepted and expired invitations no longer work, so a filter for those prints nothing."""

    filter: InvitationFilter = field(default_factory=InvitationFilter)
    layout: Layout = Layout.LETTERS
    code_only: bool = True  # False: invitations with an email too

    @property
    def selection(self) -> InvitationFilter:
        return replace(self.filter, status=InvitationStatus.PENDING)

    @property
    def printable(self) -> bool:
        """False when the filter asks for invitations whose codes no longer work."""
        return self.filter.status in (None, InvitationStatus.PENDING)


class FontsMissing(Exception):
    """The server cannot print: a font file the settings name is not there."""


@dataclass(slots=True)
class LettersFile:
    """A finished PDF, open for reading; its file has no name left on disk."""

    file: BinaryIO
    size: int
    record: InvitationExport


def fonts_of(settings: Settings) -> Fonts:
    return _fonts(
        settings.letters_font,
        settings.letters_bold_font,
        settings.letters_code_font,
        settings.letters_fallback_font,
    )


@cache
def _fonts(regular: Path, bold: Path, code: Path, fallback: Path) -> Fonts:
    for setting, path in (
        ("LETTERS_FONT", regular),
        ("LETTERS_BOLD_FONT", bold),
        ("LETTERS_CODE_FONT", code),
        ("LETTERS_FALLBACK_FONT", fallback),
    ):
        if not path.is_file():
            raise FontsMissing(
                f"The letters' font {path} is missing: install the Debian packages"
                f" fonts-dejavu-core and fonts-droid-fallback, or set INVITES_{setting} to a"
                " TrueType (.ttf) font."
            )
    extra = font_face(fallback)
    return Fonts(
        regular=Typeface((font_face(regular), extra)),
        bold=Typeface((font_face(bold), extra)),
        code=Typeface((font_face(code), font_face(regular), extra)),
    )


def sender_of(settings: Settings) -> Sender:
    return Sender(
        platform=settings.platform_name,
        return_address=settings.letters_return_address or settings.platform_name,
        invite_url=f"{settings.public_url}/invite",
        help_contact=settings.letters_help_contact or settings.public_url,
    )


class Printer:
    """Draws letters or cards into a PDF as batches arrive (synchronous: run it in a thread)."""

    def __init__(self, file: BinaryIO, layout: Layout, fonts: Fonts, sender: Sender) -> None:
        self.layout = layout
        self.fonts = fonts
        self.sender = sender
        title = "Invitation cards" if layout is Layout.CARDS else "Invitation letters"
        self.writer = PdfWriter(file, title=title)
        self.waiting: list[Letter] = []  # cards not on a sheet yet
        self.count = 0

    def add(self, letters: list[Letter]) -> None:
        self.count += len(letters)
        if self.layout is Layout.LETTERS:
            for letter in letters:
                draw_letter(self.writer, self.fonts, self.sender, letter)
            return
        self.waiting.extend(letters)
        while len(self.waiting) >= CARDS_PER_SHEET:
            draw_cards(self.writer, self.fonts, self.sender, self.waiting[:CARDS_PER_SHEET])
            del self.waiting[:CARDS_PER_SHEET]

    def close(self) -> None:
        if self.waiting:
            draw_cards(self.writer, self.fonts, self.sender, self.waiting)
            self.waiting = []
        self.writer.close()


async def count_letters(query: LettersQuery) -> int:
    sql = await _selected(query)
    rows = await connection().execute_query_dict(
        f"SELECT COUNT(*) AS n FROM invitations i WHERE {sql.where()}",  # noqa: S608
        sql.params,
    )
    return int(rows[0]["n"])


async def _selected(query: LettersQuery) -> Any:
    sql = await filtered_sql(query.selection)
    if not query.printable:
        sql.clauses.append("1 = 0")
    if query.code_only:
        sql.clauses.append("i.email = ''")
    return sql


async def letters_of(
    query: LettersQuery, *, batch_size: int = BATCH_SIZE
) -> AsyncGenerator[list[Letter], None]:
    """Batches of letters in id order, each continuing after the last id (as the export)."""
    sql = await _selected(query)
    after = sql.param(0)
    after_index = len(sql.params) - 1
    limit = sql.param(batch_size)
    statement = (
        f"SELECT i.id AS id FROM invitations i WHERE {sql.where()} AND i.id > {after}"  # noqa: S608
        f" ORDER BY i.id LIMIT {limit}"
    )
    ring = keyring("invitation-token")
    while True:
        found = await connection().execute_query_dict(statement, sql.params)
        ids = [int(row["id"]) for row in found]
        if not ids:
            return
        invitations = await Invitation.filter(id__in=ids).order_by("id")
        yield [_letter(each, ring.decrypt(each.token_encrypted)) for each in invitations]
        if len(ids) < batch_size:
            return
        sql.params[after_index] = ids[-1]


def _letter(invitation: Invitation, token: str) -> Letter:
    return Letter(
        code=tokens.display(token),
        link=invite_link(token),
        locale=invitation.locale,
        first_name=invitation.first_name,
        last_name=invitation.last_name,
        postal_address=invitation.postal_address,
        message=as_text(invitation.personal_message),
        expires_on=last_whole_day(invitation.expires_at),
    )


def last_whole_day(expires_at: datetime) -> Any:
    """The last day the code works all day long, wherever the letter is read: a letter says
    a day too early rather than a day too late."""
    return (expires_at.astimezone(UTC) - timedelta(days=1)).date()


async def write_letters(
    query: LettersQuery,
    *,
    printed_by: User | None,
    file: BinaryIO,
    batch_size: int = BATCH_SIZE,
) -> InvitationExport:
    """Print every invitation `query` selects into `file` and record the download.

    Refuses, before anything is drawn, a selection with nothing to print or more than
    INVITES_LETTERS_MAX_PER_DOWNLOAD invitations; and raises FontsMissing when the server
    has not the fonts to print with."""
    settings = get_settings()
    count = await count_letters(query)
    if count == 0:
        raise DomainError.single(
            ErrorCode.NOT_FOUND,
            "No invitation to print: no pending code-only invitation matches these filters."
            if query.code_only
            else "No invitation to print: no pending invitation matches these filters.",
            "filter",
        )
    if count > settings.letters_max_per_download:
        raise DomainError.single(
            ErrorCode.TOO_MANY_INVITATIONS,
            f"{count} invitations match: print at most {settings.letters_max_per_download} at"
            " once (filter by group or import).",
            "filter",
            value=str(count),
        )
    fonts = await asyncio.to_thread(fonts_of, settings)
    printer = Printer(file, query.layout, fonts, sender_of(settings))
    # Drawing is synchronous work: it runs in a thread, one batch while the next is read.
    drawing: asyncio.Future[None] | None = None
    try:
        async with aclosing(letters_of(query, batch_size=batch_size)) as batches:
            async for batch in batches:
                if drawing is not None:
                    await asyncio.shield(drawing)
                drawing = asyncio.ensure_future(asyncio.to_thread(printer.add, batch))
        if drawing is not None:
            await asyncio.shield(drawing)
        drawing = asyncio.ensure_future(asyncio.to_thread(printer.close))
        await asyncio.shield(drawing)
    except BaseException:
        if drawing is not None:  # a thread cannot be stopped: let it end first
            await asyncio.wait([drawing])
        raise
    filters = filters_of(query.selection)
    if not query.code_only:
        filters["code_only"] = False
    return await InvitationExport.create(
        kind=ExportKind.CARDS if query.layout is Layout.CARDS else ExportKind.LETTERS,
        exported_by=printed_by,
        created_at=await clock.now(),
        row_count=printer.count,
        filters=filters,
    )


async def letters_to_temporary_file(query: LettersQuery, *, printed_by: User | None) -> LettersFile:
    """The PDF in a temporary file for a download to stream. It holds every code in clear, so
    its name is removed before anything is written: closing the handle frees it."""
    file = await asyncio.to_thread(_anonymous_file)
    try:
        record = await write_letters(query, printed_by=printed_by, file=file)
        size = file.tell()
        await asyncio.to_thread(file.seek, 0)
    except BaseException:
        file.close()
        raise
    return LettersFile(file=file, size=size, record=record)


def _anonymous_file() -> BinaryIO:
    # A file without a name (O_TMPFILE on Linux, removed at once elsewhere), only for us.
    return tempfile.TemporaryFile(prefix="invitations-letters-", suffix=".pdf")
