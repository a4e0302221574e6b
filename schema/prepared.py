"""Documents the service's own pages send most, answered without the GraphQL executor.

/invite asks `InvitationByToken` first, once per visitor: in a letter campaign, thousands a
minute. Through strawberry and graphql-core the answer costs several times what the lookup
itself costs (the extensions' hooks, validation, a resolver call and a completion per field).
A document listed here, sent with exactly its text (whitespace aside), is answered by its
handler instead: the schema's own resolver function, then the selection written out by hand.
A handler answers None for anything unusual (variables of another shape, characters that
cannot be stored, another operation name), and the request goes through the schema as any
other: errors keep one shape and one place. `tests/test_prepared.py` compares each
document's answers with the schema's, state by state.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from domain import metrics
from schema.context import Context
from schema.errors import UserError
from schema.extensions import report_unexpected, unstorable_input
from schema.invitations.queries import invitation_by_token
from schema.invitations.types import InvitationByTokenPayload

Data = dict[str, Any]
Handler = Callable[[Context, Mapping[str, Any]], Awaitable[Data | None]]


@dataclass(frozen=True, slots=True)
class Prepared:
    operation_name: str
    root_field: str  # the metrics label, as schema.metrics names operations
    handler: Handler
    nullable: bool  # whether the root field may be null (an unexpected error nulls `data` if not)


def _strings(variables: Mapping[str, Any], required: set[str], optional: set[str]) -> bool:
    """Whether the variables are exactly strings for these names (optional ones may be null
    or absent) and hold nothing the database cannot store."""
    if not required <= variables.keys() or not variables.keys() <= required | optional:
        return False
    for name, value in variables.items():
        if not (isinstance(value, str) or (value is None and name in optional)):
            return False
    return unstorable_input(dict(variables), None) is None


# /invite's first question (api/static/invite.js sends this very text).
INVITATION_BY_TOKEN = """query InvitationByToken($token: String!, $locale: String) {
  invitationByToken(token: $token) {
    valid
    invitation {
      email firstName lastName locale codeOnly
      requiredFields { key title(locale: $locale) type options { key title(locale: $locale) } }
    }
    errors { code message field retryAfter }
  }
}"""


def _errors(errors: list[UserError]) -> list[Data]:
    return [
        {
            "code": error.code.name,
            "message": error.message,
            "field": error.field,
            "retryAfter": error.retry_after,
        }
        for error in errors
    ]


def by_token_data(payload: InvitationByTokenPayload, locale: str | None) -> Data:
    invitation = payload.invitation
    return {
        "valid": payload.valid,
        "invitation": None
        if invitation is None
        else {
            "email": invitation.email,
            "firstName": invitation.first_name,
            "lastName": invitation.last_name,
            "locale": invitation.locale,
            "codeOnly": invitation.code_only,
            "requiredFields": [
                {
                    "key": field.key,
                    "title": field.title(locale),
                    "type": field.type.name,
                    "options": [
                        {"key": option.key, "title": option.title(locale)}
                        for option in field.options
                    ],
                }
                for field in invitation.required_fields
            ],
        },
        "errors": _errors(payload.errors),
    }


async def _invitation_by_token(context: Context, variables: Mapping[str, Any]) -> Data | None:
    if not _strings(variables, {"token"}, {"locale"}):
        return None
    payload = await invitation_by_token(context, variables["token"])
    return {"invitationByToken": by_token_data(payload, variables.get("locale"))}


def normalized(document: str) -> str:
    """A document's text with every run of whitespace (commas aside) made one space."""
    return " ".join(document.split())


_PREPARED: dict[str, Prepared] = {
    normalized(INVITATION_BY_TOKEN): Prepared(
        "InvitationByToken", "invitationByToken", _invitation_by_token, nullable=False
    ),
}


_NAMES = tuple(entry.operation_name.encode() for entry in _PREPARED.values())


def mentioned(body: bytes) -> bool:
    """Whether a request body may hold a prepared document (before parsing it: the others,
    an import's thousand addresses among them, are parsed once, by the schema's path)."""
    return any(name in body for name in _NAMES)


def find(document: str) -> Prepared | None:
    """The prepared document with this text, if there is one (the lookup costs a split)."""
    if len(document) > 4000:  # longer than any prepared one
        return None
    return _PREPARED.get(normalized(document))


async def answer(
    prepared: Prepared,
    context: Context,
    variables: Mapping[str, Any],
    operation_name: str | None,
) -> Data | None:
    """The GraphQL response for the prepared document, or None: let the schema answer."""
    if operation_name is not None and operation_name != prepared.operation_name:
        return None
    started = time.perf_counter()
    try:
        data = await prepared.handler(context, variables)
    except Exception as error:
        reference = report_unexpected(error, [prepared.root_field])
        outcome = "error"
        response: Data = {
            "data": {prepared.root_field: None} if prepared.nullable else None,
            "errors": [
                {
                    "message": f"Unexpected error. Reference: {reference}",
                    "path": [prepared.root_field],
                    "extensions": {"code": "INTERNAL_ERROR", "reference": reference},
                }
            ],
        }
    else:
        if data is None:
            return None
        outcome = "ok"
        response = {"data": data}
    answered, requests, duration = _counters(prepared.root_field, outcome)
    answered.inc()
    requests.inc()
    duration.observe(time.perf_counter() - started)
    return response


@cache
def _counters(root_field: str, outcome: str) -> tuple[Any, Any, Any]:
    """The metrics' children for one operation and outcome (looked up once, not per answer)."""
    return (
        metrics.graphql_prepared_requests.labels(root_field),
        metrics.graphql_requests.labels(root_field, outcome),
        metrics.graphql_duration.labels(root_field),
    )
