"""Import queries: an import's progress and outcome."""

from __future__ import annotations

import strawberry

from domain.imports import service as imports
from schema.context import Info
from schema.ids import parse_id
from schema.imports.types import InvitationImport
from schema.permissions import IsAdmin


@strawberry.type
class ImportQueries:
    @strawberry.field(
        permission_classes=[IsAdmin],
        description="An Excel import: poll it for its progress, then its counts or its errors.",
    )
    async def invitation_import(self, info: Info, id: strawberry.ID) -> InvitationImport | None:
        record = await imports.get_import(parse_id(id))
        return InvitationImport.from_model(record) if record else None
