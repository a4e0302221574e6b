"""Accounts: sign up, confirm by the mailed code, sign in, me, sign out."""

from __future__ import annotations

from typing import Any

from tests.fixtures import CODE_IN_TEXT, SIGN_IN, GraphQLClient, SmtpSink

SIGN_UP = """
mutation($input: SignUpInput!) {
  signUp(input: $input) { ok errors { code message field } }
}
"""
CONFIRM = """
mutation($email: String!, $code: String!) {
  confirmEmail(email: $email, code: $code) { ok errors { code message field } }
}
"""
ME = "{ me { id email firstName lastName locale emailConfirmed roles { kind } } }"
PASSWORD = "lighthouse keeper rowing 7"


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


async def test_sign_up_mails_a_code_that_confirms_the_email_then_sign_in_and_me(
    gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    assert await sign_up(gql, locale="nl-BE") == {"ok": True, "errors": []}
    await run_worker()

    [mail] = smtp_sink.to("jan@example.org")
    assert "bevestigingscode" in mail.subject
    code = CODE_IN_TEXT.search(mail.text).group(1)  # type: ignore[union-attr]
    assert code in mail.html

    # Not confirmed yet: sign-in says so (the password was right).
    early = await gql(SIGN_IN, {"email": "jan@example.org", "password": PASSWORD})
    assert early["signIn"]["errors"][0]["code"] == "EMAIL_NOT_CONFIRMED"

    confirmed = await gql(CONFIRM, {"email": "Jan@Example.org", "code": code})
    assert confirmed["confirmEmail"] == {"ok": True, "errors": []}

    signed_in = await gql(SIGN_IN, {"email": "JAN@example.org", "password": PASSWORD})
    session = signed_in["signIn"]["session"]
    assert signed_in["signIn"]["errors"] == []
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
    await sign_up(gql)
    await run_worker()
    code = CODE_IN_TEXT.search(smtp_sink.mails[0].text).group(1)  # type: ignore[union-attr]
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        data = await gql(CONFIRM, {"email": "jan@example.org", "code": wrong})
        assert data["confirmEmail"]["errors"][0]["code"] == "INVALID_CODE"
    data = await gql(CONFIRM, {"email": "jan@example.org", "code": code})
    assert data["confirmEmail"]["errors"][0]["code"] == "INVALID_CODE"


async def test_signing_up_twice_answers_the_same_and_mails_a_notice_instead_of_a_code(
    gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    first = await sign_up(gql)
    second = await sign_up(gql, email="JAN@example.org")
    assert first == second == {"ok": True, "errors": []}
    await run_worker()
    subjects = sorted(mail.subject for mail in smtp_sink.to("jan@example.org"))
    assert subjects == [
        "You already have an account on Participate Example",
        "Your confirmation code for Participate Example",
    ]


async def test_sign_out_ends_the_session(gql: GraphQLClient, admin: GraphQLClient) -> None:
    assert (await admin(ME))["me"]["roles"] == [{"kind": "ADMIN"}]
    await admin("mutation { signOut { ok } }")
    assert (await admin(ME))["me"] is None
