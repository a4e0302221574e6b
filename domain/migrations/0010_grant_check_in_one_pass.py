"""The group grants' statement trigger (migration 0008) checks and locks the groups and the
invitations its new rows name in one pass each, instead of two: it locks the rows that exist
and compares their number with the number of distinct ids named. For the 33,000 grants of a
100,000-row import, a third less of the database's time after the last invitation is stored
(`bench/README.md`). PostgreSQL only, as 0008.
"""

import importlib
from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops

from domain.migrations._operations import on_postgres

# The locks and the refusals are those of 0008, for each table the grants name.
_CHECK = """
  SELECT count(DISTINCT {column}) INTO named FROM added;
  SELECT count(*) INTO found FROM (
    SELECT 1 FROM {table} WHERE id IN (SELECT {column} FROM added) FOR KEY SHARE
  ) AS locked;
  IF found < named THEN
    RAISE EXCEPTION 'a group grant names {what} that does not exist'
      USING ERRCODE = 'foreign_key_violation';
  END IF;"""

_ONE_PASS = (
    "CREATE OR REPLACE FUNCTION invitation_groups_check() RETURNS trigger LANGUAGE plpgsql AS $$"
    "\nDECLARE\n  named bigint;\n  found bigint;\nBEGIN"
    + _CHECK.format(column="group_id", table="groups", what="a group")
    + _CHECK.format(column="invitation_id", table="invitations", what="an invitation")
    + "\n  RETURN NULL;\nEND $$"
)


def _two_passes() -> str:
    """0008's own function, to go back to."""
    earlier = importlib.import_module("domain.migrations.0008_grant_triggers")
    created = "CREATE FUNCTION invitation_groups_check()"
    [function] = [s for s in earlier._FORWARD if s.strip().startswith(created)]
    return str(function).replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)


async def forward(apps: Any, schema_editor: Any) -> None:
    await on_postgres(schema_editor, _ONE_PASS)


async def backward(apps: Any, schema_editor: Any) -> None:
    await on_postgres(schema_editor, _two_passes())


class Migration(migrations.Migration):
    dependencies = [("models", "0009_short_token_digests")]

    initial = False

    operations = [ops.RunPython(forward, backward)]
