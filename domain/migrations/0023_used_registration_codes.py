"""Codes that confirmed a registration, remembered until they would have expired: the mail's
link, opened again, says the address is already confirmed (domain/users/registrations.py)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0022_registrations_by_invitation')]

    initial = False

    operations = [
        ops.CreateModel(
            name='UsedRegistrationCode',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('email', fields.CharField(db_index=True, max_length=320)),
                ('code_digest', fields.CharField(max_length=64)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('failed_attempts', fields.IntField(default=0)),
            ],
            options={'table': 'used_registration_codes', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
