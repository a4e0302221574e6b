"""A registration field a smart group's rule tests: which groups those are, asked before a
delete is offered, and the refusal of a delete or of an option's removal naming the field and
the groups by their titles in the language asked for."""

from __future__ import annotations

from typing import Any

from tests.fixtures import GraphQLClient
from tests.test_platform import create_field, create_group, rule
from tests.test_titles_and_fields import field_id

ERRORS = "errors { code field value reason groups }"
TESTING = """query($locale: String) {
  registrationFields { key groupsTesting { title(locale: $locale) } }
}"""
DELETE = f"""mutation($id: ID!, $locale: String) {{
  deleteRegistrationField(id: $id, locale: $locale) {{ deletedId {ERRORS} }}
}}"""
UPDATE = f"""mutation($id: ID!, $input: UpdateRegistrationFieldInput!, $locale: String) {{
  updateRegistrationField(id: $id, input: $input, locale: $locale) {{
    registrationField {{ key }} {ERRORS}
  }}
}}"""
NL = "nl-BE"


async def a_field_two_groups_test(admin: GraphQLClient) -> str:
    made = await create_field(
        admin,
        "neighbourhood",
        "SELECT",
        title="Neighbourhood",
        titles=[{"locale": NL, "text": "Wijk"}],
        options=[{"key": "north", "title": "North"}, {"key": "river", "title": "Riverside"}],
    )
    assert made["errors"] == []
    for title, dutch, value in [
        ("Riverside neighbourhood", "Wijk Rivierkant", "river"),
        ("Northerners", "Noorderlingen", "north"),
    ]:
        rules = [rule("FIELD", "IS", value, fieldKey="neighbourhood")]
        titles = [{"locale": NL, "text": dutch}]
        assert (await create_group(admin, title, "SMART", rules=rules, titles=titles))[
            "errors"
        ] == []
    assert (await create_field(admin, "age", "NUMBER"))["errors"] == []
    return await field_id(admin, "neighbourhood")


def titles_testing(data: dict[str, Any]) -> dict[str, list[str]]:
    return {
        field["key"]: [group["title"] for group in field["groupsTesting"]]
        for field in data["registrationFields"]
    }


async def test_a_field_says_which_smart_groups_test_it_in_the_language_asked(
    admin: GraphQLClient,
) -> None:
    await a_field_two_groups_test(admin)
    assert titles_testing(await admin(TESTING, {"locale": NL})) == {
        "neighbourhood": ["Noorderlingen", "Wijk Rivierkant"],
        "age": [],
    }
    assert titles_testing(await admin(TESTING, {"locale": "fr-BE"}))["neighbourhood"] == [
        "Northerners",
        "Riverside neighbourhood",
    ]


async def test_a_refused_delete_names_the_field_and_groups_in_the_language_asked(
    admin: GraphQLClient,
) -> None:
    id = await a_field_two_groups_test(admin)
    refused = (await admin(DELETE, {"id": id, "locale": NL}))["deleteRegistrationField"]
    assert refused["deletedId"] is None
    assert refused["errors"] == [
        {
            "code": "FIELD_IN_USE",
            "field": "id",
            "value": "Wijk",
            "reason": "FIELD_TESTED",
            "groups": ["Noorderlingen", "Wijk Rivierkant"],
        }
    ]
    # Without a language: the default one's titles, as before.
    refused = (await admin(DELETE, {"id": id}))["deleteRegistrationField"]
    assert [(e["value"], e["groups"]) for e in refused["errors"]] == [
        ("Neighbourhood", ["Northerners", "Riverside neighbourhood"])
    ]


async def test_a_refused_option_removal_names_its_groups_in_the_language_asked(
    admin: GraphQLClient,
) -> None:
    id = await a_field_two_groups_test(admin)
    input = {"options": [{"key": "north"}]}
    refused = (await admin(UPDATE, {"id": id, "input": input, "locale": NL}))[
        "updateRegistrationField"
    ]
    assert [(e["reason"], e["value"], e["groups"]) for e in refused["errors"]] == [
        ("OPTION_TESTED", "river", ["Wijk Rivierkant"])
    ]
