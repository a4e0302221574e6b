"""Platform data over GraphQL: groups and their members, projects, registration fields, roles.

Admins set these up; invitations refer to them. Everything here goes through /graphql.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from domain.errors import DomainError, ErrorCode
from domain.models import Group, Membership, Project, RegistrationField, Role, RoleKind, User
from domain.roles import service as roles
from domain.users.passwords import hash_password
from tests.fixtures import SIGN_IN, GraphQLClient

CREATE_GROUP = """
mutation($input: CreateGroupInput!) {
  createGroup(input: $input) {
    group { id title kind matchAll rules { attribute operator fieldKey value description } }
    errors { code message field position value }
  }
}
"""
ADD_MEMBERS = """
mutation($groupId: ID!, $userIds: [ID!]!) {
  addGroupMembers(groupId: $groupId, userIds: $userIds) {
    group { title members { email } }
    errors { code message field }
  }
}
"""
REMOVE_MEMBERS = """
mutation($groupId: ID!, $userIds: [ID!]!) {
  removeGroupMembers(groupId: $groupId, userIds: $userIds) {
    group { title members { email } }
    errors { code message field }
  }
}
"""
GROUPS = "{ groups { title kind members { email } } }"
CREATE_PROJECT = """
mutation($title: String!) {
  createProject(title: $title) { project { id title } errors { code message field } }
}
"""
PROJECTS = "{ projects { title } }"
CREATE_FIELD = """
mutation($input: CreateRegistrationFieldInput!) {
  createRegistrationField(input: $input) {
    registrationField { key title type options { key title } required }
    errors { code message field value }
  }
}
"""
FIELDS = "{ registrationFields { key title type options { key title } required } }"
SET_ROLE = """
mutation($userId: ID!, $kind: RoleKind!, $projectId: ID) {
  setRole(userId: $userId, kind: $kind, projectId: $projectId) {
    user { email roles { kind project { title } } }
    errors { code message field }
  }
}
"""
REMOVE_ROLE = """
mutation($userId: ID!, $kind: RoleKind!, $projectId: ID) {
  removeRole(userId: $userId, kind: $kind, projectId: $projectId) {
    user { email roles { kind project { title } } }
    errors { code message field }
  }
}
"""
MY_GROUPS = "{ me { groups { title } } }"
MY_ROLES = "{ me { roles { kind project { title } } } }"
ADMIN_EMAIL = "admin@participate.example.org"
PASSWORD = "member passphrase for the tests 93"
_password_hash: str | None = None


async def person(
    email: str, *, locale: str = "en", last_name: str = "", **field_values: Any
) -> User:
    """A registered user with a confirmed email, as if they had signed up long ago."""
    global _password_hash
    if _password_hash is None:
        _password_hash = await hash_password(PASSWORD)
    return await User.create(
        email=email,
        first_name=email.split("@")[0].title(),
        last_name=last_name or email.split("@")[0].title(),
        locale=locale,
        password_hash=_password_hash,
        email_confirmed_at=datetime.now(UTC),
        registration_field_values=field_values,
    )


async def signed_in(gql: GraphQLClient, user: User) -> GraphQLClient:
    data = await gql(SIGN_IN, {"email": user.email, "password": PASSWORD})
    return gql.as_user(data["signIn"]["session"]["token"])


async def create_group(admin: GraphQLClient, title: str, kind: str = "MANUAL", **extra: Any) -> Any:
    data = await admin(CREATE_GROUP, {"input": {"title": title, "kind": kind, **extra}})
    return data["createGroup"]


async def create_field(admin: GraphQLClient, key: str, type: str, **extra: Any) -> Any:
    title = extra.pop("title", key.replace("_", " ").capitalize())
    data = await admin(CREATE_FIELD, {"input": {"key": key, "title": title, "type": type, **extra}})
    return data["createRegistrationField"]


async def create_project(admin: GraphQLClient, title: str) -> Any:
    return (await admin(CREATE_PROJECT, {"title": title}))["createProject"]


def emails(members: list[dict[str, str]]) -> list[str]:
    return sorted(member["email"] for member in members)


async def members_by_group(admin: GraphQLClient) -> dict[str, list[str]]:
    return {group["title"]: emails(group["members"]) for group in (await admin(GROUPS))["groups"]}


def rule(attribute: str, operator: str, value: Any = None, **extra: Any) -> dict[str, Any]:
    key = "values" if isinstance(value, list) else "value"
    return {"attribute": attribute, "operator": operator, key: value, **extra}


# --- groups -----------------------------------------------------------------------------------


async def test_admin_creates_a_manual_group_and_adds_and_removes_members(
    gql: GraphQLClient, admin: GraphQLClient
) -> None:
    jan = await person("jan@example.org", last_name="Peeters")
    els = await person("els@example.org", last_name="Claes")

    created = await create_group(admin, "  Neighbourhood council ")
    assert created["errors"] == []
    group = created["group"]
    assert group["title"] == "Neighbourhood council"
    assert (group["kind"], group["matchAll"], group["rules"]) == ("MANUAL", True, [])

    added = await admin(ADD_MEMBERS, {"groupId": group["id"], "userIds": [str(jan.id), els.id]})
    assert added["addGroupMembers"] == {
        "group": {
            "title": "Neighbourhood council",
            # By last name.
            "members": [{"email": "els@example.org"}, {"email": "jan@example.org"}],
        },
        "errors": [],
    }
    # Adding someone who is already a member changes nothing.
    again = await admin(ADD_MEMBERS, {"groupId": group["id"], "userIds": [jan.id]})
    assert emails(again["addGroupMembers"]["group"]["members"]) == [
        "els@example.org",
        "jan@example.org",
    ]
    assert await Membership.filter(group_id=int(group["id"])).count() == 2

    as_jan = await signed_in(gql, jan)
    assert (await as_jan(MY_GROUPS))["me"]["groups"] == [{"title": "Neighbourhood council"}]

    removed = await admin(REMOVE_MEMBERS, {"groupId": group["id"], "userIds": [jan.id]})
    assert removed["removeGroupMembers"] == {
        "group": {"title": "Neighbourhood council", "members": [{"email": "els@example.org"}]},
        "errors": [],
    }
    assert (await as_jan(MY_GROUPS))["me"]["groups"] == []
    assert (await admin(GROUPS))["groups"] == [
        {
            "title": "Neighbourhood council",
            "kind": "MANUAL",
            "members": [{"email": "els@example.org"}],
        }
    ]


ADD_MEMBERS_BY_EMAIL = """
mutation($groupId: ID!, $emails: [String!]!) {
  addGroupMembers(groupId: $groupId, emails: $emails) {
    group { members { email } }
    errors { code message field position value }
  }
}
"""


async def test_admin_adds_members_to_a_manual_group_by_their_address(
    admin: GraphQLClient,
) -> None:
    await person("jan@example.org")
    await person("els@example.org")
    unconfirmed = await person("tom@example.org")
    unconfirmed.email_confirmed_at = None
    await unconfirmed.save()
    group = (await create_group(admin, "Neighbourhood council"))["group"]

    # One address without a (confirmed) account, and something that is not an address: nobody
    # is added, and each is named for what it is.
    refused = await admin(
        ADD_MEMBERS_BY_EMAIL,
        {"groupId": group["id"], "emails": ["Jan@Example.org", "tom@example.org", "nobody"]},
    )
    assert refused["addGroupMembers"]["group"] is None
    assert [
        (e["code"], e["field"], e["position"], e["value"])
        for e in refused["addGroupMembers"]["errors"]
    ] == [
        ("UNKNOWN_USER", "emails", 1, "tom@example.org"),
        ("INVALID_EMAIL", "emails", 2, "nobody"),
    ]
    assert "tom@example.org" in refused["addGroupMembers"]["errors"][0]["message"]
    assert await Membership.filter(group_id=int(group["id"])).count() == 0

    added = await admin(
        ADD_MEMBERS_BY_EMAIL,
        {"groupId": group["id"], "emails": [" Jan@Example.org", "els@example.org"]},
    )
    assert added["addGroupMembers"]["errors"] == []
    assert emails(added["addGroupMembers"]["group"]["members"]) == [
        "els@example.org",
        "jan@example.org",
    ]


async def test_admin_reads_one_group_and_its_members_a_page_at_a_time(
    admin: GraphQLClient,
) -> None:
    await person("jan@example.org", last_name="Peeters")
    await person("els@example.org", last_name="Claes")
    group = (await create_group(admin, "Neighbourhood council"))["group"]
    await create_group(admin, "Other group")
    await admin(
        ADD_MEMBERS_BY_EMAIL,
        {"groupId": group["id"], "emails": ["jan@example.org", "els@example.org"]},
    )

    query = """
    query($id: ID!) {
      group(id: $id) {
        title memberCount
        memberPage(first: 1) { totalCount edges { node { email } } }
      }
    }
    """
    one = (await admin(query, {"id": group["id"]}))["group"]
    assert one == {
        "title": "Neighbourhood council",
        "memberCount": 2,
        "memberPage": {"totalCount": 2, "edges": [{"node": {"email": "els@example.org"}}]},
    }
    for unknown in ("999999", "not a number", "99999999999999"):
        assert (await admin(query, {"id": unknown}))["group"] is None


async def test_smart_group_members_follow_its_rules(
    gql: GraphQLClient, admin: GraphQLClient
) -> None:
    for key, type, extra in [
        ("nickname", "TEXT", {}),
        ("age", "NUMBER", {}),
        ("newsletter", "CHECKBOX", {}),
        ("born", "DATE", {"title": "Date of birth"}),
        (
            "district",
            "SELECT",
            {"options": [{"key": "north", "title": "Noord"}, {"key": "south", "title": "Zuid"}]},
        ),
    ]:
        assert (await create_field(admin, key, type, **extra))["errors"] == []
    ann = await person(
        "ann@city.example.org",
        locale="nl-BE",
        nickname="Annie",
        age=34,
        newsletter=True,
        born="1990-04-01",
        district="north",
    )
    bob = await person(
        "bob@example.org",
        locale="fr-BE",
        age=17,
        newsletter=False,
        born="2008-01-01",
        district="south",
    )
    cas = await person("cas@elsewhere.test")
    project = await create_project(admin, "Riverside park")
    await admin(
        SET_ROLE,
        {"userId": cas.id, "kind": "PROJECT_MANAGER", "projectId": project["project"]["id"]},
    )

    groups = {
        "City hall": [rule("EMAIL_DOMAIN", "ENDS_WITH", "city.example.org")],
        "Example.org": [rule("EMAIL_DOMAIN", "ENDS_WITH", "@Example.org")],
        "Not example.org": [rule("EMAIL_DOMAIN", "IS_NOT", "example.org")],
        "Dutch": [rule("LOCALE", "IS", "nl-be")],
        "Belgians": [rule("LOCALE", "IS_ONE_OF", ["nl-BE", "fr-BE"])],
        "Admins": [rule("ROLE", "IS", "admin")],
        "Project managers": [rule("ROLE", "IS", "PROJECT_MANAGER")],
        "Annies": [rule("FIELD", "IS", "Annie", fieldKey="nickname")],
        "Adults": [rule("FIELD", "GREATER_THAN", "17", fieldKey="age")],
        "Minors": [rule("FIELD", "LESS_THAN", "18", fieldKey="age")],
        "Subscribers": [rule("FIELD", "IS", "true", fieldKey="newsletter")],
        "Not subscribed": [rule("FIELD", "IS", "false", fieldKey="newsletter")],
        "Born this century": [rule("FIELD", "GREATER_THAN", "1999-12-31", fieldKey="born")],
        "North": [rule("FIELD", "IS", "Noord", fieldKey="district")],
        "North or south": [rule("FIELD", "IS_ONE_OF", ["north", "south"], fieldKey="district")],
    }
    for title, rules in groups.items():
        created = await create_group(admin, title, "SMART", rules=rules)
        assert created["errors"] == [], title
    both = [rule("LOCALE", "IS", "en"), rule("FIELD", "IS", "north", fieldKey="district")]
    await create_group(admin, "English and north", "SMART", rules=both, matchAll=True)
    await create_group(admin, "English or north", "SMART", rules=both, matchAll=False)

    admin_email, ann, bob, cas = ADMIN_EMAIL, ann.email, bob.email, cas.email
    assert await members_by_group(admin) == {
        "Adults": [ann],
        "Admins": [admin_email],
        "Annies": [ann],
        "Belgians": [ann, bob],
        "Born this century": [bob],
        "City hall": [ann],
        "Dutch": [ann],
        "English and north": [],
        "English or north": [admin_email, ann, cas],
        # A subdomain ends with the domain too (the admin is at participate.example.org).
        "Example.org": [admin_email, ann, bob],
        "Minors": [bob],
        "North": [ann],
        "North or south": [ann, bob],
        # Nobody ticked the box for the admin and Cas: unchecked.
        "Not subscribed": sorted([admin_email, bob, cas]),
        "Not example.org": sorted([admin_email, ann, cas]),
        "Project managers": [cas],
        "Subscribers": [ann],
    }

    as_ann = await signed_in(gql, await User.get(email=ann))
    assert [g["title"] for g in (await as_ann(MY_GROUPS))["me"]["groups"]] == [
        "Adults",
        "Annies",
        "Belgians",
        "City hall",
        "Dutch",
        "English or north",
        "Example.org",
        "North",
        "North or south",
        "Not example.org",
        "Subscribers",
    ]

    # Membership follows the data: make Ann an admin and she is in "Admins".
    ann_id = (await User.get(email=ann)).id
    await admin(SET_ROLE, {"userId": ann_id, "kind": "ADMIN"})
    assert "Admins" in [g["title"] for g in (await as_ann(MY_GROUPS))["me"]["groups"]]
    assert (await members_by_group(admin))["Admins"] == [admin_email, ann]


async def test_smart_group_rules_are_read_back_with_a_description(admin: GraphQLClient) -> None:
    await create_field(admin, "age", "NUMBER")
    created = await create_group(
        admin,
        "Adults in Belgium",
        "SMART",
        rules=[
            rule("FIELD", "GREATER_THAN", "17", fieldKey="age"),
            rule("LOCALE", "IS_ONE_OF", "nl-BE, fr-BE"),
        ],
        matchAll=False,
    )
    assert created["errors"] == []
    assert created["group"]["matchAll"] is False
    assert created["group"]["rules"] == [
        {
            "attribute": "FIELD",
            "operator": "GREATER_THAN",
            "fieldKey": "age",
            "value": "17",
            "description": "field 'age' greater than 17",
        },
        {
            "attribute": "LOCALE",
            "operator": "IS_ONE_OF",
            "fieldKey": None,
            "value": '["nl-BE", "fr-BE"]',
            "description": "locale is one of nl-BE, fr-BE",
        },
    ]


async def test_smart_group_rules_are_validated(admin: GraphQLClient) -> None:
    await create_field(admin, "nickname", "TEXT")
    await create_field(admin, "age", "NUMBER")
    refused = await create_group(
        admin,
        "Broken",
        "SMART",
        rules=[
            rule("LOCALE", "IS", "en"),
            rule("FIELD", "IS", "42", fieldKey="shoe_size"),
            rule("FIELD", "GREATER_THAN", "B", fieldKey="nickname"),
            rule("FIELD", "IS", "old", fieldKey="age"),
            rule("LOCALE", "ENDS_WITH", "BE"),
            rule("EMAIL_DOMAIN", "IS", "not a domain"),
            rule("LOCALE", "IS"),
            rule("LOCALE", "IS", ["en", "nl-BE"]),
        ],
    )
    assert refused["group"] is None
    assert [(e["code"], e["field"], e["position"], e["message"]) for e in refused["errors"]] == [
        ("INVALID_RULE", "rules", 1, "There is no registration field 'shoe_size'."),
        ("INVALID_RULE", "rules", 2, "'greater_than' cannot be used with a text field."),
        ("INVALID_RULE", "rules", 3, "Expected a number, got 'old'."),
        ("INVALID_RULE", "rules", 4, "'ends_with' cannot be used with locale."),
        (
            "INVALID_RULE",
            "rules",
            5,
            "'not a domain' is not an email domain like example.org.",
        ),
        ("INVALID_RULE", "rules", 6, "The rule needs a value."),
        ("INVALID_RULE", "rules", 7, "'is' takes one value."),
    ]

    no_rules = await create_group(admin, "Empty", "SMART")
    assert no_rules["errors"] == [
        {
            "code": "INVALID_RULE",
            "message": "A smart group needs at least one rule.",
            "field": "rules",
            "position": None,
            "value": None,
        }
    ]
    manual_with_rules = await create_group(admin, "Manual", rules=[rule("LOCALE", "IS", "en")])
    assert manual_with_rules["errors"][0]["code"] == "INVALID_RULE"
    assert manual_with_rules["errors"][0]["message"] == "Only smart groups have rules."
    assert await Group.all().count() == 0


async def test_members_cannot_be_added_to_a_smart_group(admin: GraphQLClient) -> None:
    jan = await person("jan@example.org")
    smart = (
        await create_group(
            admin,
            "Everyone at example.org",
            "SMART",
            rules=[rule("EMAIL_DOMAIN", "IS", "example.org")],
        )
    )["group"]
    for mutation, name in [
        (ADD_MEMBERS, "addGroupMembers"),
        (REMOVE_MEMBERS, "removeGroupMembers"),
    ]:
        data = await admin(mutation, {"groupId": smart["id"], "userIds": [jan.id]})
        assert data[name] == {
            "group": None,
            "errors": [
                {
                    "code": "NOT_A_MANUAL_GROUP",
                    "message": "'Everyone at example.org' is a smart group: its members follow"
                    " its rules.",
                    "field": "groupId",
                }
            ],
        }
    assert await Membership.all().count() == 0


async def test_unknown_groups_and_users_are_reported(admin: GraphQLClient) -> None:
    jan = await person("jan@example.org")
    group = (await create_group(admin, "Volunteers"))["group"]

    for mutation, name in [
        (ADD_MEMBERS, "addGroupMembers"),
        (REMOVE_MEMBERS, "removeGroupMembers"),
    ]:
        for group_id in ["999999", "not-an-id", "0", "99999999999999999999"]:
            data = await admin(mutation, {"groupId": group_id, "userIds": [jan.id]})
            assert data[name]["errors"] == [
                {"code": "UNKNOWN_GROUP", "message": "There is no such group.", "field": "groupId"}
            ]
        # One unknown user and nothing changes, not even for the known ones.
        data = await admin(mutation, {"groupId": group["id"], "userIds": [jan.id, 999999]})
        assert data[name] == {
            "group": None,
            "errors": [
                {
                    "code": "UNKNOWN_USER",
                    "message": "There is no user with id 999999.",
                    "field": "userIds",
                }
            ],
        }
        data = await admin(mutation, {"groupId": group["id"], "userIds": ["someone"]})
        assert data[name]["errors"][0]["code"] == "UNKNOWN_USER"
    assert await Membership.all().count() == 0


async def test_group_titles_are_unique_regardless_of_case(admin: GraphQLClient) -> None:
    assert (await create_group(admin, "Volunteers"))["errors"] == []
    for title, kind in [("volunteers", "MANUAL"), (" VOLUNTEERS ", "SMART")]:
        extra = {"rules": [rule("LOCALE", "IS", "en")]} if kind == "SMART" else {}
        duplicate = await create_group(admin, title, kind, **extra)
        assert duplicate["group"] is None
        assert [(e["code"], e["field"]) for e in duplicate["errors"]] == [
            ("DUPLICATE_TITLE", "title")
        ]
        assert "already a group called" in duplicate["errors"][0]["message"]
    blank = await create_group(admin, "   ")
    assert [(e["code"], e["field"]) for e in blank["errors"]] == [("INVALID_INPUT", "title")]
    too_long = await create_group(admin, "x" * 101)
    assert [(e["code"], e["field"]) for e in too_long["errors"]] == [("INVALID_NAME", "title")]
    assert await Group.all().count() == 1


# --- projects ---------------------------------------------------------------------------------


async def test_admin_creates_projects_and_lists_them_by_title(admin: GraphQLClient) -> None:
    for title in ["Riverside park", " Cycling lanes ", "Library"]:
        created = await create_project(admin, title)
        assert created["errors"] == []
        assert created["project"]["title"] == title.strip()
    assert (await admin(PROJECTS))["projects"] == [
        {"title": "Cycling lanes"},
        {"title": "Library"},
        {"title": "Riverside park"},
    ]
    blank = await create_project(admin, " ")
    assert blank == {
        "project": None,
        "errors": [
            {"code": "INVALID_INPUT", "message": "Give the project a title.", "field": "title"}
        ],
    }
    control = await create_project(admin, "Line\nbreak")
    assert [(e["code"], e["field"]) for e in control["errors"]] == [("INVALID_NAME", "title")]
    assert await Project.all().count() == 3


# --- registration fields ----------------------------------------------------------------------


async def test_admin_creates_registration_fields_of_each_type_and_anyone_can_list_them(
    gql: GraphQLClient, admin: GraphQLClient
) -> None:
    created = [
        await create_field(admin, "nickname", "TEXT"),
        await create_field(admin, "Age", "NUMBER", required=True),
        await create_field(
            admin,
            "district",
            "SELECT",
            options=[{"key": "north", "title": "Noord"}, {"key": "south"}],
            required=True,
        ),
        await create_field(admin, "terms", "CHECKBOX", title="I accept the terms", required=True),
        await create_field(admin, "born_on", "DATE"),
    ]
    assert [c["errors"] for c in created] == [[]] * 5
    expected = [
        {"key": "nickname", "title": "Nickname", "type": "TEXT", "options": [], "required": False},
        {"key": "age", "title": "Age", "type": "NUMBER", "options": [], "required": True},
        {
            "key": "district",
            "title": "District",
            "type": "SELECT",
            "options": [{"key": "north", "title": "Noord"}, {"key": "south", "title": "south"}],
            "required": True,
        },
        {
            "key": "terms",
            "title": "I accept the terms",
            "type": "CHECKBOX",
            "options": [],
            "required": True,
        },
        {"key": "born_on", "title": "Born on", "type": "DATE", "options": [], "required": False},
    ]
    assert [c["registrationField"] for c in created] == expected
    # Public: the registration form needs them before anyone signs in.
    assert (await gql(FIELDS))["registrationFields"] == expected


async def test_registration_field_definitions_are_checked(admin: GraphQLClient) -> None:
    def codes(result: Any) -> list[tuple[str, str]]:
        assert result["registrationField"] is None
        return [(e["code"], e["field"]) for e in result["errors"]]

    for bad_key in ["1st_choice", "shoe size", "x" * 65, "", "email", "groups", "naïve"]:
        refused = await create_field(admin, bad_key, "TEXT", title="Something")
        assert codes(refused) == [("INVALID_INPUT", "key")], bad_key
    assert "lower-case letters, digits and underscores" in refused["errors"][0]["message"]

    assert codes(await create_field(admin, "district", "SELECT")) == [("INVALID_INPUT", "options")]
    assert codes(await create_field(admin, "age", "NUMBER", options=[{"key": "a"}])) == [
        ("INVALID_INPUT", "options")
    ]
    assert codes(
        await create_field(admin, "district", "SELECT", options=[{"key": "n"}, {"key": "n"}])
    ) == [("INVALID_INPUT", "options")]
    # Values are matched by option key or title, ignoring case: each must name one option.
    ambiguous = await create_field(
        admin,
        "answer",
        "SELECT",
        options=[{"key": "yes", "title": "Yes"}, {"key": "y", "title": "YES"}],
    )
    assert codes(ambiguous) == [("INVALID_INPUT", "options")]
    assert codes(await create_field(admin, "nickname", "TEXT", title=" ")) == [
        ("INVALID_INPUT", "title")
    ]

    assert (await create_field(admin, "district", "SELECT", options=[{"key": "n"}]))["errors"] == []
    duplicate = await create_field(admin, "District", "TEXT")
    assert duplicate == {
        "registrationField": None,
        "errors": [
            {
                "code": "DUPLICATE_TITLE",
                "message": "There is already a field with key 'district'.",
                "field": "key",
                "value": "district",
            }
        ],
    }
    assert await RegistrationField.all().values_list("key", flat=True) == ["district"]


# --- roles ------------------------------------------------------------------------------------


async def test_admin_makes_someone_project_manager_and_admin_and_takes_it_back(
    gql: GraphQLClient, admin: GraphQLClient
) -> None:
    jan = await person("jan@example.org")
    park = (await create_project(admin, "Riverside park"))["project"]

    managed = await admin(
        SET_ROLE, {"userId": jan.id, "kind": "PROJECT_MANAGER", "projectId": park["id"]}
    )
    assert managed["setRole"] == {
        "user": {
            "email": "jan@example.org",
            "roles": [{"kind": "PROJECT_MANAGER", "project": {"title": "Riverside park"}}],
        },
        "errors": [],
    }
    as_jan = await signed_in(gql, jan)
    assert (await as_jan(MY_ROLES))["me"]["roles"] == [
        {"kind": "PROJECT_MANAGER", "project": {"title": "Riverside park"}}
    ]

    made_admin = await admin(SET_ROLE, {"userId": jan.id, "kind": "ADMIN"})
    assert made_admin["setRole"]["user"]["roles"] == [
        {"kind": "PROJECT_MANAGER", "project": {"title": "Riverside park"}},
        {"kind": "ADMIN", "project": None},
    ]
    # Giving a role someone has changes nothing.
    again = await admin(SET_ROLE, {"userId": jan.id, "kind": "ADMIN"})
    assert again["setRole"] == made_admin["setRole"]
    assert await Role.filter(user_id=jan.id).count() == 2
    # Jan is an admin now: Jan may see the groups.
    assert (await as_jan(GROUPS))["groups"] == []

    removed = await admin(
        REMOVE_ROLE, {"userId": jan.id, "kind": "PROJECT_MANAGER", "projectId": park["id"]}
    )
    assert removed["removeRole"] == {
        "user": {"email": "jan@example.org", "roles": [{"kind": "ADMIN", "project": None}]},
        "errors": [],
    }
    removed = await admin(REMOVE_ROLE, {"userId": jan.id, "kind": "ADMIN"})
    assert removed["removeRole"]["user"]["roles"] == []
    assert (await as_jan(MY_ROLES))["me"]["roles"] == []


async def test_a_project_manager_role_needs_an_existing_project(admin: GraphQLClient) -> None:
    jan = await person("jan@example.org")
    for mutation, name in [(SET_ROLE, "setRole"), (REMOVE_ROLE, "removeRole")]:
        for project_id, message in [
            (None, "Choose the project this person will manage."),
            ("999999", "There is no such project."),
            ("park", "There is no such project."),
        ]:
            data = await admin(
                mutation, {"userId": jan.id, "kind": "PROJECT_MANAGER", "projectId": project_id}
            )
            assert data[name] == {
                "user": None,
                "errors": [{"code": "UNKNOWN_PROJECT", "message": message, "field": "projectId"}],
            }
        unknown_user = await admin(mutation, {"userId": "999999", "kind": "ADMIN"})
        assert unknown_user[name] == {
            "user": None,
            "errors": [
                {"code": "UNKNOWN_USER", "message": "There is no such user.", "field": "userId"}
            ],
        }
    assert await Role.filter(user_id=jan.id).count() == 0


async def test_the_last_admin_cannot_be_removed(admin: GraphQLClient) -> None:
    me = await User.get(email=ADMIN_EMAIL)
    refused = await admin(REMOVE_ROLE, {"userId": me.id, "kind": "ADMIN"})
    assert refused["removeRole"] == {
        "user": None,
        "errors": [
            {
                "code": "LAST_ADMIN",
                "message": "This is the last admin: make someone else admin first.",
                "field": "userId",
            }
        ],
    }
    assert await Role.filter(user_id=me.id, kind="admin").exists()

    # With a second admin, either may step down; then the other is the last one.
    jan = await person("jan@example.org")
    await admin(SET_ROLE, {"userId": jan.id, "kind": "ADMIN"})
    stepped_down = await admin(REMOVE_ROLE, {"userId": me.id, "kind": "ADMIN"})
    assert stepped_down["removeRole"]["errors"] == []
    assert await Role.filter(kind="admin").values_list("user_id", flat=True) == [jan.id]


async def test_two_admins_removing_each_other_at_once_leave_one_admin(database: None) -> None:
    # Both requests read "two admins" unless the first locks the admin rows until it commits.
    for round in range(10):
        ada = await person(f"ada{round}@example.org")
        jan = await person(f"jan{round}@example.org")
        await Role.create(user=ada, kind="admin")
        await Role.create(user=jan, kind="admin")

        results = await asyncio.gather(
            roles.remove_role(ada.id, RoleKind.ADMIN),
            roles.remove_role(jan.id, RoleKind.ADMIN),
            return_exceptions=True,
        )
        [refused] = [r for r in results if isinstance(r, DomainError)]
        assert refused.code is ErrorCode.LAST_ADMIN
        assert await Role.filter(kind="admin").count() == 1
        await Role.all().delete()


# --- permissions ------------------------------------------------------------------------------


ADMIN_ONLY = {
    "createGroup": (CREATE_GROUP, {"input": {"title": "Sneaky", "kind": "MANUAL"}}),
    "addGroupMembers": (ADD_MEMBERS, {"groupId": "{group}", "userIds": ["{user}"]}),
    "removeGroupMembers": (REMOVE_MEMBERS, {"groupId": "{group}", "userIds": ["{member}"]}),
    "createProject": (CREATE_PROJECT, {"title": "Sneaky"}),
    "createRegistrationField": (
        CREATE_FIELD,
        {"input": {"key": "sneaky", "title": "Sneaky", "type": "TEXT"}},
    ),
    "setRole": (SET_ROLE, {"userId": "{user}", "kind": "ADMIN"}),
    "removeRole": (REMOVE_ROLE, {"userId": "{admin}", "kind": "ADMIN"}),
    "groups": (GROUPS, {}),
    "projects": (PROJECTS, {}),
}


async def platform_snapshot() -> dict[str, Any]:
    return {
        "groups": await Group.all().order_by("id").values_list("title", flat=True),
        "memberships": await Membership.all().order_by("id").values_list("group_id", "user_id"),
        "projects": await Project.all().order_by("id").values_list("title", flat=True),
        "fields": await RegistrationField.all().order_by("id").values_list("key", flat=True),
        "roles": await Role.all().order_by("id").values_list("user_id", "kind", "project_id"),
    }


@pytest.mark.parametrize("who", ["anonymous", "signed-in non-admin", "project manager"])
async def test_platform_data_is_for_admins_only(
    gql: GraphQLClient, admin: GraphQLClient, who: str
) -> None:
    ada = await User.get(email=ADMIN_EMAIL)
    user = await person("jan@example.org")
    member = await person("els@example.org")
    group = (await create_group(admin, "Volunteers"))["group"]
    await admin(ADD_MEMBERS, {"groupId": group["id"], "userIds": [user.id, member.id]})
    park = (await create_project(admin, "Riverside park"))["project"]
    client = gql
    if who != "anonymous":
        client = await signed_in(gql, user)
    if who == "project manager":
        await admin(
            SET_ROLE, {"userId": user.id, "kind": "PROJECT_MANAGER", "projectId": park["id"]}
        )
    ids = {"{group}": group["id"], "{user}": str(user.id), "{member}": str(member.id)}
    ids["{admin}"] = str(ada.id)
    before = await platform_snapshot()

    for name, (document, variables) in ADMIN_ONLY.items():
        filled = _fill(variables, ids)
        body = await client.post(document, filled)
        assert body["data"] is None, name
        [error] = body["errors"]
        # A permission error, as it is: not masked as an unexpected one.
        assert error["message"] == "Only admins can do this.", name
        assert error["path"] == [name]
        assert "INTERNAL_ERROR" not in str(error.get("extensions"))

    # A group's members are for admins, even seen through one's own groups.
    if who != "anonymous":
        body = await client.post("{ me { groups { title members { email } } } }")
        assert body["errors"][0]["message"] == "Only admins can do this."
    assert await platform_snapshot() == before


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {key: _fill(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, ids) for item in value]
    return ids.get(value, value) if isinstance(value, str) else value
