"""Invitations that make admins are rare: a partial index finds them for the list's role
filter without walking every invitation (it costs nothing for the others)."""

from tortoise import migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0006_group_titles")]

    initial = False

    operations = [
        ops.RunSQL(
            "CREATE INDEX invitations_admin_idx ON invitations (created_at, id) WHERE is_admin",
            reverse_sql="DROP INDEX invitations_admin_idx",
        ),
    ]
