"""Platform data queries (admins)."""

from __future__ import annotations

import strawberry

from domain.models import Group as GroupModel
from domain.models import Project as ProjectModel
from domain.models import RegistrationField as RegistrationFieldModel
from schema.context import Info
from schema.permissions import IsAdmin
from schema.platform.types import Group, Project, RegistrationField


@strawberry.type
class PlatformQueries:
    @strawberry.field(permission_classes=[IsAdmin], description="Every group, by title.")
    async def groups(self, info: Info) -> list[Group]:
        return [Group.from_model(g) for g in await GroupModel.all().order_by("title")]

    @strawberry.field(
        permission_classes=[IsAdmin],
        description="One group (its members a page at a time), or null.",
    )
    async def group(self, info: Info, id: strawberry.ID) -> Group | None:
        group_id = int(id) if str(id).isascii() and str(id).isdigit() else None
        found = await GroupModel.get_or_none(id=group_id) if group_id and group_id < 2**31 else None
        return Group.from_model(found) if found else None

    @strawberry.field(permission_classes=[IsAdmin], description="Every project, by title.")
    async def projects(self, info: Info) -> list[Project]:
        return [Project.from_model(p) for p in await ProjectModel.all().order_by("title", "id")]

    @strawberry.field(description="The custom fields of the registration form (public).")
    async def registration_fields(self, info: Info) -> list[RegistrationField]:
        return [
            RegistrationField.from_model(f)
            for f in await RegistrationFieldModel.all().order_by("id")
        ]
