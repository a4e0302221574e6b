"""The delivery state an invitation has while a worker sends its mail (a description change:
SQLite keeps its table)."""

from tortoise import migrations
from tortoise.migrations import operations as ops

from domain.migrations._operations import AlterFieldKeepingSqliteTable
from domain.models.invitation import DeliveryState
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0003_search_indexes')]

    initial = False

    operations = [
        AlterFieldKeepingSqliteTable(
            model_name='Invitation',
            name='delivery_state',
            field=fields.CharEnumField(default=DeliveryState.QUEUED, description='NOT_SENT: not_sent\nQUEUED: queued\nSENDING: sending\nSENT: sent\nFAILED: failed', enum_type=DeliveryState, max_length=16),
        ),
    ]
