"""Groups and registration fields get a title per platform locale (`title_multiloc`), beside
the title in the default locale; select options keep theirs inside `options`. Existing rows
start with none: every locale shows their title until an admin gives one.

And the accounts get the index a group's member pages walk: by last name in any case, then id
(`domain.groups.members`), so a page does not sort every member first."""

import functools
from json import dumps, loads
from typing import Any

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from domain.migrations._operations import AddFieldInStateOnly

_TABLES = ("groups", "registration_fields")
_INDEX = "users_last_name_lower_idx"


async def forward(apps: Any, schema_editor: Any) -> None:
    client = schema_editor.client
    kind = "JSONB" if client.capabilities.dialect == "postgres" else "JSON"
    for table in _TABLES:
        await client.execute_script(
            f"ALTER TABLE {table} ADD COLUMN title_multiloc {kind} NOT NULL DEFAULT '{{}}'"
        )
    await client.execute_script(f"CREATE INDEX {_INDEX} ON users (lower(last_name), id)")


async def backward(apps: Any, schema_editor: Any) -> None:
    await schema_editor.client.execute_script(f"DROP INDEX {_INDEX}")
    for table in _TABLES:
        await schema_editor.client.execute_script(f"ALTER TABLE {table} DROP COLUMN title_multiloc")


def _titles() -> Any:
    return fields.JSONField(
        default=dict, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
    )


class Migration(migrations.Migration):
    dependencies = [("models", "0016_postal_addresses")]

    initial = False

    operations = [
        AddFieldInStateOnly(model_name="Group", name="title_multiloc", field=_titles()),
        AddFieldInStateOnly(model_name="RegistrationField", name="title_multiloc", field=_titles()),
        ops.RunPython(forward, backward),
    ]
