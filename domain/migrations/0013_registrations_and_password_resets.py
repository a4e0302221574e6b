"""Registrations (claims on an address until it is confirmed) and password reset links.

An account now exists only once its address is proven. The accounts made before this migration
whose address was never confirmed (a sign-up, or a letter's code used with an address) become
registrations: their owner asks for a new code (the old one is void) and confirms as any
registration does, and a letter whose code made one still waits for that confirmation. Their
sessions end here, and the access a letter gave them is taken back until the address is
confirmed. Going back leaves them as registrations (the tables are dropped: they are gone).
"""

import json
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

_UNCONFIRMED = (
    "SELECT id, email, password_hash, first_name, last_name, locale, registration_field_values"
    " FROM users WHERE email_confirmed_at IS NULL ORDER BY id"
)
_LETTER = (
    "SELECT max(id) AS id FROM invitations WHERE accepted_user_id = {0} AND email = ''"
)
_INSERT = (
    "INSERT INTO registrations (email, password_hash, first_name, last_name, locale,"
    " registration_field_values, invitation_id, token_digest, code_digest, code_encrypted,"
    " code_expires_at, code_send_no, code_sent_no, failed_attempts, created_at, expires_at)"
    " VALUES ({0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, '', {9}, 1, 1, 0, {9}, {10})"
)
# What pointed at the account: ended, or let go of (SQLite may not cascade by itself).
_RELEASE = [
    "DELETE FROM sessions WHERE user_id = {0}",
    "DELETE FROM roles WHERE user_id = {0}",
    "DELETE FROM memberships WHERE user_id = {0}",
    "DELETE FROM email_confirmations WHERE user_id = {0}",
    "UPDATE invitations SET accepted_user_id = NULL WHERE accepted_user_id = {0}",
    "UPDATE invitations SET inviter_id = NULL WHERE inviter_id = {0}",
    "UPDATE invitation_imports SET created_by_id = NULL WHERE created_by_id = {0}",
    "UPDATE invitation_exports SET exported_by_id = NULL WHERE exported_by_id = {0}",
    "DELETE FROM users WHERE id = {0}",
]


async def forward(apps: Any, schema_editor: Any) -> None:
    client = schema_editor.client
    postgres = client.capabilities.dialect == "postgres"

    def sql(statement: str, count: int) -> str:
        marks = [f"${i + 1}" if postgres else f"?{i + 1}" for i in range(count)]
        return statement.format(*marks)

    def moment(value: datetime) -> Any:
        return value if postgres else value.isoformat()

    now = datetime.now(timezone.utc)
    for user in await client.execute_query_dict(_UNCONFIRMED):
        [letter] = await client.execute_query_dict(sql(_LETTER, 1), [user["id"]])
        values = user["registration_field_values"]
        await client.execute_query(
            sql(_INSERT, 11),
            [
                user["email"],
                user["password_hash"],
                user["first_name"],
                user["last_name"],
                user["locale"],
                values if isinstance(values, str) else json.dumps(values or {}),
                letter["id"],
                # Nobody holds a token or a code for it: a new code is asked for.
                secrets.token_hex(32),
                secrets.token_hex(32),
                moment(now),
                moment(now + timedelta(days=7)),
            ],
        )
        for statement in _RELEASE:
            await client.execute_query(sql(statement, 1), [user["id"]])


async def backward(apps: Any, schema_editor: Any) -> None:
    return


class Migration(migrations.Migration):
    dependencies = [('models', '0012_grants_of_new_invitations')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PasswordReset',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', null=True, db_constraint=True, to_field='id', related_name='password_resets', on_delete=OnDelete.CASCADE)),
                ('email', fields.CharField(default='', max_length=320)),
                ('token_digest', fields.CharField(unique=True, max_length=64)),
                ('token_encrypted', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'password_resets', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Registration',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('email', fields.CharField(db_index=True, max_length=320)),
                ('password_hash', fields.CharField(max_length=255)),
                ('first_name', fields.CharField(default='', max_length=100)),
                ('last_name', fields.CharField(default='', max_length=100)),
                ('locale', fields.CharField(max_length=16)),
                ('registration_field_values', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('invitation', fields.ForeignKeyField('models.Invitation', source_field='invitation_id', null=True, db_constraint=True, to_field='id', related_name='registrations', on_delete=OnDelete.SET_NULL)),
                ('token_digest', fields.CharField(unique=True, max_length=64)),
                ('code_digest', fields.CharField(max_length=64)),
                ('code_encrypted', fields.TextField(unique=False)),
                ('code_expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('code_send_no', fields.IntField(default=1)),
                ('code_sent_no', fields.IntField(default=0)),
                ('failed_attempts', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'registrations', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.RunPython(forward, backward),
    ]
