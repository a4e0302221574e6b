"""A letter's code typed with an address: the registration holds the code, the letter stays
pending until the address is confirmed, and typing the code again starts over.

Whoever types the code and confirms a mailbox first gets the letter, once: a code never yields
two accounts, and an unconfirmed registration cannot be read back (only its address, masked).
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

from domain.clock import clock
from domain.models import (
    Invitation,
    InvitationStatus,
    Registration,
    User,
    WebhookDelivery,
    WebhookEventType,
)
from tests.fixtures import GraphQLClient, SmtpSink
from tests.invitations_helpers import BY_TOKEN, DELETE, GENERATE, ME, PASSWORD, accept
from tests.test_accounts import CONFIRM, code_in
from tests.test_invitations import platform

PREVIEW = """query($token: String!) { invitationByToken(token: $token) {
  valid invitation { codeOnly waitingAddress } errors { code } } }"""
HELD = "query($id: ID!) { invitation(id: $id) { status waitingForConfirmation acceptedAt } }"
LIST = "{ invitations(first: 10) { edges { node { id status waitingForConfirmation } } } }"
FIELDS = [{"key": "neighbourhood", "value": "south"}]
MISTYPED = "piet.janssens@gmial.com"
RIGHT = "piet.janssens@gmail.com"


async def a_letter(admin: GraphQLClient) -> dict[str, Any]:
    data = await platform()
    options = {"groupIds": [str(data["manual"].id)]}
    generated = (await admin(GENERATE, {"count": 1, "options": options}))["generateInvitationCodes"]
    letter: dict[str, Any] = generated["invitations"][0]
    return letter


async def listen_to_acceptances() -> None:
    from domain.webhooks.subscriptions import create_subscription

    await create_subscription(
        url="https://hooks.example.org/invitations",
        event_types=[WebhookEventType.INVITATION_ACCEPTED, WebhookEventType.USER_REGISTERED],
    )


async def events() -> list[tuple[str, int | None, int | None]]:
    rows = await WebhookDelivery.all().order_by("id")
    return [(row.event_type, row.invitation_id, row.user_id) for row in rows]


async def test_typing_the_code_again_starts_over_with_the_right_address_and_accepts_once(
    admin: GraphQLClient, gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    letter = await a_letter(admin)
    await listen_to_acceptances()
    first = await accept(gql, letter["token"], email=MISTYPED, registrationFieldValues=FIELDS)
    assert first["errors"] == [] and first["registration"]["email"] == MISTYPED
    await run_worker()

    # Nothing is accepted yet, nothing announced: the letter is pending, held by a registration.
    assert await events() == []
    held = (await admin(HELD, {"id": letter["id"]}))["invitation"]
    assert held == {"status": "PENDING", "waitingForConfirmation": True, "acceptedAt": None}
    listed = (await admin(LIST))["invitations"]["edges"]
    assert [edge["node"]["waitingForConfirmation"] for edge in listed] == [True]

    # The code typed again (a lost tab, another phone): it says which address waits, masked.
    looked_up = await gql.post(PREVIEW, {"token": letter["token"]})
    preview = looked_up["data"]["invitationByToken"]
    assert preview == {
        "valid": True,
        "invitation": {"codeOnly": True, "waitingAddress": "p***@gmial.com"},
        "errors": [],
    }
    assert "piet" not in json.dumps(looked_up) and "janssens" not in json.dumps(looked_up)

    # Starting over with the right address cancels the mistyped registration.
    second = await accept(gql, letter["token"], email=RIGHT, registrationFieldValues=FIELDS)
    assert second["errors"] == [] and second["registration"]["email"] == RIGHT
    assert await Registration.filter(invitation_id=int(letter["id"])).count() == 1
    assert not await Registration.filter(email=MISTYPED).exists()
    await run_worker()
    [mistyped_mail] = smtp_sink.to(MISTYPED)
    stale = await gql.post(
        CONFIRM,
        {"email": MISTYPED, "code": code_in(mistyped_mail)},
        token=first["registration"]["token"],
    )
    assert stale["data"]["confirmEmail"]["errors"][0]["code"] == "INVALID_CODE"
    preview = (await gql(PREVIEW, {"token": letter["token"]}))["invitationByToken"]
    assert preview["invitation"]["waitingAddress"] == "p***@gmail.com"

    [mail] = smtp_sink.to(RIGHT)
    confirmed = await gql.post(
        CONFIRM, {"email": RIGHT, "code": code_in(mail)}, token=second["registration"]["token"]
    )
    session = confirmed["data"]["confirmEmail"]["session"]
    me = (await gql(ME, token=session["token"]))["me"]
    assert me["groups"] == [{"title": "North Avenue Residents"}]
    user_id = int(session["user"]["id"])

    # Accepted now, by that account, and announced once.
    held = (await admin(HELD, {"id": letter["id"]}))["invitation"]
    assert held["status"] == "ACCEPTED" and held["waitingForConfirmation"] is False
    assert await events() == [
        (WebhookEventType.INVITATION_ACCEPTED.value, int(letter["id"]), user_id),
        (WebhookEventType.USER_REGISTERED.value, int(letter["id"]), user_id),
    ]
    # Used up for good: no one else can take it over, or make a second account with it.
    again = await accept(
        gql, letter["token"], email="someone.else@example.org", registrationFieldValues=FIELDS
    )
    assert again["errors"][0]["code"] == "INVALID_TOKEN"
    assert not (await gql(BY_TOKEN, {"token": letter["token"]}))["invitationByToken"]["valid"]
    assert await User.filter(email__in=[MISTYPED, RIGHT]).count() == 1


async def test_two_registrations_at_once_leave_one_holding_the_code(
    admin: GraphQLClient, gql: GraphQLClient
) -> None:
    letter = await a_letter(admin)
    answers = await asyncio.gather(
        *(
            accept(
                gql, letter["token"], email=f"reader{n}@example.org", registrationFieldValues=FIELDS
            )
            for n in range(4)
        )
    )
    assert all(answer["errors"] == [] for answer in answers)
    assert await Registration.filter(invitation_id=int(letter["id"])).count() == 1


async def test_a_registration_made_in_time_is_confirmed_after_the_letter_expires(
    admin: GraphQLClient, gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    letter = await a_letter(admin)
    used = await accept(gql, letter["token"], email=RIGHT, registrationFieldValues=FIELDS)
    stored = await Invitation.get(id=int(letter["id"]))
    stored.expires_at = await clock.now() + timedelta(minutes=1)
    await stored.save(update_fields=["expires_at"])
    await run_worker()
    clock.advance(timedelta(minutes=10))
    confirmed = await gql.post(
        CONFIRM,
        {"email": RIGHT, "code": code_in(smtp_sink.to(RIGHT)[0])},
        token=used["registration"]["token"],
    )
    assert confirmed["data"]["confirmEmail"]["ok"] is True, confirmed
    stored = await Invitation.get(id=int(letter["id"]))
    assert stored.status is InvitationStatus.ACCEPTED and stored.accepted_at is not None


async def test_deleting_a_waiting_letter_cancels_its_registration(
    admin: GraphQLClient, gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    letter = await a_letter(admin)
    used = await accept(gql, letter["token"], email=RIGHT, registrationFieldValues=FIELDS)
    await run_worker()
    deleted = (await admin(DELETE, {"id": letter["id"]}))["deleteInvitation"]
    assert deleted["errors"] == []
    assert not await Registration.exists()
    late = await gql.post(
        CONFIRM,
        {"email": RIGHT, "code": code_in(smtp_sink.to(RIGHT)[0])},
        token=used["registration"]["token"],
    )
    assert late["data"]["confirmEmail"]["errors"][0]["code"] == "INVALID_CODE"
    assert not await User.filter(email=RIGHT).exists()


async def test_a_registration_from_before_letters_waited_still_gets_the_letter_once(
    admin: GraphQLClient, gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    """Letters used to be marked accepted (and announced) as their code was typed: such a
    registration, confirmed after the upgrade, still gets the grants, and no second event."""
    letter = await a_letter(admin)
    used = await accept(gql, letter["token"], email=RIGHT, registrationFieldValues=FIELDS)
    await Invitation.filter(id=int(letter["id"])).update(
        status=InvitationStatus.ACCEPTED, accepted_at=await clock.now()
    )
    await listen_to_acceptances()
    await run_worker()
    confirmed = await gql.post(
        CONFIRM,
        {"email": RIGHT, "code": code_in(smtp_sink.to(RIGHT)[0])},
        token=used["registration"]["token"],
    )
    session = confirmed["data"]["confirmEmail"]["session"]
    me = (await gql(ME, token=session["token"]))["me"]
    assert me["groups"] == [{"title": "North Avenue Residents"}]
    stored = await Invitation.get(id=int(letter["id"]))
    assert stored.accepted_user_id == int(session["user"]["id"])  # type: ignore[attr-defined]
    assert [event[0] for event in await events()] == [WebhookEventType.USER_REGISTERED.value]


CONFIRM_WHY = """
mutation($email: String!, $code: String!, $password: String) {
  confirmEmail(email: $email, code: $code, password: $password) {
    ok errors { code field reason }
  }
}
"""


async def test_a_registration_cancelled_by_the_letters_code_typed_again_is_told_so_to_its_maker(
    admin: GraphQLClient, gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    from domain.models import ReplacedRegistration
    from domain.users import registrations

    letter = await a_letter(admin)
    first = await accept(gql, letter["token"], email=RIGHT, registrationFieldValues=FIELDS)
    await run_worker()
    # Someone else types the same letter's code, with another address: one at a time.
    other = await accept(
        gql, letter["token"], email="someone.else@example.org", registrationFieldValues=FIELDS
    )
    assert other["errors"] == []
    [mail] = smtp_sink.to(RIGHT)
    typed = {"email": RIGHT, "code": code_in(mail)}

    # The registration's maker (its token) learns why the code no longer works.
    told = (await gql(CONFIRM_WHY, typed, token=first["registration"]["token"]))["confirmEmail"]
    assert told["ok"] is False
    assert told["errors"] == [
        {"code": "INVALID_CODE", "field": "code", "reason": "LETTER_CODE_USED_AGAIN"}
    ]
    # Anyone else (no token, another token, the password: nothing of it is kept) hears only
    # that the code is wrong.
    for token, password in (
        (None, None),
        (other["registration"]["token"], None),
        (None, PASSWORD),
    ):
        plain = await gql(CONFIRM_WHY, {**typed, "password": password}, token=token)
        assert plain["confirmEmail"]["errors"] == [
            {"code": "INVALID_CODE", "field": "code", "reason": None}
        ], (token, password)
    # Only the token's keyed digest is kept: no address, no name, no code.
    [kept] = await ReplacedRegistration.all().values()
    assert set(kept) == {"id", "token_digest", "expires_at"}
    assert first["registration"]["token"] not in kept["token_digest"]

    # Kept until the registration would have expired, then forgotten.
    clock.advance(timedelta(days=60))
    await registrations.drop_expired()
    assert not await ReplacedRegistration.exists()
