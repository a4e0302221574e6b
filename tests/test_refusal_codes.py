"""Every refusal a client may meet carries a code to branch on (never only English words):
permission refusals say whether to sign in (again) or that the person may not; a page size or
cursor a list refuses is INVALID_INPUT with its field; asking too many letter codes at once is
TOO_MANY_INVITATIONS on `count`."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from domain.settings import get_settings
from tests.fixtures import SIGN_IN, GraphQLClient
from tests.invitations_helpers import GENERATE
from tests.test_platform import PASSWORD, person

LIST = "{ invitations { totalCount } }"


async def resident(gql: GraphQLClient) -> GraphQLClient:
    await person("noor@example.org")
    data = await gql(SIGN_IN, {"email": "noor@example.org", "password": PASSWORD})
    return gql.as_user(data["signIn"]["session"]["token"])


def refusal(body: dict[str, Any]) -> tuple[str, Any]:
    assert body["data"] is None, body
    [error] = body["errors"]
    return error["message"], error.get("extensions")


async def test_anonymous_callers_are_told_to_sign_in_and_residents_that_they_may_not(
    gql: GraphQLClient, admin: GraphQLClient, caplog: pytest.LogCaptureFixture
) -> None:
    signed_in = await resident(gql)
    with caplog.at_level(logging.INFO, logger="schema.errors"):
        anonymous = refusal(await gql.post(LIST))
        forbidden = refusal(await signed_in.post(LIST))
    assert anonymous == ("Only admins can do this.", {"code": "UNAUTHENTICATED"})
    assert forbidden == ("Only admins can do this.", {"code": "FORBIDDEN"})
    refusals = [r.getMessage() for r in caplog.records if "refused at" in r.getMessage()]
    assert refusals == ["operation - refused at invitations: permission denied"] * 2
    # The fields any signed-in person may call: anonymous callers sign in first.
    profile = 'mutation { updateProfile(input: {locale: "en"}) { user { email } } }'
    assert refusal(await gql.post(profile)) == ("Sign in first.", {"code": "UNAUTHENTICATED"})
    assert (await admin(LIST))["invitations"]["totalCount"] == 0


async def test_an_unknown_or_ended_session_token_is_unauthenticated(gql: GraphQLClient) -> None:
    """An app tells an expired session (sign in again) from a refusal by the code. `me` stays
    null for such a token, as for no token: /account and apps ask it to learn whether the
    session still holds, and a pending registration's token is no session either."""
    signed_in = await resident(gql)
    await signed_in("mutation { signOut { ok } }")
    over = "Your session is over (it expired or was ended): sign in again."
    profile = 'mutation { updateProfile(input: {locale: "en"}) { user { email } } }'
    for client in (signed_in, gql.as_user("bogus-token-123")):
        # Not "Only admins can do this.": the one asking may well be an admin.
        assert refusal(await client.post(LIST)) == (over, {"code": "UNAUTHENTICATED"})
        assert refusal(await client.post(profile)) == (over, {"code": "UNAUTHENTICATED"})
        assert await client("{ me { email } }") == {"me": None}


@pytest.mark.parametrize(
    ("arguments", "field", "message"),
    [
        ("first: -1", "invitations.first", "Ask for between 0 and 200 invitations at a time."),
        ("first: 201", "invitations.first", "Ask for between 0 and 200 invitations at a time."),
        (
            'after: "garbage"',
            "invitations.after",
            "This cursor does not belong to this ordering: start again from the first page.",
        ),
    ],
)
async def test_a_page_size_or_cursor_the_list_refuses_is_invalid_input_with_its_field(
    admin: GraphQLClient, arguments: str, field: str, message: str
) -> None:
    body = await admin.post(f"{{ invitations({arguments}) {{ totalCount }} }}")
    assert refusal(body) == (message, {"code": "INVALID_INPUT", "field": field})


async def test_an_aliased_nested_list_names_its_field_by_the_path(admin: GraphQLClient) -> None:
    body = await admin.post('{ page: invitations(after: "x") { totalCount } }')
    assert refusal(body)[1] == {"code": "INVALID_INPUT", "field": "page.after"}


GENERATE_TYPED = GENERATE.replace(
    "errors { code message field position value }", "errors { code message field retryAfter }"
)


async def test_too_many_letter_codes_at_once_is_too_many_invitations_on_count(
    admin: GraphQLClient,
) -> None:
    limit = get_settings().max_invitations_per_request
    for count in (limit + 1, 1_000_000):
        payload = (await admin(GENERATE_TYPED, {"count": count}))["generateInvitationCodes"]
        [error] = payload["errors"]
        assert (error["code"], error["field"], error["retryAfter"]) == (
            "TOO_MANY_INVITATIONS",
            "count",
            None,
        )
        assert f"{count:,} codes at once is more than the limit of {limit:,}" in error["message"]
    [error] = (await admin(GENERATE_TYPED, {"count": 0}))["generateInvitationCodes"]["errors"]
    assert (error["code"], error["field"]) == ("INVALID_INPUT", "count")


async def test_the_daily_allowance_names_count_for_letter_codes(
    admin: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "limit_invitations_per_admin_per_day", 5)
    payload = (await admin(GENERATE_TYPED, {"count": 6}))["generateInvitationCodes"]
    [error] = payload["errors"]
    assert (error["code"], error["field"]) == ("RATE_LIMITED", "count")
    assert payload["invitedCount"] == 0
