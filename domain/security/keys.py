"""Rotating INVITES_SECRET_KEY: re-encrypt and re-digest what was made with an older key.

Procedure (docs/security.md): set the new key as SECRET_KEY and the old one in
PREVIOUS_SECRET_KEYS, restart, run `invitations rotate-keys`, and once sessions made before
the rotation have expired (SESSION_TTL_DAYS), drop the old key. Until then every lookup tries
each key, so nothing stops working during the rotation.
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.transactions import in_transaction

from domain.crypto import keyring
from domain.models import Invitation, PasswordReset, Registration, WebhookSubscription

BATCH = 1000


@dataclass(frozen=True, slots=True)
class RotationReport:
    invitations: int
    confirmations: int  # codes of registrations waiting for their address
    reset_links: int
    webhook_secrets: int = 0  # every subscription's, re-encrypted under the current key


async def rotate_keys() -> RotationReport:
    tokens = keyring("invitation-token")
    invitations = 0
    last_id = 0
    while True:
        batch = (
            await Invitation.filter(id__gt=last_id)
            .order_by("id")
            .limit(BATCH)
            .only("id", "token_encrypted", "token_digest")
        )
        if not batch:
            break
        async with in_transaction():
            for invitation in batch:
                token = tokens.decrypt(invitation.token_encrypted)
                digest = tokens.short_digest(token)
                if digest != str(invitation.token_digest):
                    await Invitation.filter(id=invitation.id).update(
                        token_digest=digest, token_encrypted=tokens.encrypt(token)
                    )
                    invitations += 1
        last_id = batch[-1].id
    # Codes of registrations waiting for their address, and open reset links: re-encrypted
    # and re-digested (a registration's own token keeps its digest: only its holder has it,
    # and it lives days, within the old key's grace).
    confirmations = 0
    codes = keyring("registration")
    for registration in await Registration.all():
        code = codes.decrypt(registration.code_encrypted)
        digest = codes.digest(f"{registration.token_digest}:{code}")
        if digest != registration.code_digest:
            await Registration.filter(id=registration.id).update(
                code_digest=digest, code_encrypted=codes.encrypt(code)
            )
            confirmations += 1
    reset_links = 0
    links = keyring("password-reset")
    for reset in await PasswordReset.filter(used_at=None):
        token = links.decrypt(reset.token_encrypted)
        digest = links.digest(token)
        if digest != reset.token_digest:
            await PasswordReset.filter(id=reset.id).update(
                token_digest=digest, token_encrypted=links.encrypt(token)
            )
            reset_links += 1
    webhook_secrets = 0
    secrets = keyring("webhook-secret")
    for subscription in await WebhookSubscription.all().only("id", "secret_encrypted"):
        await WebhookSubscription.filter(id=subscription.id).update(
            secret_encrypted=secrets.rotate(subscription.secret_encrypted)
        )
        webhook_secrets += 1
    return RotationReport(
        invitations=invitations,
        confirmations=confirmations,
        reset_links=reset_links,
        webhook_secrets=webhook_secrets,
    )
