"""Imports may be dry runs (`dry_run`), and a finished import keeps what it did, or would do,
in counts (`outcome`): invitations, mails, code-only invitations, accounts updated, new admins
and project managers. Existing imports are real runs without counts."""

from typing import Any

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from domain.migrations._operations import AddFieldInStateOnly


async def forward(apps: Any, schema_editor: Any) -> None:
    client = schema_editor.client
    postgres = client.capabilities.dialect == "postgres"
    await client.execute_script(
        "ALTER TABLE invitation_imports ADD COLUMN dry_run"
        + (" BOOL NOT NULL DEFAULT FALSE" if postgres else " INT NOT NULL DEFAULT 0")
    )
    await client.execute_script(
        "ALTER TABLE invitation_imports ADD COLUMN outcome" + (" JSONB" if postgres else " JSON")
    )


async def backward(apps: Any, schema_editor: Any) -> None:
    for column in ("outcome", "dry_run"):
        await schema_editor.client.execute_script(
            f"ALTER TABLE invitation_imports DROP COLUMN {column}"
        )


class Migration(migrations.Migration):
    dependencies = [("models", "0018_webhooks")]

    initial = False

    operations = [
        AddFieldInStateOnly(
            model_name="InvitationImport", name="dry_run", field=fields.BooleanField(default=False)
        ),
        AddFieldInStateOnly(
            model_name="InvitationImport", name="outcome", field=fields.JSONField(null=True)
        ),
        ops.RunPython(forward, backward),
    ]
