"""Forgotten passwords: a single-use link by mail, the same answer for every address, and the
owner of the mailbox taking over an address that only had unconfirmed registrations."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from domain.clock import clock
from domain.models import PasswordReset, Registration
from tests.fixtures import ADMIN_PASSWORD, SIGN_IN, CaughtMail, GraphQLClient, SmtpSink
from tests.test_accounts import ME, sign_up

REQUEST = "mutation($e: String!) { requestPasswordReset(email: $e) { ok errors { code } } }"
RESET = """
mutation($t: String!, $p: String!) {
  resetPassword(token: $t, password: $p) {
    session { token user { email } } errors { code message field }
  }
}
"""
USABLE = "query($t: String!) { passwordResetLinkUsable(token: $t) }"
LINK = re.compile(
    r"https://participate\.example\.org/reset-password\?lang=[\w-]+#token=([A-Za-z0-9_-]{43})"
)
ADMIN = "admin@participate.example.org"
NEW_PASSWORD = "a brand new harbour passphrase 8"


def reset_token(mail: CaughtMail) -> str:
    match = LINK.search(mail.text)
    assert match, mail.text
    assert match.group(0) in mail.html
    return match.group(1)


async def test_a_mailed_link_sets_a_new_password_once_and_ends_every_session(
    admin: GraphQLClient, gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    assert (await gql(REQUEST, {"e": "Admin@Participate.Example.org"}))["requestPasswordReset"] == {
        "ok": True,
        "errors": [],
    }
    await run_worker()
    [mail] = smtp_sink.to(ADMIN)
    assert mail.subject == "Choose a new password for Participate Example"
    token = reset_token(mail)

    # The page asks whether the link works before a password is typed; asking uses nothing.
    for _ in range(2):
        assert (await gql(USABLE, {"t": token}))["passwordResetLinkUsable"] is True
    assert (await gql(USABLE, {"t": "not-a-link"}))["passwordResetLinkUsable"] is False

    weak = (await gql(RESET, {"t": token, "p": "password1234"}))["resetPassword"]
    assert weak["errors"][0]["code"] == "WEAK_PASSWORD" and weak["session"] is None

    reset = (await gql(RESET, {"t": token, "p": NEW_PASSWORD}))["resetPassword"]
    assert reset["errors"] == [] and reset["session"]["user"]["email"] == ADMIN
    # The session opened before the reset (the admin fixture's) has ended; the new one works.
    assert (await admin(ME))["me"] is None
    assert (await gql(ME, token=reset["session"]["token"]))["me"]["email"] == ADMIN
    old = await gql(SIGN_IN, {"email": ADMIN, "password": ADMIN_PASSWORD})
    assert old["signIn"]["errors"][0]["code"] == "INVALID_CREDENTIALS"
    new = await gql(SIGN_IN, {"email": ADMIN, "password": NEW_PASSWORD})
    assert new["signIn"]["errors"] == []

    again = (await gql(RESET, {"t": token, "p": "yet another fine passphrase 5"}))["resetPassword"]
    assert again["errors"][0]["code"] == "INVALID_RESET_TOKEN"
    assert (await gql(USABLE, {"t": token}))["passwordResetLinkUsable"] is False


async def test_every_address_gets_the_same_answer_and_the_same_work(
    admin: GraphQLClient, gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any, redis: Any
) -> None:
    answers = []
    for address in (ADMIN, "nobody@example.org"):
        before = await redis.zcard("arq:queue")
        answers.append(await gql(REQUEST, {"e": address}))
        assert await redis.zcard("arq:queue") == before + 1  # one job either way
    assert answers[0] == answers[1]
    assert await PasswordReset.all().count() == 2  # one row either way
    await run_worker()
    assert [mail.recipients for mail in smtp_sink.mails] == [[ADMIN]]


async def test_a_link_expires(
    admin: GraphQLClient, gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    await gql(REQUEST, {"e": ADMIN})
    await run_worker()
    token = reset_token(smtp_sink.to(ADMIN)[0])
    clock.advance(timedelta(minutes=61))
    assert (await gql(USABLE, {"t": token}))["passwordResetLinkUsable"] is False
    late = (await gql(RESET, {"t": token, "p": NEW_PASSWORD}))["resetPassword"]
    assert late["errors"][0]["code"] == "INVALID_RESET_TOKEN"


async def test_a_reset_from_the_mailbox_takes_over_an_address_that_only_has_registrations(
    gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    # Someone else registered with the owner's address; the owner resets from their mailbox.
    await sign_up(gql, email="owner@example.org", firstName="Mallory")
    await gql(REQUEST, {"e": "owner@example.org"})
    await run_worker()
    mail = next(m for m in smtp_sink.to("owner@example.org") if "new password" in m.subject)
    assert "no confirmed account yet" in mail.text
    assert "Mallory" not in mail.text
    reset = (await gql(RESET, {"t": reset_token(mail), "p": NEW_PASSWORD}))["resetPassword"]
    me = (await gql(ME, token=reset["session"]["token"]))["me"]
    # The account is the owner's: nothing of the registration (its names) came with it.
    assert me["email"] == "owner@example.org" and me["firstName"] == ""
    assert me["emailConfirmed"] is True
    assert not await Registration.filter(email="owner@example.org").exists()


async def test_requests_are_limited_per_account_however_the_address_is_typed(
    admin: GraphQLClient, gql: GraphQLClient
) -> None:
    # Full-width letters are the same account (NFKC): they share one counter.
    spellings = [ADMIN, "ADMIN@participate.example.org", "admin@participate.exampl\uff45.org"]
    answers = [
        (await gql(REQUEST, {"e": address}))["requestPasswordReset"] for address in spellings
    ]
    assert answers == [{"ok": True, "errors": []}] * 3
    limited = (await gql(REQUEST, {"e": "admin@p\uff41rticipate.example.org"}))[
        "requestPasswordReset"
    ]
    assert limited == {"ok": False, "errors": [{"code": "RATE_LIMITED"}]}
