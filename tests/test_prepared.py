"""Prepared documents (schema.prepared) answer as the schema does, state by state; /invite sends
the very text prepared for it; anything unusual goes through the schema."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from arq.connections import ArqRedis
from prometheus_client import REGISTRY

from domain import db
from domain.clock import clock
from domain.invitations import tokens
from domain.models import Invitation, User
from schema.prepared import INVITATION_BY_TOKEN, INVITATIONS, normalized
from tests.conftest import _free_port
from tests.fixtures import GraphQLClient
from tests.invitations_helpers import DELETE, GENERATE, accept, create
from tests.test_platform import create_field

ROOT = Path(__file__).resolve().parent.parent
# A comment changes the text, not the document: the schema answers it.
THROUGH_SCHEMA = INVITATION_BY_TOKEN + "\n# through the schema\n"


def prepared_answers() -> float:
    value = REGISTRY.get_sample_value(
        "invitations_graphql_prepared_requests_total", {"operation": "invitationByToken"}
    )
    return value or 0.0


def client_from(app: Any, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def ask(client: httpx.AsyncClient, query: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, **body})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    answer: dict[str, Any] = response.json()
    return answer


async def both(client: httpx.AsyncClient, **body: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The prepared answer (checked to be one) and the schema's, to the same request."""
    before = prepared_answers()
    prepared = await ask(client, INVITATION_BY_TOKEN, body)
    assert prepared_answers() == before + 1
    general = await ask(client, THROUGH_SCHEMA, body)
    assert prepared_answers() == before + 1
    return prepared, general


def test_the_invite_page_sends_the_prepared_text() -> None:
    script = (ROOT / "api" / "static" / "invite.js").read_text()
    match = re.search(r"const BY_TOKEN = `([^`]*)`", script)
    assert match is not None
    assert normalized(match.group(1)) == normalized(INVITATION_BY_TOKEN)


async def test_valid_tokens_with_required_fields_in_every_language(
    admin: GraphQLClient, app: Any
) -> None:
    await create_field(
        admin,
        "neighbourhood",
        "SELECT",
        title="Neighbourhood",
        required=True,
        titles=[{"locale": "nl-BE", "text": "Wijk"}, {"locale": "fr-BE", "text": "Quartier"}],
        options=[
            {"key": "north", "title": "North", "titles": [{"locale": "nl-BE", "text": "Noord"}]},
            {"key": "south", "title": "South"},
        ],
    )
    await create_field(admin, "birth_year", "NUMBER", required=True)
    await create_field(admin, "newsletter", "CHECKBOX")  # not required: never asked here
    await create_field(admin, "member_no", "TEXT", required=True)
    mailed = (
        await create(
            admin,
            ["lea@example.org"],
            sendEmail=False,
            locale="nl-BE",
            registrationFieldValues=[{"key": "member_no", "value": "A-17"}],
        )
    )["invitations"][0]
    letter = (await admin(GENERATE, {"count": 1}))["generateInvitationCodes"]["invitations"][0]
    visitor = client_from(app, "192.0.2.41")
    for token in (mailed["token"], letter["token"], letter["token"].lower()):
        for locale in (None, "nl-BE", "nl", "FR_be", "de", ""):
            prepared, general = await both(visitor, variables={"token": token, "locale": locale})
            assert prepared == general
    prepared, general = await both(visitor, variables={"token": mailed["token"]})
    assert prepared == general
    answer = prepared["data"]["invitationByToken"]
    assert answer["valid"] is True
    assert answer["invitation"]["email"] == "lea@example.org"
    assert answer["invitation"]["locale"] == "nl-BE"
    # The preset member number is not asked again; the others in their order.
    assert [f["key"] for f in answer["invitation"]["requiredFields"]] == [
        "neighbourhood",
        "birth_year",
    ]
    dutch, general = await both(
        visitor, variables={"token": mailed["token"], "locale": "nl-BE"}, operationName=None
    )
    assert dutch == general
    neighbourhood = dutch["data"]["invitationByToken"]["invitation"]["requiredFields"][0]
    assert neighbourhood["title"] == "Wijk"
    assert neighbourhood["type"] == "SELECT"
    assert neighbourhood["options"] == [
        {"key": "north", "title": "Noord"},
        {"key": "south", "title": "South"},
    ]
    code_only, _ = await both(visitor, variables={"token": letter["token"]})
    assert code_only["data"]["invitationByToken"]["invitation"]["email"] is None
    assert code_only["data"]["invitationByToken"]["invitation"]["codeOnly"] is True
    assert code_only["data"]["invitationByToken"]["invitation"]["hasAccount"] is False
    assert answer["invitation"]["hasAccount"] is False
    # The address registered since: the page asks its owner to sign in instead.
    await User.create(
        email="lea@example.org",
        locale="en",
        password_hash="-",
        email_confirmed_at=await clock.now(),
    )
    prepared, general = await both(visitor, variables={"token": mailed["token"]})
    assert prepared == general
    assert prepared["data"]["invitationByToken"]["invitation"]["hasAccount"] is True


async def test_tokens_that_cannot_be_used_and_the_rate_limit(
    admin: GraphQLClient, gql: GraphQLClient, app: Any
) -> None:
    used, gone, old = (
        await create(
            admin, ["used@example.org", "gone@example.org", "old@example.org"], sendEmail=False
        )
    )["invitations"]
    assert (await accept(gql, used["token"]))["errors"] == []
    await admin(DELETE, {"id": gone["id"]})
    await Invitation.filter(id=int(old["id"])).update(
        expires_at=await clock.now() - timedelta(minutes=1)
    )
    mistyped = used["token"][:-1] + ("0" if used["token"][-1] != "0" else "1")
    unknown = tokens.display(tokens.generate())
    visitor = client_from(app, "192.0.2.42")
    answers = []
    for token in (used["token"], gone["token"], old["token"], unknown, mistyped):
        prepared, general = await both(visitor, variables={"token": token, "locale": "en"})
        assert prepared == general
        answers.append(prepared["data"]["invitationByToken"])
    codes = [answer["errors"][0]["code"] for answer in answers]
    assert codes == ["INVALID_TOKEN"] * 4 + ["TOKEN_CHECK_FAILED"]
    assert all(answer["valid"] is False and answer["invitation"] is None for answer in answers)

    # Wrong codes until the address's limit is full: then every token gets RATE_LIMITED.
    for _ in range(100):
        answer = await ask(visitor, INVITATION_BY_TOKEN, {"variables": {"token": unknown}})
        if answer["data"]["invitationByToken"]["errors"][0]["code"] == "RATE_LIMITED":
            break
    else:
        raise AssertionError("never limited")
    [fresh] = (await create(admin, ["fresh@example.org"], sendEmail=False))["invitations"]
    for token in (unknown, old["token"], fresh["token"]):
        prepared, general = await both(visitor, variables={"token": token})
        prepared_error = prepared["data"]["invitationByToken"]["errors"][0]
        general_error = general["data"]["invitationByToken"]["errors"][0]
        assert prepared_error["code"] == general_error["code"] == "RATE_LIMITED"
        assert abs(prepared_error["retryAfter"] - general_error["retryAfter"]) <= 1
        assert prepared_error["message"].startswith("Too many attempts")


async def test_while_redis_is_down_both_paths_answer_temporarily_unavailable(
    admin: GraphQLClient, app: Any
) -> None:
    """The token check's rate limit cannot be checked: the prepared answer is the schema's,
    typed and retryable (never a masked internal error), for a valid and an unknown token."""
    [invitation] = (await create(admin, ["lea@example.org"], sendEmail=False))["invitations"]
    working = app.state.redis
    down = ArqRedis.from_url(f"redis://127.0.0.1:{_free_port()}/13", socket_timeout=2)
    app.state.redis = down
    try:
        visitor = client_from(app, "192.0.2.43")
        for token in (invitation["token"], tokens.display(tokens.generate())):
            prepared, general = await both(visitor, variables={"token": token, "locale": "en"})
            assert prepared == general
            answer = prepared["data"]["invitationByToken"]
            assert answer["valid"] is False and answer["invitation"] is None
            [error] = answer["errors"]
            assert (error["code"], error["retryAfter"]) == ("TEMPORARILY_UNAVAILABLE", 30)
    finally:
        app.state.redis = working
        await down.aclose()
    prepared, general = await both(visitor, variables={"token": invitation["token"]})
    assert prepared == general and prepared["data"]["invitationByToken"]["valid"] is True


async def test_anything_unusual_is_answered_by_the_schema(admin: GraphQLClient, app: Any) -> None:
    [invitation] = (await create(admin, ["odd@example.org"], sendEmail=False))["invitations"]
    visitor = client_from(app, "192.0.2.43")
    token = invitation["token"]
    for body in (
        {"variables": {"token": token + "\u0000"}},  # cannot be stored: INVALID_INPUT
        {"variables": {"token": "\ud800"}},
        {"variables": {}},  # the token is required
        {"variables": {"token": None}},
        {"variables": {"token": 17}},
        {"variables": {"token": token, "locale": ["en"]}},
        {"variables": {"token": token, "extra": "x"}},
        {"variables": {"token": token}, "operationName": "Other"},
        {"variables": ["not", "an", "object"]},
    ):
        before = prepared_answers()
        answer, schema_answer = [
            # As JSON escapes (a lone surrogate is no UTF-8).
            await visitor.post(
                "/graphql",
                content=json.dumps({"query": query, **body}),
                headers={"Content-Type": "application/json"},
            )
            for query in (INVITATION_BY_TOKEN, THROUGH_SCHEMA)
        ]
        assert prepared_answers() == before, body
        assert answer.status_code == schema_answer.status_code, body
        assert answer.json() == schema_answer.json(), body
    stored = await ask(visitor, THROUGH_SCHEMA, {"variables": {"token": token + "\u0000"}})
    assert stored["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    # Batches, GET and other content types never take the prepared path either.
    batch = await visitor.post(
        "/graphql", json=[{"query": INVITATION_BY_TOKEN, "variables": {"token": token}}]
    )
    assert batch.status_code == 400
    form = await visitor.post(
        "/graphql",
        content=json.dumps({"query": INVITATION_BY_TOKEN, "variables": {"token": token}}),
        headers={"Content-Type": "text/plain"},
    )
    assert form.status_code == 415


async def test_a_burst_of_parallel_guesses_learns_no_more_answers_than_the_limit(
    admin: GraphQLClient, app: Any
) -> None:
    from domain.settings import get_settings

    [invitation] = (await create(admin, ["burst@example.org"], sendEmail=False))["invitations"]
    attacker = client_from(app, "192.0.2.44")
    guesses = [tokens.display(tokens.generate()) for _ in range(29)] + [invitation["token"]]
    answers = await asyncio.gather(
        *(ask(attacker, INVITATION_BY_TOKEN, {"variables": {"token": g}}) for g in guesses)
    )
    codes = [
        (answer["data"]["invitationByToken"]["errors"] or [{"code": "VALID"}])[0]["code"]
        for answer in answers
    ]
    limit = get_settings().limit_token_failures_per_minute
    assert codes.count("INVALID_TOKEN") == limit
    assert codes.count("RATE_LIMITED") + codes.count("VALID") == len(guesses) - limit


# ---------------------------------------------------------------------------------------------
# The admin console's list

LIST_THROUGH_SCHEMA = INVITATIONS + "\n# through the schema\n"


def prepared_lists() -> float:
    value = REGISTRY.get_sample_value(
        "invitations_graphql_prepared_requests_total", {"operation": "invitations"}
    )
    return value or 0.0


async def both_lists(
    client: GraphQLClient, variables: dict[str, Any], *, prepared: bool = True
) -> tuple[dict[str, Any], dict[str, Any]]:
    before = prepared_lists()
    fast = await client.post(INVITATIONS, variables)
    assert prepared_lists() == before + (1 if prepared else 0), variables
    general = await client.post(LIST_THROUGH_SCHEMA, variables)
    assert prepared_lists() == before + (1 if prepared else 0), variables
    return fast, general


def test_the_console_sends_the_prepared_list_text() -> None:
    script = (ROOT / "api" / "static" / "admin" / "invitations.js").read_text()
    match = re.search(r"const LIST = `([^`]*)`", script)
    assert match is not None
    assert normalized(match.group(1)) == normalized(INVITATIONS)


async def a_varied_list(admin: GraphQLClient) -> dict[str, str]:
    """Invitations in every state the list shows, and what they grant."""
    from domain.models import BounceKind, DeliveryState, MailSuppression, SuppressionReason
    from tests.test_platform import CREATE_PROJECT, create_group

    north = (
        await create_group(admin, "North Avenue", titles=[{"locale": "nl-BE", "text": "Noordlaan"}])
    )["group"]["id"]
    youth = (await create_group(admin, "Youth council"))["group"]["id"]
    park = (await admin(CREATE_PROJECT, {"title": "Riverside park"}))["createProject"]["project"]
    await create(
        admin,
        [f"resident{i}@example.org" for i in range(6)],
        sendEmail=False,
        groupIds=[north, youth],
    )
    await create(admin, ["chair@example.org"], sendEmail=False, admin=True, groupIds=[youth])
    await create(admin, ["planner@example.org"], sendEmail=False, projectIds=[park["id"]])
    letters = await admin(GENERATE, {"count": 3, "options": {"groupIds": [north]}})
    letter = letters["generateInvitationCodes"]["invitations"][1]
    bounced, accepted, expired = (
        await create(
            admin,
            ["bounced@example.org", "Accepted@example.org", "expired@example.org"],
            sendEmail=False,
        )
    )["invitations"]
    await Invitation.filter(id=int(bounced["id"])).update(
        delivery_state=DeliveryState.BOUNCED,
        bounce_kind=BounceKind.HARD,
        last_error="550 5.1.1 no such user",
    )
    await MailSuppression.create(
        email="bounced@example.org", reason=SuppressionReason.HARD_BOUNCE, source="dsn"
    )
    await Invitation.filter(id=int(expired["id"])).update(
        expires_at=await clock.now() - timedelta(minutes=1)
    )
    await Invitation.filter(last_name="").update(last_name="de Smet")
    await Invitation.filter(email__startswith="resident1").update(last_name="De Vries")
    return {
        "north": north,
        "youth": youth,
        "accepted": accepted["token"],
        "code": letter["token"],
        "number": letter["id"],
    }


async def test_the_console_list_answers_as_the_schema_does(
    admin: GraphQLClient, gql: GraphQLClient
) -> None:
    made = await a_varied_list(admin)
    assert (await accept(gql, made["accepted"]))["errors"] == []
    base = {"first": 4, "withTotal": True, "locale": "en"}
    variations: list[dict[str, Any]] = [
        base,
        {**base, "withTotal": False, "locale": None},
        {**base, "locale": "nl-BE", "first": 30},
        {"first": 0, "withTotal": True},
        {**base, "filter": {"status": "PENDING"}},
        {**base, "filter": {"status": "ACCEPTED"}},
        {**base, "filter": {"status": "EXPIRED", "search": None}},
        {**base, "filter": {"delivery": "BOUNCED"}},
        {**base, "filter": {"search": "RESIDENT"}},
        {**base, "filter": {"search": "de "}},
        # A letter's code, its number, and the person who registered with an invitation.
        {**base, "filter": {"search": made["code"].replace("-", " ").lower()}},
        {**base, "filter": {"search": f"nr. {made['number']}"}},
        {**base, "filter": {"search": "lea janss"}},
        {**base, "withTotal": False, "filter": {"search": made["code"]}},
        # Without the total: a filter's values are then in the rows' conditions only.
        {**base, "withTotal": False, "filter": {"search": "RESIDENT"}},
        {**base, "withTotal": False, "filter": {"status": "PENDING", "search": "res"}},
        {**base, "filter": {"groupId": made["north"]}},
        {**base, "filter": {"groupId": int(made["youth"]), "role": "ADMIN"}},
        {**base, "filter": {"role": "PROJECT_MANAGER"}},
        {**base, "filter": {"importId": "999"}},
        {**base, "filter": {"groupId": "not a number"}},
        {**base, "orderBy": {"field": "EMAIL"}},
        {**base, "orderBy": {"direction": "ASC"}},
    ]
    for field in ("CREATED_AT", "EMAIL", "LAST_NAME", "STATUS"):
        for direction in ("ASC", "DESC"):
            variations.append({**base, "orderBy": {"field": field, "direction": direction}})
    for variables in variations:
        # Every page of each, by its cursors.
        after = None
        for _ in range(10):
            fast, general = await both_lists(admin, {**variables, "after": after})
            assert fast == general, variables
            assert "errors" not in fast, fast
            connection = fast["data"]["invitations"]
            if not connection["pageInfo"]["hasNextPage"]:
                break
            after = connection["pageInfo"]["endCursor"]
    for search in (made["code"], f"nr. {made['number']}", "lea janss"):
        fast, _ = await both_lists(admin, {**base, "filter": {"search": search}})
        assert fast["data"]["invitations"]["totalCount"] == 1, search
    everything, _ = await both_lists(admin, {"first": 50, "withTotal": True, "locale": "nl-BE"})
    nodes = [edge["node"] for edge in everything["data"]["invitations"]["edges"]]
    assert everything["data"]["invitations"]["totalCount"] == len(nodes) == 14
    by_email = {node["email"]: node for node in nodes}
    assert by_email["bounced@example.org"]["delivery"] == {
        "state": "BOUNCED",
        "lastError": "550 5.1.1 no such user",
        "bounceKind": "HARD",
        "suppression": {"reason": "HARD_BOUNCE"},
    }
    assert by_email["accepted@example.org"]["status"] == "ACCEPTED"
    assert by_email["expired@example.org"]["status"] == "EXPIRED"
    assert by_email["chair@example.org"]["grants"]["admin"] is True
    assert by_email["planner@example.org"]["grants"]["projects"] == [{"title": "Riverside park"}]
    assert by_email["resident0@example.org"]["grants"]["groups"] == [
        {"title": "Noordlaan"},
        {"title": "Youth council"},
    ]
    letters = [node for node in nodes if node["codeOnly"]]
    assert len(letters) == 3 and all(node["email"] is None for node in letters)


def counting_statements(monkeypatch: Any) -> list[str]:
    """The statements sent to the database from now on (each still runs)."""
    statements: list[str] = []
    client = type(db.connection())
    for name in ("execute_query", "execute_query_dict", "execute_script"):
        original = getattr(client, name)

        async def counted(self: Any, query: str, *args: Any, _original: Any = original) -> Any:
            statements.append(query)
            return await _original(self, query, *args)

        monkeypatch.setattr(client, name, counted)
    return statements


async def test_a_page_of_the_console_list_is_one_statement(
    admin: GraphQLClient, monkeypatch: Any
) -> None:
    made = await a_varied_list(admin)
    await clock.now()  # the database's clock, measured now rather than during the request
    statements = counting_statements(monkeypatch)
    for variables in (
        {"first": 5, "withTotal": True, "locale": "nl-BE"},
        {"first": 5, "withTotal": False, "filter": {"groupId": made["north"]}},
        {"first": 5, "withTotal": True, "orderBy": {"field": "LAST_NAME", "direction": "ASC"}},
    ):
        before, statements[:] = prepared_lists(), []
        answer = await admin.post(INVITATIONS, variables)
        assert prepared_lists() == before + 1 and "errors" not in answer, answer
        # The admin check, the total, the rows and what each grants: one round trip.
        assert len(statements) == 1, (variables, statements)
    # A search first finds its page's ids (see listing._search_page), then reads it.
    statements[:] = []
    answer = await admin.post(
        INVITATIONS, {"first": 5, "withTotal": True, "filter": {"search": "res"}}
    )
    assert len(answer["data"]["invitations"]["edges"]) == 5
    assert len(statements) == 2, statements
    # Whoever asks is asked first: a session that is no admin's reads no invitation, search
    # or not (each statement reading them asks about the session too).
    for variables in (
        {"first": 5, "withTotal": True, "filter": {"search": "res"}},
        {"first": 5, "withTotal": True},
    ):
        statements[:] = []
        refused = await admin.http.post(
            "/graphql",
            json={"query": INVITATIONS, "variables": variables},
            headers={"Authorization": "Bearer not-a-session"},
        )
        assert refused.json()["errors"], refused.text
        reading = [text for text in statements if "invitations" in text]
        assert reading and all("sessions" in text for text in reading), statements


async def test_the_console_list_leaves_the_unusual_to_the_schema(
    admin: GraphQLClient, gql: GraphQLClient
) -> None:
    [resident] = (await create(admin, ["someone@example.org"], sendEmail=False))["invitations"]
    session = (await accept(gql, resident["token"]))["session"]["token"]
    base = {"first": 5, "withTotal": True}
    for client, variables in (
        (gql, base),  # not signed in: the schema's permission error
        (gql.as_user(session), base),  # signed in, not an admin
        (gql.as_user(session + "x"), base),  # no such session
        (admin, {**base, "first": 500}),
        (admin, {**base, "first": -1}),
        (admin, {**base, "first": 2**31}),
        (admin, {**base, "first": True}),
        (admin, {"first": 5}),
        (admin, {**base, "withTotal": "yes"}),
        (admin, {**base, "after": "not-a-cursor"}),
        (admin, {**base, "after": "\u0000"}),
        (admin, {**base, "filter": {"status": "BOGUS"}}),
        (admin, {**base, "filter": {"search": 7}}),
        (admin, {**base, "filter": {"other": 1}}),
        (admin, {**base, "filter": "PENDING"}),
        (admin, {**base, "orderBy": {"field": None}}),
        (admin, {**base, "orderBy": {"field": "NAME"}}),
    ):
        fast, general = await both_lists(client, variables, prepared=False)
        assert fast == general, variables
        assert fast.get("errors"), variables
    # A variable the document does not declare is ignored by the schema: the same answer.
    fast, general = await both_lists(admin, {**base, "surplus": 1}, prepared=False)
    assert fast == general and "errors" not in fast
