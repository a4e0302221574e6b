"""Hostile input: header injection through names, and where a request comes from."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from api.graphql import client_ip
from domain.settings import load_settings
from tests.fixtures import GraphQLClient
from tests.invitations_helpers import accept, create

INJECTIONS = ["Eve\r\nBcc: victim@example.org", "Eve\nSubject: hi", "Eve\x00", "Eve\u2028x"]


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
