"""Secrets at rest: digests and encrypted copies, and rotating the secret key."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr

from domain.models import Invitation
from domain.security.keys import rotate_keys
from domain.settings import get_settings
from tests.fixtures import GraphQLClient
from tests.invitations_helpers import BY_TOKEN, create

NEW_KEY = "a-brand-new-secret-key-" + "n" * 30


async def test_tokens_are_stored_as_digest_and_ciphertext_only(admin: GraphQLClient) -> None:
    [made] = (await create(admin, "secret@example.org", sendEmail=False))["invitations"]
    row = await Invitation.get(id=int(made["id"]))
    canonical = made["token"].replace("-", "")
    assert canonical not in str(row.token_digest) and canonical not in row.token_encrypted
    assert made["token"] not in row.token_encrypted


async def test_rotating_the_secret_key_keeps_every_token_working(
    admin: GraphQLClient, gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    [made] = (await create(admin, "rotate@example.org", sendEmail=False))["invitations"]
    settings = get_settings()
    old_key = settings.secret_key
    before = await Invitation.get(id=int(made["id"]))

    async def usable() -> Any:
        data = await gql(BY_TOKEN, {"token": made["token"]})
        return data["invitationByToken"]["valid"]

    monkeypatch.setattr(settings, "secret_key", SecretStr(NEW_KEY))
    monkeypatch.setattr(settings, "previous_secret_keys", [old_key])
    assert await usable() is True  # found through the previous key's digest
    report = await rotate_keys()
    assert report.invitations == 1
    after = await Invitation.get(id=int(made["id"]))
    assert after.token_digest != before.token_digest
    assert after.token_encrypted != before.token_encrypted

    monkeypatch.setattr(settings, "previous_secret_keys", [])
    assert await usable() is True  # the old key is gone and the token still works
    assert (await rotate_keys()).invitations == 0

    monkeypatch.setattr(settings, "secret_key", old_key)
    assert await usable() is False  # without the key that made them, the digests match nothing


def test_digests_and_encryptions_made_many_at_once_match_single_ones() -> None:
    import hashlib
    import hmac
    import uuid

    from domain.crypto import Keyring
    from domain.invitations import tokens

    ring = Keyring(["the-current-key-" + "c" * 30, "an-older-key-" + "o" * 30], "invitation-token")
    values = tokens.generate_many(500)
    short = ring.short_digests(values)
    assert short == [ring.short_digest(value) for value in values]
    key = ring._digest_keys[0]
    full = hmac.new(key, values[0].encode(), hashlib.sha256).hexdigest()
    assert short[0] == str(uuid.UUID(full[:32]))  # the HMAC's first 128 bits
    assert ring.lookup_short_digests(values[0])[0] == short[0]
    sealed = ring.encrypt_many(values)
    assert [ring.decrypt(item) for item in sealed] == values
    assert len({item[:16] for item in sealed}) == len(values)  # a fresh nonce each
    assert ring.short_digests([]) == [] and ring.encrypt_many([]) == []


async def test_rotating_the_key_keeps_codes_and_reset_links_working(
    admin: GraphQLClient,
    gql: GraphQLClient,
    smtp_sink: Any,
    run_worker: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.test_accounts import CONFIRM, code_in, sign_up
    from tests.test_password_reset import REQUEST, RESET, reset_token

    pending = (await sign_up(gql, email="rotating@example.org"))["registration"]["token"]
    await gql(REQUEST, {"e": "admin@participate.example.org"})
    await run_worker()
    code = code_in(smtp_sink.to("rotating@example.org")[0])
    link = reset_token(smtp_sink.to("admin@participate.example.org")[0])

    settings = get_settings()
    monkeypatch.setattr(settings, "previous_secret_keys", [settings.secret_key])
    monkeypatch.setattr(settings, "secret_key", SecretStr(NEW_KEY))
    report = await rotate_keys()
    assert (report.confirmations, report.reset_links) == (1, 1)

    reset = await gql(RESET, {"t": link, "p": "after the rotation passphrase 3"})
    assert reset["resetPassword"]["errors"] == []
    confirmed = await gql.post(
        CONFIRM, {"email": "rotating@example.org", "code": code}, token=pending
    )
    assert confirmed["data"]["confirmEmail"]["ok"] is True
