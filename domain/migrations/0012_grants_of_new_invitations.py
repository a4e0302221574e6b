"""The group grants' trigger (migrations 0008 and 0010) skips its invitation check for grants
the writer declares to name invitations its own transaction has just inserted.

Those invitations exist, and no other transaction can see them, let alone delete them, before
this one commits: looking each one up and locking it proves nothing. For the 33,000 grants of a
100,000-row import that was 0.06-0.08 s of the database's time after the last invitation was
stored, with the import waiting (`bench/README.md`). The writer (`_insert_grants`) sets
`invitations.grants_of_new_invitations` for its own COPY only, with `set_config(..., true)`
(the transaction's, and undone with a savepoint rolled back), and resets it after. Groups are
checked and locked as before; every other grant, and every update of a grant, is checked in
full. PostgreSQL only, as 0008.
"""

import importlib
from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops

from domain.migrations._operations import on_postgres

_EARLIER = importlib.import_module("domain.migrations.0010_grant_check_in_one_pass")

_SKIPPING = (
    "CREATE OR REPLACE FUNCTION invitation_groups_check() RETURNS trigger LANGUAGE plpgsql AS $$"
    "\nDECLARE\n  named bigint;\n  found bigint;\nBEGIN"
    + _EARLIER._CHECK.format(column="group_id", table="groups", what="a group")
    + "\n  IF current_setting('invitations.grants_of_new_invitations', true)"
    " IS DISTINCT FROM 'on' THEN"
    + _EARLIER._CHECK.format(column="invitation_id", table="invitations", what="an invitation")
    + "\n  END IF;\n  RETURN NULL;\nEND $$"
)


async def forward(apps: Any, schema_editor: Any) -> None:
    await on_postgres(schema_editor, _SKIPPING)


async def backward(apps: Any, schema_editor: Any) -> None:
    await on_postgres(schema_editor, _EARLIER._ONE_PASS)


class Migration(migrations.Migration):
    dependencies = [("models", "0011_upload_stored_as_is")]

    initial = False

    operations = [ops.RunPython(forward, backward)]
