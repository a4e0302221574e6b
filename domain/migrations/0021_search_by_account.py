"""The invitation search finds an accepted invitation by the account it made: the account's
address and names by prefix, then its invitations by `accepted_user_id`.

- invitations: a partial index on `accepted_user_id` (only accepted invitations have one, so an
  import, whose rows have none, writes nothing to it). Deleting an account finds its
  invitations through it too.
- users (PostgreSQL): the address and the lowered names with pattern operator classes, so a
  prefix LIKE uses them whatever the database's collation. Accounts are written one at a time:
  these cost little. SQLite (the laptop default) does without.
"""

from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops

_ACCEPTED = "invitations_accepted_user_idx"
_USERS = {
    "users_email_pattern_idx": "email varchar_pattern_ops",
    "users_first_name_pattern_idx": "lower(first_name) text_pattern_ops",
    "users_last_name_pattern_idx": "lower(last_name) text_pattern_ops",
}


async def create_indexes(apps: Any, schema_editor: Any) -> None:
    client = schema_editor.client
    await client.execute_script(
        f"CREATE INDEX {_ACCEPTED} ON invitations (accepted_user_id)"
        " WHERE accepted_user_id IS NOT NULL"
    )
    if client.capabilities.dialect != "postgres":
        return
    for name, expression in _USERS.items():
        await client.execute_script(f"CREATE INDEX {name} ON users ({expression})")


async def drop_indexes(apps: Any, schema_editor: Any) -> None:
    client = schema_editor.client
    for name in [_ACCEPTED, *_USERS]:
        await client.execute_script(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("models", "0020_import_sheet_name")]

    initial = False

    operations = [ops.RunPython(create_indexes, drop_indexes)]
