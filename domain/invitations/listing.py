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
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import orjson

from domain import db
from domain.clock import clock
from domain.crypto import keyring
from domain.db import as_datetime, connection, dialect
from domain.errors import DomainError, ErrorCode
from domain.invitations import tokens
from domain.invitations.status import status_sql
from domain.models import DeliveryState, Invitation, InvitationStatus, RoleKind
from domain.users.sessions import admin_session_condition
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
    # An invitation's id: the invitations written with it (one request or import: the same
    # inviter and creation time), such as a batch of generated codes.
    batch_of: int | None = None


@dataclass(frozen=True, slots=True)
class Page:
    invitations: list[Invitation]
    cursors: list[str]
    has_next_page: bool


class _Sql:
    """Collects a WHERE clause and its parameters in the connection's placeholder style."""

    def __init__(self, params: list[Any] | None = None) -> None:
        self.postgres = dialect() == "postgres"
        self.clauses: list[str] = []
        self.params: list[Any] = [] if params is None else params  # shared: one statement
        self.search: str | None = None  # kept apart: the list plans it differently
        # A code or a letter's number: few matches, gathered at once (see _search_page).
        self.narrow_search = False

    def param(self, value: Any) -> str:
        self.params.append(value)
        return f"${len(self.params)}" if self.postgres else f"?{len(self.params)}"

    def where(self, *, with_search: bool = True) -> str:
        clauses = [*self.clauses, self.search] if with_search and self.search else self.clauses
        return " AND ".join(clauses) if clauses else "1 = 1"


async def filtered(query: InvitationFilter, params: list[Any] | None = None) -> _Sql:
    """The filter's conditions; with `params`, numbered after (and added to) those already
    there, for a statement that holds several parts."""
    sql = _Sql(params)
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
        sql.search = _search_condition(query.search, sql)
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
    if query.batch_of is not None:
        first = sql.param(query.batch_of)
        same = "IS NOT DISTINCT FROM" if sql.postgres else "IS"
        # Two one-row lookups by primary key; the creation time then walks its index.
        sql.clauses.append(
            "i.created_at = (SELECT b.created_at FROM invitations b"  # noqa: S608
            f" WHERE b.id = {first}) AND i.inviter_id {same}"
            f" (SELECT b.inviter_id FROM invitations b WHERE b.id = {first})"
        )
    return sql


def cursor(order: OrderField, sort_value: Any, invitation_id: int) -> str:
    """The cursor after a row, from the value the database sorted it by (its own lower case of
    a last name: SQLite's lower() leaves letters beyond ASCII as they are, Python's would not,
    and a cursor in another case would skip rows)."""
    if order is OrderField.CREATED_AT:
        sort_value = as_datetime(sort_value)  # SQLite gives the stored text
    # JSON as json.dumps(separators=(",", ":")) writes it, but for non-ASCII text (UTF-8, not
    # escaped: _decode_cursor reads both) and datetimes (isoformat()), in a fraction of its time.
    raw = orjson.dumps([order.value, sort_value, invitation_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


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


# A full name is searched as a first name then a last name, split at each of its first few
# spaces ('Jean Pierre Dubois': 'Jean' + 'Pierre Dubois', 'Jean Pierre' + 'Dubois').
NAME_SPLITS = 3

# A letter's number as the console shows it ("Code only (letter) no. 12", "nr. 12", "n° 12"):
# the invitation's id, with or without the word before it.
_LETTER_NUMBER = re.compile(r"(?:(?:no|nr|n°|num(?:ber|mer|éro|ero)?|#)\.?\s*)?(\d{1,10})", re.I)


def _search_condition(text: str, sql: _Sql) -> str:
    """True for the invitations whose address, first name or last name begins with the text,
    or whose first and last names begin with its words (a full name, as an admin pastes it);
    for accepted ones, the same of the account the person registered with; the invitation
    whose code it is (the whole code, in any case, with or without dashes or spaces: only its
    digest is stored, so a code's beginning finds nothing); the letter of that number.

    Each part is one an index answers (the code's digest, the primary key, the prefix
    indexes; the accounts' ids through the partial index on accepted_user_id)."""
    last_name = _sort_expression(OrderField.LAST_NAME, sql.postgres)
    names = ("i.email", "lower(i.first_name)", last_name)
    conditions = [_name_condition(text, names, sql)]
    account = _name_condition(text, ("u.email", "lower(u.first_name)", "lower(u.last_name)"), sql)
    # Only placeholders are formatted into the SQL; values travel as parameters.
    accounts = f"SELECT u.id FROM users u WHERE {account}"  # noqa: S608
    # PostgreSQL: an array computed once, so the index on accepted_user_id finds the rows (an
    # IN subquery would be tested row by row when the other conditions gather their matches).
    conditions.append(
        f"i.accepted_user_id = ANY(ARRAY({accounts}))"
        if sql.postgres
        else f"i.accepted_user_id IN ({accounts})"
    )
    token = tokens.parse(text)
    if isinstance(token, str):
        sql.narrow_search = True
        digests = keyring("invitation-token").lookup_short_digests(token)
        conditions.append(
            f"i.token_digest IN ({', '.join(sql.param(digest) for digest in digests)})"
        )
    number = _LETTER_NUMBER.fullmatch(text.strip())
    if number and 0 < int(number.group(1)) < 2**31:
        sql.narrow_search = True
        conditions.append(f"i.id = {sql.param(int(number.group(1)))}")
    return "(" + " OR ".join(conditions) + ")"


def _name_condition(text: str, names: tuple[str, str, str], sql: _Sql) -> str:
    """True when the address, first name or last name (`names`, lower-case expressions)
    begins with the text, or the first and last names begin with its words."""
    _, first_name, last_name = names
    condition = db.prefix_search(names, text, sql.param)
    words = text.split()
    full_names = [
        db.prefix_search((first_name,), " ".join(words[:cut]), sql.param)
        + " AND "
        + db.prefix_search((last_name,), " ".join(words[cut:]), sql.param)
        for cut in range(1, min(len(words), NAME_SPLITS + 1))
    ]
    if not full_names:
        return condition
    return "(" + " OR ".join([condition, *(f"({pair})" for pair in full_names)]) + ")"


def _check_page_size(first: int) -> None:
    if first < 0 or first > MAX_PAGE:
        raise DomainError.single(
            ErrorCode.INVALID_INPUT,
            f"Ask for between 0 and {MAX_PAGE} invitations at a time.",
            "first",
        )


async def _page_sql(
    query: InvitationFilter,
    *,
    order: OrderField,
    direction: Direction,
    after: str | None,
    params: list[Any] | None = None,
) -> tuple[_Sql, str]:
    """The filter with the cursor's condition, and the ordering's ORDER BY."""
    sql = await filtered(query, params)
    _continue_after(sql, order=order, direction=direction, after=after)
    return sql, _order_by(order, direction, sql.postgres)


def _continue_after(
    sql: _Sql, *, order: OrderField, direction: Direction, after: str | None
) -> None:
    """The cursor's condition, added to the filter's: the rows after the cursor's."""
    if after:
        column = _sort_expression(order, sql.postgres)
        comparison = ">" if direction is Direction.ASC else "<"
        value, last_id = _decode_cursor(after, order)
        sql.clauses.append(
            f"({column}, i.id) {comparison} ({sql.param(value)}, {sql.param(last_id)})"
        )


def _order_by(order: OrderField, direction: Direction, postgres: bool, table: str = "i") -> str:
    """The ordering's ORDER BY, on the invitations' table or on a subquery's columns."""
    keyword = "ASC" if direction is Direction.ASC else "DESC"
    column = _sort_expression(order, postgres) if table == "i" else f"{table}.sort_value"
    return f"ORDER BY {column} {keyword}, {table}.id {keyword}"


async def _page_keys(
    query: InvitationFilter,
    *,
    order: OrderField,
    direction: Direction,
    first: int,
    after: str | None,
    session_token: str | None = None,
) -> tuple[list[tuple[int, Any]], bool]:
    """A page's rows as (id, the value the ordering sorts it by), in order, and whether another
    page follows. With a session token, none unless it is an admin's (asked in the same
    statements, before any row is read)."""
    _check_page_size(first)
    sql, order_by = await _page_sql(query, order=order, direction=direction, after=after)
    if session_token is not None:
        sql.clauses.append(await admin_session_condition(session_token, sql.param))
    limit = sql.param(first + 1)
    sort = _sort_expression(order, sql.postgres)
    # Only placeholders and names from enums are formatted into the SQL; values are parameters.
    if sql.search is None:
        rows = await connection().execute_query_dict(
            f"SELECT i.id AS id, {sort} AS sort_value FROM invitations i"  # noqa: S608
            f" WHERE {sql.where()} {order_by} LIMIT {limit}",
            sql.params,
        )
    else:
        rows = await _search_page(sql, sort, order_by, limit, first)
    keys = [(int(row["id"]), row["sort_value"]) for row in rows[:first]]
    return keys, len(rows) > first


async def list_invitations(
    query: InvitationFilter,
    *,
    order: OrderField = OrderField.CREATED_AT,
    direction: Direction = Direction.DESC,
    first: int = 20,
    after: str | None = None,
) -> Page:
    keys, has_next = await _page_keys(
        query, order=order, direction=direction, first=first, after=after
    )
    ids = [invitation_id for invitation_id, _ in keys]
    by_id = {invitation.id: invitation for invitation in await Invitation.filter(id__in=ids)}
    invitations = [by_id[i] for i in ids if i in by_id]
    cursors = [cursor(order, value, i) for i, value in keys if i in by_id]
    return Page(invitations=invitations, cursors=cursors, has_next_page=has_next)


@dataclass(frozen=True, slots=True)
class ConsolePage:
    """A page of the admin console's list as rows: the columns of _CONSOLE_ROWS, with
    `shown_status` the status as of `now` (status_of()), `created_at` a datetime, `is_admin` a
    bool, `projects` and `groups` lists of titles in the order granted, `waiting` whether a
    registration not confirmed yet holds the letter's code."""

    rows: Sequence[Mapping[str, Any]]
    end_cursor: str | None
    has_next_page: bool
    total: int | None  # when asked for


# The console's list in one statement: whether the session is an admin's (nothing else is
# read otherwise), the total when asked, and the page's rows with what the list shows beside
# each: the address's suppression, the projects and groups granted (titles in `locale`).
# A page with no rows still gives one row, for the first two.
_CONSOLE_ROWS = """
WITH asking AS (SELECT {admin} AS admin)
SELECT a.admin, {total} AS total, p.*
FROM asking a LEFT JOIN (
  SELECT i.id, i.email, i.first_name, i.last_name, i.status, {shown_status} AS shown_status,
         i.created_at, i.delivery_state, i.last_error, i.bounce_kind, i.is_admin,
         {sort} AS sort_value,
         (SELECT m.reason FROM mail_suppressions m
          WHERE m.email = i.email AND i.email <> '') AS suppression_reason,
         {projects} AS projects, {groups} AS groups,
         CASE WHEN i.email = '' AND i.accepted_at IS NULL
              THEN EXISTS (SELECT 1 FROM registrations r WHERE r.invitation_id = i.id
                           AND r.expires_at > {now})
              ELSE FALSE END AS waiting
  FROM invitations i WHERE (SELECT admin FROM asking) AND {where} {order_by} LIMIT {limit}
) p ON a.admin
{outer_order_by}
"""
_PROJECTS = """SELECT p.id AS position, x.title FROM invitation_projects p
JOIN projects x ON x.id = p.project_id WHERE p.invitation_id = i.id"""
# A group's title in the asked locale, as titles.title_in() gives it (the locale resolved first).
_GROUPS = """SELECT g.id AS position, COALESCE(NULLIF(x.title_multiloc ->> {locale}, ''), x.title)
AS title FROM invitation_groups g JOIN groups x ON x.id = g.group_id WHERE g.invitation_id = i.id"""


# A subquery's titles as one value: an array in the order of their positions in PostgreSQL;
# in SQLite (no arrays, no ordered aggregates in this version) JSON pairs [position, title].
_TITLES = {
    True: "ARRAY(SELECT t.title FROM ({select}) t ORDER BY t.position)",
    False: "(SELECT json_group_array(json_array(t.position, t.title)) FROM ({select}) t)",
}
_TOTAL = "(SELECT COUNT(*) FROM invitations i WHERE (SELECT admin FROM asking) AND {where})"


def _from_sqlite(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row as PostgreSQL gives it: a datetime, a bool, lists of titles."""
    found = dict(row)
    found["created_at"] = as_datetime(found["created_at"])
    found["is_admin"] = bool(found["is_admin"])
    for name in ("projects", "groups"):
        found[name] = [title for _, title in sorted(json.loads(found[name] or "[]"))]
    return found


async def console_page(
    query: InvitationFilter,
    *,
    order: OrderField,
    direction: Direction,
    first: int,
    after: str | None,
    locale: str,
    with_total: bool,
    session_token: str,
    now: datetime,
) -> ConsolePage | None:
    """A page of the console's list with what it shows, in one statement (a search: after
    finding its page, see _search_page), or None when the session is not an admin's."""
    _check_page_size(first)
    total_where = ""
    if query.search and query.search.strip():
        keys, has_next = await _page_keys(
            query,
            order=order,
            direction=direction,
            first=first,
            after=after,
            session_token=session_token,
        )
        sql = _Sql([invitation_id for invitation_id, _ in keys])
        where = f"i.id IN ({db.placeholders(len(keys))})" if keys else "1 = 0"
        order_by, limit = _order_by(order, direction, sql.postgres), str(first)
        # The total counts the search's matches: its conditions, numbered after the ids (and
        # only when asked: a parameter the statement does not use has no type to be sent as).
        if with_total:
            total_where = (await filtered(query, sql.params)).where()
    else:
        sql = await filtered(query)
        total_where = sql.where()  # the filter's, before the cursor's: the same parameters
        _continue_after(sql, order=order, direction=direction, after=after)
        where, has_next = sql.where(), False
        order_by = _order_by(order, direction, sql.postgres)
        # Unfiltered, the page has one good plan, which a LIMIT written out lets PostgreSQL
        # keep from one request to the next. A filter's best plan depends on its values (a
        # rare delivery state is read through its partial index, a common one along the
        # ordering): a LIMIT as a parameter has it planned for each request's values.
        unfiltered = query == InvitationFilter()
        limit = str(first + 1) if unfiltered else sql.param(first + 1)
    admin = await admin_session_condition(session_token, sql.param)
    total = _TOTAL.format(where=total_where) if with_total else "NULL"
    statement = _CONSOLE_ROWS.format(
        shown_status=status_sql("i", sql.param(now)),
        now=sql.param(now),
        admin=admin,
        total=total,
        sort=_sort_expression(order, sql.postgres),
        projects=_TITLES[sql.postgres].format(select=_PROJECTS),
        groups=_TITLES[sql.postgres].format(select=_GROUPS.format(locale=sql.param(locale))),
        where=where,
        order_by=order_by,
        limit=limit,
        outer_order_by=_order_by(order, direction, sql.postgres, table="p"),
    )
    # The rows as the driver gives them (asyncpg's records: no copy into dicts for PostgreSQL).
    _, rows = await connection().execute_query(
        statement if sql.postgres else db.sql(statement), sql.params
    )
    if not rows or not rows[0]["admin"]:
        return None
    total_count = None if rows[0]["total"] is None else int(rows[0]["total"])
    found: Sequence[Mapping[str, Any]] = [row for row in rows if row["id"] is not None]
    if len(found) > first:
        found, has_next = found[:first], True
    if not sql.postgres:
        found = [_from_sqlite(row) for row in found]
    end_cursor = None
    if found:
        last = found[-1]
        end_cursor = cursor(order, last["sort_value"], last["id"])
    return ConsolePage(rows=found, end_cursor=end_cursor, has_next_page=has_next, total=total_count)


# How many rows of the ordering the search looks through first (see _search_page).
SEARCH_PROBE = 10_000


async def _search_page(
    sql: _Sql, sort: str, order_by: str, limit: str, first: int
) -> list[dict[str, Any]]:
    """A page of a search, planned so that neither kind of search is slow at a million.

    A broad prefix ('sof') matches all through the ordering: walking the ordering's index
    finds a page at once, while gathering every match first would take seconds. A narrow one
    ('lea.12') may match only old rows: the walk would read most of the table, while its
    matches, gathered through the prefix indexes, are few. So: look for the page among the
    ordering's first SEARCH_PROBE rows; only if it is not complete there, gather the matches
    first (a materialized CTE, so the planner cannot turn it back into the walk) and sort them.
    A whole code or a letter's number gathers its few matches at once.
    """
    if not sql.narrow_search:
        rows = await connection().execute_query_dict(
            f"SELECT i.id AS id, {sort} AS sort_value FROM (SELECT i.* FROM invitations i"  # noqa: S608
            f" WHERE {sql.where(with_search=False)} {order_by} LIMIT {SEARCH_PROBE:d}) i"
            f" WHERE {sql.search} {order_by} LIMIT {limit}",
            sql.params,
        )
        if len(rows) > first:
            return rows
    return await connection().execute_query_dict(
        f"WITH found AS MATERIALIZED (SELECT i.id FROM invitations i WHERE {sql.search})"  # noqa: S608
        f" SELECT i.id AS id, {sort} AS sort_value FROM found f JOIN invitations i ON i.id = f.id"
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


async def count_invitations(query: InvitationFilter) -> int:
    sql = await filtered(query)
    rows = await connection().execute_query_dict(
        f"SELECT COUNT(*) AS n FROM invitations i WHERE {sql.where()}",  # noqa: S608
        sql.params,
    )
    return int(rows[0]["n"])
