from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from domain.models.group import GroupKind
from domain.models.invitation import DeliveryState, InvitationStatus
from domain.models.invitation_import import ImportStatus
from domain.models.registration_field import FieldType
from domain.models.role import RoleKind
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Group',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('title', fields.CharField(unique=True, max_length=200)),
                ('kind', fields.CharEnumField(description='MANUAL: manual\nSMART: smart', enum_type=GroupKind, max_length=16)),
                ('rules', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('match_all', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'groups', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Project',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('title', fields.CharField(max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'projects', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RegistrationField',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(unique=True, max_length=64)),
                ('title', fields.CharField(max_length=200)),
                ('type', fields.CharEnumField(description='TEXT: text\nNUMBER: number\nSELECT: select\nCHECKBOX: checkbox\nDATE: date', enum_type=FieldType, max_length=16)),
                ('options', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('required', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'registration_fields', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='User',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('email', fields.CharField(max_length=320)),
                ('first_name', fields.CharField(default='', max_length=100)),
                ('last_name', fields.CharField(default='', max_length=100)),
                ('locale', fields.CharField(max_length=16)),
                ('password_hash', fields.CharField(max_length=255)),
                ('email_confirmed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('registered_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('registration_field_values', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'users', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='EmailConfirmation',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='email_confirmations', on_delete=OnDelete.CASCADE)),
                ('code_digest', fields.CharField(max_length=64)),
                ('code_encrypted', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('failed_attempts', fields.IntField(default=0)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'email_confirmations', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='InvitationExport',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('exported_by', fields.ForeignKeyField('models.User', source_field='exported_by_id', null=True, db_constraint=True, to_field='id', related_name='invitation_exports', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('row_count', fields.IntField(default=0)),
                ('filters', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'invitation_exports', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A record of who downloaded the token export, when, and how many rows.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='InvitationImport',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='invitation_imports', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('file_name', fields.CharField(default='', max_length=255)),
                ('file_size', fields.IntField(default=0)),
                ('file_sha256', fields.CharField(default='', max_length=64)),
                ('content', fields.BinaryField(null=True)),
                ('defaults', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharEnumField(default=ImportStatus.QUEUED, description='QUEUED: queued\nRUNNING: running\nDONE: done\nFAILED: failed', enum_type=ImportStatus, max_length=16)),
                ('rows_total', fields.IntField(default=0)),
                ('rows_processed', fields.IntField(default=0)),
                ('invited_count', fields.IntField(default=0)),
                ('existing_users_updated_count', fields.IntField(default=0)),
                ('skipped_count', fields.IntField(default=0)),
                ('errors', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('started_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'invitation_imports', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Invitation',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('email', fields.CharField(default='', max_length=320)),
                ('first_name', fields.CharField(default='', max_length=100)),
                ('last_name', fields.CharField(default='', max_length=100)),
                ('locale', fields.CharField(max_length=16)),
                ('personal_message', fields.TextField(default='', unique=False)),
                ('is_admin', fields.BooleanField(default=False)),
                ('registration_field_values', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('send_email', fields.BooleanField(default=True)),
                ('inviter', fields.ForeignKeyField('models.User', source_field='inviter_id', null=True, db_constraint=True, to_field='id', related_name='invitations_sent', on_delete=OnDelete.SET_NULL)),
                ('invitation_import', fields.ForeignKeyField('models.InvitationImport', source_field='invitation_import_id', null=True, db_constraint=True, to_field='id', related_name='invitations', on_delete=OnDelete.SET_NULL)),
                ('token_digest', fields.CharField(unique=True, max_length=64)),
                ('token_encrypted', fields.TextField(unique=False)),
                ('status', fields.CharEnumField(default=InvitationStatus.PENDING, description='PENDING: pending\nACCEPTED: accepted\nEXPIRED: expired', enum_type=InvitationStatus, max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('accepted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('accepted_user', fields.ForeignKeyField('models.User', source_field='accepted_user_id', null=True, db_constraint=True, to_field='id', related_name='accepted_invitations', on_delete=OnDelete.SET_NULL)),
                ('delivery_state', fields.CharEnumField(default=DeliveryState.QUEUED, description='NOT_SENT: not_sent\nQUEUED: queued\nSENT: sent\nFAILED: failed', enum_type=DeliveryState, max_length=16)),
                ('send_no', fields.IntField(default=1)),
                ('send_due_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('send_attempts', fields.IntField(default=0)),
                ('last_error', fields.TextField(default='', unique=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('reminded_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('reminded_send_no', fields.IntField(default=0)),
            ],
            options={'table': 'invitations', 'app': 'models', 'indexes': [Index(fields=['created_at', 'id']), Index(fields=['email', 'id']), Index(fields=['last_name', 'id']), Index(fields=['status', 'id']), Index(fields=['status', 'expires_at']), Index(fields=['send_due_at']), Index(fields=['delivery_state', 'id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='InvitationGroup',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('invitation', fields.ForeignKeyField('models.Invitation', source_field='invitation_id', db_constraint=True, to_field='id', related_name='groups', on_delete=OnDelete.CASCADE)),
                ('group', fields.ForeignKeyField('models.Group', source_field='group_id', db_constraint=True, to_field='id', related_name='invitation_grants', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'invitation_groups', 'app': 'models', 'unique_together': (('invitation', 'group'),), 'indexes': [Index(fields=['group_id', 'invitation_id'])], 'pk_attr': 'id', 'table_description': 'A group the invitee joins on acceptance.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='InvitationProject',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('invitation', fields.ForeignKeyField('models.Invitation', source_field='invitation_id', db_constraint=True, to_field='id', related_name='projects', on_delete=OnDelete.CASCADE)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='invitation_grants', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'invitation_projects', 'app': 'models', 'unique_together': (('invitation', 'project'),), 'indexes': [Index(fields=['project_id', 'invitation_id'])], 'pk_attr': 'id', 'table_description': 'A project the invitee will manage on acceptance.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Membership',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('group', fields.ForeignKeyField('models.Group', source_field='group_id', db_constraint=True, to_field='id', related_name='memberships', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='memberships', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'memberships', 'app': 'models', 'unique_together': (('group', 'user'),), 'pk_attr': 'id', 'table_description': "A user's place in a manual group."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Role',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='roles', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='ADMIN: admin\nPROJECT_MANAGER: project_manager', enum_type=RoleKind, max_length=32)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', null=True, db_constraint=True, to_field='id', related_name='managers', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'roles', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Session',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='sessions', on_delete=OnDelete.CASCADE)),
                ('token_digest', fields.CharField(unique=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'sessions', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
