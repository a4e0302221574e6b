"""Groups and registration fields get a title per platform locale (`title_multiloc`), beside
the title in the default locale; select options keep theirs inside `options`. Existing rows
start with none: every locale shows their title until an admin gives one."""

import functools
from json import dumps, loads
from typing import Any

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from domain.migrations._operations import AddFieldInStateOnly

_TABLES = ("groups", "registration_fields")


async def forward(apps: Any, schema_editor: Any) -> None:
    client = schema_editor.client
    kind = "JSONB" if client.capabilities.dialect == "postgres" else "JSON"
    for table in _TABLES:
        await client.execute_script(
            f"ALTER TABLE {table} ADD COLUMN title_multiloc {kind} NOT NULL DEFAULT '{{}}'"
        )


async def backward(apps: Any, schema_editor: Any) -> None:
    for table in _TABLES:
        await schema_editor.client.execute_script(f"ALTER TABLE {table} DROP COLUMN title_multiloc")


def _titles() -> Any:
    return fields.JSONField(
        default=dict, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
    )


class Migration(migrations.Migration):
    dependencies = [("models", "0012_grants_of_new_invitations")]

    initial = False

    operations = [
        AddFieldInStateOnly(model_name="Group", name="title_multiloc", field=_titles()),
        AddFieldInStateOnly(model_name="RegistrationField", name="title_multiloc", field=_titles()),
        ops.RunPython(forward, backward),
    ]
