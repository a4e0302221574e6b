"""Titles in the platform's languages (groups, registration fields, options), and registration
fields as the console changes them: titles, options, required, delete."""

from __future__ import annotations

from typing import Any

from domain.models import Invitation, User
from tests.fixtures import GraphQLClient
from tests.invitations_helpers import BY_TOKEN, create
from tests.test_platform import create_field, create_group, person, rule

LOCALIZED_GROUPS = """
{ groups { title nl: title(locale: "nl-BE") dutch: title(locale: "nl") german: title(locale: "de")
           fr: title(locale: "FR_be") titles { locale text } } }
"""
UPDATE_GROUP = """
mutation($id: ID!, $input: UpdateGroupInput!) {
  updateGroup(id: $id, input: $input) {
    group { title titles { locale text } } errors { code field value }
  }
}
"""
FIELDS_IN = """
query($locale: String) {
  registrationFields {
    key title(locale: $locale) required
    options { key title(locale: $locale) titles { locale text } }
  }
}
"""
UPDATE_FIELD = """
mutation($id: ID!, $input: UpdateRegistrationFieldInput!) {
  updateRegistrationField(id: $id, input: $input) {
    registrationField { key title required titles { locale text } options { key title } }
    clearedValues { usersCount invitationsCount }
    errors { code message field value }
  }
}
"""
DELETE_FIELD = """
mutation($id: ID!) {
  deleteRegistrationField(id: $id) {
    deletedId clearedValues { usersCount invitationsCount } errors { code message field }
  }
}
"""
FIELD_IDS = "{ registrationFields { id key } }"


async def field_id(client: GraphQLClient, key: str) -> str:
    fields = (await client(FIELD_IDS))["registrationFields"]
    return str(next(f["id"] for f in fields if f["key"] == key))


async def update_field(admin: GraphQLClient, key: str, **input: Any) -> dict[str, Any]:
    variables = {"id": await field_id(admin, key), "input": input}
    result: dict[str, Any] = (await admin(UPDATE_FIELD, variables))["updateRegistrationField"]
    return result


async def test_groups_and_fields_have_a_title_per_locale_for_pages_in_any_language(
    gql: GraphQLClient, admin: GraphQLClient
) -> None:
    created = await create_group(
        admin,
        "North Avenue Residents",
        titles=[
            {"locale": "nl-be", "text": " Bewoners Noordlaan "},
            {"locale": "fr-BE", "text": "Habitants avenue Nord"},
        ],
    )
    assert created["errors"] == []
    [group] = (await admin(LOCALIZED_GROUPS))["groups"]
    assert group == {
        "title": "North Avenue Residents",
        "nl": "Bewoners Noordlaan",
        "dutch": "Bewoners Noordlaan",  # the closest platform locale
        "german": "North Avenue Residents",  # none: the default
        "fr": "Habitants avenue Nord",
        "titles": [
            {"locale": "en", "text": "North Avenue Residents"},
            {"locale": "nl-BE", "text": "Bewoners Noordlaan"},
            {"locale": "fr-BE", "text": "Habitants avenue Nord"},
        ],
    }
    group_id = created["group"]["id"]
    changed = await admin(
        UPDATE_GROUP, {"id": group_id, "input": {"titles": [{"locale": "fr-BE", "text": " "}]}}
    )
    assert changed["updateGroup"]["group"]["titles"] == [
        {"locale": "en", "text": "North Avenue Residents"},
        {"locale": "nl-BE", "text": "Bewoners Noordlaan"},
    ]
    refused = await admin(
        UPDATE_GROUP,
        {
            "id": group_id,
            "input": {
                "title": "North",
                "titles": [{"locale": "de", "text": "Nord"}, {"locale": "en", "text": "South"}],
            },
        },
    )
    assert [(e["code"], e["field"]) for e in refused["updateGroup"]["errors"]] == [
        ("UNKNOWN_LOCALE", "titles"),
        ("INVALID_INPUT", "titles.en"),
    ]

    assert (
        await create_field(
            admin,
            "district",
            "SELECT",
            title="District",
            titles=[{"locale": "nl-BE", "text": "Wijk"}],
            options=[
                {
                    "key": "north",
                    "title": "North",
                    "titles": [{"locale": "nl-BE", "text": "Noord"}],
                },
                {"key": "south"},
            ],
            required=True,
        )
    )["errors"] == []
    # Public, for the /invite page: the fields in the page's language.
    dutch = (await gql(FIELDS_IN, {"locale": "nl-BE"}))["registrationFields"]
    assert dutch == [
        {
            "key": "district",
            "title": "Wijk",
            "required": True,
            "options": [
                {
                    "key": "north",
                    "title": "Noord",
                    "titles": [
                        {"locale": "en", "text": "North"},
                        {"locale": "nl-BE", "text": "Noord"},
                    ],
                },
                {"key": "south", "title": "south", "titles": [{"locale": "en", "text": "south"}]},
            ],
        }
    ]
    [invitation] = (await create(admin, ["lea@example.org"], sendEmail=False))["invitations"]
    preview = await gql(
        BY_TOKEN.replace(
            "requiredFields { key title type }", 'requiredFields { key title(locale: "nl") }'
        ),
        {"token": invitation["token"]},
    )
    assert preview["invitationByToken"]["invitation"]["requiredFields"] == [
        {"key": "district", "title": "Wijk"}
    ]


async def test_changing_a_select_fields_options_keeps_the_keys_and_clears_removed_values(
    admin: GraphQLClient,
) -> None:
    options = [{"key": "north", "title": "North"}, {"key": "south", "title": "South"}]
    assert (await create_field(admin, "district", "SELECT", options=options))["errors"] == []
    group = (
        await create_group(
            admin, "Northerners", "SMART", rules=[rule("FIELD", "IS", "north", fieldKey="district")]
        )
    )["group"]
    northerner = await person("n@example.org", district="north")
    southerner = await person("s@example.org", district="south", age=3)
    await create(
        admin,
        ["i@example.org"],
        sendEmail=False,
        registrationFieldValues=[{"key": "district", "value": "south"}],
    )

    renamed = await update_field(
        admin,
        "district",
        title="Neighbourhood",
        titles=[{"locale": "fr-BE", "text": "Quartier"}],
        required=True,
        options=[
            {"key": "north", "title": "Noord"},
            {"key": "south"},  # keeps its title
            {"key": "east", "title": "East"},
        ],
    )
    assert renamed == {
        "registrationField": {
            "key": "district",
            "title": "Neighbourhood",
            "required": True,
            "titles": [
                {"locale": "en", "text": "Neighbourhood"},
                {"locale": "fr-BE", "text": "Quartier"},
            ],
            "options": [
                {"key": "north", "title": "Noord"},
                {"key": "south", "title": "South"},
                {"key": "east", "title": "East"},
            ],
        },
        "clearedValues": {"usersCount": 0, "invitationsCount": 0},
        "errors": [],
    }

    in_use = await update_field(admin, "district", options=[{"key": "south"}, {"key": "east"}])
    [error] = in_use["errors"]
    assert (error["code"], error["field"], error["value"]) == ("FIELD_IN_USE", "options", "north")
    assert "'Northerners'" in error["message"]
    assert (await User.get(id=northerner.id)).registration_field_values == {"district": "north"}

    removed = await update_field(admin, "district", options=[{"key": "north"}, {"key": "east"}])
    assert removed["errors"] == []
    assert removed["clearedValues"] == {"usersCount": 1, "invitationsCount": 1}
    assert (await User.get(id=southerner.id)).registration_field_values == {"age": 3}
    assert (await Invitation.get(email="i@example.org")).registration_field_values == {}
    assert (await User.get(id=northerner.id)).registration_field_values == {"district": "north"}
    assert group["title"] == "Northerners"

    for key, input, code in [
        ("district", {"options": []}, "INVALID_INPUT"),
        ("district", {"options": [{"key": "north"}, {"key": "NORTH"}]}, "INVALID_INPUT"),
        ("district", {"title": " "}, "INVALID_INPUT"),
    ]:
        assert (await update_field(admin, key, **input))["errors"][0]["code"] == code, input
    assert (await create_field(admin, "age", "NUMBER"))["errors"] == []
    not_select = await update_field(admin, "age", options=[{"key": "x"}])
    assert not_select["errors"][0]["code"] == "INVALID_INPUT"
    unknown = await admin(UPDATE_FIELD, {"id": "999999", "input": {"required": True}})
    assert unknown["updateRegistrationField"]["errors"][0]["code"] == "UNKNOWN_FIELD"


async def test_deleting_a_field_clears_its_values_and_is_refused_while_a_rule_tests_it(
    gql: GraphQLClient, admin: GraphQLClient
) -> None:
    assert (await create_field(admin, "age", "NUMBER"))["errors"] == []
    assert (await create_field(admin, "nickname", "TEXT"))["errors"] == []
    group = (
        await create_group(
            admin, "Adults", "SMART", rules=[rule("FIELD", "GREATER_THAN", "17", fieldKey="age")]
        )
    )["group"]
    adult = await person("adult@example.org", age=40, nickname="Ace")
    await create(
        admin,
        ["i@example.org"],
        sendEmail=False,
        registrationFieldValues=[{"key": "age", "value": "30"}],
    )
    age_id = await field_id(admin, "age")

    refused = (await admin(DELETE_FIELD, {"id": age_id}))["deleteRegistrationField"]
    assert refused["deletedId"] is None
    assert refused["errors"][0]["code"] == "FIELD_IN_USE"
    assert "'Adults'" in refused["errors"][0]["message"]

    rules = [rule("EMAIL_DOMAIN", "IS", "example.org")]
    assert (
        await admin(
            UPDATE_GROUP.replace("group { title titles { locale text } }", "group { title }"),
            {"id": group["id"], "input": {"rules": rules}},
        )
    )["updateGroup"]["errors"] == []
    deleted = (await admin(DELETE_FIELD, {"id": age_id}))["deleteRegistrationField"]
    assert deleted == {
        "deletedId": age_id,
        "clearedValues": {"usersCount": 1, "invitationsCount": 1},
        "errors": [],
    }
    assert (await User.get(id=adult.id)).registration_field_values == {"nickname": "Ace"}
    assert (await Invitation.get(email="i@example.org")).registration_field_values == {}
    assert [f["key"] for f in (await gql(FIELD_IDS))["registrationFields"]] == ["nickname"]
    # A new field may take the key again, with another type: no old value comes back.
    assert (await create_field(admin, "age", "TEXT"))["errors"] == []
    assert (await User.get(id=adult.id)).registration_field_values == {"nickname": "Ace"}
