"""What signUp and acceptInvitation tell a client about its input: every problem at once,
each on the input field as sent; nothing changes while any is left."""

from __future__ import annotations

from typing import Any

from domain.models import Invitation, Registration, User
from schema.app import schema
from tests.fixtures import SIGN_IN, GraphQLClient
from tests.invitations_helpers import ACCEPT, ME, PASSWORD, create, registered, sample_platform
from tests.test_accounts import SIGN_UP


def problems(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    return sorted((e["code"], e["field"]) for e in payload["errors"])


async def sign_up(gql: GraphQLClient, **values: Any) -> dict[str, Any]:
    data = await gql(SIGN_UP, {"input": values})
    result: dict[str, Any] = data["signUp"]
    return result


async def accept(gql: GraphQLClient, values: dict[str, Any], session: str | None = None) -> Any:
    return (await gql(ACCEPT, {"input": values}, token=session))["acceptInvitation"]


async def test_sign_up_reports_every_problem_at_once_and_changes_nothing(
    gql: GraphQLClient,
) -> None:
    everything_wrong = await sign_up(gql, email="bad", firstName="A\nB", password="x", locale="zz")
    assert everything_wrong["ok"] is False and everything_wrong["registration"] is None
    assert problems(everything_wrong) == [
        ("INVALID_EMAIL", "email"),
        ("INVALID_NAME", "firstName"),
        ("UNKNOWN_LOCALE", "locale"),
        ("WEAK_PASSWORD", "password"),
    ]
    # A valid address: the other problems are still all told.
    valid_address = await sign_up(
        gql, email="jan@example.org", lastName="P\u2028Q", password="short", locale="zz"
    )
    assert problems(valid_address) == [
        ("INVALID_NAME", "lastName"),
        ("UNKNOWN_LOCALE", "locale"),
        ("WEAK_PASSWORD", "password"),
    ]
    assert await Registration.all().count() == 0
    # All fixed: a registration waits for the address.
    fixed = await sign_up(
        gql, email="jan@example.org", firstName="Jan", password=PASSWORD, locale="nl-BE"
    )
    assert fixed["ok"] and fixed["errors"] == []


async def test_registration_field_problems_name_the_input_as_sent(
    admin: GraphQLClient, gql: GraphQLClient
) -> None:
    await sample_platform(required=True)
    [invitation] = (await create(admin, "fields@example.org", sendEmail=False))["invitations"]
    refused = await accept(
        gql,
        {
            "token": invitation["token"],
            "firstName": "Lea",
            "lastName": "Janssens",
            "password": PASSWORD,
            "registrationFieldValues": [{"key": "shoe_size", "value": "42"}],
        },
    )
    assert ("UNKNOWN_FIELD", "registrationFieldValues") in problems(refused)
    assert ("REQUIRED_FIELD_MISSING", "registrationFieldValues.neighbourhood") in problems(refused)
    assert all(not (e["field"] or "").startswith("registrationFields") for e in refused["errors"])


def test_names_and_password_of_accept_invitation_are_optional_in_the_schema() -> None:
    sdl = str(schema)
    block = sdl[sdl.index("input AcceptInvitationInput") :]
    block = block[: block.index("}")]
    for line in ("firstName: String = null", "lastName: String = null", "password: String = null"):
        assert line in block, block
    assert "token: String!" in block


async def test_an_account_owner_accepts_without_names_or_password_and_a_new_one_needs_them(
    admin: GraphQLClient, gql: GraphQLClient
) -> None:
    await sample_platform(required=False)
    [owned, fresh] = (
        await create(admin, ["owner@example.org", "fresh@example.org"], sendEmail=False)
    )["invitations"]
    await registered("owner@example.org", first_name="Mia", last_name="Peeters")
    signed_in = await gql(SIGN_IN, {"email": "owner@example.org", "password": PASSWORD})
    session = signed_in["signIn"]["session"]["token"]
    # Only the token: names and password are not asked of an account's owner.
    accepted = await accept(gql, {"token": owned["token"]}, session)
    assert accepted["errors"] == [] and accepted["session"]["user"]["email"] == "owner@example.org"
    me = (await gql(ME, token=accepted["session"]["token"]))["me"]
    assert (me["firstName"], me["lastName"]) == ("Mia", "Peeters")

    # A new account: each left out is a typed problem on its own field; nothing is made.
    refused = await accept(gql, {"token": fresh["token"]})
    assert problems(refused) == [
        ("INVALID_NAME", "firstName"),
        ("INVALID_NAME", "lastName"),
        ("WEAK_PASSWORD", "password"),
    ]
    assert await User.filter(email="fresh@example.org").count() == 0
    # Blank strings, as clients sent before, are the same.
    blank = await accept(
        gql, {"token": fresh["token"], "firstName": "", "lastName": "", "password": ""}
    )
    assert problems(blank) == problems(refused)
    made = await accept(
        gql,
        {"token": fresh["token"], "firstName": "Lea", "lastName": "Janssens", "password": PASSWORD},
    )
    assert made["errors"] == [] and made["session"]["user"]["email"] == "fresh@example.org"


async def test_another_address_than_the_invited_one_is_refused(
    admin: GraphQLClient, gql: GraphQLClient
) -> None:
    await sample_platform(required=False)
    [invitation, owned] = (
        await create(admin, ["invited@example.org", "owned@example.org"], sendEmail=False)
    )["invitations"]
    values = {
        "token": invitation["token"],
        "firstName": "Lea",
        "lastName": "Janssens",
        "password": PASSWORD,
    }
    refused = await accept(gql, {**values, "email": "other@example.org"})
    assert problems(refused) == [("EMAIL_MISMATCH", "email")]
    assert refused["session"] is None
    assert "invited@example.org" in refused["errors"][0]["message"]
    assert await User.filter(email__in=["invited@example.org", "other@example.org"]).count() == 0
    assert (await Invitation.get(id=int(invitation["id"]))).accepted_at is None
    # Told with the other problems, as one answer.
    both = await accept(gql, {**values, "email": "not an address", "password": "x"})
    assert problems(both) == [("EMAIL_MISMATCH", "email"), ("WEAK_PASSWORD", "password")]

    # An account's owner, signed in, is refused the same way.
    await registered("owned@example.org")
    signed_in = await gql(SIGN_IN, {"email": "owned@example.org", "password": PASSWORD})
    session = signed_in["signIn"]["session"]["token"]
    mismatch = await accept(gql, {"token": owned["token"], "email": "else@example.org"}, session)
    assert problems(mismatch) == [("EMAIL_MISMATCH", "email")]
    assert (await Invitation.get(id=int(owned["id"]))).accepted_at is None

    # The invited address itself is fine, however it is typed.
    accepted = await accept(gql, {**values, "email": "  Invited@Example.ORG "})
    assert accepted["errors"] == []
    assert accepted["session"]["user"]["email"] == "invited@example.org"
