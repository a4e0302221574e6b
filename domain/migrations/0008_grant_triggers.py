"""The group grants' two foreign keys become statement triggers (PostgreSQL).

A foreign key checks each new row on its own, with a query and a row lock per row, once the
statement has ended: for the 30,000 group grants of a 100,000-row import, about 0.3 s of the
database's time after the last invitation is stored, while the import waits. These triggers
do the same once per statement:
- new or changed grants: the groups and invitations they name must exist, and are locked
  FOR KEY SHARE until the transaction ends (as the foreign keys lock them, so that a group
  or an invitation being deleted meanwhile waits, then takes its grants with it);
- a deleted invitation or group deletes its grants (ON DELETE CASCADE).
Ids are never changed, so there is nothing for an update of an id to do. SQLite keeps its
constraints.
"""

from typing import Any

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops

from domain.migrations._operations import AlterFieldKeepingSqliteTable, on_postgres

_FORWARD = [
    "ALTER TABLE invitation_groups DROP CONSTRAINT IF EXISTS invitation_groups_invitation_id_fkey",
    "ALTER TABLE invitation_groups DROP CONSTRAINT IF EXISTS invitation_groups_group_id_fkey",
    """
CREATE FUNCTION invitation_groups_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM groups WHERE id IN (SELECT group_id FROM added) FOR KEY SHARE;
  PERFORM 1 FROM invitations WHERE id IN (SELECT invitation_id FROM added) FOR KEY SHARE;
  IF EXISTS (
    SELECT 1 FROM added a WHERE NOT EXISTS (SELECT 1 FROM groups g WHERE g.id = a.group_id)
  ) THEN
    RAISE EXCEPTION 'a group grant names a group that does not exist'
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  IF EXISTS (
    SELECT 1 FROM added a
    WHERE NOT EXISTS (SELECT 1 FROM invitations i WHERE i.id = a.invitation_id)
  ) THEN
    RAISE EXCEPTION 'a group grant names an invitation that does not exist'
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN NULL;
END $$""",
    # One trigger per event: a trigger with a transition table may have only one.
    *(
        f"CREATE TRIGGER invitation_groups_{done} AFTER {event} ON invitation_groups"
        " REFERENCING NEW TABLE AS added FOR EACH STATEMENT"
        " EXECUTE FUNCTION invitation_groups_check()"
        for event, done in (("INSERT", "inserted"), ("UPDATE", "updated"))
    ),
    # ON DELETE CASCADE, from invitations and from groups.
    *(
        statement
        for table, column in (("invitations", "invitation_id"), ("groups", "group_id"))
        for statement in (
            f"CREATE FUNCTION invitation_groups_of_deleted_{table}() RETURNS trigger"
            " LANGUAGE plpgsql AS $$ BEGIN"
            f" DELETE FROM invitation_groups WHERE {column} IN (SELECT id FROM removed);"
            " RETURN NULL; END $$",
            f"CREATE TRIGGER {table}_deleted_grants AFTER DELETE ON {table}"
            " REFERENCING OLD TABLE AS removed FOR EACH STATEMENT"
            f" EXECUTE FUNCTION invitation_groups_of_deleted_{table}()",
        )
    ),
]
_BACKWARD = [
    "DROP TRIGGER IF EXISTS groups_deleted_grants ON groups",
    "DROP TRIGGER IF EXISTS invitations_deleted_grants ON invitations",
    "DROP TRIGGER IF EXISTS invitation_groups_updated ON invitation_groups",
    "DROP TRIGGER IF EXISTS invitation_groups_inserted ON invitation_groups",
    "DROP FUNCTION IF EXISTS invitation_groups_of_deleted_groups()",
    "DROP FUNCTION IF EXISTS invitation_groups_of_deleted_invitations()",
    "DROP FUNCTION IF EXISTS invitation_groups_check()",
    "ALTER TABLE invitation_groups ADD FOREIGN KEY (invitation_id) REFERENCES invitations (id)"
    " ON DELETE CASCADE",
    "ALTER TABLE invitation_groups ADD FOREIGN KEY (group_id) REFERENCES groups (id)"
    " ON DELETE CASCADE",
]


async def forward(apps: Any, schema_editor: Any) -> None:
    for statement in _FORWARD:
        await on_postgres(schema_editor, statement)


async def backward(apps: Any, schema_editor: Any) -> None:
    for statement in _BACKWARD:
        await on_postgres(schema_editor, statement)


def _grant_field(model: str, related_name: str) -> Any:
    return fields.ForeignKeyField(
        f"models.{model}",
        source_field=f"{model.lower()}_id",
        db_constraint=False,
        to_field="id",
        related_name=related_name,
        on_delete=OnDelete.CASCADE,
    )


class Migration(migrations.Migration):
    dependencies = [("models", "0007_admin_invitations")]

    initial = False

    operations = [
        AlterFieldKeepingSqliteTable(
            model_name="InvitationGroup",
            name="invitation",
            field=_grant_field("Invitation", "groups"),
        ),
        AlterFieldKeepingSqliteTable(
            model_name="InvitationGroup",
            name="group",
            field=_grant_field("Group", "invitation_grants"),
        ),
        ops.RunPython(forward, backward),
    ]
