"""Documents the service's own pages send most, answered without the GraphQL executor.

/invite asks `InvitationByToken` first, once per visitor: in a letter campaign, thousands a
minute; the admin console's list asks `Invitations` for each page, filter and sort. Through
strawberry and graphql-core an answer costs several times what its queries cost (the
extensions' hooks, validation, a resolver call and a completion per field: some 300 fields
for a page of the list). A document listed here, sent with exactly its text (whitespace
aside), is answered by its handler instead: the schema's own functions (the token's resolver,
the list's query), then the selection written out by hand. A handler answers None for
anything unusual (variables of another shape, characters that cannot be stored, another
operation name, someone who may not ask, a page the schema refuses), and the request goes
through the schema as any other: errors keep one shape and one place. `tests/test_prepared.py`
compares each document's answers with the schema's, state by state.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import Any

from domain import metrics
from domain.clock import clock
from domain.errors import DomainError
from domain.invitations.listing import (
    Direction,
    InvitationFilter,
    OrderField,
    console_page,
)
from domain.models import (
    BounceKind,
    DeliveryState,
    InvitationStatus,
    RoleKind,
    SuppressionReason,
)
from domain.titles import resolve_locale
from schema.context import Context
from schema.errors import UserError
from schema.extensions import report_unexpected, unstorable_input
from schema.ids import parse_id
from schema.invitations.queries import invitation_by_token
from schema.invitations.types import InvitationByTokenPayload

# An answer's data, for orjson (api.graphql writes it): datetimes stay datetimes.
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
      email firstName lastName locale codeOnly hasAccount waitingAddress
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


def _by_token_data(payload: InvitationByTokenPayload, locale: str | None) -> Data:
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
            "hasAccount": invitation.has_account,
            "waitingAddress": invitation.waiting_address,
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
    return {"invitationByToken": _by_token_data(payload, variables.get("locale"))}


# The admin console's list of invitations (api/static/admin/invitations.js sends this text).
INVITATIONS = """
query Invitations($filter: InvitationFilterInput, $orderBy: InvitationOrderInput, $first: Int!,
                  $after: String, $locale: String, $withTotal: Boolean!) {
  invitations(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    totalCount @include(if: $withTotal)
    pageInfo { hasNextPage endCursor }
    edges { node {
      id email firstName lastName status waitingForConfirmation codeOnly createdAt
      delivery { state lastError bounceKind suppression { reason } }
      grants { admin projects { title } groups { title(locale: $locale) } }
    } }
  }
}"""

_FILTER_FIELDS = {"status", "delivery", "search", "groupId", "role", "importId"}
_INT32 = 2**31


def _enum(kind: Any, name: Any) -> Any:
    """The member a GraphQL enum value names; KeyError for anything else."""
    if not isinstance(name, str):
        raise KeyError(name)
    return kind[name]


def _id(value: Any) -> int | None:
    """An ID input (a string or an integer, as GraphQL coerces them); KeyError otherwise."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise KeyError(value)
    return parse_id(str(value))


def _filter(value: Any) -> InvitationFilter:
    if value is None:
        return InvitationFilter()
    if not isinstance(value, dict) or not value.keys() <= _FILTER_FIELDS:
        raise KeyError(value)
    search = value.get("search")
    if search is not None and not isinstance(search, str):
        raise KeyError(search)
    status, delivery, role = value.get("status"), value.get("delivery"), value.get("role")
    return InvitationFilter(
        status=None if status is None else _enum(InvitationStatus, status),
        delivery=None if delivery is None else _enum(DeliveryState, delivery),
        search=search,
        group_id=_id(value.get("groupId")),
        role=None if role is None else _enum(RoleKind, role),
        import_id=_id(value.get("importId")),
    )


def _order(value: Any) -> tuple[OrderField, Direction]:
    if value is None:
        return OrderField.CREATED_AT, Direction.DESC
    if not isinstance(value, dict) or not value.keys() <= {"field", "direction"}:
        raise KeyError(value)
    # Absent: the default; null for these non-null fields is the schema's error to give.
    field = _enum(OrderField, value["field"]) if "field" in value else OrderField.CREATED_AT
    direction = _enum(Direction, value["direction"]) if "direction" in value else Direction.DESC
    return field, direction


def _names_by_value(kind: type[Enum]) -> dict[Any, str]:
    """An enum's GraphQL names by their stored value (a KeyError for any other, as the enum's
    own ValueError would be: an unexpected error)."""
    return {member.value: member.name for member in kind}


_STATUS = _names_by_value(InvitationStatus)
_DELIVERY = _names_by_value(DeliveryState)
_BOUNCE = _names_by_value(BounceKind)
_SUPPRESSION = _names_by_value(SuppressionReason)


def _node(row: Mapping[str, Any]) -> Data:
    email = row["email"]
    bounce = row["bounce_kind"]
    suppression = row["suppression_reason"]
    return {
        "id": str(row["id"]),
        "email": email or None,
        "firstName": row["first_name"],
        "lastName": row["last_name"],
        "status": _STATUS[row["shown_status"]],
        "waitingForConfirmation": not email and bool(row["waiting"]),
        "codeOnly": not email,
        # A datetime: orjson writes it as isoformat() would, in a fraction of the time.
        "createdAt": row["created_at"],
        "delivery": {
            "state": _DELIVERY[row["delivery_state"]],
            "lastError": row["last_error"] or None,
            "bounceKind": _BOUNCE[bounce] if bounce else None,
            "suppression": {"reason": _SUPPRESSION[suppression]} if email and suppression else None,
        },
        "grants": {
            "admin": row["is_admin"],
            "projects": [{"title": title} for title in row["projects"]],
            "groups": [{"title": title} for title in row["groups"]],
        },
    }


async def _invitations(context: Context, variables: Mapping[str, Any]) -> Data | None:
    names = {"filter", "orderBy", "first", "after", "locale", "withTotal"}
    if not {"first", "withTotal"} <= variables.keys() <= names:
        return None
    first, with_total = variables["first"], variables["withTotal"]
    after, locale = variables.get("after"), variables.get("locale")
    if (
        type(first) is not int
        or not -_INT32 <= first < _INT32
        or type(with_total) is not bool
        or not (after is None or isinstance(after, str))
        or not (locale is None or isinstance(locale, str))
        or unstorable_input(dict(variables), None) is not None
    ):
        return None
    try:
        query = _filter(variables.get("filter"))
        order, direction = _order(variables.get("orderBy"))
    except KeyError:
        return None
    if not context.session_token:
        return None  # the schema's permission error
    try:
        page = await console_page(
            query,
            order=order,
            direction=direction,
            first=first,
            after=after,
            locale=resolve_locale(locale),
            with_total=with_total,
            session_token=context.session_token,
            now=clock.local_now(),
        )
    except DomainError:
        return None  # a page size or cursor the schema refuses (nothing was changed)
    if page is None:
        return None  # not an admin's session: the schema's permission error
    connection: Data = {}
    if with_total:
        connection["totalCount"] = page.total
    connection["pageInfo"] = {"hasNextPage": page.has_next_page, "endCursor": page.end_cursor}
    connection["edges"] = [{"node": _node(row)} for row in page.rows]
    return {"invitations": connection}


def normalized(document: str) -> str:
    """A document's text with every run of whitespace made one space."""
    return " ".join(document.split())


_PREPARED: dict[str, Prepared] = {
    normalized(INVITATION_BY_TOKEN): Prepared(
        "InvitationByToken", "invitationByToken", _invitation_by_token, nullable=False
    ),
    normalized(INVITATIONS): Prepared("Invitations", "invitations", _invitations, nullable=False),
}


# An OpenTelemetry tracer when traces are on (api.tracing sets it): a prepared answer gets the
# span strawberry's extension gives the others, named after the root field, without arguments.
tracer: Any = None
_GRAPHQL = {"component": "graphql"}

# What each prepared text holds verbatim, even as a JSON string.
_MARKS = tuple(f"query {entry.operation_name}(".encode() for entry in _PREPARED.values())


def mentioned(body: bytes) -> bool:
    """Whether a request body may hold a prepared document (before parsing it: the others,
    an import's thousand addresses among them, are parsed once, by the schema's path)."""
    return any(mark in body for mark in _MARKS)


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
    span = (
        nullcontext()
        if tracer is None
        else tracer.start_as_current_span(f"GraphQL {prepared.root_field}", attributes=_GRAPHQL)
    )
    try:
        with span:
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
        outcome = "refused" if context.refused else "ok"
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
