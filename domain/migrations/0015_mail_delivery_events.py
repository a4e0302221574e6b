"""Mail delivery as it really happens.

- invitations: who holds a send's claim (`claimed_by`, renewed by its live worker), when a
  send was first deferred (`deferred_since`: deferrals end a day later), and what the relay's
  or the provider's later report said (`bounce_kind`, `feedback_at`; states `bounced` and
  `complained`). A partial index finds the deferred sends the sweep gives up on.
- mail_suppressions: the addresses sent nothing until an admin lifts them.
- invitation_imports: a running import's heartbeat and how many times it was started.
"""

from typing import Any

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from domain.migrations._operations import AlterFieldKeepingSqliteTable
from domain.models.invitation import BounceKind, DeliveryState, SuppressionReason


async def create_index(apps: Any, schema_editor: Any) -> None:
    await schema_editor.client.execute_script(
        "CREATE INDEX invitations_deferred_idx ON invitations (deferred_since)"
        " WHERE deferred_since IS NOT NULL"
    )


async def drop_index(apps: Any, schema_editor: Any) -> None:
    await schema_editor.client.execute_script("DROP INDEX IF EXISTS invitations_deferred_idx")


class Migration(migrations.Migration):
    dependencies = [("models", "0014_email_changes")]

    initial = False

    operations = [
        ops.CreateModel(
            name="MailSuppression",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("email", fields.CharField(unique=True, max_length=320)),
                ("reason", fields.CharEnumField(description="HARD_BOUNCE: hard_bounce\nCOMPLAINT: complaint", enum_type=SuppressionReason, max_length=16)),
                ("detail", fields.TextField(default="", unique=False)),
                ("source", fields.CharField(max_length=16)),
                ("invitation_id", fields.IntField(null=True)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={"table": "mail_suppressions", "app": "models", "pk_attr": "id", "table_description": "An address that is sent nothing (no invitation, reminder or resend) until an admin"},
            bases=["Model"],
        ),
        AlterFieldKeepingSqliteTable(
            model_name="Invitation",
            name="delivery_state",
            field=fields.CharEnumField(default=DeliveryState.QUEUED, description="NOT_SENT: not_sent\nQUEUED: queued\nSENDING: sending\nSENT: sent\nFAILED: failed\nBOUNCED: bounced\nCOMPLAINED: complained", enum_type=DeliveryState, max_length=16),
        ),
        ops.AddField(
            model_name="Invitation",
            name="bounce_kind",
            field=fields.CharEnumField(null=True, description="HARD: hard\nSOFT: soft", enum_type=BounceKind, max_length=8),
        ),
        ops.AddField(
            model_name="Invitation",
            name="claimed_by",
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name="Invitation",
            name="deferred_since",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name="Invitation",
            name="feedback_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name="InvitationImport",
            name="heartbeat_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name="InvitationImport",
            name="runs",
            field=fields.IntField(default=0),
        ),
        ops.RunPython(create_index, drop_index),
    ]
