"""Schema extensions: bugs masked behind a correlation id, request limits built once,
introspection by policy."""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import AsyncIterator, Callable, Iterable
from functools import lru_cache
from typing import Any

from graphql import ASTValidationRule, GraphQLError, parse
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.language import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    Node,
    ObjectFieldNode,
    OperationDefinitionNode,
    StringValueNode,
    Visitor,
    visit,
)
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as max_aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as max_depth_rule
from strawberry.types import ExecutionContext

from domain.errors import DomainError, PermissionDenied
from domain.settings import GraphiqlAccess
from domain.validation import storable
from schema.metrics import OperationMetrics

log = logging.getLogger("schema.errors")

MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 5000
# Built once: rules created per request would defeat the validation cache.
VALIDATION_RULES: list[type[ASTValidationRule]] = [
    max_depth_rule(MAX_DEPTH, None, None),
    max_aliases_rule(MAX_ALIASES),
]


@lru_cache(maxsize=256)
def several_operations(document: str) -> bool:
    """Whether a document holds more than one operation, so that a request must name the one
    to run (strawberry would run the first). A document that does not parse answers False: the
    schema reports what is wrong with it."""
    try:
        parsed = parse(document, no_location=True, max_tokens=MAX_TOKENS)
    except GraphQLError:
        return False
    operations = [node for node in parsed.definitions if isinstance(node, OperationDefinitionNode)]
    return len(operations) > 1


_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,99}")


def operation_name(execution_context: ExecutionContext | None) -> str:
    """The operation's name if it is a GraphQL name (the client chose it: nothing else)."""
    name = execution_context.operation_name if execution_context is not None else None
    return name if name and _NAME.fullmatch(name) else "-"


def error_kind(error: GraphQLError) -> str:
    """What kind of refusal, in words that quote nothing the client sent."""
    original = error.original_error
    if isinstance(original, PermissionDenied):
        return "permission denied"
    if isinstance(original, DomainError):
        return "refused input"
    if error.path:
        return "invalid value"
    return "invalid document or variables"


def is_expected(error: GraphQLError) -> bool:
    """Syntax, validation and permission errors and refused input reach the client as they are."""
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return True
    return isinstance(original, DomainError | PermissionDenied)


def report_unexpected(error: BaseException | None, path: Iterable[str | int]) -> str:
    """Log a bug with a new correlation id (what the client is told instead) and return it."""
    correlation_id = secrets.token_hex(8)
    log.error("unexpected error %s at %s", correlation_id, ".".join(map(str, path)), exc_info=error)
    return correlation_id


class MaskUnexpectedErrors(MaskErrors):
    """Replaces a bug's message with a correlation id that is also in the log."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda error: not is_expected(error))

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        correlation_id = report_unexpected(error.original_error, error.path or [])
        return GraphQLError(
            message=f"Unexpected error. Reference: {correlation_id}",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=None,
            extensions={"code": "INTERNAL_ERROR", "reference": correlation_id},
        )


def refusal_extensions(error: GraphQLError) -> dict[str, Any] | None:
    """The typed extensions of a refusal raised as a top-level error (a page size or cursor a
    list query refuses, say): its code, the argument concerned (named with the fields above it,
    as `invitations.after`) and, for RATE_LIMITED and TEMPORARILY_UNAVAILABLE, the wait."""
    original = error.original_error
    if not isinstance(original, DomainError):
        return None
    problem = original.problems[0]
    extensions: dict[str, Any] = {"code": problem.code.value}
    if problem.field:
        fields = [part for part in error.path or () if isinstance(part, str)]
        extensions["field"] = ".".join([*fields, problem.field])
    retry_after = getattr(original, "retry_after", None)
    if retry_after is not None:
        extensions["retryAfter"] = retry_after
    return extensions


def document_error_code(error: GraphQLError) -> str | None:
    """The code of an error in the document or its variables, found before anything runs:
    one that comes from no resolver (no path) and no exception of ours. Named as GraphQL
    clients know them (Apollo's): a document that does not parse, one the schema refuses (an
    unknown field or enum value, a missing argument, the depth and alias limits), variables
    that do not fit their types."""
    if error.path is not None:
        return None
    if error.message.startswith("Variable '$"):  # graphql-core's coercion of a variable
        return "BAD_USER_INPUT"
    if error.original_error is not None:
        return None
    if error.message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    return "GRAPHQL_VALIDATION_FAILED"


class TypeRefusals(SchemaExtension):
    """Refusals that reach the client as top-level errors carry `extensions.code` (and the
    field), as payload errors do: clients branch on codes, never on the English message.
    (Errors in the document itself get theirs as the answer is written: api.graphql, with
    document_error_code, since some never reach this hook.)"""

    async def on_operation(self) -> AsyncIterator[None]:
        yield
        for error in getattr(self.execution_context.result, "errors", None) or ():
            extensions = refusal_extensions(error)
            if extensions is not None and "code" not in (error.extensions or {}):
                error.extensions = {**(error.extensions or {}), **extensions}


class IntrospectionPolicy(SchemaExtension):
    """Introspection on in development; elsewhere INVITES_INTROSPECTION decides (default:
    signed-in admins only). One of two rule sets built once, so validation stays cached."""

    async def on_operation(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        policy = context.settings.introspection
        allowed = context.settings.is_development or policy is GraphiqlAccess.ALL
        if not allowed and policy is GraphiqlAccess.ADMINS:
            access = await context.access()
            allowed = access is not None and access.is_admin
        if not allowed:
            self.execution_context.validation_rules = (
                *self.execution_context.validation_rules,
                NoSchemaIntrospectionCustomRule,
            )
        yield
        result = self.execution_context.result
        if not allowed and result is not None and result.errors:
            # graphql-core suggests names ("Did you mean 'password'?"): enough of them rebuild
            # the schema that introspection keeps to itself.
            for error in result.errors:
                error.message = _SUGGESTION.sub("", error.message)


_SUGGESTION = re.compile(r" ?Did you mean [^?]*\?")


def unstorable_input(variables: dict[str, Any] | None, document: DocumentNode | None) -> str | None:
    """The path of the first string in the request that cannot be stored, if any: in the
    variables (`input.lastName`), or a literal in the document (`signUp.input.lastName`)."""

    def walk(value: Any, path: str) -> str | None:
        if isinstance(value, str):
            return None if storable(value) else path
        if isinstance(value, dict):
            items: Iterable[tuple[str, Any]] = value.items()
        elif isinstance(value, list):
            items = ((str(i), item) for i, item in enumerate(value))
        else:
            return None
        for key, item in items:
            found = walk(item, f"{path}.{key}" if path else str(key))
            if found:
                return found
        return None

    found = walk(variables or {}, "")
    if found or document is None:
        return found
    return unstorable_literal(document)


@lru_cache(maxsize=256)
def unstorable_literal(document: DocumentNode) -> str | None:
    """The path of the document's first literal string that cannot be stored, if any.

    Remembered per document (as strawberry's ParserCache remembers the parse, which hands
    back the same document for the same text): a request repeating a query does not walk it
    again."""
    names: list[str] = []

    class Literals(Visitor):
        def enter(self, node: Node, *args: Any) -> Any:
            if isinstance(node, FieldNode | ArgumentNode | ObjectFieldNode):
                names.append(node.name.value)
            elif isinstance(node, StringValueNode) and not storable(node.value):
                raise _Found(".".join(names))
            return None

        def leave(self, node: Node, *args: Any) -> Any:
            if isinstance(node, FieldNode | ArgumentNode | ObjectFieldNode):
                names.pop()
            return None

    try:
        visit(document, Literals())
    except _Found as hit:
        return str(hit) or "query"
    return None


class _Found(Exception):
    pass


class RefuseUnstorableInput(SchemaExtension):
    """Strings the database cannot store are refused before anything runs, with a typed error
    naming where they are (never a masked internal error from deep in a resolver)."""

    async def on_execute(self) -> AsyncIterator[None]:
        where = unstorable_input(
            self.execution_context.variables, self.execution_context.graphql_document
        )
        if where is not None:
            self.execution_context.result = GraphQLExecutionResult(
                data=None,
                errors=[
                    GraphQLError(
                        f"{where} holds a character that cannot be stored (a NUL, or half of an"
                        " emoji or other symbol): remove it. Nothing was changed.",
                        extensions={"code": "INVALID_INPUT", "field": where},
                    )
                ],
            )
        yield


EXTENSIONS: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
    OperationMetrics,
    TypeRefusals,
    IntrospectionPolicy,
    RefuseUnstorableInput,
    lambda: AddValidationRules(VALIDATION_RULES),
    lambda: MaxTokensLimiter(MAX_TOKENS),
    lambda: ParserCache(maxsize=256),
    lambda: ValidationCache(maxsize=256),
    MaskUnexpectedErrors,
]
