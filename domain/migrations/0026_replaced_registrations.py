"""Letters' registrations cancelled by the letter's code typed again, remembered (their token's
keyed digest) until they would have expired: their maker is told why its code no longer works
(domain/users/registrations.py)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0025_personal_messages_as_text')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ReplacedRegistration',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('token_digest', fields.CharField(db_index=True, max_length=64)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'replaced_registrations', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
