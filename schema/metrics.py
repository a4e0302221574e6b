"""GraphQL operations counted and timed (domain.metrics), labelled by the schema's own names.

A client names its operations as it likes (`operationName`): counted by that, the metrics
would hold whatever anyone sends. The label is the operation's first root field instead
(`invitationByToken`, `createInvitations`), one of the schema's Query and Mutation fields, or
`other` (unknown, unparsable) or `introspection`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from functools import cache

from graphql import FieldNode, OperationDefinitionNode, build_schema
from strawberry.extensions import SchemaExtension
from strawberry.schema.base import BaseSchema
from strawberry.types import ExecutionContext

from domain import metrics
from schema.context import Context

OTHER = "other"
INTROSPECTION = "introspection"


@cache
def root_fields(schema: BaseSchema) -> frozenset[str]:
    """The Query and Mutation fields of the schema (computed once)."""
    built = build_schema(schema.as_str())
    names: set[str] = set()
    for root in (built.query_type, built.mutation_type):
        if root is not None:
            names.update(root.fields)
    return frozenset(names)


def operation_label(execution_context: ExecutionContext) -> str:
    document = execution_context.graphql_document
    if document is None:
        return OTHER
    wanted = execution_context.operation_name
    operations = [
        definition
        for definition in document.definitions
        if isinstance(definition, OperationDefinitionNode)
    ]
    if wanted is not None:
        operations = [op for op in operations if op.name is not None and op.name.value == wanted]
    if len(operations) != 1:
        return OTHER
    known = root_fields(execution_context.schema)
    for selection in operations[0].selection_set.selections:
        if not isinstance(selection, FieldNode):
            continue
        name = selection.name.value
        if name == "__typename":
            continue
        if name.startswith("__"):
            return INTROSPECTION
        return name if name in known else OTHER
    return OTHER


class OperationMetrics(SchemaExtension):
    async def on_operation(self) -> AsyncIterator[None]:
        started = time.perf_counter()
        yield
        context = self.execution_context
        label = operation_label(context)
        result = context.result
        if context.graphql_document is None or context.pre_execution_errors:
            outcome = "invalid"  # not parsed, or refused by validation: nothing ran
        elif result is not None and result.errors:
            outcome = "error"
        elif isinstance(context.context, Context) and context.context.refused:
            outcome = "refused"  # answered with errors in the payload (schema.boundary)
        else:
            outcome = "ok"
        metrics.graphql_requests.labels(label, outcome).inc()
        metrics.graphql_duration.labels(label).observe(time.perf_counter() - started)
