"""Group titles are unique whatever their case ("Volunteers" and "volunteers" are one group:
the Excel import finds groups by title, case-insensitively)."""

from tortoise import migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0005_leaner_indexes")]

    initial = False

    operations = [
        ops.RunSQL(
            "CREATE UNIQUE INDEX groups_title_lower_uniq ON groups (lower(title))",
            reverse_sql="DROP INDEX groups_title_lower_uniq",
        ),
    ]
