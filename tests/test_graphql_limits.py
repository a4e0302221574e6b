"""GraphQL's own guards: depth, aliases, tokens, batching, introspection, masked errors."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from domain.settings import GraphiqlAccess, get_settings
from tests.fixtures import GraphQLClient

INTROSPECTION = "{ __schema { queryType { name } } }"


async def test_introspection_is_for_admins_only_outside_development(
    gql: GraphQLClient, admin: GraphQLClient
) -> None:
    assert get_settings().introspection is GraphiqlAccess.ADMINS
    refused = await gql.post(INTROSPECTION)
    assert refused["data"] is None
    assert "introspection" in refused["errors"][0]["message"].lower()
    assert (await admin(INTROSPECTION))["__schema"]["queryType"]["name"] == "Query"
    typename = await gql.post("{ __typename }")
    assert typename["data"] == {"__typename": "Query"}


async def test_introspection_can_be_opened_or_closed_for_everyone(
    gql: GraphQLClient, admin: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "introspection", GraphiqlAccess.ALL)
    assert (await gql(INTROSPECTION))["__schema"]["queryType"]["name"] == "Query"
    monkeypatch.setattr(get_settings(), "introspection", GraphiqlAccess.OFF)
    assert (await admin.post(INTROSPECTION))["data"] is None


async def test_deep_queries_and_too_many_aliases_are_refused(admin: GraphQLClient) -> None:
    inner = "email"
    for _ in range(7):
        inner = f"groups {{ members {{ {inner} }} }}"
    deep = f"{{ me {{ {inner} }} }}"
    body = await admin.post(deep)
    assert body["data"] is None
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]
    aliases = "{ " + " ".join(f"a{i}: me {{ email }}" for i in range(31)) + " }"
    body = await admin.post(aliases)
    assert body["data"] is None and "aliases" in body["errors"][0]["message"].lower()


async def test_huge_documents_are_refused_before_parsing_ends(gql: GraphQLClient) -> None:
    huge = "{ " + " ".join("__typename" for _ in range(6000)) + " }"
    body = await gql.post(huge)
    assert body["data"] is None
    assert "more than 5000 tokens" in body["errors"][0]["message"]


async def test_a_document_of_several_operations_must_name_the_one_to_run(
    gql: GraphQLClient,
) -> None:
    document = "query First { __typename } mutation Second { __typename }"
    response = await gql.http.post("/graphql", json={"query": document})
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["message"] == "Must provide operation name if query contains multiple operations."
    assert error["extensions"]["code"] == "BAD_REQUEST"
    named = await gql.http.post("/graphql", json={"query": document, "operationName": "First"})
    assert named.json() == {"data": {"__typename": "Query"}}


async def test_batched_requests_are_not_accepted(gql: GraphQLClient) -> None:
    response = await gql.http.post("/graphql", json=[{"query": "{ __typename }"}] * 3)
    assert response.status_code == 400


async def test_a_bug_is_masked_with_a_reference_that_is_also_in_the_log(
    admin: GraphQLClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from domain.mail import setup

    def broken(settings: Any) -> Any:
        raise RuntimeError("secret internals: database password is hunter2")

    monkeypatch.setattr("schema.mail.queries.mail_setup", broken)
    caplog.set_level(logging.ERROR, logger="schema.errors")
    body = await admin.post("{ mailDeliverySettings { sendingDomain } }")
    [error] = body["errors"]
    assert "hunter2" not in str(body)
    reference = error["extensions"]["reference"]
    assert error["message"] == f"Unexpected error. Reference: {reference}"
    assert any(reference in record.getMessage() for record in caplog.records)
    assert setup.mail_setup is not broken


async def test_permission_and_input_errors_pass_through_unmasked(gql: GraphQLClient) -> None:
    body = await gql.post("{ groups { id } }")
    assert body["errors"][0]["message"] == "Only admins can do this."
    body = await gql.post("{ nonsense }")
    assert "Cannot query field 'nonsense'" in body["errors"][0]["message"]


async def test_errors_in_the_document_or_its_variables_carry_a_code(admin: GraphQLClient) -> None:
    """A client branches on `extensions.code`, for a document it got wrong as for a refusal."""
    cases = [
        ("{ invitations(first: 5 { edges { node { id } } } }", None, "GRAPHQL_PARSE_FAILED"),
        (
            "{ invitations(first: 5, filter: {status: pending}) { totalCount } }",
            None,
            "GRAPHQL_VALIDATION_FAILED",
        ),
        ("{ invitations(first: 5) { noSuchField } }", None, "GRAPHQL_VALIDATION_FAILED"),
        (
            "query Page($first: Int!) { invitations(first: $first) { totalCount } }",
            {"first": "twenty"},
            "BAD_USER_INPUT",
        ),
        (
            "query Page($first: Int!) { invitations(first: $first) { totalCount } }",
            {},
            "BAD_USER_INPUT",
        ),
    ]
    for document, variables, code in cases:
        answer = await admin.post(document, variables)
        assert answer["data"] is None, document
        assert [error.get("extensions", {}).get("code") for error in answer["errors"]] == [code], (
            answer
        )
