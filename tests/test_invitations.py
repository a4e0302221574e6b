"""Invite by email, end to end: create, send, accept, remind, expire, resend, delete."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx

from domain.clock import clock
from domain.models import Invitation, User
from domain.users.passwords import hash_password
from domain.users.service import create_admin
from tests.fixtures import ADMIN_PASSWORD, SIGN_IN, GraphQLClient, SmtpSink
from tests.invitations_helpers import (
    BY_TOKEN,
    DELETE,
    GENERATE,
    INVITATION,
    ME,
    PASSWORD,
    RESEND,
    accept,
    create,
    enqueue_sweep,
    registered,
    sample_platform,
    token_from,
)
from tests.test_accounts import CONFIRM, code_in

WAITING = """query($token: String!) {
  invitationByToken(token: $token) { invitation { waitingAddress } } }"""
HELD = "query($id: ID!) { invitation(id: $id) { status waitingForConfirmation acceptedAt } }"


async def platform() -> dict[str, Any]:
    return await sample_platform(required=True)


async def test_invite_mail_token_accept_and_me_shows_the_roles_and_groups(
    admin: GraphQLClient, gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    data = await platform()
    result = await create(
        admin,
        " lea@example.org, ,",
        projectIds=[str(data["project"].id)],
        groupIds=[str(data["manual"].id), str(data["smart"].id)],
        registrationFieldValues=[{"key": "neighbourhood", "value": "north"}],
        locale="nl-BE",
        personalMessage="Welkom bij het project!\nTot snel.",
    )
    assert result["errors"] == []
    [invitation] = result["invitations"]
    assert invitation["status"] == "PENDING"
    assert invitation["delivery"] == {"state": "QUEUED", "attempts": 0, "lastError": None}
    assert invitation["inviter"] == {"email": "admin@participate.example.org"}

    await run_worker()
    [mail] = smtp_sink.to("lea@example.org")
    assert mail.subject == "Ada Admin nodigt je uit op Participate Example"
    assert mail.message["Reply-To"] == "Ada Admin <admin@participate.example.org>"
    assert mail.message["Auto-Submitted"] == "auto-generated"
    assert str(mail.message["Message-ID"]).endswith("@participate.example.org>")
    assert mail.envelope_from == "invitations@participate.example.org"
    token = token_from(mail)
    assert token == invitation["token"]
    assert token in mail.html and "Welkom bij het project!<br>" in mail.html
    assert "https://participate.example.org/invite" in mail.text
    # A first contact: no "again" about a verification never asked for.
    confirmed = "Aanvaard je via deze e-mail, dan is je e-mailadres daarmee bevestigd"
    assert confirmed in mail.text and confirmed in mail.html
    assert "opnieuw" not in mail.text

    sent = (await admin(INVITATION, {"id": invitation["id"]}))["invitation"]
    assert sent["delivery"] == {"state": "SENT", "attempts": 1, "lastError": None}
    assert sent["sentAt"] is not None

    preview = (await gql(BY_TOKEN, {"token": token.lower().replace("-", " ")}))["invitationByToken"]
    assert preview == {
        "valid": True,
        "invitation": {
            "email": "lea@example.org",
            "firstName": "",
            "lastName": "",
            "locale": "nl-BE",
            "codeOnly": False,
            "hasAccount": False,
            "requiredFields": [],  # the invitation presets the required neighbourhood
        },
        "errors": [],
    }

    accepted = await accept(gql, token)
    assert accepted["errors"] == []
    assert accepted["session"]["user"] == {
        "id": accepted["session"]["user"]["id"],
        "email": "lea@example.org",
        "emailConfirmed": True,
    }
    assert accepted["emailConfirmationSent"] is False
    me = (await gql(ME, token=accepted["session"]["token"]))["me"]
    assert me["roles"] == [{"kind": "PROJECT_MANAGER", "project": {"title": "Riverside park"}}]
    assert sorted(g["title"] for g in me["groups"]) == ["North Avenue Residents", "Northerners"]
    assert me["locale"] == "nl-BE"

    done = (await admin(INVITATION, {"id": invitation["id"]}))["invitation"]
    assert done["status"] == "ACCEPTED"
    assert done["acceptedUser"] == {"email": "lea@example.org"}

    # Used once: the same token now gets the same answer as an unknown one.
    again = (await gql(BY_TOKEN, {"token": token}))["invitationByToken"]
    assert again["valid"] is False
    assert again["errors"][0]["code"] == "INVALID_TOKEN"


async def test_every_entry_is_checked_and_nothing_is_written_on_any_error(
    admin: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    data = await platform()
    await create(admin, ["pending@example.org"])
    result = await create(
        admin,
        [
            "ok@example.org",
            "not-an-email",
            "Dup@example.org",
            "pending@example.org",
            "dup@EXAMPLE.org",
        ],
        groupIds=[str(data["smart"].id), "999999"],
        projectIds=["424242"],
        locale="xx",
        personalMessage="x" * 2001,
    )
    errors = {(e["code"], e["position"], e["value"]) for e in result["errors"]}
    assert ("INVALID_EMAIL", 1, "not-an-email") in errors
    assert ("DUPLICATE_EMAIL", 2, "Dup@example.org") in errors
    assert ("DUPLICATE_EMAIL", 4, "dup@EXAMPLE.org") in errors
    assert ("ALREADY_INVITED", 3, "pending@example.org") in errors
    assert ("UNKNOWN_GROUP", None, "999999") in errors
    assert ("UNKNOWN_PROJECT", None, "424242") in errors
    assert ("UNKNOWN_LOCALE", None, "xx") in errors
    assert ("MESSAGE_TOO_LONG", None, None) in errors
    # An id that is no number names nothing, said as such (not as the id -1).
    odd = await create(admin, ["odd@example.org"], groupIds=["abc"], projectIds=["x1"])
    assert [(e["code"], e["value"], e["message"]) for e in odd["errors"]] == [
        ("UNKNOWN_GROUP", None, "That is not a group's id."),
        ("UNKNOWN_PROJECT", None, "That is not a project's id."),
    ]
    smart = [e for e in result["errors"] if e["code"] == "SMART_GROUP_RULES_NOT_MET"]
    assert {e["position"] for e in smart} == {0, 2, 3, 4}
    assert "field 'neighbourhood' is north" in smart[0]["message"]
    assert result["invitations"] == [] and result["invitedCount"] == 0
    assert await Invitation.all().count() == 1

    assert (await create(admin, " , "))["errors"][0]["code"] == "NO_EMAILS"
    too_many = await create(admin, [f"p{i}@example.org" for i in range(10_001)])
    assert too_many["errors"][0]["code"] == "TOO_MANY_INVITATIONS"


async def test_names_pasted_with_the_addresses_are_kept_on_the_invitations(
    admin: GraphQLClient, gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    """A list copied from a mail client ('Lea Peeters <lea@example.org>; ...') invites the
    people by name: the list shows it, the mail greets them with it, /invite's form starts
    with it."""
    result = await create(
        admin,
        'Lea Peeters <lea@example.org>; "Jan Van den Bossche" <jan@example.org>\n'
        "koen@example.org, Koen <koen2@example.org>, sam@example.org <sam@example.org>\n"
        # Last name first, as Outlook copies them (its comma is not a separator).
        'Janssens, An <an@example.org>, "Dubois, Camille" <camille@example.org>',
    )
    assert result["errors"] == [] and result["invitedCount"] == 7
    names = {i.email: (i.first_name, i.last_name) for i in await Invitation.all()}
    assert names == {
        "lea@example.org": ("Lea", "Peeters"),
        "jan@example.org": ("Jan", "Van den Bossche"),
        "koen@example.org": ("", ""),
        "koen2@example.org": ("Koen", ""),
        "sam@example.org": ("", ""),  # a mail client's repeat of the address is no name
        "an@example.org": ("An", "Janssens"),
        "camille@example.org": ("Camille", "Dubois"),
    }
    await run_worker()
    [mail] = smtp_sink.to("lea@example.org")
    assert "Lea" in mail.text
    preview = (await gql(BY_TOKEN, {"token": token_from(mail)}))["invitationByToken"]
    assert (preview["invitation"]["firstName"], preview["invitation"]["lastName"]) == (
        "Lea",
        "Peeters",
    )

    # A name is checked as a file's would be: nothing is written when one is wrong.
    refused = await create(
        admin,
        ["Ann Bell\u0007 <ann@example.org>", f"Bo {'x' * 101} <bo@example.org>", "Cy < >"],
    )
    problems = {(e["code"], e["position"], e["field"]) for e in refused["errors"]}
    assert problems == {
        ("INVALID_NAME", 0, "last_name"),
        ("INVALID_NAME", 1, "last_name"),
        ("INVALID_EMAIL", 2, "emails"),  # not a code-only invitation, as an empty address is
    }
    assert await Invitation.all().count() == 7


async def test_smart_group_accepted_when_the_invitation_carries_the_values_its_rules_test(
    admin: GraphQLClient,
) -> None:
    data = await platform()
    ok = await create(
        admin,
        "north@example.org",
        groupIds=[str(data["smart"].id)],
        registrationFieldValues=[{"key": "neighbourhood", "value": "North"}],  # by title
    )
    assert ok["errors"] == []
    assert ok["invitations"][0]["grants"]["registrationFieldValues"] == [
        {"key": "neighbourhood", "value": '"north"'}
    ]


async def test_already_registered_addresses_get_the_access_but_no_invitation_or_mail(
    admin: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    data = await platform()
    await create_admin(email="known@example.org", password=PASSWORD, first_name="Kim")
    result = await create(
        admin,
        ["KNOWN@example.org", "new@example.org"],
        groupIds=[str(data["manual"].id)],
        projectIds=[str(data["project"].id)],
    )
    assert result["errors"] == []
    assert [i["email"] for i in result["invitations"]] == ["new@example.org"]
    [updated] = result["existingUsersUpdated"]
    assert updated["email"] == "known@example.org"
    assert {r["kind"] for r in updated["roles"]} == {"ADMIN", "PROJECT_MANAGER"}
    assert updated["groups"] == [{"title": "North Avenue Residents"}]
    await run_worker()
    assert smtp_sink.to("known@example.org") == []
    assert len(smtp_sink.to("new@example.org")) == 1


async def test_reminder_after_three_days_once_late_if_needed_and_expiry_after_thirty(
    admin: GraphQLClient, gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any, redis: Any
) -> None:
    [invitation] = (await create(admin, "remind@example.org", locale="fr-BE"))["invitations"]
    await run_worker()
    assert len(smtp_sink.to("remind@example.org")) == 1

    clock.advance(timedelta(days=2, hours=23))
    await enqueue_sweep(redis)
    await run_worker()
    assert len(smtp_sink.to("remind@example.org")) == 1  # not yet

    clock.advance(timedelta(days=4))  # workers were "down": the reminder comes late
    await enqueue_sweep(redis)
    await run_worker()
    mails = smtp_sink.to("remind@example.org")
    assert len(mails) == 2
    assert mails[1].subject == "Rappel : votre invitation sur Participate Example"
    assert token_from(mails[1]) == invitation["token"]
    # A follow-up of the first mail: mail clients show them as one conversation.
    first_id = str(mails[0].message["Message-ID"])
    assert str(mails[1].message["In-Reply-To"]) == first_id
    assert str(mails[1].message["References"]) == first_id
    assert mails[0].message["In-Reply-To"] is None
    # It says once who invited, in both parts.
    intro = "Il y a quelques jours, Ada Admin vous a invité à rejoindre Participate Example."
    for part in (mails[1].text, mails[1].html):
        assert part.count(intro) == 1, part
        assert "Ada Admin vous invite" not in part and "avez été invité" not in part

    await enqueue_sweep(redis)
    await run_worker()
    assert len(smtp_sink.to("remind@example.org")) == 2  # once per send

    clock.advance(timedelta(days=24))  # day 30 and a bit
    await enqueue_sweep(redis)
    await run_worker()
    expired = (await admin(INVITATION, {"id": invitation["id"]}))["invitation"]
    assert expired["status"] == "EXPIRED"
    assert (await Invitation.get(id=int(invitation["id"]))).status == "expired"
    refused = await accept(gql, invitation["token"])
    assert refused["errors"][0]["code"] == "INVALID_TOKEN"


async def test_no_reminder_after_expiry(
    admin: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any, redis: Any
) -> None:
    await create(admin, "late@example.org")
    await run_worker()
    clock.advance(timedelta(days=31))
    await enqueue_sweep(redis)
    await run_worker()
    assert len(smtp_sink.to("late@example.org")) == 1


async def test_resend_mails_the_same_token_and_resets_expiry_and_reminders(
    admin: GraphQLClient, gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any, redis: Any
) -> None:
    [invitation] = (await create(admin, "again@example.org"))["invitations"]
    await run_worker()
    clock.advance(timedelta(days=4))
    await enqueue_sweep(redis)
    await run_worker()
    assert len(smtp_sink.to("again@example.org")) == 2  # mail + reminder

    clock.advance(timedelta(days=27))  # expired now
    resent = (await admin(RESEND, {"id": invitation["id"]}))["resendInvitation"]
    assert resent["errors"] == []
    assert resent["invitation"]["status"] == "PENDING"
    assert resent["invitation"]["remindedAt"] is None
    await run_worker()
    mails = smtp_sink.to("again@example.org")
    assert len(mails) == 3
    assert token_from(mails[2]) == invitation["token"]

    clock.advance(timedelta(days=3, minutes=1))  # a new reminder cycle
    await enqueue_sweep(redis)
    await run_worker()
    assert len(smtp_sink.to("again@example.org")) == 4
    clock.advance(timedelta(days=26))  # 29 days after the resend: still valid
    assert (await accept(gql, invitation["token"]))["errors"] == []


async def test_resend_is_refused_for_an_address_invited_again_or_registered_meanwhile(
    admin: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    """As when inviting: an address gets one pending invitation (one code, one set of grants),
    and an address with an account is mailed no invitation. Nothing changes, nothing is sent."""
    data = await platform()
    [old] = (
        await create(admin, "tom@example.org", groupIds=[str(data["manual"].id)], locale="fr-BE")
    )["invitations"]
    [gone] = (await create(admin, "gone@example.org"))["invitations"]
    await run_worker()
    clock.advance(timedelta(days=31))  # both expired: tom@ may be invited again
    [new] = (await create(admin, "tom@example.org"))["invitations"]
    assert new["status"] == "PENDING"
    await User.create(
        email="gone@example.org",
        first_name="Gust",
        last_name="Claes",
        locale="nl-BE",
        password_hash=await hash_password(PASSWORD),
        email_confirmed_at=await clock.now(),
    )
    await run_worker()
    smtp_sink.clear()

    refused = (await admin(RESEND, {"id": old["id"]}))["resendInvitation"]
    assert refused["invitation"] is None
    [error] = refused["errors"]
    assert error["code"] == "ALREADY_INVITED"
    assert error["message"] == (
        f"tom@example.org already has another pending invitation (id {new['id']}): resend that"
        " one, or delete it first."
    )
    refused = (await admin(RESEND, {"id": gone["id"]}))["resendInvitation"]
    [error] = refused["errors"]
    assert error["code"] == "ALREADY_REGISTERED"
    assert error["message"].startswith("gone@example.org has an account now")
    for invitation in (old, gone):
        shown = (await admin(INVITATION, {"id": invitation["id"]}))["invitation"]
        assert shown["status"] == "EXPIRED"
        assert shown["expiresAt"] == invitation["expiresAt"]
    await run_worker()
    assert smtp_sink.mails == []

    # The newer one resends (it is the one pending); once it is deleted, the old one does too.
    assert (await admin(RESEND, {"id": new["id"]}))["resendInvitation"]["errors"] == []
    assert (await admin(DELETE, {"id": new["id"]}))["deleteInvitation"]["errors"] == []
    resent = (await admin(RESEND, {"id": old["id"]}))["resendInvitation"]
    assert resent["errors"] == []
    assert resent["invitation"]["status"] == "PENDING"


async def test_deleting_an_invitation_stops_its_token_and_its_grants(
    admin: GraphQLClient, gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    data = await platform()
    [invitation] = (
        await create(
            admin,
            "gone@example.org",
            groupIds=[str(data["manual"].id)],
            registrationFieldValues=[{"key": "neighbourhood", "value": "south"}],
        )
    )["invitations"]
    deleted = (await admin(DELETE, {"id": invitation["id"]}))["deleteInvitation"]
    assert deleted == {"deletedId": invitation["id"], "errors": []}
    await run_worker()
    assert smtp_sink.to("gone@example.org") == []  # the queued send found nothing to do
    preview = (await gql(BY_TOKEN, {"token": invitation["token"]}))["invitationByToken"]
    unknown = (await gql(BY_TOKEN, {"token": "ABCDE-FGHJK-MNPQ" + "0"}))["invitationByToken"]
    assert preview["valid"] is False
    assert preview["errors"][0]["code"] == "INVALID_TOKEN"
    assert (await admin(DELETE, {"id": invitation["id"]}))["deleteInvitation"]["errors"][0][
        "code"
    ] == "NOT_FOUND"
    # A mistyped code is told apart before any lookup (here: a wrong check symbol).
    assert unknown["errors"][0]["code"] in ("TOKEN_CHECK_FAILED", "INVALID_TOKEN")


async def test_accepted_invitations_cannot_be_deleted(
    admin: GraphQLClient, gql: GraphQLClient
) -> None:
    [invitation] = (await create(admin, "kept@example.org", sendEmail=False))["invitations"]
    assert invitation["delivery"]["state"] == "NOT_SENT"
    assert (await accept(gql, invitation["token"]))["errors"] == []
    refused = (await admin(DELETE, {"id": invitation["id"]}))["deleteInvitation"]
    assert refused["errors"][0]["code"] == "INVITATION_ACCEPTED"


async def test_twenty_concurrent_accepts_give_one_user_and_nineteen_failures(
    admin: GraphQLClient, app: Any
) -> None:
    [invitation] = (await create(admin, "race@example.org", sendEmail=False))["invitations"]

    async def racer(number: int) -> dict[str, Any]:
        # Each from its own address, so the per-address limit does not thin out the race.
        transport = httpx.ASGITransport(app=app, client=(f"198.51.100.{number + 1}", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return await accept(GraphQLClient(http), invitation["token"])

    results = await asyncio.gather(*(racer(n) for n in range(20)))
    winners = [r for r in results if r["session"] is not None]
    losers = [r for r in results if r["session"] is None]
    assert len(winners) == 1 and len(losers) == 19
    assert {r["errors"][0]["code"] for r in losers} <= {"INVALID_TOKEN", "ALREADY_REGISTERED"}
    assert await User.filter(email="race@example.org").count() == 1


async def test_an_address_that_registered_meanwhile_accepts_signed_in_to_its_account(
    admin: GraphQLClient, gql: GraphQLClient
) -> None:
    """Invited, then registered the usual way before opening the mail: the link says so, and
    the account's owner, signed in, accepts it into that account (names and password stay)."""
    data = await platform()
    [invitation] = (
        await create(
            admin,
            "meanwhile@example.org",
            sendEmail=False,
            projectIds=[str(data["project"].id)],
            groupIds=[str(data["manual"].id), str(data["smart"].id)],
            registrationFieldValues=[{"key": "neighbourhood", "value": "north"}],
        )
    )["invitations"]
    shown = (await gql(BY_TOKEN, {"token": invitation["token"]}))["invitationByToken"]
    assert shown["invitation"]["hasAccount"] is False
    await registered("meanwhile@example.org", first_name="Mia", last_name="Peeters")
    shown = (await gql(BY_TOKEN, {"token": invitation["token"]}))["invitationByToken"]
    assert shown["valid"] and shown["invitation"]["hasAccount"] is True

    # Not signed in (or signed in as someone else): told to sign in to it; nothing changes.
    refused = await accept(gql, invitation["token"])
    assert refused["errors"][0]["code"] == "ALREADY_REGISTERED"
    assert "sign in" in refused["errors"][0]["message"]
    other = await gql(
        SIGN_IN, {"email": "admin@participate.example.org", "password": ADMIN_PASSWORD}
    )
    refused = await accept(gql, invitation["token"], session=other["signIn"]["session"]["token"])
    assert refused["errors"][0]["code"] == "ALREADY_REGISTERED"
    assert (await Invitation.get(id=int(invitation["id"]))).accepted_at is None

    signed_in = await gql(SIGN_IN, {"email": "meanwhile@example.org", "password": PASSWORD})
    session = signed_in["signIn"]["session"]["token"]
    accepted = await accept(
        gql, invitation["token"], session=session, firstName="", lastName="", password=""
    )
    assert accepted["errors"] == []
    assert accepted["session"]["user"]["email"] == "meanwhile@example.org"
    me = (await gql(ME, token=accepted["session"]["token"]))["me"]
    assert (me["firstName"], me["lastName"]) == ("Mia", "Peeters")
    assert {r["kind"] for r in me["roles"]} == {"PROJECT_MANAGER"}
    assert {g["title"] for g in me["groups"]} == {"North Avenue Residents", "Northerners"}
    stored = await Invitation.get(id=int(invitation["id"]))
    user = await User.get(email="meanwhile@example.org")
    assert stored.accepted_at is not None and stored.accepted_user_id == user.id  # type: ignore[attr-defined]
    # Once: the token is used up like any accepted one.
    again = await accept(gql, invitation["token"], session=session)
    assert again["errors"][0]["code"] == "INVALID_TOKEN"


async def test_code_only_invitation_asks_an_email_that_must_then_be_confirmed(
    admin: GraphQLClient, gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    data = await platform()
    generated = (
        await admin(
            GENERATE,
            {"count": 3, "options": {"groupIds": [str(data["manual"].id)], "locale": "fr-BE"}},
        )
    )["generateInvitationCodes"]
    assert generated["errors"] == [] and generated["invitedCount"] == 3
    code = generated["invitations"][0]["token"]
    assert generated["invitations"][0]["email"] is None
    preview = (await gql(BY_TOKEN, {"token": code}))["invitationByToken"]["invitation"]
    assert preview["codeOnly"] is True
    assert preview["requiredFields"] == [
        {"key": "neighbourhood", "title": "Neighbourhood", "type": "SELECT"}
    ]

    missing = await accept(gql, code)
    assert {e["code"] for e in missing["errors"]} == {"INVALID_EMAIL", "REQUIRED_FIELD_MISSING"}

    accepted = await accept(
        gql,
        code,
        email="Letter.Reader@example.org",
        registrationFieldValues=[{"key": "neighbourhood", "value": "south"}],
    )
    assert accepted["errors"] == []
    # A code on paper proves no mailbox: no account, no session, no grants yet.
    assert accepted["session"] is None
    assert accepted["emailConfirmationSent"] is True
    registration = accepted["registration"]
    assert registration["email"] == "letter.reader@example.org"
    assert (await gql(ME, token=registration["token"]))["me"] is None
    members = (await admin("{ groups { title members { email } } }"))["groups"]
    assert [g["members"] for g in members if g["title"] == "North Avenue Residents"] == [[]]
    # Meanwhile the registration holds the code: typed again, it says whose registration
    # waits (masked) and could start over; the console lists the letter as pending.
    waiting = (await gql(WAITING, {"token": code}))["invitationByToken"]["invitation"]
    assert waiting == {"waitingAddress": "l***@example.org"}
    held = (await admin(HELD, {"id": generated["invitations"][0]["id"]}))["invitation"]
    assert held == {"status": "PENDING", "waitingForConfirmation": True, "acceptedAt": None}

    await run_worker()
    [mail] = smtp_sink.to("letter.reader@example.org")
    assert "code de confirmation" in mail.subject
    await run_worker()
    assert len(smtp_sink.mails) == 1  # code-only invitations send no invitation mails

    # The address confirmed: the account exists, signed in, with the letter's grants.
    confirmed = await gql.post(
        CONFIRM,
        {"email": "letter.reader@example.org", "code": code_in(mail)},
        token=registration["token"],
    )
    session = confirmed["data"]["confirmEmail"]["session"]
    me = (await gql(ME, token=session["token"]))["me"]
    assert me["emailConfirmed"] is True
    assert me["groups"] == [{"title": "North Avenue Residents"}]
    listed = (await admin(INVITATION, {"id": generated["invitations"][0]["id"]}))["invitation"]
    assert listed["status"] == "ACCEPTED"
    assert listed["acceptedUser"] == {"email": "letter.reader@example.org"}
    held = (await admin(HELD, {"id": generated["invitations"][0]["id"]}))["invitation"]
    assert held["waitingForConfirmation"] is False
    # Used up now.
    assert (await gql(BY_TOKEN, {"token": code}))["invitationByToken"]["valid"] is False


async def test_the_sweep_recovers_a_send_whose_job_was_lost(
    admin: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any, redis: Any
) -> None:
    await create(admin, ["lost1@example.org", "lost2@example.org"])
    await redis.flushdb()  # Redis lost its data between the commit and the worker
    await run_worker()
    assert smtp_sink.mails == []
    clock.advance(timedelta(minutes=2))
    await enqueue_sweep(redis)
    await run_worker()
    assert sorted(m.recipients[0] for m in smtp_sink.mails) == [
        "lost1@example.org",
        "lost2@example.org",
    ]


async def test_smtp_errors_retry_and_end_in_failed_with_the_reason(
    admin: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    smtp_sink.refuse = (451, "4.3.0 try again later")
    smtp_sink.refuse_times = 1
    [flaky] = (await create(admin, "flaky@example.org"))["invitations"]
    await run_worker()
    recovered = (await admin(INVITATION, {"id": flaky["id"]}))["invitation"]
    assert recovered["delivery"] == {"state": "SENT", "attempts": 2, "lastError": None}

    smtp_sink.refuse = (550, "5.1.1 mailbox unavailable")
    smtp_sink.refuse_times = -1
    [broken] = (await create(admin, "broken@example.org"))["invitations"]
    await run_worker()
    failed = (await admin(INVITATION, {"id": broken["id"]}))["invitation"]
    assert failed["delivery"]["state"] == "FAILED"
    assert (
        "550" in failed["delivery"]["lastError"]
        and "mailbox unavailable" in failed["delivery"]["lastError"]
    )

    smtp_sink.refuse = None
    resent = (await admin(RESEND, {"id": broken["id"]}))["resendInvitation"]["invitation"]
    assert resent["delivery"]["state"] == "QUEUED"
    await run_worker()
    assert (await admin(INVITATION, {"id": broken["id"]}))["invitation"]["delivery"][
        "state"
    ] == "SENT"


async def test_personal_message_is_safe_and_mails_are_translated(
    admin: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    message = (
        "Hi <b>there</b> <script>alert(1)</script><img src=x onerror=alert(1)>"
        " {{ 7*7 }} {% if 1 %}x{% endif %}"
    )
    for locale, subject in [
        ("en", "Ada Admin invites you to Participate Example"),
        ("nl-BE", "Ada Admin nodigt je uit op Participate Example"),
        ("fr-BE", "Ada Admin vous invite sur Participate Example"),
    ]:
        address = f"{locale.lower()}@example.org"
        result = await create(admin, address, locale=locale, personalMessage=message)
        assert result["errors"] == []
        await run_worker()
        [mail] = smtp_sink.to(address)
        assert mail.subject == subject
        assert "<script" not in mail.html and "<img" not in mail.html
        # Plain text, shown as typed: what looks like HTML is escaped, never run or dropped.
        assert "Hi &lt;b&gt;there&lt;/b&gt; &lt;script&gt;alert(1)&lt;/script&gt;" in mail.html
        assert "&lt;img src=x onerror=alert(1)&gt;" in mail.html
        assert "<b>" not in mail.html
        assert "{{ 7*7 }}" in mail.text
        assert not any(again in mail.text for again in ("again", "opnieuw", "à nouveau"))
        assert "{% if 1 %}x{% endif %}" in mail.text
        assert token_from(mail) in mail.text


async def test_a_look_alike_address_is_refused_as_an_invitation_and_a_sign_up(
    admin: GraphQLClient, gql: GraphQLClient
) -> None:
    look_alike = "admin@\u0435xample.org"  # a Cyrillic ie (U+0435): reads as admin@example.org
    result = await create(admin, look_alike)
    [problem] = result["errors"]
    assert problem["code"] == "INVALID_EMAIL" and problem["value"] == look_alike
    assert "its domain mixes alphabets" in problem["message"]
    assert result["invitations"] == [] or result["invitedCount"] == 0
    sign_up = """mutation($input: SignUpInput!) {
      signUp(input: $input) { ok errors { code message field } }
    }"""
    password = "lighthouse keeper rowing 7"
    refused = await gql(sign_up, {"input": {"email": look_alike, "password": password}})
    [error] = refused["signUp"]["errors"]
    assert error["code"] == "INVALID_EMAIL" and "mixes alphabets" in error["message"]


async def test_the_personal_message_is_plain_text_kept_as_typed_with_its_line_breaks(
    admin: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    typed = (
        "Vul <uw naam> in bij het aanmelden.\r\nOnthoud: 5 < 6 en 7 > 3, en a<b.\r\n"
        "Tom & Jerry: <b>vet</b> <script>x()</script>\x0b\x07\nGroetjes,\nAda"
    )
    stored = (
        "Vul <uw naam> in bij het aanmelden.\nOnthoud: 5 < 6 en 7 > 3, en a<b.\n"
        "Tom & Jerry: <b>vet</b> <script>x()</script>\nGroetjes,\nAda"
    )
    result = await create(admin, "lea@example.org", locale="nl-BE", personalMessage=typed)
    assert result["errors"] == []
    [invitation] = result["invitations"]
    assert invitation["personalMessage"] == stored
    await run_worker()
    [mail] = smtp_sink.to("lea@example.org")
    for line in stored.split("\n"):
        assert f"    {line}\n" in mail.text
    assert (
        "Vul &lt;uw naam&gt; in bij het aanmelden.<br>\nOnthoud: 5 &lt; 6 en 7 &gt; 3, en"
        " a&lt;b.<br>\nTom &amp; Jerry: &lt;b&gt;vet&lt;/b&gt; &lt;script&gt;x()&lt;/script&gt;"
        "<br>\nGroetjes,<br>\nAda</div>"
    ) in mail.html
    # The length limit counts the text as stored (a line break is one character).
    limit = "x" * 1000 + "\r\n" + "x" * 999
    assert (await create(admin, "max@example.org", personalMessage=limit))["errors"] == []


def test_a_reminder_says_once_who_invited_in_every_language() -> None:
    from domain import i18n
    from domain.mail.render import render

    for locale in ("en", "nl-BE", "fr-BE"):
        t = i18n.words(locale, platform="Participate Example")
        values = {"inviter": "Ada Admin"}
        rendered = render(
            "invitation",
            locale,
            "mail.remind_subject",
            name="Lea",
            reminder=True,
            inviter="Ada Admin",
            message_html="",
            message_text="",
            link="https://participate.example.org/invite#token=X",
            invite_url="https://participate.example.org/invite",
            code="X",
            expires="1 May",
            email_known=True,
        )
        for part in (rendered.text, rendered.html):
            assert part.count("Ada Admin") == 1, (locale, part)
            assert part.count(t("mail.remind_intro_from", **values)) == 1, (locale, part)
            assert t("mail.invite_intro", **values) not in part, (locale, part)


async def test_a_full_mailbox_is_tried_again_later_not_failed_at_once(
    admin: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    smtp_sink.refuse, smtp_sink.refuse_times = (552, "5.2.2 Mailbox full"), 1
    [invitation] = (await create(admin, "full@example.org"))["invitations"]
    await run_worker()
    # Deferred, then sent on its next try (a 5xx would have failed it for good at once).
    delivery = (await admin(INVITATION, {"id": invitation["id"]}))["invitation"]["delivery"]
    assert delivery == {"state": "SENT", "attempts": 2, "lastError": None}
    assert len(smtp_sink.to("full@example.org")) == 1
    smtp_sink.refuse = None
