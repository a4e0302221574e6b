"""Imports: how many rows were hidden (by hand or by a filter) and so not read: what the admin
sees is what she means. A new column with a database default, which the imports already there
take: no table is rebuilt, on SQLite either."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0023_used_registration_codes")]

    initial = False

    operations = [
        ops.AddField(
            model_name="InvitationImport",
            name="hidden_count",
            field=fields.IntField(default=0, db_default=0),
        ),
    ]
