"""The imports list: past uploads, newest first, a keyset page at a time."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Q

from domain.errors import DomainError, ErrorCode
from domain.models import ImportStatus, InvitationImport

MAX_PAGE = 100


@dataclass(frozen=True, slots=True)
class ImportPage:
    imports: list[InvitationImport]
    cursors: list[str]
    has_next_page: bool


def _cursor(record: InvitationImport) -> str:
    raw = json.dumps([record.created_at.isoformat(), record.id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _after(cursor: str) -> tuple[datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created_at, import_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if isinstance(import_id, int) and isinstance(created_at, str):
            return datetime.fromisoformat(created_at), import_id
    except (ValueError, TypeError, binascii.Error):
        pass
    raise DomainError.single(
        ErrorCode.INVALID_INPUT,
        "This cursor does not belong to this list: start again from the first page.",
        "after",
    )


def _filtered(status: ImportStatus | None, created_by_id: int | None) -> Q:
    query = Q()
    if status is not None:
        query &= Q(status=status)
    if created_by_id is not None:
        query &= Q(created_by_id=created_by_id)
    return query


async def list_imports(
    *,
    first: int = 20,
    after: str | None = None,
    status: ImportStatus | None = None,
    created_by_id: int | None = None,
) -> ImportPage:
    """Imports newest first (then by id); a page continues after the last one seen."""
    if first < 0 or first > MAX_PAGE:
        raise DomainError.single(
            ErrorCode.INVALID_INPUT, f"Ask for between 0 and {MAX_PAGE} imports at a time.", "first"
        )
    query = _filtered(status, created_by_id)
    if after:
        created_at, import_id = _after(after)
        query &= Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=import_id)
    # Without the uploads themselves (up to 20 MiB each): the list never shows them.
    shown = [name for name in InvitationImport._meta.fields_db_projection if name != "content"]
    found = (
        await InvitationImport.filter(query)
        .only(*shown)
        .order_by("-created_at", "-id")
        .limit(first + 1)
    )
    page = found[:first]
    return ImportPage(
        imports=page, cursors=[_cursor(r) for r in page], has_next_page=len(found) > first
    )


async def count_imports(
    *, status: ImportStatus | None = None, created_by_id: int | None = None
) -> int:
    return await InvitationImport.filter(_filtered(status, created_by_id)).count()
