"""One uploaded Excel file of invitations and the progress of its background import."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from domain.models.user import User


class ImportStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class InvitationImport(Model):
    id = fields.IntField(primary_key=True)
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="invitation_imports", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    file_name = fields.CharField(max_length=255, default="")
    file_size = fields.IntField(default=0)
    file_sha256 = fields.CharField(max_length=64, default="")
    # The upload itself, dropped once the import has finished (the workers may run elsewhere).
    content = fields.BinaryField(null=True)
    defaults: dict[str, Any] = fields.JSONField(default=dict)
    status = fields.CharEnumField(ImportStatus, max_length=16, default=ImportStatus.QUEUED)
    rows_total = fields.IntField(default=0)
    rows_processed = fields.IntField(default=0)
    invited_count = fields.IntField(default=0)
    existing_users_updated_count = fields.IntField(default=0)
    skipped_count = fields.IntField(default=0)
    # Rows hidden by hand or by a filter, not read: not what the admin saw.
    hidden_count = fields.IntField(default=0, db_default=0)
    # The worksheet the rows are read from (the workbook's first visible one), once read.
    sheet_name = fields.CharField(max_length=255, default="", db_default="")
    errors: list[dict[str, Any]] = fields.JSONField(default=list)
    # A dry run checks every row as a real import does and writes nothing but this record.
    dry_run = fields.BooleanField(default=False)
    # Once DONE: what the import did, or would do for a dry run (domain.invitations.outcome).
    outcome: dict[str, int] | None = fields.JSONField(null=True)
    started_at = fields.DatetimeField(null=True)
    # While running: the worker's last sign of life (every few seconds), and how many times a
    # worker started it (a dead worker's import is started again, a bounded number of times).
    heartbeat_at = fields.DatetimeField(null=True)
    runs = fields.IntField(default=0)
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "invitation_imports"
