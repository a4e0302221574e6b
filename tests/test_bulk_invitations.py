"""Bulk actions on invitations over GraphQL: resend the failed and expired ones, delete, by the
ids of ticked rows or by the list's filter ("all that match"), saying what was skipped and why."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from domain.clock import clock
from domain.invitations import management
from domain.models import (
    Invitation,
    InvitationGroup,
    InvitationProject,
    MailSuppression,
    SuppressionReason,
    User,
)
from domain.settings import get_settings
from tests.fixtures import GraphQLClient, SmtpSink
from tests.invitations_helpers import (
    BY_TOKEN,
    GENERATE,
    INVITATION,
    RESEND,
    accept,
    create,
    sample_platform,
    token_from,
)

OUTCOMES = "skipped { reason count message } outcomes { id done skipReason message }"
RESEND_MANY = f"""
mutation($input: InvitationSelectionInput!) {{
  resendInvitations(input: $input) {{
    matchedCount resentCount mailedCount {OUTCOMES} errors {{ code message field }}
  }}
}}
"""
DELETE_MANY = f"""
mutation($input: InvitationSelectionInput!) {{
  deleteInvitations(input: $input) {{
    matchedCount deletedCount {OUTCOMES} errors {{ code message field }}
  }}
}}
"""


async def resend_many(admin: GraphQLClient, **selection: Any) -> dict[str, Any]:
    result: dict[str, Any] = (await admin(RESEND_MANY, {"input": selection}))["resendInvitations"]
    return result


async def delete_many(admin: GraphQLClient, **selection: Any) -> dict[str, Any]:
    result: dict[str, Any] = (await admin(DELETE_MANY, {"input": selection}))["deleteInvitations"]
    return result


def reasons(payload: dict[str, Any]) -> dict[str, int]:
    return {item["reason"]: item["count"] for item in payload["skipped"]}


async def details(admin: GraphQLClient, invitation_id: str) -> dict[str, Any]:
    found: dict[str, Any] = (await admin(INVITATION, {"id": invitation_id}))["invitation"]
    return found


async def failed_invitations(
    admin: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any, emails: list[str]
) -> list[dict[str, Any]]:
    """Invitations whose mail the server refused for good (550)."""
    smtp_sink.refuse, smtp_sink.refuse_times = (550, "5.1.1 mailbox unavailable"), -1
    invitations: list[dict[str, Any]] = (await create(admin, emails))["invitations"]
    await run_worker()
    smtp_sink.refuse = None
    return invitations


async def test_bulk_resend_by_ids_mails_the_failed_and_expired_ones_and_says_why_not_the_rest(
    admin: GraphQLClient, gql: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    [old] = (await create(admin, ["old@example.org"]))["invitations"]
    [code] = (await admin(GENERATE, {"count": 1}))["generateInvitationCodes"]["invitations"]
    await run_worker()
    clock.advance(timedelta(days=31))  # both expired, not yet marked so by the sweep
    [broken] = await failed_invitations(admin, smtp_sink, run_worker, ["broken@example.org"])
    [fresh] = (await create(admin, ["fresh@example.org"]))["invitations"]
    [done] = (await create(admin, ["done@example.org"], sendEmail=False))["invitations"]
    await run_worker()
    assert (await accept(gql, done["token"]))["errors"] == []
    smtp_sink.clear()

    ids = [old["id"], code["id"], broken["id"], fresh["id"], done["id"], "999999", "nonsense"]
    result = await resend_many(admin, ids=[*ids, old["id"]])  # a repeated id counts once
    assert result["errors"] == []
    assert (result["matchedCount"], result["resentCount"], result["mailedCount"]) == (5, 3, 2)
    assert reasons(result) == {"ACCEPTED": 1, "NOT_FAILED_OR_EXPIRED": 1, "NOT_FOUND": 2}
    outcomes = {o["id"]: (o["done"], o["skipReason"]) for o in result["outcomes"]}
    assert [o["id"] for o in result["outcomes"]] == ids
    assert outcomes == {
        old["id"]: (True, None),
        code["id"]: (True, None),
        broken["id"]: (True, None),
        fresh["id"]: (False, "NOT_FAILED_OR_EXPIRED"),
        done["id"]: (False, "ACCEPTED"),
        "999999": (False, "NOT_FOUND"),
        "nonsense": (False, "NOT_FOUND"),
    }
    skipped_fresh = next(o for o in result["outcomes"] if o["id"] == fresh["id"])
    assert "resend this one on its own" in skipped_fresh["message"]

    await run_worker()
    # The same tokens, mailed again; the code-only one only gets its 30 days back.
    assert [token_from(m) for m in smtp_sink.to("old@example.org")] == [old["token"]]
    assert [token_from(m) for m in smtp_sink.to("broken@example.org")] == [broken["token"]]
    assert len(smtp_sink.mails) == 2
    now = clock.local_now()
    for invitation in (old, code, broken):
        shown = await details(admin, invitation["id"])
        assert shown["status"] == "PENDING"
        assert shown["expiresAt"] > (now + timedelta(days=29)).isoformat()
    assert (await details(admin, code["id"]))["delivery"]["state"] == "NOT_SENT"
    assert (await details(admin, broken["id"]))["delivery"] == {
        "state": "SENT",
        "attempts": 1,
        "lastError": None,
    }
    assert (await accept(gql, code["token"], email="coder@example.org"))["errors"] == []


async def test_bulk_resend_of_all_that_match_counts_towards_the_allowance_and_runs_in_batches(
    admin: GraphQLClient,
    smtp_sink: SmtpSink,
    run_worker: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(management, "BATCH", 2)
    await create(admin, ["fine1@example.org", "fine2@example.org"])
    await run_worker()
    failed = await failed_invitations(
        admin, smtp_sink, run_worker, [f"failed{i}@example.org" for i in range(5)]
    )
    smtp_sink.clear()
    # An address that bounced for good is sent nothing, bulk resends included.
    await MailSuppression.create(
        email=failed[0]["email"], reason=SuppressionReason.HARD_BOUNCE, source="dsn"
    )

    # 7 created today: with an allowance of 10 a day, 4 more mails are too many. Nothing moves.
    monkeypatch.setattr(get_settings(), "limit_invitations_per_admin_per_day", 10)
    refused = await resend_many(admin, filter={"delivery": "FAILED"})
    assert refused["resentCount"] == 0
    [error] = refused["errors"]
    assert (error["code"], error["field"]) == ("RATE_LIMITED", "filter")
    assert "This would mail 4 invitations" in error["message"]
    assert await Invitation.filter(delivery_state="failed").count() == 5

    monkeypatch.setattr(get_settings(), "limit_invitations_per_admin_per_day", 11)
    result = await resend_many(admin, filter={"delivery": "FAILED"})
    assert result["errors"] == [] and result["outcomes"] == []
    assert (result["matchedCount"], result["resentCount"], result["mailedCount"]) == (5, 4, 4)
    assert reasons(result) == {"SUPPRESSED": 1}
    await run_worker()
    assert sorted(mail.to for mail in smtp_sink.mails) == sorted(i["email"] for i in failed[1:])

    # All that match an empty filter: every invitation; only the suppressed one still failed.
    everything = await resend_many(admin, filter={})
    assert (everything["matchedCount"], everything["resentCount"]) == (7, 0)
    assert reasons(everything) == {"NOT_FAILED_OR_EXPIRED": 6, "SUPPRESSED": 1}


async def test_bulk_resend_mails_the_invitations_created_without_their_mail(
    admin: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    """ "Send the invitation mail now" unticked: a bulk resend sends them; pending code-only
    invitations (nothing to mail) and invitations mailed already are left alone."""
    unsent = (await create(admin, ["later1@example.org", "later2@example.org"], sendEmail=False))[
        "invitations"
    ]
    [code] = (await admin(GENERATE, {"count": 1}))["generateInvitationCodes"]["invitations"]
    [mailed] = (await create(admin, ["mailed@example.org"]))["invitations"]
    await run_worker()
    assert [m.to for m in smtp_sink.mails] == ["mailed@example.org"]
    smtp_sink.clear()

    result = await resend_many(admin, filter={})
    assert result["errors"] == []
    assert (result["matchedCount"], result["resentCount"], result["mailedCount"]) == (4, 2, 2)
    assert reasons(result) == {"NOT_FAILED_OR_EXPIRED": 2}
    await run_worker()
    assert sorted(m.to for m in smtp_sink.mails) == ["later1@example.org", "later2@example.org"]
    for invitation in unsent:
        assert token_from(smtp_sink.to(invitation["email"])[0]) == invitation["token"]
        assert (await details(admin, invitation["id"]))["delivery"]["state"] == "SENT"
    shown = await details(admin, code["id"])
    assert (shown["delivery"]["state"], shown["expiresAt"]) == ("NOT_SENT", code["expiresAt"])
    by_ids = await resend_many(admin, ids=[code["id"], mailed["id"]])
    assert [o["skipReason"] for o in by_ids["outcomes"]] == ["NOT_FAILED_OR_EXPIRED"] * 2


async def test_bulk_resend_skips_addresses_invited_again_or_registered_meanwhile(
    admin: GraphQLClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    """One pending invitation per address, as when inviting: an expired invitation whose
    address was invited again, or has an account now, is not resent; of two expired ones to
    the same address in the selection, one is."""
    [tom_old] = (await create(admin, ["tom@example.org"]))["invitations"]
    [gone] = (await create(admin, ["gone@example.org"]))["invitations"]
    [ann1] = (await create(admin, ["ann@example.org"]))["invitations"]
    await run_worker()
    clock.advance(timedelta(days=31))
    [ann2] = (await create(admin, ["ann@example.org"]))["invitations"]
    [tom_new] = (await create(admin, ["tom@example.org"], sendEmail=False))["invitations"]
    await run_worker()
    clock.advance(timedelta(days=31))  # ann's second one expired too; tom's new one...
    assert (await admin(RESEND, {"id": tom_new["id"]}))["resendInvitation"]["errors"] == []
    await User.create(
        email="gone@example.org",
        first_name="Gust",
        last_name="Claes",
        locale="nl-BE",
        password_hash="-",
        email_confirmed_at=await clock.now(),
    )
    await run_worker()
    smtp_sink.clear()

    ids = [tom_old["id"], gone["id"], ann1["id"], ann2["id"]]
    result = await resend_many(admin, ids=ids)
    assert result["errors"] == []
    assert (result["matchedCount"], result["resentCount"], result["mailedCount"]) == (4, 1, 1)
    assert reasons(result) == {"ALREADY_INVITED": 2, "ALREADY_REGISTERED": 1}
    outcomes = {o["id"]: (o["done"], o["skipReason"]) for o in result["outcomes"]}
    assert outcomes == {
        tom_old["id"]: (False, "ALREADY_INVITED"),
        gone["id"]: (False, "ALREADY_REGISTERED"),
        ann1["id"]: (True, None),
        ann2["id"]: (False, "ALREADY_INVITED"),
    }
    messages = {o["id"]: o["message"] for o in result["outcomes"]}
    assert "Another invitation to its address is pending" in messages[tom_old["id"]]
    assert "has an account now" in messages[gone["id"]]
    await run_worker()
    assert [(m.to, token_from(m)) for m in smtp_sink.mails] == [("ann@example.org", ann1["token"])]
    now = await clock.now()
    pending = await Invitation.filter(status="pending", expires_at__gt=now).values_list(
        "id", flat=True
    )
    assert sorted(pending) == sorted([int(tom_new["id"]), int(ann1["id"])])

    # By the filter, all that match: nothing more to send (the same reasons), in any batch.
    again = await resend_many(admin, filter={"status": "EXPIRED"})
    assert (again["matchedCount"], again["resentCount"]) == (3, 0)
    assert reasons(again) == {"ALREADY_INVITED": 2, "ALREADY_REGISTERED": 1}


async def test_bulk_delete_withdraws_the_tokens_and_the_grants_and_keeps_accepted_ones(
    admin: GraphQLClient, gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(management, "BATCH", 2)
    platform = await sample_platform()
    grants = {"groupIds": [str(platform["manual"].id)], "projectIds": [str(platform["project"].id)]}
    invited = (
        await create(
            admin,
            [f"member{i}@example.org" for i in range(4)],
            sendEmail=False,
            admin=True,
            **grants,
        )
    )["invitations"]
    [other] = (await create(admin, ["other@example.org"], sendEmail=False))["invitations"]
    first, accepted, *rest = invited
    assert (await accept(gql, accepted["token"]))["errors"] == []

    by_ids = await delete_many(admin, ids=[first["id"], accepted["id"], "123456"])
    assert by_ids["errors"] == []
    assert (by_ids["matchedCount"], by_ids["deletedCount"]) == (2, 1)
    assert reasons(by_ids) == {"ACCEPTED": 1, "NOT_FOUND": 1}
    assert [(o["done"], o["skipReason"]) for o in by_ids["outcomes"]] == [
        (True, None),
        (False, "ACCEPTED"),
        (False, "NOT_FOUND"),
    ]
    assert "stay as the record" in by_ids["outcomes"][1]["message"]

    # All that match: the group's invitations (the accepted one stays).
    by_filter = await delete_many(admin, filter={"groupId": str(platform["manual"].id)})
    assert (by_filter["matchedCount"], by_filter["deletedCount"]) == (3, 2)
    assert reasons(by_filter) == {"ACCEPTED": 1}
    assert by_filter["outcomes"] == []

    remaining = {i.id for i in await Invitation.all()}
    assert remaining == {int(accepted["id"]), int(other["id"])}
    # The grants went with them: nobody can ever get them from these invitations.
    assert await InvitationGroup.exclude(invitation_id=int(accepted["id"])).count() == 0
    assert await InvitationProject.exclude(invitation_id=int(accepted["id"])).count() == 0
    for gone in (first, *rest):
        preview = (await gql(BY_TOKEN, {"token": gone["token"]}))["invitationByToken"]
        assert preview["valid"] is False
        refused = await accept(gql, gone["token"])
        assert refused["errors"][0]["code"] == "INVALID_TOKEN"


async def test_a_bulk_action_takes_ids_or_a_filter_and_at_most_a_thousand_ids(
    admin: GraphQLClient,
) -> None:
    [invitation] = (await create(admin, ["kept@example.org"], sendEmail=False))["invitations"]
    for mutation, key in ((RESEND_MANY, "resendInvitations"), (DELETE_MANY, "deleteInvitations")):
        for selection, field in (
            ({}, "filter"),
            ({"ids": [invitation["id"]], "filter": {}}, "ids"),
            ({"ids": []}, "ids"),
            ({"ids": [str(i) for i in range(1, 1002)]}, "ids"),
        ):
            payload = (await admin(mutation, {"input": selection}))[key]
            [error] = payload["errors"]
            assert (error["code"], error["field"]) == ("INVALID_INPUT", field), (key, selection)
            if not selection:  # neither given: asked for one, not told off for giving both
                assert "not both" not in error["message"], error["message"]
    assert await Invitation.filter(id=int(invitation["id"])).exists()
