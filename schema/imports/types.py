"""GraphQL types of Excel imports."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain.imports.service import problems_of
from domain.invitations.outcome import Outcome
from domain.models import ImportStatus
from domain.models import InvitationImport as InvitationImportModel
from schema.context import Info
from schema.errors import UserError
from schema.invitations.types import InvitationOutcome

if TYPE_CHECKING:
    from schema.accounts.types import User

strawberry.enum(ImportStatus, name="InvitationImportStatus")


@strawberry.type(
    description="An uploaded Excel file of invitations: its progress while a worker imports it,"
    " then the counts (DONE) or every problem found (FAILED; nothing was imported)."
)
class InvitationImport:
    id: strawberry.ID
    file_name: str
    file_size: int = strawberry.field(description="In bytes.")
    status: ImportStatus
    rows_total: int = strawberry.field(
        description="Rows below the header, blank ones included; known once the file is read."
    )
    rows_processed: int = strawberry.field(
        description="Rows checked so far: the progress is rowsProcessed / rowsTotal."
    )
    invited_count: int = strawberry.field(description="Invitations created.")
    existing_users_updated_count: int = strawberry.field(
        description="Rows whose address already had an account: given the groups and roles now,"
        " without an invitation or a mail."
    )
    skipped_count: int = strawberry.field(description="Blank rows.")
    hidden_count: int = strawberry.field(
        description="Rows hidden by hand or by a filter, not read: only the rows the sheet"
        " shows are imported."
    )
    sheet_name: str = strawberry.field(
        description="The worksheet the rows are read from: the workbook's first visible"
        " worksheet with the header row in its first rows (chart sheets, hidden sheets and"
        " sheets without it before it are passed over). Empty until the file is read."
    )
    errors: list[UserError] = strawberry.field(
        description="Why nothing was imported: each problem with its sheet row, column (field),"
        " value and code."
    )
    dry_run: bool = strawberry.field(
        description="A preview: every row checked as for real, nothing written or mailed;"
        " `outcome` says what the import would do."
    )
    outcome: InvitationOutcome | None = strawberry.field(
        description="DONE imports: what the import did, or would do (a dry run)."
    )
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    _created_by_id: strawberry.Private[int | None]

    @strawberry.field(description="The admin who uploaded the file.")
    async def created_by(
        self, info: Info
    ) -> Annotated[User, strawberry.lazy("schema.accounts.types")] | None:
        from schema.accounts.types import User

        if self._created_by_id is None:
            return None
        user = await info.context.loaders.user.load(self._created_by_id)
        return User.from_model(user) if user else None

    @strawberry.field(
        description="FAILED imports: where to download the problems as a workbook to fix in"
        " place (the upload's rows with each problem cell marked, and the list of problems)."
        " A GET with the session token, or the console's cookie in a browser."
    )
    def problems_file_url(self, info: Info) -> str | None:
        if self.status is not ImportStatus.FAILED:
            return None
        return f"{info.context.settings.public_url}/invitations/imports/{self.id}/problems.xlsx"

    @classmethod
    def from_model(cls, record: InvitationImportModel) -> InvitationImport:
        return cls(
            id=strawberry.ID(str(record.id)),
            file_name=record.file_name,
            file_size=record.file_size,
            status=record.status,
            rows_total=record.rows_total,
            rows_processed=record.rows_processed,
            invited_count=record.invited_count,
            existing_users_updated_count=record.existing_users_updated_count,
            skipped_count=record.skipped_count,
            hidden_count=record.hidden_count,
            sheet_name=record.sheet_name,
            errors=[UserError.from_problem(problem) for problem in problems_of(record)],
            dry_run=record.dry_run,
            outcome=InvitationOutcome.from_domain(Outcome.from_stored(record.outcome))
            if record.outcome is not None
            else None,
            created_at=record.created_at,
            started_at=record.started_at,
            finished_at=record.finished_at,
            _created_by_id=record.created_by_id,  # type: ignore[attr-defined]
        )


@strawberry.type
class ImportInvitationsPayload:
    invitation_import: InvitationImport | None = strawberry.field(
        description="The import, queued: poll invitationImport(id) for its progress."
    )
    errors: list[UserError] = strawberry.field(
        description="Why the upload was refused at once (file too large, not a workbook, wrong"
        " defaults); problems inside the file are the import's own errors."
    )
