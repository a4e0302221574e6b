"""Imports: the name of the worksheet an import read its rows from (the workbook's first
visible worksheet: chart sheets and hidden sheets before it are passed over). A new column with
a database default, which the imports already there take (no name known): no table is rebuilt,
on SQLite either."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0019_import_dry_runs")]

    initial = False

    operations = [
        ops.AddField(
            model_name="InvitationImport",
            name="sheet_name",
            field=fields.CharField(default="", db_default="", max_length=255),
        ),
    ]
