"""Indexes the model layer cannot express: case-insensitive emails, one role of each kind."""

from tortoise import migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0001_initial")]

    initial = False

    operations = [
        ops.RunSQL(
            "CREATE UNIQUE INDEX users_email_lower_uniq ON users (lower(email))",
            reverse_sql="DROP INDEX users_email_lower_uniq",
        ),
        ops.RunSQL(
            "CREATE UNIQUE INDEX roles_admin_uniq ON roles (user_id) WHERE kind = 'admin'",
            reverse_sql="DROP INDEX roles_admin_uniq",
        ),
        ops.RunSQL(
            "CREATE UNIQUE INDEX roles_project_manager_uniq ON roles (user_id, project_id)"
            " WHERE kind = 'project_manager'",
            reverse_sql="DROP INDEX roles_project_manager_uniq",
        ),
        # The sweep's scan for due reminders looks only at pending, sent invitations.
        ops.RunSQL(
            "CREATE INDEX invitations_pending_reminder_idx ON invitations (sent_at)"
            " WHERE status = 'pending' AND delivery_state = 'sent'",
            reverse_sql="DROP INDEX invitations_pending_reminder_idx",
        ),
    ]
