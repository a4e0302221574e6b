"""Fuzzing the GraphQL schema: generated queries and mutations never cause a server error."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import from_schema, nodes
from strawberry.printer import print_schema

from schema.app import schema
from tests.fixtures import GraphQLClient

EXAMPLES = 120
# A file travels only in a multipart request; in a document it can only be some value.
SCALARS = {"Upload": st.text(max_size=20).map(nodes.String)}


def generate(strategy: st.SearchStrategy[str], count: int) -> list[str]:
    """Let hypothesis generate documents; they are sent afterwards, from the async test."""
    found: list[str] = []

    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(document: str) -> None:
        found.append(document)

    collect()
    return found


def server_errors(response_status: int, body: dict[str, Any]) -> list[Any]:
    problems: list[Any] = []
    if response_status >= 500:
        problems.append(response_status)
    for error in body.get("errors") or []:
        if (error.get("extensions") or {}).get("code") == "INTERNAL_ERROR":
            problems.append(error)
    return problems


async def _fuzz(client: GraphQLClient, documents: list[str]) -> None:
    headers = {"Authorization": f"Bearer {client.token}"} if client.token else {}
    for document in documents:
        response = await client.http.post("/graphql", json={"query": document}, headers=headers)
        body = (
            response.json()
            if response.headers.get("content-type", "").startswith("application/json")
            else {}
        )
        assert not server_errors(response.status_code, body), (document, response.status_code, body)


async def test_generated_queries_and_mutations_as_admin_cause_no_server_error(
    admin: GraphQLClient,
) -> None:
    sdl = print_schema(schema)
    queries = generate(from_schema(sdl, mode="query", custom_scalars=SCALARS), EXAMPLES)  # type: ignore[arg-type]
    mutations = generate(from_schema(sdl, mode="mutation", custom_scalars=SCALARS), EXAMPLES)  # type: ignore[arg-type]
    assert len(queries) >= EXAMPLES // 2 and len(mutations) >= EXAMPLES // 2
    await _fuzz(admin, queries + mutations)


async def test_generated_documents_as_anonymous_cause_no_server_error(gql: GraphQLClient) -> None:
    sdl = print_schema(schema)
    documents = generate(from_schema(sdl, custom_scalars=SCALARS), EXAMPLES)
    await _fuzz(gql, documents)


# Every argument of every operation, filled with what the database cannot store or an id that
# cannot exist: each must be refused with a typed error, never reach the database as it is.
HOSTILE_STRINGS = ["Ann\ud800e", "Ann\x00e"]
HOSTILE_IDS = ["99999999999999999999", "-5", "0x10", "Ann\x00e"]


def _value(kind: Any, text: str, ident: str, depth: int = 0) -> Any:
    from graphql import (
        GraphQLEnumType,
        GraphQLInputObjectType,
        GraphQLList,
        GraphQLNonNull,
        GraphQLScalarType,
    )

    if isinstance(kind, GraphQLNonNull):
        kind = kind.of_type
    if isinstance(kind, GraphQLList):
        return [_value(kind.of_type, text, ident, depth)]
    if isinstance(kind, GraphQLInputObjectType):
        if depth > 3:
            return None
        return {
            name: _value(field.type, text, ident, depth + 1) for name, field in kind.fields.items()
        }
    if isinstance(kind, GraphQLEnumType):
        return next(iter(kind.values))
    assert isinstance(kind, GraphQLScalarType)
    return {
        "String": text,
        "ID": ident,
        "Int": 2_147_483_647,
        "Float": 1e308,
        "Boolean": True,
        "Upload": None,
    }.get(kind.name, text)


def hostile_requests() -> list[tuple[str, dict[str, Any]]]:
    from graphql import GraphQLNonNull, GraphQLObjectType, get_named_type

    graphql = schema._schema
    requests = []
    for root in ("Query", "Mutation"):
        root_type = graphql.get_type(root)
        assert isinstance(root_type, GraphQLObjectType)
        for name, field in root_type.fields.items():
            if not field.args:
                continue
            selection = (
                " { __typename }"
                if isinstance(get_named_type(field.type), GraphQLObjectType)
                else ""
            )
            declared = ", ".join(f"${arg}: {spec.type}" for arg, spec in field.args.items())
            passed = ", ".join(f"{arg}: ${arg}" for arg in field.args)
            operation = "query" if root == "Query" else "mutation"
            document = f"{operation}({declared}) {{ {name}({passed}){selection} }}"
            for text, ident in zip(HOSTILE_STRINGS * 2, HOSTILE_IDS, strict=True):
                variables = {
                    arg: _value(spec.type, text, ident) for arg, spec in field.args.items()
                }
                if any(
                    value is None and isinstance(spec.type, GraphQLNonNull)
                    for value, spec in zip(variables.values(), field.args.values(), strict=True)
                ):
                    continue  # an Upload: only a multipart request carries one
                requests.append((document, variables))
    return requests


async def test_unstorable_strings_and_impossible_ids_in_every_argument_are_refused_cleanly(
    admin: GraphQLClient, gql: GraphQLClient
) -> None:
    import json

    requests = hostile_requests()
    assert len(requests) > 80
    for client in (admin, gql):
        headers = {"Content-Type": "application/json"}
        if client.token:
            headers["Authorization"] = f"Bearer {client.token}"
        for document, variables in requests:
            body = json.dumps({"query": document, "variables": variables})
            response = await client.http.post("/graphql", content=body, headers=headers)
            answer = response.json()
            assert not server_errors(response.status_code, answer), (document, variables, answer)
