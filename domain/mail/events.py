"""What a provider or a bounce message reports about a mail after the relay took it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from domain.mail.references import Reference


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
