"""What the console needs to word a refusal in the admin's language: each problem's code, its
reason where a code covers several things, and the values its words name; addresses that are
not addresses said to be so; how many answers deleting a field erases, asked before."""

from __future__ import annotations

from typing import Any

from domain.models import MailSuppression, SuppressionReason
from tests.fixtures import GraphQLClient
from tests.invitations_helpers import create
from tests.test_platform import create_field, create_group, person, rule
from tests.test_titles_and_fields import DELETE_FIELD, field_id

ERRORS = "errors { code field position value reason groups }"
CREATE_FIELD = f"""
mutation($input: CreateRegistrationFieldInput!) {{
  createRegistrationField(input: $input) {{ registrationField {{ key }} {ERRORS} }}
}}"""
CREATE_GROUP = f"""
mutation($input: CreateGroupInput!) {{ createGroup(input: $input) {{ group {{ id }} {ERRORS} }} }}
"""
ADD_MEMBERS = f"""
mutation($groupId: ID!, $emails: [String!]!) {{
  addGroupMembers(groupId: $groupId, emails: $emails) {{ group {{ id }} {ERRORS} }}
}}"""
LIFT = f"""
mutation($email: String!) {{ liftMailSuppression(email: $email) {{ lifted {{ email }} {ERRORS} }} }}
"""
CREATE_HOOK = f"""
mutation($input: CreateWebhookSubscriptionInput!) {{
  createWebhookSubscription(input: $input) {{ subscription {{ id }} {ERRORS} }}
}}"""
HELD = "{ registrationFields { key heldValues { usersCount invitationsCount } } }"


def problems(payload: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (e["code"], e["field"], e["position"], e["value"], e["reason"], e["groups"])
        for e in payload["errors"]
    ]


async def new_field(admin: GraphQLClient, **input: Any) -> dict[str, Any]:
    result: dict[str, Any] = (await admin(CREATE_FIELD, {"input": input}))[
        "createRegistrationField"
    ]
    return result


async def test_a_fields_problems_say_their_reason_and_where(admin: GraphQLClient) -> None:
    bad_key = await new_field(admin, key="Geboorte Jaar", title="Geboortejaar", type="TEXT")
    assert problems(bad_key) == [("INVALID_INPUT", "key", None, "geboorte jaar", "KEY_FORMAT", [])]
    no_options = await new_field(admin, key="age", title="Age", type="SELECT", options=[])
    assert problems(no_options) == [("INVALID_INPUT", "options", None, None, "OPTIONS_MISSING", [])]
    twice = await new_field(
        admin,
        key="age",
        title="Age",
        type="SELECT",
        options=[{"key": "young"}, {"key": "old"}, {"key": "young", "title": "Young again"}],
    )
    assert problems(twice) == [("INVALID_INPUT", "options", 2, "young", "OPTION_TWICE", [])]
    options = [{"key": "a"}, {"key": " ", "title": "B"}]
    keyless = await new_field(admin, key="age", title="Age", type="SELECT", options=options)
    assert problems(keyless) == [("INVALID_INPUT", "options", 1, None, "OPTION_KEY_MISSING", [])]
    assert (await new_field(admin, key="age", title="Age", type="NUMBER"))["errors"] == []
    taken = await new_field(admin, key="age", title="Age again", type="NUMBER")
    assert problems(taken) == [("DUPLICATE_TITLE", "key", None, "age", "FIELD_KEY_TAKEN", [])]


async def test_deleting_a_field_a_rule_tests_names_the_groups(admin: GraphQLClient) -> None:
    assert (await create_field(admin, "age", "NUMBER"))["errors"] == []
    rules = [rule("FIELD", "GREATER_THAN", "17", fieldKey="age")]
    assert (await create_group(admin, "Adults", "SMART", rules=rules))["errors"] == []
    refused = (
        await admin(
            DELETE_FIELD.replace("errors { code message field }", ERRORS),
            {"id": await field_id(admin, "age")},
        )
    )["deleteRegistrationField"]
    assert problems(refused) == [("FIELD_IN_USE", "id", None, "Age", "FIELD_TESTED", ["Adults"])]


async def test_a_groups_problems_say_their_reason_and_which_rule(admin: GraphQLClient) -> None:
    assert (await create_group(admin, "North Avenue Residents"))["errors"] == []
    input: dict[str, Any] = {"title": "north avenue residents", "kind": "MANUAL"}
    taken = await admin(CREATE_GROUP, {"input": input})
    taken["createGroup"]["errors"][0].pop("position")
    assert taken["createGroup"]["errors"] == [
        {
            "code": "DUPLICATE_TITLE",
            "field": "title",
            "value": "north avenue residents",
            "reason": "GROUP_TITLE_TAKEN",
            "groups": [],
        }
    ]
    input = {
        "title": "Smart",
        "kind": "SMART",
        "rules": [
            rule("EMAIL_DOMAIN", "IS", ""),
            rule("EMAIL_DOMAIN", "IS", "not a domain"),
            rule("LOCALE", "IS", ""),
        ],
    }
    refused = (await admin(CREATE_GROUP, {"input": input}))["createGroup"]
    assert problems(refused) == [
        ("INVALID_RULE", "rules", 0, None, "VALUE_MISSING", []),
        ("INVALID_RULE", "rules", 1, "not a domain", "NOT_A_DOMAIN", []),
        ("INVALID_RULE", "rules", 2, None, "VALUE_MISSING", []),
    ]


async def test_adding_something_that_is_not_an_address_to_a_group_says_so(
    admin: GraphQLClient,
) -> None:
    group = (await create_group(admin, "Council"))["group"]
    await person("known@example.org")
    refused = (
        await admin(
            ADD_MEMBERS,
            {"groupId": group["id"], "emails": ["pas-une-adresse", "inconnu@example.be"]},
        )
    )["addGroupMembers"]
    assert problems(refused) == [
        ("INVALID_EMAIL", "emails", 0, "pas-une-adresse", None, []),
        ("UNKNOWN_USER", "emails", 1, "inconnu@example.be", "NO_ACCOUNT", []),
    ]


async def test_lifting_the_block_of_something_that_is_not_an_address_says_so(
    admin: GraphQLClient,
) -> None:
    refused = (await admin(LIFT, {"email": "pas une adresse"}))["liftMailSuppression"]
    assert problems(refused) == [("INVALID_EMAIL", "email", None, "pas une adresse", None, [])]
    not_blocked = (await admin(LIFT, {"email": "fine@example.org"}))["liftMailSuppression"]
    assert [e["code"] for e in not_blocked["errors"]] == ["NOT_FOUND"]
    await MailSuppression.create(
        email="gone@example.org", reason=SuppressionReason.HARD_BOUNCE, source="dsn"
    )
    lifted = (await admin(LIFT, {"email": "Gone@Example.org"}))["liftMailSuppression"]
    assert lifted == {"lifted": {"email": "gone@example.org"}, "errors": []}


async def test_a_webhook_urls_problem_says_why(admin: GraphQLClient) -> None:
    for url, reason in [
        ("platform.example.org/hooks", "URL_NOT_ABSOLUTE"),
        ("https://localhost/hooks", "URL_NOT_PUBLIC"),
        ("https://user:pw@platform.example.org/hooks", "URL_CREDENTIALS"),
    ]:
        input = {"url": url, "eventTypes": ["INVITATION_CREATED"]}
        refused = (await admin(CREATE_HOOK, {"input": input}))["createWebhookSubscription"]
        assert [(e["code"], e["field"], e["reason"]) for e in refused["errors"]] == [
            ("INVALID_URL", "url", reason)
        ], url


async def test_admins_see_how_many_answers_a_field_holds_before_deleting_it(
    gql: GraphQLClient, admin: GraphQLClient
) -> None:
    assert (await create_field(admin, "age", "NUMBER"))["errors"] == []
    assert (await create_field(admin, "nickname", "TEXT"))["errors"] == []
    await person("a@example.org", age=40)
    await person("b@example.org", age=12, nickname="Bee")
    await create(
        admin,
        ["i@example.org"],
        sendEmail=False,
        registrationFieldValues=[{"key": "age", "value": "30"}],
    )
    held = {f["key"]: f["heldValues"] for f in (await admin(HELD))["registrationFields"]}
    assert held == {
        "age": {"usersCount": 2, "invitationsCount": 1},
        "nickname": {"usersCount": 1, "invitationsCount": 0},
    }
    # What the field holds is the admins' business: the public list of fields does not say.
    anonymous = await gql.post(HELD)
    assert anonymous["data"] is None or anonymous["data"]["registrationFields"] is None
    assert anonymous["errors"]
