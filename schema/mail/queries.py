"""Mail delivery queries (admins)."""

from __future__ import annotations

import strawberry

from domain.mail.relay import relay_outage
from domain.mail.setup import mail_setup
from domain.titles import resolve_locale
from schema.context import Info
from schema.mail.types import MailDeliverySettings, MailSendingPause
from schema.permissions import IsAdmin


@strawberry.type
class MailQueries:
    @strawberry.field(
        permission_classes=[IsAdmin],
        description=(
            "DNS records and allowlisting steps for getting invitation mails delivered. In"
            " `locale`: a platform locale, or the closest one ('nl' is nl-BE); the platform's"
            " default locale without it."
        ),
    )
    def mail_delivery_settings(self, info: Info, locale: str | None = None) -> MailDeliverySettings:
        return MailDeliverySettings.from_setup(
            mail_setup(info.context.settings, resolve_locale(locale))
        )

    @strawberry.field(
        permission_classes=[IsAdmin],
        description="Set while sending is paused because the mail relay refuses or cannot be"
        " reached; null while mail goes out.",
    )
    async def mail_sending_pause(self, info: Info) -> MailSendingPause | None:
        outage = await relay_outage(info.context.redis)
        return MailSendingPause.from_outage(outage) if outage else None
