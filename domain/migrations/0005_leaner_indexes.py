"""Fewer, better indexes on invitations: every index slows every insert of a large import.

- email in byte order (COLLATE "C" on PostgreSQL): one (email, id) index serves both the
  ordering and the prefix search, instead of a second varchar_pattern_ops index.
- last names sorted without regard to case: one (lower(last_name), id) index serves the
  ordering and the prefix search, instead of (last_name, id) plus a pattern index.
- delivery state: only the failed invitations need finding fast (a partial index); the
  others show up at the top of the default ordering.
- no foreign key constraint from invitations to their import (PostgreSQL; SQLite keeps
  its table as it is).
"""

from typing import Any

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops

from domain.migrations._operations import AlterFieldKeepingSqliteTable

_POSTGRES = [
    "ALTER TABLE invitations DROP CONSTRAINT IF EXISTS invitations_invitation_import_id_fkey",
    "DROP INDEX IF EXISTS invitations_email_pattern_idx",
    "DROP INDEX IF EXISTS invitations_last_name_pattern_idx",
    'ALTER TABLE invitations ALTER COLUMN email TYPE varchar(320) COLLATE "C"',
    "CREATE INDEX invitations_email_idx ON invitations (email, id)",
    'CREATE INDEX invitations_last_name_idx ON invitations ((lower(last_name) COLLATE "C"), id)',
    "CREATE INDEX invitations_failed_idx ON invitations (created_at, id)"
    " WHERE delivery_state = 'failed'",
]
_SQLITE = [
    "CREATE INDEX invitations_email_idx ON invitations (email, id)",
    "CREATE INDEX invitations_last_name_idx ON invitations (lower(last_name), id)",
    "CREATE INDEX invitations_failed_idx ON invitations (created_at, id)"
    " WHERE delivery_state = 'failed'",
]


async def create_indexes(apps: Any, schema_editor: Any) -> None:
    client = schema_editor.client
    postgres = client.capabilities.dialect == "postgres"
    for statement in _POSTGRES if postgres else _SQLITE:
        await client.execute_script(statement)


async def drop_indexes(apps: Any, schema_editor: Any) -> None:
    client = schema_editor.client
    for name in ("invitations_email_idx", "invitations_last_name_idx", "invitations_failed_idx"):
        await client.execute_script(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("models", "0004_sending_state")]

    initial = False

    operations = [
        ops.RemoveIndex(model_name="Invitation", name=None, fields=["email", "id"]),
        ops.RemoveIndex(model_name="Invitation", name=None, fields=["last_name", "id"]),
        ops.RemoveIndex(model_name="Invitation", name=None, fields=["delivery_state", "id"]),
        AlterFieldKeepingSqliteTable(
            model_name="Invitation",
            name="invitation_import",
            field=fields.ForeignKeyField(
                "models.InvitationImport",
                source_field="invitation_import_id",
                null=True,
                db_constraint=False,
                to_field="id",
                related_name="invitations",
                on_delete=OnDelete.SET_NULL,
            ),
        ),
        ops.RunPython(create_indexes, drop_indexes),
    ]
