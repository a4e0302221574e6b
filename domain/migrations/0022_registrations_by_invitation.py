"""A letter waits for its registration: the console's list asks, for each row of a page,
whether a registration holds its code, and deleting invitations finds their registrations (the
foreign key's SET NULL). Both look registrations up by `invitation_id`, which had no index: a
scan of every pending registration for each row. A partial index (sign-ups at /account have no
invitation, so they write nothing to it)."""

from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops

_INDEX = "registrations_invitation_idx"


async def create_index(apps: Any, schema_editor: Any) -> None:
    await schema_editor.client.execute_script(
        f"CREATE INDEX {_INDEX} ON registrations (invitation_id) WHERE invitation_id IS NOT NULL"
    )


async def drop_index(apps: Any, schema_editor: Any) -> None:
    await schema_editor.client.execute_script(f"DROP INDEX IF EXISTS {_INDEX}")


class Migration(migrations.Migration):
    dependencies = [("models", "0021_search_by_account")]

    initial = False

    operations = [ops.RunPython(create_index, drop_index)]
