"""Accounts: sign up, confirm the address by the mailed code, sign in, me, sign out."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from domain.clock import clock
from domain.crypto import keyring
from domain.models import Registration
from tests.fixtures import (
    ADMIN_PASSWORD,
    CODE_IN_TEXT,
    SIGN_IN,
    CaughtMail,
    GraphQLClient,
    SmtpSink,
    wrong_code,
)

SIGN_UP = """
mutation($input: SignUpInput!) {
  signUp(input: $input) {
    ok registration { token email expiresAt } errors { code message field }
  }
}
"""
CONFIRM = """
mutation($email: String!, $code: String!, $password: String) {
  confirmEmail(email: $email, code: $code, password: $password) {
    ok session { token user { id email } } errors { code message field }
  }
}
"""
ME = "{ me { id email firstName lastName locale emailConfirmed roles { kind } } }"
PASSWORD = "lighthouse keeper rowing 7"
CONFIRM_LINK = re.compile(
    r"https://participate\.example\.org/confirm\?lang=[\w-]+#email=([^&\s]+)&code=(\d{8})"
)


async def sign_up(
    gql: GraphQLClient, email: str = "jan@example.org", **extra: Any
) -> dict[str, Any]:
    data = await gql(
        SIGN_UP,
        {
            "input": {
                "email": email,
                "password": PASSWORD,
                "firstName": "Jan",
                "lastName": "Peeters",
                **extra,
            }
        },
    )
    return data["signUp"]


def code_in(mail: CaughtMail) -> str:
    match = CODE_IN_TEXT.search(mail.text)
    assert match, mail.text
    return match.group(1)


async def confirm(
    gql: GraphQLClient, email: str, code: str, *, token: str | None = None, **extra: Any
) -> dict[str, Any]:
    body = await gql.post(CONFIRM, {"email": email, "code": code, **extra}, token=token)
    assert not body.get("errors"), body
    result: dict[str, Any] = body["data"]["confirmEmail"]
    return result


async def test_sign_up_mails_a_code_that_confirms_the_address_and_signs_in(
    gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    signed_up = await sign_up(gql, locale="nl-BE")
    assert signed_up["ok"] is True and signed_up["errors"] == []
    registration = signed_up["registration"]
    assert registration["email"] == "jan@example.org"
    await run_worker()

    [mail] = smtp_sink.to("jan@example.org")
    assert "bevestigingscode" in mail.subject
    code = code_in(mail)
    assert code in mail.html
    # One click: the link carries the address and the code in its fragment.
    link = CONFIRM_LINK.search(mail.text)
    assert link and link.group(2) == code.replace(" ", "") and link.group(1) == "jan@example.org"
    assert "/confirm?lang=nl-BE#" in mail.text  # the page opens in the mail's language
    assert "Jan" not in mail.text  # the name is the claim's, not yet the mailbox owner's

    # Not confirmed yet: sign-in says so (the password was right), and the registration's
    # token is no session.
    early = await gql(SIGN_IN, {"email": "jan@example.org", "password": PASSWORD})
    assert early["signIn"]["errors"][0]["code"] == "EMAIL_NOT_CONFIRMED"
    assert (await gql(ME, token=registration["token"]))["me"] is None

    confirmed = await confirm(gql, "Jan@Example.org", code, token=registration["token"])
    assert confirmed["ok"] is True and confirmed["errors"] == []
    session = confirmed["session"]
    me = await gql(ME, token=session["token"])
    assert me["me"] == {
        "id": session["user"]["id"],
        "email": "jan@example.org",
        "firstName": "Jan",
        "lastName": "Peeters",
        "locale": "nl-BE",
        "emailConfirmed": True,
        "roles": [],
    }
    signed_in = await gql(SIGN_IN, {"email": "JAN@example.org", "password": PASSWORD})
    assert signed_in["signIn"]["errors"] == []
    assert signed_in["signIn"]["session"]["user"]["id"] == session["user"]["id"]

    # The registration is used up: its token confirms nothing more, and its code says so.
    again = await confirm(gql, "jan@example.org", code, token=registration["token"])
    assert again["errors"][0]["code"] == "EMAIL_ALREADY_CONFIRMED"
    assert again["session"] is None


async def test_confirming_from_another_device_needs_the_password_chosen_with_the_code(
    gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    """A link in a mail someone did not ask for must not finish a stranger's registration:
    the mailbox alone is not enough, the one confirming must be the one who registered."""
    await sign_up(gql)
    await run_worker()
    code = code_in(smtp_sink.to("jan@example.org")[0])

    without = await confirm(gql, "jan@example.org", code)
    assert without["errors"] == [
        {
            "code": "PASSWORD_REQUIRED",
            "message": "Type the password you chose when you registered, to finish.",
            "field": "password",
        }
    ]
    wrong = await confirm(gql, "jan@example.org", code, password="not the one at all 42")
    assert wrong["errors"][0]["code"] == "INVALID_CREDENTIALS"
    assert wrong["session"] is None
    right = await confirm(gql, "jan@example.org", code, password=PASSWORD)
    assert right["errors"] == [] and right["session"]["user"]["email"] == "jan@example.org"


async def test_the_code_that_confirmed_an_address_says_so_and_only_that_code_while_valid(
    gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    """The mail's link opened again (another browser) says the address is confirmed: no need
    for a new code. Nobody without that code learns anything about the address."""
    await sign_up(gql)
    await run_worker()
    code = code_in(smtp_sink.to("jan@example.org")[0])
    assert (await confirm(gql, "jan@example.org", code, password=PASSWORD))["session"]

    again = await confirm(gql, "Jan@Example.org", f"{code[:3]} {code[3:]}")
    assert again == {
        "ok": False,
        "session": None,
        "errors": [
            {
                "code": "EMAIL_ALREADY_CONFIRMED",
                "message": "This code has already confirmed the address: sign in with it.",
                "field": "code",
            }
        ],
    }
    # Any other code: the answer of an address nobody ever used.
    other = wrong_code(code)
    stranger = await confirm(gql, "nobody@example.org", other)
    assert stranger["errors"][0]["code"] == "INVALID_CODE"
    assert await confirm(gql, "jan@example.org", other) == stranger

    # Once the code would have expired, it is a code like any other.
    clock.advance(timedelta(minutes=61))
    late = await confirm(gql, "jan@example.org", code)
    assert late["errors"][0]["code"] == "INVALID_CODE"


async def test_a_code_has_eight_digits_shown_in_two_groups_and_typed_with_a_space_or_a_dash(
    gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    """10^8 codes, not 10^6: a hundred times the guesses. The mail groups them by four; the
    page and the API take them with or without the space (or a dash)."""
    spaced = (await sign_up(gql, email="spaced@example.org"))["registration"]["token"]
    dashed = (await sign_up(gql, email="dashed@example.org"))["registration"]["token"]
    await run_worker()
    [mail] = smtp_sink.to("spaced@example.org")
    shown = code_in(mail)
    assert re.fullmatch(r"\d{4} \d{4}", shown), mail.text
    assert f">{shown}</p>" in mail.html
    link = CONFIRM_LINK.search(mail.text)
    assert link and link.group(2) == shown.replace(" ", "")  # the link: the digits alone
    assert (await confirm(gql, "spaced@example.org", shown, token=spaced))["ok"] is True

    other = code_in(smtp_sink.to("dashed@example.org")[0]).replace(" ", "-")
    assert (await confirm(gql, "dashed@example.org", other, token=dashed))["ok"] is True


async def test_a_six_digit_code_mailed_before_eight_digit_codes_still_confirms(
    gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    """Codes mailed before codes had eight digits keep working until they expire: a code is
    checked by its digest, whatever its length."""
    token = (await sign_up(gql))["registration"]["token"]
    claim = await Registration.get(email="jan@example.org")
    ring = keyring("registration")
    await Registration.filter(id=claim.id).update(
        code_digest=ring.digest(f"{claim.token_digest}:042917"),
        code_encrypted=ring.encrypt("042917"),
    )
    wrong = await confirm(gql, "jan@example.org", "042918", token=token)
    assert wrong["errors"][0]["code"] == "INVALID_CODE"
    right = await confirm(gql, "jan@example.org", "042 917", token=token)
    assert right["ok"] is True and right["session"]["user"]["email"] == "jan@example.org"


async def test_guessing_the_code_that_confirmed_an_address_stops_after_a_few_tries(
    gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    await sign_up(gql)
    await run_worker()
    code = code_in(smtp_sink.to("jan@example.org")[0])
    assert (await confirm(gql, "jan@example.org", code, password=PASSWORD))["session"]
    for guess in range(5):
        wrong = wrong_code(code, 1 + guess)
        answer = await confirm(gql, "jan@example.org", wrong)
        assert answer["errors"][0]["code"] == "INVALID_CODE"
    guessed = await confirm(gql, "jan@example.org", code)
    assert guessed["errors"][0]["code"] == "INVALID_CODE"


async def test_wrong_password_and_unknown_email_get_the_same_answer(
    gql: GraphQLClient, admin: GraphQLClient
) -> None:
    wrong_password = await gql(
        SIGN_IN, {"email": "admin@participate.example.org", "password": "not the password at all"}
    )
    unknown_email = await gql(
        SIGN_IN, {"email": "nobody@participate.example.org", "password": "not the password at all"}
    )
    assert wrong_password == unknown_email
    assert wrong_password["signIn"]["session"] is None
    assert wrong_password["signIn"]["errors"] == [
        {
            "code": "INVALID_CREDENTIALS",
            "message": "The email or the password is not right.",
            "field": None,
        }
    ]


async def test_weak_passwords_are_refused_with_the_reason(
    gql: GraphQLClient, smtp_sink: SmtpSink
) -> None:
    cases = {
        "short": "Use at least 12 characters.",
        "password1234": "This is a very common password.",
        "aaaaaaaaaaaaaaaa": 'Repeats like "aaa" are easy to guess.',
        "x" * 1025: "Use at most 1024 characters.",
    }
    for password, reason in cases.items():
        data = await gql(SIGN_UP, {"input": {"email": "weak@example.org", "password": password}})
        [error] = data["signUp"]["errors"]
        assert error["code"] == "WEAK_PASSWORD"
        assert error["field"] == "password"
        assert error["message"].startswith(reason), (password, error["message"])
    assert (await gql(ME))["me"] is None


async def test_a_wrong_code_is_refused_and_five_wrong_codes_burn_it(
    gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    token = (await sign_up(gql))["registration"]["token"]
    await run_worker()
    code = code_in(smtp_sink.mails[0])
    wrong = "00000000" if code != "0000 0000" else "11111111"
    for _ in range(5):
        data = await confirm(gql, "jan@example.org", wrong, token=token)
        assert data["errors"][0]["code"] == "INVALID_CODE"
    data = await confirm(gql, "jan@example.org", code, token=token)
    assert data["errors"][0]["code"] == "INVALID_CODE"
    # A new code works again.
    smtp_sink.clear()
    request = "mutation($e: String!) { requestEmailConfirmation(email: $e) { ok errors { code } } }"
    assert (await gql.post(request, {"e": "jan@example.org"}, token=token))["data"] == {
        "requestEmailConfirmation": {"ok": True, "errors": []}
    }
    await run_worker()
    fresh = code_in(smtp_sink.to("jan@example.org")[0])
    assert (await confirm(gql, "jan@example.org", fresh, token=token))["ok"] is True


async def test_a_sign_up_with_a_registered_address_answers_the_same_and_its_owner_can_sign_in(
    gql: GraphQLClient, admin: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    fresh = await sign_up(gql, email="jan@example.org")
    taken = await sign_up(gql, email="ADMIN@participate.example.org")
    for answer in (fresh, taken):
        assert answer["ok"] is True and answer["errors"] == []
        assert set(answer["registration"]) == {"token", "email", "expiresAt"}
    await run_worker()
    [code_mail] = smtp_sink.to("jan@example.org")
    assert code_mail.subject == "Your confirmation code for Participate Example"
    [notice] = smtp_sink.to("admin@participate.example.org")
    assert notice.subject == "You already have an account on Participate Example"
    assert "https://participate.example.org/reset-password" in notice.text

    # The owner, confirming from the device that registered, signs in to the account they
    # have; the password typed with the sign-up replaces nothing.
    confirmed = await confirm(
        gql,
        "admin@participate.example.org",
        code_in(notice),
        token=taken["registration"]["token"],
    )
    me = await gql(ME, token=confirmed["session"]["token"])
    assert me["me"]["firstName"] == "Ada" and me["me"]["roles"] == [{"kind": "ADMIN"}]
    old_password = await gql(
        SIGN_IN, {"email": "admin@participate.example.org", "password": ADMIN_PASSWORD}
    )
    assert old_password["signIn"]["errors"] == []
    new_password = await gql(
        SIGN_IN, {"email": "admin@participate.example.org", "password": PASSWORD}
    )
    assert new_password["signIn"]["errors"][0]["code"] == "INVALID_CREDENTIALS"


async def test_sign_out_ends_the_session(gql: GraphQLClient, admin: GraphQLClient) -> None:
    assert (await admin(ME))["me"]["roles"] == [{"kind": "ADMIN"}]
    await admin("mutation { signOut { ok } }")
    assert (await admin(ME))["me"] is None


async def test_asking_for_a_new_code_answers_and_works_the_same_for_every_address(
    gql: GraphQLClient, admin: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any, redis: Any
) -> None:
    """Waiting registration, account, nothing at all: one lookup, one update, one job each;
    only the job knows whether there is a code to mail."""
    await sign_up(gql, email="waiting@example.org")
    await run_worker()
    smtp_sink.clear()
    request = "mutation($e: String!) { requestEmailConfirmation(email: $e) { ok errors { code } } }"
    answers = []
    for address in ("waiting@example.org", "admin@participate.example.org", "no@example.org"):
        before = await redis.zcard("arq:queue")
        answers.append(await gql(request, {"e": address}))
        assert await redis.zcard("arq:queue") == before + 1, address
    assert answers[0] == answers[1] == answers[2]
    await run_worker()
    assert [mail.recipients for mail in smtp_sink.mails] == [["waiting@example.org"]]
