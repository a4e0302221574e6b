"""A person's own account: names, language and registration field values (smart groups follow
them), the password, and the address, confirmed at the new address before it changes."""

from __future__ import annotations

import re
from typing import Any

from domain.crypto import keyring
from domain.models import EmailConfirmation
from tests.fixtures import CODE_IN_TEXT, SIGN_IN, GraphQLClient, SmtpSink
from tests.invitations_helpers import PASSWORD, accept, create, token_from
from tests.test_invitations import platform

ME = """{ me { email firstName lastName locale groups { title }
               registrationFieldValues { key value } } }"""
UPDATE = """
mutation($input: ProfileInput!) {
  updateProfile(input: $input) {
    user { firstName locale groups { title } registrationFieldValues { key value } }
    errors { code field message }
  }
}
"""
CHANGE_PASSWORD = """
mutation($current: String!, $new: String!) {
  changePassword(currentPassword: $current, newPassword: $new) { ok errors { code field } }
}
"""
CHANGE_EMAIL = """
mutation($email: String!, $password: String!) {
  changeEmail(email: $email, password: $password) { ok errors { code field } }
}
"""
CONFIRM_CHANGE = """
mutation($code: String!) {
  confirmEmailChange(code: $code) { session { token user { email } } errors { code field } }
}
"""
NEW_PASSWORD = "a brand new lighthouse passphrase 5"


async def resident(
    admin: GraphQLClient, gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> GraphQLClient:
    """Someone who accepted an invitation long ago, living in the south."""
    await create(admin, "resident@example.org")
    await run_worker()
    accepted = await accept(
        gql,
        token_from(smtp_sink.to("resident@example.org")[0]),
        registrationFieldValues=[{"key": "neighbourhood", "value": "south"}],
    )
    smtp_sink.clear()
    return gql.as_user(accepted["session"]["token"])


async def test_a_resident_updates_a_field_and_joins_the_smart_group_whose_rule_now_holds(
    admin: GraphQLClient, gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    await platform()
    person = await resident(admin, gql, smtp_sink, run_worker)
    assert (await person(ME))["me"]["groups"] == []

    updated = (
        await person(
            UPDATE,
            {
                "input": {
                    "firstName": "Lena",
                    "locale": "nl-be",
                    "registrationFieldValues": [{"key": "neighbourhood", "value": "north"}],
                }
            },
        )
    )["updateProfile"]
    assert updated["errors"] == []
    assert updated["user"] == {
        "firstName": "Lena",
        "locale": "nl-BE",
        "groups": [{"title": "Northerners"}],
        "registrationFieldValues": [{"key": "neighbourhood", "value": '"north"'}],
    }
    members = (await admin("{ groups { title members { email } } }"))["groups"]
    assert {"title": "Northerners", "members": [{"email": "resident@example.org"}]} in members

    # And out again when the rule no longer holds.
    back = await person(
        UPDATE, {"input": {"registrationFieldValues": [{"key": "neighbourhood", "value": "south"}]}}
    )
    assert back["updateProfile"]["user"]["groups"] == []


async def test_refused_changes_change_nothing_and_say_why(
    admin: GraphQLClient, gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    await platform()  # "neighbourhood" is required
    person = await resident(admin, gql, smtp_sink, run_worker)
    refused = (
        await person(
            UPDATE,
            {
                "input": {
                    "firstName": "Lena\nBcc: x@example.org",
                    "lastName": "",
                    "locale": "de",
                    "registrationFieldValues": [
                        {"key": "neighbourhood", "value": ""},
                        {"key": "shoe_size", "value": "42"},
                    ],
                }
            },
        )
    )["updateProfile"]
    assert refused["user"] is None
    assert sorted((e["code"], e["field"]) for e in refused["errors"]) == [
        ("INVALID_NAME", "firstName"),
        ("INVALID_NAME", "lastName"),
        ("REQUIRED_FIELD_MISSING", "registrationFieldValues.neighbourhood"),
        ("UNKNOWN_FIELD", "registrationFieldValues"),
        ("UNKNOWN_LOCALE", "locale"),
    ]
    me = (await person(ME))["me"]
    assert me["firstName"] == "Lea" and me["locale"] == "en"
    assert me["registrationFieldValues"] == [{"key": "neighbourhood", "value": '"south"'}]
    anonymous = await gql.post(UPDATE, {"input": {"firstName": "X"}})
    assert anonymous["errors"][0]["message"] == "Sign in first."


async def test_a_new_password_needs_the_current_one_and_ends_the_other_sessions(
    admin: GraphQLClient, gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    await platform()
    person = await resident(admin, gql, smtp_sink, run_worker)
    other = (await gql(SIGN_IN, {"email": "resident@example.org", "password": PASSWORD}))["signIn"][
        "session"
    ]["token"]

    wrong = await person(CHANGE_PASSWORD, {"current": "not it at all 12", "new": NEW_PASSWORD})
    assert wrong["changePassword"]["errors"] == [
        {"code": "INVALID_CREDENTIALS", "field": "currentPassword"}
    ]
    weak = await person(CHANGE_PASSWORD, {"current": PASSWORD, "new": "password1234"})
    assert weak["changePassword"]["errors"] == [{"code": "WEAK_PASSWORD", "field": "newPassword"}]
    done = await person(CHANGE_PASSWORD, {"current": PASSWORD, "new": NEW_PASSWORD})
    assert done["changePassword"] == {"ok": True, "errors": []}

    assert (await person(ME))["me"]["email"] == "resident@example.org"  # this one stays
    assert (await gql(ME, token=other))["me"] is None  # the other one ended
    old = await gql(SIGN_IN, {"email": "resident@example.org", "password": PASSWORD})
    assert old["signIn"]["errors"][0]["code"] == "INVALID_CREDENTIALS"
    new = await gql(SIGN_IN, {"email": "resident@example.org", "password": NEW_PASSWORD})
    assert new["signIn"]["errors"] == []


async def test_a_new_address_is_confirmed_by_a_code_sent_there_then_every_session_ends(
    admin: GraphQLClient, gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    await platform()
    person = await resident(admin, gql, smtp_sink, run_worker)

    wrong = await person(CHANGE_EMAIL, {"email": "new@example.org", "password": "nope nope 123"})
    assert wrong["changeEmail"]["errors"] == [{"code": "INVALID_CREDENTIALS", "field": "password"}]
    asked = await person(CHANGE_EMAIL, {"email": "New@Example.org", "password": PASSWORD})
    assert asked["changeEmail"] == {"ok": True, "errors": []}
    await run_worker()
    [mail] = smtp_sink.to("new@example.org")
    assert mail.subject == "Confirm your new address for Participate Example"
    code = CODE_IN_TEXT.search(mail.text).group(1)  # type: ignore[union-attr]
    # Nothing changed yet.
    assert (await person(ME))["me"]["email"] == "resident@example.org"

    assert re.fullmatch(r"\d{4} \d{4}", code)  # eight digits, in two groups
    bad = await person(CONFIRM_CHANGE, {"code": "00000000" if code != "0000 0000" else "1" * 8})
    assert bad["confirmEmailChange"]["errors"] == [{"code": "INVALID_CODE", "field": "code"}]
    confirmed = (await person(CONFIRM_CHANGE, {"code": code}))["confirmEmailChange"]
    assert confirmed["session"]["user"]["email"] == "new@example.org"
    assert (await person(ME))["me"] is None  # every earlier session ended
    me = (await gql(ME, token=confirmed["session"]["token"]))["me"]
    assert me["email"] == "new@example.org"

    await run_worker()
    [notice] = smtp_sink.to("resident@example.org")
    assert notice.subject == "Your address on Participate Example was changed"
    assert "new@example.org" in notice.text
    signed_in = await gql(SIGN_IN, {"email": "new@example.org", "password": PASSWORD})
    assert signed_in["signIn"]["errors"] == []


async def test_an_address_that_has_an_account_cannot_be_taken(
    admin: GraphQLClient, gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    await platform()
    person = await resident(admin, gql, smtp_sink, run_worker)
    asked = await person(
        CHANGE_EMAIL, {"email": "admin@participate.example.org", "password": PASSWORD}
    )
    assert asked["changeEmail"] == {"ok": True, "errors": []}  # the same answer as any address
    await run_worker()
    code = CODE_IN_TEXT.search(smtp_sink.to("admin@participate.example.org")[0].text)
    taken = (await person(CONFIRM_CHANGE, {"code": code.group(1)}))["confirmEmailChange"]  # type: ignore[union-attr]
    assert taken["errors"] == [{"code": "EMAIL_TAKEN", "field": "email"}]
    assert (await person(ME))["me"]["email"] == "resident@example.org"


async def test_the_code_for_a_new_address_greets_nobody_by_name(
    admin: GraphQLClient, gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    """The mailbox is not proven to be the resident's: its owner does not learn who typed it."""
    await platform()
    person = await resident(admin, gql, smtp_sink, run_worker)
    dutch = await person(UPDATE, {"input": {"firstName": "Dorothea", "locale": "nl-BE"}})
    assert dutch["updateProfile"]["errors"] == []
    asked = await person(CHANGE_EMAIL, {"email": "anna@example.org", "password": PASSWORD})
    assert asked["changeEmail"] == {"ok": True, "errors": []}
    await run_worker()
    [mail] = smtp_sink.to("anna@example.org")
    assert mail.text.startswith("Hallo,\n")
    assert "Dorothea" not in mail.text and "Dorothea" not in mail.html
    assert "Janssens" not in mail.text and "Janssens" not in mail.html
    assert mail.to == "anna@example.org"


async def test_a_six_digit_code_for_a_new_address_mailed_before_still_confirms(
    admin: GraphQLClient, gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    await platform()
    person = await resident(admin, gql, smtp_sink, run_worker)
    asked = await person(CHANGE_EMAIL, {"email": "new@example.org", "password": PASSWORD})
    assert asked["changeEmail"] == {"ok": True, "errors": []}
    change = await EmailConfirmation.get(new_email="new@example.org")
    ring = keyring("email-change")
    await EmailConfirmation.filter(id=change.id).update(
        code_digest=ring.digest(f"{change.user_id}:new@example.org:314159"),  # type: ignore[attr-defined]
        code_encrypted=ring.encrypt("314159"),
    )
    confirmed = (await person(CONFIRM_CHANGE, {"code": "314-159"}))["confirmEmailChange"]
    assert confirmed["session"]["user"]["email"] == "new@example.org"
