"""Import mutations: upload an Excel file of invitations."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.file_uploads import Upload

from domain.errors import ErrorCode, Problem
from domain.imports import service as imports
from schema.boundary import perform
from schema.context import Info
from schema.errors import UserError
from schema.imports.types import ImportInvitationsPayload, InvitationImport
from schema.invitations.mutations import InvitationOptionsInput, options_of
from schema.permissions import IsAdmin


@strawberry.type
class ImportMutations:
    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Import invitations from an .xlsx file (the template's columns), sent as a"
        " multipart upload with an `Apollo-Require-Preflight` header. Returns at once; a worker"
        " checks every row and imports all of them or none. A filled-in cell overrides"
        " `defaults` for its row; a blank one keeps it.",
    )
    async def import_invitations(
        self,
        info: Info,
        file: Upload,
        defaults: InvitationOptionsInput | None = None,
        dry_run: Annotated[
            bool,
            strawberry.argument(
                description="A preview: the worker checks every row as for real and writes"
                " nothing, mails nobody; the import's `outcome` says what it would do."
            ),
        ] = False,
    ) -> ImportInvitationsPayload:
        admin = await info.context.viewer()
        assert admin is not None
        read = getattr(file, "read", None)
        if read is None:
            info.context.refused = True
            return ImportInvitationsPayload(
                invitation_import=None,
                errors=[
                    UserError.from_problem(
                        Problem(
                            ErrorCode.INVALID_INPUT,
                            "Send the file as a multipart upload (the GraphQL multipart request"
                            " spec), not as a value.",
                            "file",
                        )
                    )
                ],
            )
        # One byte past the limit is enough to refuse the file as too large.
        content: bytes = await read(info.context.settings.import_max_file_bytes + 1)
        record, errors = await perform(
            info,
            imports.start_import(
                admin=admin,
                file_name=str(getattr(file, "filename", "") or ""),
                content=content,
                options=options_of(defaults or InvitationOptionsInput()),
                dry_run=dry_run,
            ),
        )
        return ImportInvitationsPayload(
            invitation_import=InvitationImport.from_model(record) if record else None,
            errors=errors,
        )
