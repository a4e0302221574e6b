"""A signed-in person changes their address: the code goes to the new address (`new_email`),
and the old one is kept to tell it (`old_email`). The table's earlier rows were codes of
accounts whose address was not confirmed, which no longer exist (0013): they go."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0013_registrations_and_password_resets')]

    initial = False

    operations = [
        ops.RunSQL("DELETE FROM email_confirmations", reverse_sql="SELECT 1"),
        ops.AddField(
            model_name='EmailConfirmation',
            name='new_email',
            field=fields.CharField(default='', max_length=320),
        ),
        ops.AddField(
            model_name='EmailConfirmation',
            name='old_email',
            field=fields.CharField(default='', max_length=320),
        ),
    ]
