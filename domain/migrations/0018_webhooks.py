"""Events for the host platform: webhook_subscriptions (an admin's URL, encrypted secret and
event types), webhook_deliveries (the outbox: one row per event and subscription, written in
the transaction of the change) and webhook_attempts (each try, as admins see it)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from domain.models.webhook import WebhookDeliveryState
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0017_titles_per_locale')]

    initial = False

    operations = [
        ops.CreateModel(
            name='WebhookSubscription',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('url', fields.CharField(max_length=2000)),
                ('secret_encrypted', fields.TextField(unique=False)),
                ('event_types', fields.CharField(max_length=1000)),
                ('active', fields.BooleanField(default=True)),
                ('description', fields.CharField(default='', max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'webhook_subscriptions', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookDelivery',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('subscription', fields.ForeignKeyField('models.WebhookSubscription', source_field='subscription_id', db_constraint=False, to_field='id', related_name='deliveries', on_delete=OnDelete.NO_ACTION)),
                ('event_id', fields.CharField(max_length=40)),
                ('event_type', fields.CharField(max_length=40)),
                ('occurred_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('invitation_id', fields.IntField(null=True)),
                ('user_id', fields.IntField(null=True)),
                ('import_id', fields.IntField(null=True)),
                ('state', fields.CharEnumField(default=WebhookDeliveryState.PENDING, description='PENDING: pending\nDELIVERED: delivered\nFAILED: failed', enum_type=WebhookDeliveryState, max_length=9)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('claimed_by', fields.CharField(null=True, max_length=80)),
                ('last_status', fields.IntField(null=True)),
                ('last_error', fields.CharField(default='', max_length=500)),
                ('delivered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'webhook_deliveries', 'app': 'models', 'indexes': [Index(fields=['state', 'next_attempt_at'], name='webhook_deliveries_due_idx')], 'pk_attr': 'id', 'table_description': 'An outbox row. A large import writes one per invitation in its transaction, so the'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookAttempt',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('delivery', fields.ForeignKeyField('models.WebhookDelivery', source_field='delivery_id', db_constraint=True, to_field='id', related_name='attempt_log', on_delete=OnDelete.CASCADE)),
                ('attempted_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('status_code', fields.IntField(null=True)),
                ('error', fields.CharField(default='', max_length=500)),
                ('duration_ms', fields.IntField(default=0)),
            ],
            options={'table': 'webhook_attempts', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
