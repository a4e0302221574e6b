"""Migration operations of our own, for where Tortoise's do the wrong thing."""

from typing import Any

from tortoise.migrations import operations as ops


class AlterFieldKeepingSqliteTable(ops.AlterField):
    """An AlterField that leaves SQLite's table alone.

    Tortoise applies any AlterField on SQLite by re-creating the table, and the copy loses
    the table's indexes. Use this only for changes SQLite does not need (a description, a
    foreign key's enforcement); PostgreSQL gets the real change.
    """

    async def database_forward(
        self, app_label: str, old_state: Any, new_state: Any, state_editor: Any = None
    ) -> None:
        if state_editor is not None and state_editor.client.capabilities.dialect == "sqlite":
            return
        await super().database_forward(app_label, old_state, new_state, state_editor)

    async def database_backward(
        self, app_label: str, old_state: Any, new_state: Any, state_editor: Any = None
    ) -> None:
        if state_editor is not None and state_editor.client.capabilities.dialect == "sqlite":
            return
        await super().database_backward(app_label, old_state, new_state, state_editor)


class AlterFieldInStateOnly(ops.AlterField):
    """An AlterField that changes only the migrations' picture of the model: the migration
    changes the tables itself (a RunPython beside it), where Tortoise's own statement cannot
    convert the stored values."""

    async def database_forward(
        self, app_label: str, old_state: Any, new_state: Any, state_editor: Any = None
    ) -> None:
        return

    async def database_backward(
        self, app_label: str, old_state: Any, new_state: Any, state_editor: Any = None
    ) -> None:
        return


async def on_postgres(schema_editor: Any, statement: str) -> None:
    """Run a statement on PostgreSQL only (triggers, storage settings: SQLite has neither)."""
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        await client.execute_script(statement)


class AddFieldInStateOnly(ops.AddField):
    """An AddField that changes only the migrations' picture of the model: the migration adds
    the column itself (a RunPython beside it), where Tortoise's own statement would add it NOT
    NULL without a default, which a table with rows refuses."""

    async def database_forward(
        self, app_label: str, old_state: Any, new_state: Any, state_editor: Any = None
    ) -> None:
        return

    async def database_backward(
        self, app_label: str, old_state: Any, new_state: Any, state_editor: Any = None
    ) -> None:
        return
