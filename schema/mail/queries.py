"""Mail delivery queries (admins)."""

from __future__ import annotations

import strawberry

from domain.mail.setup import mail_setup
from schema.context import Info
from schema.mail.types import MailDeliverySettings
from schema.permissions import IsAdmin


@strawberry.type
class MailQueries:
    @strawberry.field(
        permission_classes=[IsAdmin],
        description="DNS records and allowlisting steps for getting invitation mails delivered.",
    )
    def mail_delivery_settings(self, info: Info) -> MailDeliverySettings:
        return MailDeliverySettings.from_setup(mail_setup(info.context.settings))
