"""Groups over GraphQL as the console manages them: member counts, members a page at a time,
rename, smart group rule editing, delete."""

from __future__ import annotations

from typing import Any

from domain.models import Invitation, InvitationGroup, Membership
from tests.fixtures import GraphQLClient
from tests.invitations_helpers import accept, create
from tests.test_platform import (
    ADD_MEMBERS,
    create_field,
    create_group,
    person,
    rule,
    signed_in,
)

GROUPS = "{ groups { title kind memberCount } }"
UPDATE_GROUP = """
mutation($id: ID!, $input: UpdateGroupInput!) {
  updateGroup(id: $id, input: $input) {
    group { title kind matchAll memberCount rules { description } }
    errors { code message field position }
  }
}
"""
DELETE_GROUP = """
mutation($id: ID!) {
  deleteGroup(id: $id) {
    deletedId membershipsRemovedCount pendingInvitationsChangedCount errors { code message }
  }
}
"""
MEMBER_PAGE = """
query($first: Int!, $after: String, $search: String) {
  groups {
    title
    memberPage(first: $first, after: $after, search: $search) {
      totalCount
      edges { cursor node { email lastName } }
      pageInfo { hasNextPage hasPreviousPage endCursor }
    }
  }
}
"""


async def counts(admin: GraphQLClient) -> dict[str, int]:
    return {g["title"]: g["memberCount"] for g in (await admin(GROUPS))["groups"]}


async def test_member_counts_and_pages_of_manual_and_smart_groups(admin: GraphQLClient) -> None:
    people = [
        await person(f"p{i}@{'city.example.org' if i % 2 else 'example.org'}", last_name=name)
        for i, name in enumerate(["Claes", "de Smet", "Peeters", "Maes", "Janssens"])
    ]
    manual = (await create_group(admin, "Neighbourhood council"))["group"]
    await admin(ADD_MEMBERS, {"groupId": manual["id"], "userIds": [p.id for p in people[:3]]})
    rules = [rule("EMAIL_DOMAIN", "ENDS_WITH", "city.example.org")]
    await create_group(admin, "City staff", "SMART", rules=rules)
    # An admin (the fixture's) and five people: two are city staff.
    assert await counts(admin) == {"City staff": 2, "Neighbourhood council": 3}

    seen: dict[str, list[str]] = {}
    after = None
    while True:
        data = await admin(MEMBER_PAGE, {"first": 2, "after": after})
        council = next(g for g in data["groups"] if g["title"] == "Neighbourhood council")
        page = council["memberPage"]
        assert page["totalCount"] == 3
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        seen.setdefault("council", []).extend(e["node"]["lastName"] for e in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen["council"] == ["Claes", "de Smet", "Peeters"]  # by last name, in any case

    searched = await admin(MEMBER_PAGE, {"first": 10, "search": "JANS"})
    found = {g["title"]: g["memberPage"] for g in searched["groups"]}
    assert found["City staff"]["totalCount"] == 0
    assert found["Neighbourhood council"]["edges"] == []
    staff = await admin(MEMBER_PAGE, {"first": 10, "search": "p3@"})
    page = next(g for g in staff["groups"] if g["title"] == "City staff")["memberPage"]
    assert [e["node"]["email"] for e in page["edges"]] == ["p3@city.example.org"]
    assert page["totalCount"] == 1
    wrong = await admin.post(MEMBER_PAGE, {"first": 2, "after": "not-a-cursor"})
    assert "cursor" in wrong["errors"][0]["message"]


async def test_renaming_and_editing_a_smart_groups_rules(
    gql: GraphQLClient, admin: GraphQLClient
) -> None:
    assert (await create_field(admin, "age", "NUMBER"))["errors"] == []
    young = await person("young@example.org", age=15)
    await person("older@example.org", age=45)
    group = (
        await create_group(
            admin, "Youth", "SMART", rules=[rule("FIELD", "LESS_THAN", "18", fieldKey="age")]
        )
    )["group"]
    assert group["rules"][0]["description"] == "field 'age' less than 18"
    as_young = await signed_in(gql, young)
    assert (await as_young("{ me { groups { title } } }"))["me"]["groups"] == [{"title": "Youth"}]

    changed = (
        await admin(
            UPDATE_GROUP,
            {
                "id": group["id"],
                "input": {
                    "title": " Adults ",
                    "rules": [
                        rule("FIELD", "GREATER_THAN", "17", fieldKey="age"),
                        rule("EMAIL_DOMAIN", "IS", "example.org"),
                    ],
                    "matchAll": True,
                },
            },
        )
    )["updateGroup"]
    assert changed["errors"] == []
    assert changed["group"] == {
        "title": "Adults",
        "kind": "SMART",
        "matchAll": True,
        "memberCount": 1,
        "rules": [
            {"description": "field 'age' greater than 17"},
            {"description": "email domain is example.org"},
        ],
    }
    assert (await as_young("{ me { groups { title } } }"))["me"]["groups"] == []
    any_rule = await admin(UPDATE_GROUP, {"id": group["id"], "input": {"matchAll": False}})
    assert any_rule["updateGroup"]["group"]["memberCount"] == 2  # young is at example.org

    manual = (await create_group(admin, "Council"))["group"]
    for input, code, field in [
        ({"title": "council"}, "DUPLICATE_TITLE", "title"),
        ({"title": "  "}, "INVALID_INPUT", "title"),
        ({"rules": []}, "INVALID_RULE", "rules"),
        ({"rules": [rule("FIELD", "IS", "x", fieldKey="nope")]}, "INVALID_RULE", "rules"),
    ]:
        refused = (await admin(UPDATE_GROUP, {"id": group["id"], "input": input}))["updateGroup"]
        assert (refused["errors"][0]["code"], refused["errors"][0]["field"]) == (code, field)
    refused = await admin(
        UPDATE_GROUP, {"id": manual["id"], "input": {"rules": [rule("LOCALE", "IS", "en")]}}
    )
    assert refused["updateGroup"]["errors"][0]["code"] == "INVALID_RULE"
    unknown = await admin(UPDATE_GROUP, {"id": "999999", "input": {"title": "x"}})
    assert unknown["updateGroup"]["errors"][0]["code"] == "UNKNOWN_GROUP"
    assert await counts(admin) == {"Adults": 2, "Council": 0}


async def test_deleting_a_group_removes_its_memberships_and_its_place_in_pending_invitations(
    gql: GraphQLClient, admin: GraphQLClient
) -> None:
    member = await person("member@example.org")
    group = (await create_group(admin, "North Avenue Residents"))["group"]
    await admin(ADD_MEMBERS, {"groupId": group["id"], "userIds": [member.id]})
    invitations: list[dict[str, Any]] = (
        await create(
            admin, ["a@example.org", "b@example.org"], groupIds=[group["id"]], sendEmail=False
        )
    )["invitations"]
    assert (await accept(gql, invitations[0]["token"]))["errors"] == []

    deleted = (await admin(DELETE_GROUP, {"id": group["id"]}))["deleteGroup"]
    assert deleted == {
        "deletedId": group["id"],
        "membershipsRemovedCount": 2,  # the member and the one who accepted
        "pendingInvitationsChangedCount": 1,
        "errors": [],
    }
    assert await Membership.all().count() == 0
    assert await InvitationGroup.all().count() == 0
    assert await Invitation.all().count() == 2  # the invitations themselves stay
    # The pending one can still be accepted, and puts nobody in a group that is gone.
    accepted = await accept(gql, invitations[1]["token"], email=None)
    as_b = gql.as_user(accepted["session"]["token"])
    assert (await as_b("{ me { groups { title } } }"))["me"]["groups"] == []
    again = (await admin(DELETE_GROUP, {"id": group["id"]}))["deleteGroup"]
    assert again["errors"][0]["code"] == "UNKNOWN_GROUP"
