"""PostgreSQL indexes for the invitation search: prefix matches on the lowered names and email.

`text_pattern_ops` lets LIKE 'abc%' use the index whatever the database's collation. SQLite
(the laptop default) has no such operator class and does without.
"""

from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops

_INDEXES = {
    "invitations_email_pattern_idx": "email varchar_pattern_ops",
    "invitations_first_name_pattern_idx": "lower(first_name) text_pattern_ops",
    "invitations_last_name_pattern_idx": "lower(last_name) text_pattern_ops",
}


async def create_pattern_indexes(apps: Any, schema_editor: Any) -> None:
    if schema_editor.client.capabilities.dialect != "postgres":
        return
    for name, expression in _INDEXES.items():
        await schema_editor.client.execute_script(
            f"CREATE INDEX IF NOT EXISTS {name} ON invitations ({expression})"
        )


async def drop_pattern_indexes(apps: Any, schema_editor: Any) -> None:
    if schema_editor.client.capabilities.dialect != "postgres":
        return
    for name in _INDEXES:
        await schema_editor.client.execute_script(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("models", "0002_indexes")]

    initial = False

    operations = [ops.RunPython(create_pattern_indexes, drop_pattern_indexes)]
