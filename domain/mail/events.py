"""What a provider or a bounce message reports about a mail after the relay took it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from domain.mail.references import Reference

# The enhanced status 5.2.2 (RFC 3463: mailbox full) is a state its owner can change, not an
# address that cannot work: relays and senders commonly treat it as temporary. The relay's own
# refusal (domain.mail.mailer) and a bounce reported later (domain.mail.dsn) both do.
_MAILBOX_FULL = re.compile(r"(?<![\d.])5\.2\.2(?![\d.])")


def mailbox_full(status: str) -> bool:
    """Whether a reply or a report's status says 5.2.2, mailbox full."""
    return _MAILBOX_FULL.search(status) is not None


class EventKind(StrEnum):
    BOUNCE = "bounce"
    COMPLAINT = "complaint"


@dataclass(frozen=True, slots=True)
class DeliveryEvent:
    kind: EventKind
    recipient: str  # as the report gives it
    source: str  # mailgun, ses, postmark, dsn
    reason: str = ""
    hard: bool = True  # bounces only: refused for good (not: given up for now)
    reference: Reference | None = None  # the send it names, when the report carries it
