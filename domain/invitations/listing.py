"""Listing invitations: filters, orderings and keyset pagination that stay fast at a million.

Each ordering walks an index on (its sort expression, id); a page continues after the last
row seen with a row-value comparison, so page 5,000 costs what page 1 costs. Filters are
index-friendly: prefix search on the email and the lowered names, status with the database
clock.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from domain import db
from domain.clock import clock
from domain.db import as_datetime, connection, dialect
from domain.errors import DomainError, ErrorCode
from domain.models import DeliveryState, Invitation, InvitationStatus, RoleKind
from domain.validation import storable

MAX_PAGE = 200


class OrderField(StrEnum):
    CREATED_AT = "created_at"
    EMAIL = "email"
    LAST_NAME = "last_name"
    STATUS = "status"


class Direction(StrEnum):
    ASC = "asc"
    DESC = "desc"


@dataclass(frozen=True, slots=True)
class InvitationFilter:
    status: InvitationStatus | None = None
    delivery: DeliveryState | None = None
    search: str | None = None
    group_id: int | None = None
    role: RoleKind | None = None
    import_id: int | None = None


@dataclass(frozen=True, slots=True)
class Page:
    invitations: list[Invitation]
    cursors: list[str]
    has_next_page: bool


class _Sql:
    """Collects a WHERE clause and its parameters in the connection's placeholder style."""

    def __init__(self) -> None:
        self.postgres = dialect() == "postgres"
        self.clauses: list[str] = []
        self.params: list[Any] = []
        self.search: str | None = None  # kept apart: the list plans it differently

    def param(self, value: Any) -> str:
        self.params.append(value)
        return f"${len(self.params)}" if self.postgres else f"?{len(self.params)}"

    def where(self, *, with_search: bool = True) -> str:
        clauses = [*self.clauses, self.search] if with_search and self.search else self.clauses
        return " AND ".join(clauses) if clauses else "1 = 1"


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def filtered(query: InvitationFilter) -> _Sql:
    sql = _Sql()
    if query.status is not None:
        now = await clock.now()
        if query.status is InvitationStatus.ACCEPTED:
            sql.clauses.append("i.status = 'accepted'")
        elif query.status is InvitationStatus.PENDING:
            sql.clauses.append(f"i.status = 'pending' AND i.expires_at > {sql.param(now)}")
        else:
            at = sql.param(now)
            sql.clauses.append(
                f"(i.status = 'expired' OR (i.status = 'pending' AND i.expires_at <= {at}))"
            )
    if query.delivery is not None:
        sql.clauses.append(f"i.delivery_state = {sql.param(query.delivery.value)}")
    if query.search and query.search.strip():
        pattern = _escape_like(query.search.strip().lower()[:100]) + "%"
        p = sql.param(pattern)
        last_name = _sort_expression(OrderField.LAST_NAME, sql.postgres)
        sql.search = (
            f"(i.email LIKE {p} ESCAPE '\\' OR lower(i.first_name) LIKE {p} ESCAPE '\\'"
            f" OR {last_name} LIKE {p} ESCAPE '\\')"
        )
    if query.group_id is not None:
        group = sql.param(query.group_id)
        # Only placeholders are formatted into the SQL; values travel as parameters.
        sql.clauses.append(
            "EXISTS (SELECT 1 FROM invitation_groups g"  # noqa: S608
            f" WHERE g.invitation_id = i.id AND g.group_id = {group})"
        )
    if query.role is RoleKind.ADMIN:
        sql.clauses.append("i.is_admin")
    elif query.role is RoleKind.PROJECT_MANAGER:
        # Few invitations make project managers: gather them first rather than test each row.
        sql.clauses.append("i.id IN (SELECT p.invitation_id FROM invitation_projects p)")
    if query.import_id is not None:
        sql.clauses.append(f"i.invitation_import_id = {sql.param(query.import_id)}")
    return sql


def _encode_cursor(field: OrderField, value: Any, invitation_id: int) -> str:
    if isinstance(value, datetime):
        value = value.isoformat()
    raw = json.dumps([field.value, value, invitation_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, field: OrderField) -> tuple[Any, int]:
    invalid = DomainError.single(
        ErrorCode.INVALID_INPUT,
        "This cursor does not belong to this ordering: start again from the first page.",
        "after",
    )
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        name, value, invitation_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError, binascii.Error):
        raise invalid from None
    # The ids are PostgreSQL integers, and text goes into a query: anything a cursor of ours
    # cannot hold (an id out of range, a NUL) is a made-up cursor.
    if (
        name != field.value
        or not isinstance(invitation_id, int)
        or not 0 < invitation_id < 2**31
        or (isinstance(value, str) and not storable(value))
    ):
        raise invalid
    if field is OrderField.CREATED_AT:
        try:
            value = datetime.fromisoformat(str(value))
        except ValueError:
            raise invalid from None
    elif not isinstance(value, str):
        raise invalid
    return value, invitation_id


async def _page_ids(
    query: InvitationFilter,
    *,
    order: OrderField,
    direction: Direction,
    first: int,
    after: str | None,
) -> tuple[list[int], bool]:
    """The ids of a page, in order, and whether another page follows."""
    if first < 0 or first > MAX_PAGE:
        raise DomainError.single(
            ErrorCode.INVALID_INPUT,
            f"Ask for between 0 and {MAX_PAGE} invitations at a time.",
            "first",
        )
    sql = await filtered(query)
    column = _sort_expression(order, sql.postgres)
    comparison = ">" if direction is Direction.ASC else "<"
    if after:
        value, last_id = _decode_cursor(after, order)
        sql.clauses.append(
            f"({column}, i.id) {comparison} ({sql.param(value)}, {sql.param(last_id)})"
        )
    keyword = "ASC" if direction is Direction.ASC else "DESC"
    limit = sql.param(first + 1)
    order_by = f"ORDER BY {column} {keyword}, i.id {keyword}"
    # Only placeholders and names from enums are formatted into the SQL; values are parameters.
    if sql.search is None:
        rows = await connection().execute_query_dict(
            f"SELECT i.id AS id FROM invitations i WHERE {sql.where()} {order_by}"  # noqa: S608
            f" LIMIT {limit}",
            sql.params,
        )
    else:
        rows = await _search_page(sql, order_by, limit, first)
    return [int(row["id"]) for row in rows[:first]], len(rows) > first


async def list_invitations(
    query: InvitationFilter,
    *,
    order: OrderField = OrderField.CREATED_AT,
    direction: Direction = Direction.DESC,
    first: int = 20,
    after: str | None = None,
) -> Page:
    ids, has_next = await _page_ids(
        query, order=order, direction=direction, first=first, after=after
    )
    by_id = {invitation.id: invitation for invitation in await Invitation.filter(id__in=ids)}
    invitations = [by_id[i] for i in ids if i in by_id]
    cursors = [_encode_cursor(order, _sort_value(by_id[i], order), i) for i in ids if i in by_id]
    return Page(invitations=invitations, cursors=cursors, has_next_page=has_next)


@dataclass(frozen=True, slots=True)
class RowPage:
    """A page as rows (the columns of _ROWS), for answers built without the ORM's models."""

    rows: list[dict[str, Any]]
    cursors: list[str]
    has_next_page: bool


# A page's invitations with what their list shows beside them: the address's suppression.
_ROWS = """
SELECT i.id, i.email, i.first_name, i.last_name, i.status, i.created_at, i.expires_at,
       i.accepted_at, i.delivery_state, i.last_error, i.bounce_kind, i.is_admin,
       m.reason AS suppression_reason
FROM invitations i LEFT JOIN mail_suppressions m ON m.email = i.email AND i.email <> ''
WHERE i.id IN ({ids})
"""


async def invitation_rows(
    query: InvitationFilter,
    *,
    order: OrderField = OrderField.CREATED_AT,
    direction: Direction = Direction.DESC,
    first: int = 20,
    after: str | None = None,
) -> RowPage:
    """list_invitations() as rows: the same page, in two queries and no models."""
    ids, has_next = await _page_ids(
        query, order=order, direction=direction, first=first, after=after
    )
    by_id: dict[int, dict[str, Any]] = {}
    if ids:
        marks = db.placeholders(len(ids))
        for row in await connection().execute_query_dict(db.sql(_ROWS.format(ids=marks)), ids):
            for name in ("created_at", "expires_at", "accepted_at"):
                row[name] = as_datetime(row[name])
            row["is_admin"] = bool(row["is_admin"])
            by_id[int(row["id"])] = row
    rows = [by_id[i] for i in ids if i in by_id]
    cursors = [_encode_cursor(order, _row_sort_value(row, order), row["id"]) for row in rows]
    return RowPage(rows=rows, cursors=cursors, has_next_page=has_next)


@dataclass(frozen=True, slots=True)
class Granted:
    """What an invitation grants, as its list shows it: titles in the order granted."""

    groups: list[tuple[str, dict[str, str]]]  # (title, titles per locale)
    projects: list[str]


# Groups and projects of a page's invitations, in the order each was granted.
_GRANTED = """
SELECT 'group' AS kind, g.invitation_id, x.title, x.title_multiloc, g.id AS position
FROM invitation_groups g JOIN groups x ON x.id = g.group_id
WHERE g.invitation_id IN ({ids})
UNION ALL
SELECT 'project' AS kind, p.invitation_id, x.title, NULL AS title_multiloc, p.id AS position
FROM invitation_projects p JOIN projects x ON x.id = p.project_id
WHERE p.invitation_id IN ({ids})
ORDER BY kind, position
"""


async def granted(ids: list[int]) -> dict[int, Granted]:
    """The groups and projects each invitation grants, in one query (none: empty lists)."""
    found = {i: Granted(groups=[], projects=[]) for i in ids}
    if not ids:
        return found
    marks = db.placeholders(len(ids))
    for row in await connection().execute_query_dict(db.sql(_GRANTED.format(ids=marks)), ids):
        grant = found[int(row["invitation_id"])]
        if row["kind"] == "group":
            multiloc = row["title_multiloc"]
            if isinstance(multiloc, str | bytes):
                multiloc = json.loads(multiloc)
            grant.groups.append((row["title"], multiloc or {}))
        else:
            grant.projects.append(row["title"])
    return found


def _row_sort_value(row: dict[str, Any], order: OrderField) -> Any:
    if order is OrderField.LAST_NAME:
        return str(row["last_name"]).lower()
    return row[order.value]


# How many rows of the ordering the search looks through first (see _search_page).
SEARCH_PROBE = 10_000


async def _search_page(sql: _Sql, order_by: str, limit: str, first: int) -> list[dict[str, Any]]:
    """A page of a search, planned so that neither kind of search is slow at a million.

    A broad prefix ('sof') matches all through the ordering: walking the ordering's index
    finds a page at once, while gathering every match first would take seconds. A narrow one
    ('lea.12') may match only old rows: the walk would read most of the table, while its
    matches, gathered through the prefix indexes, are few. So: look for the page among the
    ordering's first SEARCH_PROBE rows; only if it is not complete there, gather the matches
    first (a materialized CTE, so the planner cannot turn it back into the walk) and sort them.
    """
    rows = await connection().execute_query_dict(
        f"SELECT i.id AS id FROM (SELECT i.* FROM invitations i"  # noqa: S608
        f" WHERE {sql.where(with_search=False)} {order_by} LIMIT {SEARCH_PROBE:d}) i"
        f" WHERE {sql.search} {order_by} LIMIT {limit}",
        sql.params,
    )
    if len(rows) > first:
        return rows
    return await connection().execute_query_dict(
        f"WITH found AS MATERIALIZED (SELECT i.id FROM invitations i WHERE {sql.search})"  # noqa: S608
        f" SELECT i.id AS id FROM found f JOIN invitations i ON i.id = f.id"
        f" WHERE {sql.where(with_search=False)} {order_by} LIMIT {limit}",
        sql.params,
    )


def _sort_expression(order: OrderField, postgres: bool) -> str:
    """What each ordering sorts by; each matches an index (migrations 0002-0005). Last names
    sort without regard to case ('de Smet' beside 'De Vries'), in byte order of their lower
    case, so one index serves both the ordering and the prefix search."""
    if order is OrderField.LAST_NAME:
        return 'lower(i.last_name) COLLATE "C"' if postgres else "lower(i.last_name)"
    return f"i.{order.value}"


def _sort_value(invitation: Invitation, order: OrderField) -> Any:
    if order is OrderField.LAST_NAME:
        return invitation.last_name.lower()
    value = getattr(invitation, order.value)
    return value.value if isinstance(value, StrEnum) else value


async def count_invitations(query: InvitationFilter) -> int:
    sql = await filtered(query)
    rows = await connection().execute_query_dict(
        f"SELECT COUNT(*) AS n FROM invitations i WHERE {sql.where()}",  # noqa: S608
        sql.params,
    )
    return int(rows[0]["n"])
