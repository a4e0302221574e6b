"""Mail delivery mutations (admins)."""

from __future__ import annotations

import strawberry

from domain.invitations import feedback
from schema.boundary import perform
from schema.context import Info
from schema.mail.types import LiftMailSuppressionPayload, MailSuppression
from schema.permissions import IsAdmin


@strawberry.type
class MailMutations:
    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Let mail go to an address again after it bounced for good or reported our"
        " mail as spam; then resend its invitation.",
    )
    async def lift_mail_suppression(self, info: Info, email: str) -> LiftMailSuppressionPayload:
        lifted, errors = await perform(info, feedback.lift_suppression(email))
        return LiftMailSuppressionPayload(
            lifted=MailSuppression.from_model(lifted) if lifted else None, errors=errors
        )
