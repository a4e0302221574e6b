"""Hostile input: header injection through names, and where a request comes from."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.requests import Request

from api.graphql import client_ip
from domain.settings import get_settings, load_settings
from tests.fixtures import GraphQLClient
from tests.invitations_helpers import accept, create

# (A NUL is refused before any resolver runs: see the test of unstorable strings below.)
INJECTIONS = ["Eve\r\nBcc: victim@example.org", "Eve\nSubject: hi", "Eve\x1b", "Eve\u2028x"]


async def test_names_with_line_breaks_or_control_characters_are_refused_everywhere(
    admin: GraphQLClient, gql: GraphQLClient
) -> None:
    [invitation] = (await create(admin, "named@example.org", sendEmail=False))["invitations"]
    for name in INJECTIONS:
        refused = await accept(gql, invitation["token"], firstName=name)
        assert [e["code"] for e in refused["errors"]] == ["INVALID_NAME"], refused
        signed_up = await gql(
            "mutation($input: SignUpInput!) { signUp(input: $input) { ok errors { code field } } }",
            {
                "input": {
                    "email": "eve@example.org",
                    "password": "lighthouse keeper rowing 7",
                    "lastName": name,
                }
            },
        )
        assert signed_up["signUp"]["errors"] == [{"code": "INVALID_NAME", "field": "lastName"}]
    assert (await accept(gql, invitation["token"], firstName="Ève-Marie", lastName="O'Neill"))[
        "errors"
    ] == []


def request_from(peer: str, forwarded: str | None = None) -> Request:
    headers: list[tuple[bytes, bytes]] = []
    if forwarded is not None:
        headers.append((b"x-forwarded-for", forwarded.encode()))
    scope: dict[str, Any] = {"type": "http", "client": (peer, 1234), "headers": headers}
    return Request(scope)


def test_the_client_address_is_the_socket_unless_a_trusted_proxy_forwarded_it() -> None:
    settings = load_settings(env="test", secret_key="k" * 40, trusted_proxies="10.0.0.1,10.0.0.2")
    # Anyone can send X-Forwarded-For: from an untrusted peer it is ignored.
    assert client_ip(request_from("198.51.100.7", "203.0.113.9"), settings) == "198.51.100.7"
    # Through our proxies: the right-most address our proxies did not add.
    assert client_ip(request_from("10.0.0.1", "203.0.113.9"), settings) == "203.0.113.9"
    assert (
        client_ip(request_from("10.0.0.2", "1.2.3.4, 203.0.113.9, 10.0.0.1"), settings)
        == "203.0.113.9"
    )
    # A spoofed left-most entry does not win.
    assert client_ip(request_from("10.0.0.1", "6.6.6.6, 203.0.113.9"), settings) == "203.0.113.9"
    assert client_ip(request_from("10.0.0.1"), settings) == "10.0.0.1"


HOSTILE = {"a lone surrogate": "Ann\ud800e", "a NUL": "Ann\x00e"}


async def post(client: GraphQLClient, query: str, variables: Any = None) -> dict[str, Any]:
    """Post as a client would, with JSON escapes (a lone surrogate cannot be UTF-8)."""
    headers = {"Content-Type": "application/json"}
    if client.token:
        headers["Authorization"] = f"Bearer {client.token}"
    body = json.dumps({"query": query, "variables": variables or {}})
    response = await client.http.post("/graphql", content=body, headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_strings_the_database_cannot_store_get_a_typed_error_naming_the_field(
    admin: GraphQLClient, gql: GraphQLClient
) -> None:
    from domain.models import Invitation

    for kind, value in HOSTILE.items():
        created = await post(
            admin,
            "mutation($i: CreateInvitationsInput!) {"
            " createInvitations(input: $i) { invitedCount } }",
            {"i": {"emails": ["ok@example.org"], "personalMessage": value, "sendEmail": False}},
        )
        [error] = created["errors"]
        assert error["extensions"] == {"code": "INVALID_INPUT", "field": "i.personalMessage"}, kind
        assert created["data"] is None
        searched = await post(
            admin,
            "query($s: String) { invitations(first: 5, filter: {search: $s}) { totalCount } }",
            {"s": value},
        )
        assert searched["errors"][0]["extensions"]["code"] == "INVALID_INPUT", kind
    assert not await Invitation.all().exists()  # nothing was changed

    # A literal of the document: a lone surrogate is a syntax error there already; a NUL
    # written as GraphQL's escape is refused like a variable's, named by its path.
    syntax = await post(gql, 'mutation { signUp(input: {lastName: "Ann\ud800e"}) { ok } }')
    assert syntax["errors"][0]["message"].startswith("Syntax Error")
    body = await post(
        gql,
        'mutation { signUp(input: {email: "x@example.org", password: "p",'
        ' lastName: "Ann\\u0000e"}) { ok } }',
    )
    assert body["errors"][0]["extensions"] == {
        "code": "INVALID_INPUT",
        "field": "signUp.input.lastName",
    }
    body = await post(
        gql,
        "mutation($i: SignUpInput!) { signUp(input: $i) { ok } }",
        {"i": {"email": "x@example.org", "password": "p", "firstName": "Eve\x00"}},
    )
    assert body["errors"][0]["extensions"] == {"code": "INVALID_INPUT", "field": "i.firstName"}


async def test_a_repeated_document_is_checked_for_unstorable_literals_once(
    gql: GraphQLClient,
) -> None:
    from schema.extensions import unstorable_literal

    refused = (
        'mutation { signUp(input: {email: "n@example.org", password: "p", lastName: "A\\u0000"})'
        " { ok } }"
    )
    fine = '{ invitationByToken(token: "ABCDE-FGHJK-MNPQ0") { valid } }'
    for document, field in ((refused, "signUp.input.lastName"), (fine, None)):
        first = await post(gql, document)
        hits = unstorable_literal.cache_info().hits
        again = await post(gql, document)
        assert unstorable_literal.cache_info().hits == hits + 1
        assert again == first  # the same answer, refusal included
        if field:
            assert again["errors"][0]["extensions"] == {"code": "INVALID_INPUT", "field": field}


async def test_a_body_nested_fifty_thousand_deep_is_a_400_in_json(
    http: Any, gql: GraphQLClient
) -> None:
    deep = '{"query": "{ me { id } }", "variables": {"x": ' + "[" * 50_000 + "]" * 50_000 + "}}"
    response = await http.post(
        "/graphql", content=deep, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"].startswith("The request body is nested")


async def test_only_application_json_is_read_as_json(http: Any) -> None:
    body = '{"query": "{ me { id } }"}'
    for content_type in ("application/jsonp", "application/json-patch+json", "text/plain"):
        response = await http.post("/graphql", content=body, headers={"Content-Type": content_type})
        assert response.status_code == 415, content_type
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    accepted = await http.post(
        "/graphql", content=body, headers={"Content-Type": "application/json; charset=utf-8"}
    )
    assert accepted.status_code == 200 and accepted.json() == {"data": {"me": None}}


async def test_no_name_suggestions_for_those_who_may_not_introspect(
    admin: GraphQLClient, gql: GraphQLClient
) -> None:
    typo = '{ invitationByTokn(token: "x") { valid } }'
    anonymous = (await gql.post(typo))["errors"][0]["message"]
    assert anonymous == "Cannot query field 'invitationByTokn' on type 'Query'."
    as_admin = (await admin.post(typo))["errors"][0]["message"]
    assert "Did you mean 'invitationByToken'" in as_admin
    wrong_input = await gql.post(
        "mutation($i: SignUpInput!) { signUp(input: $i) { ok } }",
        {"i": {"email": "x@example.org", "password": "p", "firstNam": "A"}},
    )
    assert "Did you mean" not in wrong_input["errors"][0]["message"]


async def test_a_made_up_cursor_is_refused_with_a_typed_error(admin: GraphQLClient) -> None:
    import base64

    query = """query($after: String, $order: InvitationOrderInput) {
      invitations(first: 5, after: $after, orderBy: $order) {
        totalCount edges { node { id } } } }"""
    made_up = [
        (["created_at", "2026-01-01T00:00:00+00:00", 2**40], "CREATED_AT"),
        (["created_at", "2026-01-01T00:00:00+00:00", -3], "CREATED_AT"),
        (["email", "a\x00b@example.org", 5], "EMAIL"),
        (["email", "a\ud800b", 5], "EMAIL"),
    ]
    for payload, field in made_up:
        raw = json.dumps(payload).encode()
        cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        body = await post(admin, query, {"after": cursor, "order": {"field": field}})
        [error] = body["errors"]
        assert error["message"] == (
            "This cursor does not belong to this ordering: start again from the first page."
        ), payload


async def test_a_body_that_trickles_in_is_cut_off_with_408(database: None, redis: Any) -> None:
    """200 connections trickling a declared 20 MiB upload held the server for a minute: now
    each body has a deadline (a second here, two minutes by default for uploads)."""
    import asyncio
    import contextlib

    import uvicorn

    from api.app import create_app
    from domain.settings import get_settings
    from tests.browser import _Server
    from tests.conftest import _free_port

    settings = get_settings().model_copy(
        update={"upload_body_timeout_seconds": 1.0, "request_body_timeout_seconds": 0.5}
    )
    app = create_app(settings, manage_database=False)
    app.state.redis = redis
    port = _free_port()
    server = _Server(
        uvicorn.Config(app, port=port, lifespan="off", log_level="warning", access_log=False)
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        upload_start = (
            '--x\r\nContent-Disposition: form-data; name="0"; filename="people.xlsx"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        )
        for content_type, start, length, deadline in (
            ("multipart/form-data; boundary=x", upload_start, 20_000_000, 1.0),
            (JSON, '{"query": "', 1_000_000, 0.5),
        ):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(
                (
                    "POST /graphql HTTP/1.1\r\nHost: x\r\nApollo-Require-Preflight: true\r\n"
                    f"Content-Type: {content_type}\r\nContent-Length: {length}\r\n\r\n{start}"
                ).encode()
            )
            started = asyncio.get_running_loop().time()
            answer = b""
            while not answer:
                writer.write(b"x")  # a byte now and then, never the whole body
                await writer.drain()
                with contextlib.suppress(TimeoutError):
                    answer = await asyncio.wait_for(reader.read(4096), timeout=0.2)
                assert asyncio.get_running_loop().time() - started < deadline + 2
            assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
            assert asyncio.get_running_loop().time() - started >= deadline
            writer.close()
    finally:
        server.should_exit = True
        await task


JSON = "application/json"


async def test_a_body_over_the_limit_gets_one_typed_answer_however_its_size_is_told(
    http: httpx.AsyncClient,
) -> None:
    """Told by its Content-Length (refused before any of it is read) or counted as it streams
    in, a body over its limit gets the same 413: JSON with a code and the limit in words."""
    from tests.import_helpers import upload_body

    settings = get_settings()
    plain = b'{"query": "' + b"x" * settings.max_request_body_bytes + b'"}'
    file = b"PK\x03\x04" + b"\x00" * (settings.import_max_file_bytes + 2 * 1024 * 1024)
    multipart = httpx.Request("POST", "/", **upload_body(file, None, "people.xlsx"))

    async def streamed(body: bytes) -> AsyncIterator[bytes]:  # no Content-Length: counted
        for start in range(0, len(body), 256 * 1024):
            yield body[start : start + 256 * 1024]

    upload_words = "The upload is over the limit of 21 MiB (a file of at most 20 MiB)."
    for body, content_type, message in (
        (plain, JSON, "The request body is over the limit of 2 MiB."),
        (multipart.read(), multipart.headers["Content-Type"], upload_words),
    ):
        headers = {"Content-Type": content_type, "Apollo-Require-Preflight": "true"}
        for content in (body, streamed(body)):
            refused = await http.post("/graphql", content=content, headers=headers)
            assert refused.status_code == 413, refused.text
            assert refused.headers["content-type"] == JSON
            assert refused.json() == {
                "errors": [{"message": message, "extensions": {"code": "REQUEST_ENTITY_TOO_LARGE"}}]
            }


async def test_a_body_cut_off_or_left_half_sent_is_no_error_in_the_logs(
    database: None, redis: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """After the 408 the view hears that the client left; a client that really leaves half-way
    through its body is heard the same way. Neither is an error of the service: an INFO line
    says what happened, and nothing is logged as an error (nor as a 500 answered)."""
    import asyncio
    import logging

    from api.app import create_app
    from tests.browser import serve

    caplog.set_level(logging.INFO)
    settings = get_settings().model_copy(
        update={"upload_body_timeout_seconds": 0.5, "request_body_timeout_seconds": 0.5}
    )
    app = create_app(settings, manage_database=False)
    app.state.redis = redis
    upload_start = '--x\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{"query": "'

    async def request_done() -> None:
        """Until the request's line is logged: the guard's, or an error."""
        for _ in range(100):
            if any(r.name == "api.uploads" or r.levelno >= logging.ERROR for r in caplog.records):
                await asyncio.sleep(0.1)  # the request's last lines, if any
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"nothing logged:\n{caplog.text}")

    async with serve(app) as url:
        port = int(url.rsplit(":", 1)[1])
        for content_type, start in (
            ("multipart/form-data; boundary=x", upload_start),
            (JSON, '{"query": "'),
        ):
            for leaves in (False, True):
                caplog.clear()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(
                    (
                        "POST /graphql HTTP/1.1\r\nHost: x\r\nApollo-Require-Preflight: true\r\n"
                        f"Content-Type: {content_type}\r\nContent-Length: 100000\r\n\r\n{start}"
                    ).encode()
                )
                await writer.drain()
                if leaves:
                    await asyncio.sleep(0.1)
                    writer.close()
                    said = "client left before its request body was received"
                else:
                    answer = await asyncio.wait_for(reader.read(), timeout=5)
                    assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
                    writer.close()
                    said = "request body not received within 0.5 s: answered 408"
                await request_done()
                problems = [r for r in caplog.records if r.levelno >= logging.WARNING]
                assert not problems, caplog.text
                assert "answered 500" not in caplog.text
                assert [(r.levelname, r.getMessage()) for r in caplog.records] == [("INFO", said)]
