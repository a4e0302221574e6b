"""An import's upload is stored as it is, without PostgreSQL trying to compress it.

An .xlsx is a zip: compressed already. PostgreSQL's TOAST compression (pglz) tried anyway, on
every upload, and gained nothing: 0.04 s to store a 2.6 MiB file instead of 0.015 s, on the
way to answering the upload (`bench/README.md`). EXTERNAL keeps the value out of line, as
before, uncompressed. Only new values are stored so; SQLite has no such setting.
"""

from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops

from domain.migrations._operations import on_postgres


_STORAGE = "ALTER TABLE invitation_imports ALTER COLUMN content SET STORAGE {}"


async def forward(apps: Any, schema_editor: Any) -> None:
    await on_postgres(schema_editor, _STORAGE.format("EXTERNAL"))


async def backward(apps: Any, schema_editor: Any) -> None:
    await on_postgres(schema_editor, _STORAGE.format("EXTENDED"))


class Migration(migrations.Migration):
    dependencies = [("models", "0010_grant_check_in_one_pass")]

    initial = False

    operations = [ops.RunPython(forward, backward)]
