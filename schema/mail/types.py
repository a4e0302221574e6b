"""GraphQL types of the mail delivery set-up and of suppressed addresses."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.mail.relay import RelayOutage
from domain.mail.setup import DnsRecord as DnsRecordValue
from domain.mail.setup import MailSetup
from domain.models import MailSuppression as MailSuppressionModel
from domain.models import SuppressionReason
from schema.errors import UserError


@strawberry.type(description="A DNS record the operator publishes for the sending domain.")
class DnsRecord:
    type: str
    name: str
    value: str
    purpose: str

    @classmethod
    def from_value(cls, record: DnsRecordValue) -> DnsRecord:
        return cls(type=record.type, name=record.name, value=record.value, purpose=record.purpose)


@strawberry.type(description="What makes invitation mails arrive, with this deployment's values.")
class MailDeliverySettings:
    sending_domain: str
    from_address: str
    return_path: str = strawberry.field(description="The envelope sender, where bounces go.")
    message_id_domain: str
    smtp_host: str
    sending_ips: list[str]
    dkim_enabled: bool
    dns_records: list[DnsRecord]
    exchange_steps: list[str] = strawberry.field(
        description="Allowlisting steps for Outlook / Exchange / Microsoft 365 admins."
    )
    google_steps: list[str] = strawberry.field(
        description="Allowlisting steps for Google Workspace admins."
    )
    check_commands: list[str]
    check_steps: list[str]

    @classmethod
    def from_setup(cls, setup: MailSetup) -> MailDeliverySettings:
        return cls(
            sending_domain=setup.sending_domain,
            from_address=setup.from_address,
            return_path=setup.return_path,
            message_id_domain=setup.message_id_domain,
            smtp_host=setup.smtp_host,
            sending_ips=setup.sending_ips,
            dkim_enabled=setup.dkim_enabled,
            dns_records=[DnsRecord.from_value(r) for r in setup.dns_records],
            exchange_steps=setup.exchange_steps,
            google_steps=setup.google_steps,
            check_commands=setup.check_commands,
            check_steps=setup.check_steps,
        )


@strawberry.type(
    description="Sending is paused: the mail relay refuses every mail or cannot be reached (a"
    " set-up or network problem for whoever runs the relay, not the recipients'). The workers"
    " try it again by themselves, longer apart each time; the waiting mails go out as soon as"
    " it takes one."
)
class MailSendingPause:
    since: datetime = strawberry.field(description="When the relay first failed this outage.")
    relay_answer: str = strawberry.field(
        description="What the relay answered last (or why it could not be reached), as it"
        " said it, with any address in it left out."
    )

    @classmethod
    def from_outage(cls, outage: RelayOutage) -> MailSendingPause:
        return cls(since=outage.since, relay_answer=outage.reason)


strawberry.enum(SuppressionReason, name="SuppressionReason")


@strawberry.type(
    description="An address sent nothing (no invitation, reminder or resend) until an admin"
    " lifts it (liftMailSuppression)."
)
class MailSuppression:
    email: str
    reason: SuppressionReason
    detail: str = strawberry.field(description="What the provider or bounce message said.")
    source: str = strawberry.field(description="mailgun, ses, postmark or dsn.")
    created_at: datetime

    @classmethod
    def from_model(cls, model: MailSuppressionModel) -> MailSuppression:
        return cls(
            email=model.email,
            reason=model.reason,
            detail=model.detail,
            source=model.source,
            created_at=model.created_at,
        )


@strawberry.type
class LiftMailSuppressionPayload:
    lifted: MailSuppression | None
    errors: list[UserError]
