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
