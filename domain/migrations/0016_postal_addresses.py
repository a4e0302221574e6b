"""Letters: an invitation's postal address (printed in the envelope's window, erased once the
invitation is accepted), and which kind of download each export record is (the token export,
letters or cards). Both are new columns with a database default, which the rows already there
take (an empty address, the token export): no table is rebuilt, on SQLite either."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from domain.models.invitation import ExportKind


class Migration(migrations.Migration):
    dependencies = [("models", "0015_mail_delivery_events")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Invitation",
            name="postal_address",
            field=fields.CharField(default="", db_default="", max_length=500),
        ),
        ops.AddField(
            model_name="InvitationExport",
            name="kind",
            field=fields.CharEnumField(
                default=ExportKind.XLSX,
                db_default=ExportKind.XLSX,
                description="XLSX: xlsx\nLETTERS: letters\nCARDS: cards",
                enum_type=ExportKind,
                max_length=16,
            ),
        ),
    ]
