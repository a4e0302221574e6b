"""The imports list: past uploads, newest first, a keyset page at a time (admins)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import strawberry

from domain.imports.history import count_imports, list_imports
from domain.models import ImportStatus
from schema.context import Info
from schema.ids import parse_id
from schema.imports.types import InvitationImport
from schema.pages import PageInfo
from schema.permissions import IsAdmin


@strawberry.input
class InvitationImportFilterInput:
    status: ImportStatus | None = None
    created_by_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only the uploads of this admin."
    )


@strawberry.type
class InvitationImportEdge:
    node: InvitationImport
    cursor: str


@strawberry.type
class InvitationImportConnection:
    edges: list[InvitationImportEdge]
    page_info: PageInfo
    _count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many imports match the filter (all pages).")
    async def total_count(self) -> int:
        return await self._count()


@strawberry.type
class ImportHistoryQueries:
    @strawberry.field(
        permission_classes=[IsAdmin],
        description="Past Excel imports, newest first: who uploaded which file when, its"
        " status and counts. `after` is the endCursor of the page before.",
    )
    async def invitation_imports(
        self,
        info: Info,
        filter: InvitationImportFilterInput | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> InvitationImportConnection:
        status = filter.status if filter else None
        created_by = parse_id(filter.created_by_id) if filter and filter.created_by_id else None
        page = await list_imports(first=first, after=after, status=status, created_by_id=created_by)
        return InvitationImportConnection(
            edges=[
                InvitationImportEdge(node=InvitationImport.from_model(record), cursor=cursor)
                for record, cursor in zip(page.imports, page.cursors, strict=True)
            ],
            page_info=PageInfo.of(page.cursors, has_next_page=page.has_next_page, after=after),
            _count=lambda: count_imports(status=status, created_by_id=created_by),
        )
