"""The admins' invitation list: filters, orderings, keyset pages, totalCount; and the details
of one invitation, as the console shows them."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

from domain.clock import clock
from domain.groups.service import create_group
from domain.models import GroupKind, Invitation, InvitationStatus
from domain.projects.service import create_project
from tests.fixtures import GraphQLClient
from tests.invitations_helpers import (
    GENERATE,
    RESEND,
    accept,
    create,
    new_invitation,
    registered,
    sample_platform,
    store_invitations,
)

LIST = """
query(
  $filter: InvitationFilterInput, $orderBy: InvitationOrderInput, $first: Int!, $after: String
) {
  invitations(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    totalCount
    edges { cursor node { email lastName status } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""


async def emails(admin: GraphQLClient, **variables: Any) -> list[str | None]:
    data = await admin(LIST, {"first": 50, **variables})
    return [edge["node"]["email"] for edge in data["invitations"]["edges"]]


async def test_filters_by_status_delivery_search_group_and_role(
    admin: GraphQLClient, gql: GraphQLClient
) -> None:
    group = await create_group(title="Readers", kind=GroupKind.MANUAL)
    project = await create_project(title="Library")
    await create(admin, ["anna@example.org"], groupIds=[str(group.id)], sendEmail=False)
    await create(admin, ["bert@example.org"], admin=True)
    await create(admin, ["carl@other.org"], projectIds=[str(project.id)], sendEmail=False)
    [accepted] = (await create(admin, ["dora@example.org"], sendEmail=False))["invitations"]
    assert (await accept(gql, accepted["token"]))["errors"] == []

    assert sorted(await emails(admin, filter={"status": "ACCEPTED"})) == ["dora@example.org"]
    assert sorted(await emails(admin, filter={"status": "PENDING"})) == [
        "anna@example.org",
        "bert@example.org",
        "carl@other.org",
    ]
    assert await emails(admin, filter={"status": "EXPIRED"}) == []
    assert await emails(admin, filter={"delivery": "QUEUED"}) == ["bert@example.org"]
    assert await emails(admin, filter={"search": "BE"}) == ["bert@example.org"]
    assert await emails(admin, filter={"search": "%"}) == []
    assert await emails(admin, filter={"groupId": str(group.id)}) == ["anna@example.org"]
    assert await emails(admin, filter={"role": "ADMIN"}) == ["bert@example.org"]
    assert await emails(admin, filter={"role": "PROJECT_MANAGER"}) == ["carl@other.org"]

    clock.advance(timedelta(days=31))  # before the sweep marks them, they read as expired
    assert sorted(await emails(admin, filter={"status": "EXPIRED"})) == [
        "anna@example.org",
        "bert@example.org",
        "carl@other.org",
    ]
    assert await emails(admin, filter={"status": "PENDING"}) == []


async def test_search_matches_name_prefixes_in_any_case(admin: GraphQLClient) -> None:
    from domain import outbox
    from domain.invitations.service import InvitationOptions, Invitee, plan_invitations, write_plan

    plan = await plan_invitations(
        [
            Invitee(email="x1@example.org", first_name="Émile", last_name="Van Damme", position=0),
            Invitee(email="x2@example.org", first_name="Sofie", last_name="de Smet", position=1),
        ],
        InvitationOptions(send_email=False),
    )
    async with outbox.collect():
        await write_plan(plan, inviter_id=None)
    assert await emails(admin, filter={"search": "van d"}) == ["x1@example.org"]
    assert await emails(admin, filter={"search": "DE S"}) == ["x2@example.org"]
    assert await emails(admin, filter={"search": "sof"}) == ["x2@example.org"]


async def test_a_full_name_as_an_admin_pastes_it_finds_the_person(admin: GraphQLClient) -> None:
    await store_invitations(
        [
            new_invitation("an@example.org", first_name="An", last_name="Peeters"),
            new_invitation("anna@example.org", first_name="Anna", last_name="Maes"),
            new_invitation("jp@example.org", first_name="Jean Pierre", last_name="Van Damme"),
            new_invitation("smet@example.org", first_name="Sofie", last_name="de Smet"),
        ]
    )
    assert await emails(admin, filter={"search": "An Peeters"}) == ["an@example.org"]
    assert await emails(admin, filter={"search": "an pee"}) == ["an@example.org"]
    assert await emails(admin, filter={"search": "  ANNA   maes "}) == ["anna@example.org"]
    assert await emails(admin, filter={"search": "Jean Pierre Van Damme"}) == ["jp@example.org"]
    assert await emails(admin, filter={"search": "jean van"}) == ["jp@example.org"]
    assert await emails(admin, filter={"search": "pierre van"}) == []  # a name's start only
    assert await emails(admin, filter={"search": "Sofie de Smet"}) == ["smet@example.org"]
    assert await emails(admin, filter={"search": "de smet"}) == ["smet@example.org"]
    assert await emails(admin, filter={"search": "Peeters An"}) == []  # first name first
    totals = await admin(LIST, {"first": 10, "filter": {"search": "An Peeters"}})
    assert totals["invitations"]["totalCount"] == 1


IDS = """
query($filter: InvitationFilterInput, $first: Int!) {
  invitations(filter: $filter, first: $first) { totalCount edges { node { id } } }
}
"""


async def found_ids(admin: GraphQLClient, search: str) -> list[str]:
    data = (await admin(IDS, {"first": 50, "filter": {"search": search}}))["invitations"]
    ids = [edge["node"]["id"] for edge in data["edges"]]
    assert data["totalCount"] == len(ids)
    return ids


async def test_a_letter_is_found_by_its_code_its_number_or_the_person_who_registered_with_it(
    admin: GraphQLClient,
) -> None:
    """What a resident reads out on the phone: the letter's code, its number, or the name and
    address they registered with (a letter's invitation has none of its own)."""
    generated = (await admin(GENERATE, {"count": 3}))["generateInvitationCodes"]
    first, second, third = generated["invitations"]
    code = first["token"]  # XXXXX-XXXXX-XXXXX
    assert await found_ids(admin, code) == [first["id"]]
    typed = " ".join(code.replace("-", "")[i : i + 3] for i in range(0, 15, 3)).lower()
    assert await found_ids(admin, f"  {typed} ") == [first["id"]]  # any case, any spacing
    assert await found_ids(admin, code.replace("0", "O").replace("1", "I")) == [first["id"]]
    # Only the code's digest is stored: its beginning, or a code with a typo, finds nothing.
    assert await found_ids(admin, code[:5]) == []
    assert await found_ids(admin, code[:-1] + ("0" if code[-1] != "0" else "1")) == []

    number = second["id"]
    for spoken in (number, f"nr. {number}", f"Nr {number}", f"no. {number}", f"n° {number}"):
        assert await found_ids(admin, spoken) == [number], spoken
    assert await found_ids(admin, "nr. 2147483648") == []  # no such number: no error either

    account = await registered("piet.janssens@example.org", first_name="An", last_name="Peeters")
    now = await clock.now()
    await Invitation.filter(id=int(third["id"])).update(
        status=InvitationStatus.ACCEPTED, accepted_at=now, accepted_user_id=account.id
    )
    await store_invitations(
        [new_invitation("jan@example.org", first_name="Jan", last_name="Peeters")]
    )
    assert await found_ids(admin, "An Peeters") == [third["id"]]
    assert await found_ids(admin, "PIET.JANS") == [third["id"]]
    assert len(await found_ids(admin, "peeters")) == 2  # the letter's person and Jan
    # A pending invitation is not found by an account that happens to exist.
    await registered("jan.other@example.org", first_name="Jan", last_name="Other")
    assert await found_ids(admin, "jan.other") == []


async def test_orderings_in_both_directions_page_through_everything_once(
    admin: GraphQLClient,
) -> None:
    addresses = [f"user{i:02d}@example.org" for i in range(23)]
    await create(admin, addresses, sendEmail=False)
    for field in ("CREATED_AT", "EMAIL", "LAST_NAME", "STATUS"):
        for direction in ("ASC", "DESC"):
            seen: list[str] = []
            after = None
            pages = 0
            while True:
                data = (
                    await admin(
                        LIST,
                        {
                            "orderBy": {"field": field, "direction": direction},
                            "first": 5,
                            "after": after,
                        },
                    )
                )["invitations"]
                assert data["totalCount"] == 23
                seen.extend(edge["node"]["email"] for edge in data["edges"])
                pages += 1
                if not data["pageInfo"]["hasNextPage"]:
                    break
                after = data["pageInfo"]["endCursor"]
            assert sorted(seen) == addresses, (field, direction)
            assert pages == 5
            if field == "EMAIL":
                assert seen == (addresses if direction == "ASC" else addresses[::-1])


async def test_last_names_beyond_ascii_page_through_and_older_cursors_still_continue(
    admin: GraphQLClient,
) -> None:
    names = ["Ødegaard", "Çelik", "Dupont", "Ünal", "Élise", "Ñúñez"]
    await store_invitations(
        [new_invitation(f"person{i}@example.org", last_name=name) for i, name in enumerate(names)]
    )
    order = {"field": "LAST_NAME", "direction": "ASC"}
    seen: list[str] = []
    after = None
    while True:
        page = (await admin(LIST, {"orderBy": order, "first": 2, "after": after}))["invitations"]
        seen.extend(edge["node"]["lastName"] for edge in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == sorted(names, key=lambda name: name.lower().encode())
    # A cursor as an earlier version wrote it (non-ASCII escaped as \u00xx), held by a page
    # open in a browser during an upgrade, continues where it was.
    first_two = seen[:2]
    last_id = (await admin(LIST, {"orderBy": order, "first": 2}))["invitations"]["edges"][1]
    cursor = base64.urlsafe_b64decode(last_id["cursor"] + "==")
    _, value, invitation_id = json.loads(cursor)
    earlier = json.dumps(["last_name", value, invitation_id], separators=(",", ":"))
    assert "\\u" in earlier and value.lower() == first_two[1].lower()
    older = base64.urlsafe_b64encode(earlier.encode()).decode().rstrip("=")
    rest = (await admin(LIST, {"orderBy": order, "first": 10, "after": older}))["invitations"]
    assert [edge["node"]["lastName"] for edge in rest["edges"]] == seen[2:]


async def test_a_search_finds_names_beyond_ascii_typed_in_either_case(
    admin: GraphQLClient,
) -> None:
    await store_invitations(
        [
            new_invitation("a@example.org", last_name="Çelik"),
            new_invitation("b@example.org", first_name="Élise", last_name="Dupont"),
            new_invitation("c@example.org", last_name="ØDEGAARD"),
            new_invitation("d@example.org", last_name="Ünal"),
            new_invitation("e@example.org", last_name="Cela"),
        ]
    )

    async def found(search: str) -> tuple[list[str | None], int]:
        data = await admin(LIST, {"first": 10, "filter": {"search": search}})
        page = data["invitations"]
        return sorted(edge["node"]["email"] for edge in page["edges"]), page["totalCount"]

    # SQLite's lower() and LIKE fold ASCII only: "çelik" did not find "Çelik" there.
    for typed in ("çelik", "Çelik", "ÇEL", "çe"):
        assert await found(typed) == (["a@example.org"], 1), typed
    assert await found("ce") == (["e@example.org"], 1)  # C and Ç are different letters
    for typed in ("élise", "ÉLISE", "Él"):
        assert await found(typed) == (["b@example.org"], 1), typed
    assert await found("ødegaard") == (["c@example.org"], 1)
    assert await found("üNAL") == (["d@example.org"], 1)
    # The patterns' own signs are only characters, in either database's pattern language.
    for typed in ("*", "?", "[", "[ç]", "%", "_", "ç*"):
        assert await found(typed) == ([], 0), typed


async def test_an_unknown_ordering_or_a_foreign_cursor_is_a_clear_error_not_a_500(
    admin: GraphQLClient,
) -> None:
    body = await admin.post(LIST, {"orderBy": {"field": "PASSWORD"}, "first": 5})
    assert (
        "Value 'PASSWORD' does not exist in 'InvitationOrderField' enum"
        in body["errors"][0]["message"]
    )
    await create(admin, ["a@example.org", "b@example.org"], sendEmail=False)
    page = (await admin(LIST, {"first": 1, "orderBy": {"field": "EMAIL"}}))["invitations"]
    wrong = await admin.post(LIST, {"first": 1, "after": page["pageInfo"]["endCursor"]})
    assert wrong["errors"][0]["message"].startswith("This cursor does not belong to this ordering")
    garbage = await admin.post(LIST, {"first": 1, "after": "%%%"})
    assert "cursor" in garbage["errors"][0]["message"]
    too_many = await admin.post(LIST, {"first": 10_000})
    assert "between 0 and 200" in too_many["errors"][0]["message"]


DETAILS = """
query($id: ID!) {
  invitation(id: $id) {
    email codeOnly status createdAt sentAt expiresAt acceptedAt token
    delivery { state attempts lastError sendCount }
    inviter { email }
    invitationImport { fileName status createdBy { email } }
    grants { admin projects { title } groups { title } registrationFieldValues { key value } }
  }
}
"""


async def test_the_details_of_an_invitation_say_where_it_came_from_and_how_its_mail_is_doing(
    admin: GraphQLClient,
) -> None:
    from domain.models import InvitationImport, User

    platform = await sample_platform()
    [typed] = (
        await create(
            admin,
            ["typed@example.org"],
            sendEmail=False,
            projectIds=[str(platform["project"].id)],
            groupIds=[str(platform["manual"].id)],
            registrationFieldValues=[{"key": "neighbourhood", "value": "north"}],
        )
    )["invitations"]
    assert (await admin(RESEND, {"id": typed["id"]}))["resendInvitation"]["errors"] == []
    shown = (await admin(DETAILS, {"id": typed["id"]}))["invitation"]
    assert shown["codeOnly"] is False and shown["token"] == typed["token"]
    assert shown["delivery"] == {
        "state": "QUEUED",
        "attempts": 0,
        "lastError": None,
        "sendCount": 2,
    }
    assert shown["inviter"] == {"email": "admin@participate.example.org"}
    assert shown["invitationImport"] is None
    assert shown["grants"] == {
        "admin": False,
        "projects": [{"title": "Riverside park"}],
        "groups": [{"title": "North Avenue Residents"}],
        "registrationFieldValues": [{"key": "neighbourhood", "value": '"north"'}],
    }

    uploader = await User.get(email="admin@participate.example.org")
    record = await InvitationImport.create(
        created_by=uploader, file_name="north.xlsx", status="done", content=b"x" * 10
    )
    [imported_id] = await store_invitations([new_invitation("")], import_id=record.id)
    imported = (await admin(DETAILS, {"id": str(imported_id)}))["invitation"]
    assert imported["codeOnly"] is True and imported["email"] is None
    assert imported["inviter"] == {"email": "admin@participate.example.org"}  # the uploader
    assert imported["invitationImport"] == {
        "fileName": "north.xlsx",
        "status": "DONE",
        "createdBy": {"email": "admin@participate.example.org"},
    }
    [code] = (await admin(GENERATE, {"count": 1}))["generateInvitationCodes"]["invitations"]
    assert (await admin(DETAILS, {"id": code["id"]}))["invitation"]["delivery"]["state"] == (
        "NOT_SENT"
    )
