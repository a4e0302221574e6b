"""An account belongs to whoever proves the mailbox: each attack on that, written as the attack.

Account pre-hijacking (Sudhodanan and Paverd, 2022): someone registers first with another
person's address, and waits for that person (or an admin) to make the account worth having.
"""

from __future__ import annotations

from typing import Any

from domain.models import GroupKind, Invitation, InvitationStatus, Registration
from tests.fixtures import SIGN_IN, GraphQLClient, SmtpSink
from tests.invitations_helpers import (
    BY_TOKEN,
    GENERATE,
    ME,
    PASSWORD,
    accept,
    create,
    registered,
    token_from,
)
from tests.test_accounts import CONFIRM, code_in, sign_up
from tests.test_invitations import platform

VICTIM = "victim@example.org"
ATTACKER_PASSWORD = "the attacker's own passphrase 9"
VICTIM_PASSWORD = "victim's very own passphrase 31"
WAITING = """query($token: String!) { invitationByToken(token: $token) {
  valid invitation { email codeOnly hasAccount waitingAddress } errors { code } } }"""
MY_INVITATIONS = "{ invitations(first: 5) { edges { node { token } } } }"


async def as_attacker(gql: GraphQLClient, query: str, token: str) -> dict[str, Any]:
    """What the attacker's token gets: data, or the permission error."""
    return await gql.post(query, token=token)


async def test_a_sign_up_with_someone_elses_address_gets_nothing_when_an_admin_invites_it(
    admin: GraphQLClient, gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    signed_up = await gql(
        "mutation($i: SignUpInput!) { signUp(input: $i) { registration { token } } }",
        {"i": {"email": VICTIM, "password": ATTACKER_PASSWORD, "firstName": "Mallory"}},
    )
    attacker = signed_up["signUp"]["registration"]["token"]

    # The admin invites the address as an admin: it is not an "existing user" (nothing proved
    # it), so it gets a normal invitation, mailed to the address, and nothing is granted now.
    result = await create(admin, VICTIM, admin=True)
    assert result["errors"] == [] and result["invitedCount"] == 1
    assert result["existingUsersUpdated"] == []
    assert (await gql(ME, token=attacker))["me"] is None
    denied = await as_attacker(gql, MY_INVITATIONS, attacker)
    assert denied["data"] is None
    assert denied["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}  # no session
    assert denied["errors"][0]["message"].startswith("Your session is over")
    signed_in = await gql(SIGN_IN, {"email": VICTIM, "password": ATTACKER_PASSWORD})
    assert signed_in["signIn"]["session"] is None

    # The owner opens the mail and accepts: that proves the mailbox, and the account is theirs.
    await run_worker()
    invitation_mail = next(m for m in smtp_sink.to(VICTIM) if "invites you" in m.subject)
    accepted = await accept(
        gql, token_from(invitation_mail), firstName="Vera", password=VICTIM_PASSWORD
    )
    me = (await gql(ME, token=accepted["session"]["token"]))["me"]
    assert me["firstName"] == "Vera" and me["roles"] == [{"kind": "ADMIN", "project": None}]

    # The claim is gone, never merged: the attacker's password, names and token are worthless.
    assert not await Registration.filter(email=VICTIM).exists()
    again = await gql(SIGN_IN, {"email": VICTIM, "password": ATTACKER_PASSWORD})
    assert again["signIn"]["errors"][0]["code"] == "INVALID_CREDENTIALS"
    code_mail = next(m for m in smtp_sink.to(VICTIM) if "confirmation code" in m.subject)
    late = await gql.post(CONFIRM, {"email": VICTIM, "code": code_in(code_mail)}, token=attacker)
    assert late["data"]["confirmEmail"]["errors"][0]["code"] == "INVALID_CODE"
    assert (await gql(ME, token=attacker))["me"] is None


async def test_a_letter_code_used_with_someone_elses_address_grants_nothing_and_the_owner_wins(
    admin: GraphQLClient, gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    data = await platform()
    [letter] = (
        await admin(
            GENERATE,
            {"count": 1, "options": {"admin": True, "groupIds": [str(data["manual"].id)]}},
        )
    )["generateInvitationCodes"]["invitations"]
    used = await accept(
        gql,
        letter["token"],
        email=VICTIM,
        password=ATTACKER_PASSWORD,
        registrationFieldValues=[{"key": "neighbourhood", "value": "north"}],
    )
    assert used["errors"] == [] and used["session"] is None
    attacker = used["registration"]["token"]
    assert (await gql(ME, token=attacker))["me"] is None
    groups = (await admin("{ groups { title members { email } } }"))["groups"]
    assert all(group["members"] == [] for group in groups)

    # The admin invites the owner by mail: a normal invitation, not an "existing user".
    result = await create(admin, VICTIM)
    assert result["invitedCount"] == 1 and result["existingUsersUpdated"] == []
    await run_worker()
    invitation_mail = next(m for m in smtp_sink.to(VICTIM) if "invites you" in m.subject)
    accepted = await accept(
        gql,
        token_from(invitation_mail),
        firstName="Vera",
        password=VICTIM_PASSWORD,
        registrationFieldValues=[{"key": "neighbourhood", "value": "south"}],
    )
    assert accepted["errors"] == []
    me = (await gql(ME, token=accepted["session"]["token"]))["me"]
    # Only what the owner's own invitation carried: the letter's admin role and group are not
    # merged into the owner's account.
    assert me["roles"] == [] and me["groups"] == []
    # The letter's code was only held by the dropped claim: it can be used again.
    assert (await gql(BY_TOKEN, {"token": letter["token"]}))["invitationByToken"]["valid"]
    stored = await Invitation.get(id=int(letter["id"]))
    assert stored.status is InvitationStatus.PENDING and stored.accepted_at is None


async def test_a_letter_codes_answer_does_not_say_whether_the_address_has_an_account(
    admin: GraphQLClient, gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    await platform()
    letters = (await admin(GENERATE, {"count": 2}))["generateInvitationCodes"]["invitations"]
    fields = [{"key": "neighbourhood", "value": "north"}]
    registered = await accept(
        gql,
        letters[0]["token"],
        email="admin@participate.example.org",
        registrationFieldValues=fields,
    )
    unknown = await accept(
        gql, letters[1]["token"], email="nobody@example.org", registrationFieldValues=fields
    )

    def shape(answer: dict[str, Any]) -> dict[str, Any]:
        return {**answer, "registration": sorted(answer["registration"])}

    assert shape(registered) == shape(unknown)
    assert registered["session"] is None and registered["errors"] == []
    # Both codes are held alike: looking them up afterwards tells nothing either, only the
    # masked address each was typed with.
    looked_up = [
        (await gql(WAITING, {"token": letter["token"]}))["invitationByToken"] for letter in letters
    ]
    assert [answer["invitation"].pop("waitingAddress") for answer in looked_up] == [
        "a***@participate.example.org",
        "n***@example.org",
    ]
    assert looked_up[0] == looked_up[1]

    # The owner of the registered address hears of it, with a code that signs them in to the
    # account they have (adding the letter's access) if it was them.
    await run_worker()
    [notice] = smtp_sink.to("admin@participate.example.org")
    assert notice.subject == "You already have an account on Participate Example"
    confirmed = await gql.post(
        CONFIRM,
        {"email": "admin@participate.example.org", "code": code_in(notice)},
        token=registered["registration"]["token"],
    )
    session = confirmed["data"]["confirmEmail"]["session"]
    assert session["user"]["email"] == "admin@participate.example.org"
    stored = await Invitation.get(id=int(letters[0]["id"]))
    assert stored.accepted_user_id == int(session["user"]["id"])  # type: ignore[attr-defined]


async def test_a_letter_typed_with_an_existing_accounts_address_says_what_it_would_give(
    admin: GraphQLClient, gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    """Whoever holds a letter may type someone else's address with its code. Confirming from
    that mail adds the letter's access to the account: the mail says so, and what it gives,
    in the account's language, before its owner decides."""
    data = await platform()
    data["manual"].title_multiloc = {"nl-BE": "Bewoners Noordlaan"}
    await data["manual"].save()
    await registered(
        "anna@example.org", first_name="Anna", locale="nl-BE", password=VICTIM_PASSWORD
    )
    options = {
        "admin": True,
        "projectIds": [str(data["project"].id)],
        "groupIds": [str(data["manual"].id)],
    }
    [letter] = (await admin(GENERATE, {"count": 1, "options": options}))["generateInvitationCodes"][
        "invitations"
    ]
    fields = [{"key": "neighbourhood", "value": "north"}]
    used = await accept(
        gql, letter["token"], email="anna@example.org", registrationFieldValues=fields
    )
    assert used["errors"] == [] and used["session"] is None
    await run_worker()
    [notice] = smtp_sink.to("anna@example.org")
    assert notice.subject == "Je hebt al een account op Participate Example"
    for body in (notice.text, notice.html):
        assert "typte een uitnodigingscode" in body
        assert "de rol van beheerder van Participate Example" in body
        assert "de rol van beheerder van het project Riverside park" in body
        assert "lidmaatschap van de groep Bewoners Noordlaan" in body
        assert "je account krijgt niets van deze uitnodiging" in body
    # A sign-up with the address (no letter) says nothing of an invitation.
    await sign_up(gql, email="anna@example.org")
    await run_worker()
    [_, plain] = smtp_sink.to("anna@example.org")
    assert "uitnodiging" not in plain.text and "probeerde zich te registreren" in plain.text

    # Its owner, knowing, confirms from the mail with her own password: the access is hers.
    confirmed = await gql.post(
        CONFIRM,
        {"email": "anna@example.org", "code": code_in(notice), "password": VICTIM_PASSWORD},
    )
    session = confirmed["data"]["confirmEmail"]["session"]["token"]
    me = (await gql(ME, token=session))["me"]
    assert {role["kind"] for role in me["roles"]} == {"ADMIN", "PROJECT_MANAGER"}


async def test_a_letters_grants_apply_once_when_its_address_is_confirmed(
    admin: GraphQLClient, gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    data = await platform()
    [letter] = (
        await admin(
            GENERATE,
            {
                "count": 1,
                "options": {
                    "projectIds": [str(data["project"].id)],
                    "groupIds": [str(data["manual"].id), str(data["smart"].id)],
                    "registrationFieldValues": [{"key": "neighbourhood", "value": "north"}],
                },
            },
        )
    )["generateInvitationCodes"]["invitations"]
    used = await accept(gql, letter["token"], email="reader@example.org")
    await run_worker()
    code = code_in(smtp_sink.to("reader@example.org")[0])
    token = used["registration"]["token"]
    confirmed = await gql.post(CONFIRM, {"email": "reader@example.org", "code": code}, token=token)
    session = confirmed["data"]["confirmEmail"]["session"]["token"]
    me = (await gql(ME, token=session))["me"]
    assert me["roles"] == [{"kind": "PROJECT_MANAGER", "project": {"title": "Riverside park"}}]
    assert sorted(g["title"] for g in me["groups"]) == sorted(
        [data["manual"].title, data["smart"].title]
    )
    # Confirming again does nothing more: the registration is gone, and the code is told as
    # the one that confirmed the address already.
    twice = await gql.post(CONFIRM, {"email": "reader@example.org", "code": code}, token=token)
    assert twice["data"]["confirmEmail"]["errors"][0]["code"] == "EMAIL_ALREADY_CONFIRMED"
    assert twice["data"]["confirmEmail"]["session"] is None
    assert (await gql(ME, token=session))["me"] == me


async def test_the_owner_wins_by_signing_up_too_and_confirming_from_the_mailbox(
    gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    first = await gql(
        "mutation($i: SignUpInput!) { signUp(input: $i) { registration { token } } }",
        {"i": {"email": VICTIM, "password": ATTACKER_PASSWORD, "firstName": "Mallory"}},
    )
    owner = (await sign_up(gql, email=VICTIM))["registration"]["token"]
    await run_worker()
    # Each claim got its own code; the owner has both mails, the attacker neither.
    codes = [code_in(mail) for mail in smtp_sink.to(VICTIM)]
    assert len(codes) == 2
    for code in codes:
        answer = await gql.post(CONFIRM, {"email": VICTIM, "code": code}, token=owner)
        if answer["data"]["confirmEmail"]["ok"]:
            break
    me = (await gql(ME, token=answer["data"]["confirmEmail"]["session"]["token"]))["me"]
    assert me["firstName"] == "Jan"  # the owner's registration, not Mallory's
    attacker = first["signUp"]["registration"]["token"]
    assert (await gql(ME, token=attacker))["me"] is None
    assert not await Registration.filter(email=VICTIM).exists()


async def test_a_smart_group_on_an_email_domain_does_not_count_unconfirmed_addresses(
    admin: GraphQLClient, gql: GraphQLClient
) -> None:
    from domain.groups.service import create_group

    await create_group(
        title="City staff",
        kind=GroupKind.SMART,
        rules=[{"attribute": "email_domain", "operator": "is", "value": "city.example"}],
    )
    await sign_up(gql, email="mayor@city.example")
    groups = (await admin("{ groups { title members { email } } }"))["groups"]
    assert groups == [{"title": "City staff", "members": []}]


async def test_a_wrong_password_on_the_confirmation_counts_and_the_limit_holds(
    gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    """Someone with the code (a forwarded mail) but not the password cannot try passwords."""
    await sign_up(gql, email=VICTIM)
    await run_worker()
    code = code_in(smtp_sink.to(VICTIM)[0])
    answers = []
    for attempt in range(12):
        body = await gql.post(
            CONFIRM, {"email": VICTIM, "code": code, "password": f"guess number {attempt} x"}
        )
        answers.append(body["data"]["confirmEmail"]["errors"][0]["code"])
    assert answers[:10] == ["INVALID_CREDENTIALS"] * 10
    assert answers[10:] == ["RATE_LIMITED"] * 2
    assert PASSWORD  # the right one would still be refused now: the limit is per account


async def test_an_address_the_relay_cannot_take_is_refused_where_residents_give_one(
    admin: GraphQLClient, gql: GraphQLClient
) -> None:
    """Its code would never arrive (a part before the @ beyond ASCII, a relay without
    SMTPUTF8): refused at once, as invitations refuse it, and nothing is used up."""
    signed_up = await gql.post(
        "mutation($i: SignUpInput!) { signUp(input: $i) { errors { code field } } }",
        {"i": {"email": "josé@exämple.org", "password": PASSWORD}},
    )
    assert signed_up["data"]["signUp"]["errors"] == [
        {"code": "EMAIL_NOT_DELIVERABLE", "field": "email"}
    ]
    assert not await Registration.exists()

    await platform()
    [letter] = (await admin(GENERATE, {"count": 1}))["generateInvitationCodes"]["invitations"]
    fields = [{"key": "neighbourhood", "value": "north"}]
    refused = await accept(
        gql, letter["token"], email="zoë@example.org", registrationFieldValues=fields
    )
    assert [e["code"] for e in refused["errors"]] == ["EMAIL_NOT_DELIVERABLE"]
    assert (await Invitation.get(id=int(letter["id"]))).status is InvitationStatus.PENDING
    # The domain is never the problem: it is sent in IDNA.
    used = await accept(
        gql, letter["token"], email="anna@münchen.de", registrationFieldValues=fields
    )
    assert used["errors"] == []
