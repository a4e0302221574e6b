"""Who is in a group, decided by the database: member counts and keyset pages of members.

A manual group's members are its memberships. A smart group's are the confirmed accounts
whose data meet its rules (an unconfirmed account gets no smart-group membership): each rule
is written as a condition over `users u`, with the same meaning as `Rule.matches`, so the
count of every group comes from one pass over the users instead of testing each in Python.
`tests/test_group_members.py` holds the two to the same answers on both databases.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from domain.db import connection, dialect, prefix_search
from domain.errors import DomainError, ErrorCode
from domain.groups.rules import Attribute, Operator, Rule
from domain.groups.service import rules_of
from domain.models import Group, GroupKind, User

MAX_PAGE = 200
# The accounts a smart group's rules may select (PostgreSQL and SQLite alike).
SMART_MEMBER_ACCOUNTS = "u.email_confirmed_at IS NOT NULL"
# What a search looks at: the address as stored (lower case), the names in lower case.
_SEARCHED = ("u.email", "lower(u.first_name)", "lower(u.last_name)")


class Sql:
    """A statement's parameters, in the connection's placeholder style."""

    def __init__(self) -> None:
        self.postgres = dialect() == "postgres"
        self.params: list[Any] = []

    def param(self, value: Any) -> str:
        self.params.append(value)
        return f"${len(self.params)}" if self.postgres else f"?{len(self.params)}"


def member_condition(group: Group, sql: Sql) -> str:
    """A condition over `users u` that holds exactly for the group's members."""
    if group.kind is GroupKind.MANUAL:
        # IN, not a correlated EXISTS: the database gathers the members once (a hash).
        return (
            "u.id IN (SELECT m.user_id FROM memberships m"  # noqa: S608 - placeholders only
            f" WHERE m.group_id = {sql.param(group.id)})"
        )
    rules = [_rule_condition(rule, sql) for rule in rules_of(group)]
    if not rules:
        return SMART_MEMBER_ACCOUNTS
    joined = (" AND " if group.match_all else " OR ").join(f"({rule})" for rule in rules)
    return f"{SMART_MEMBER_ACCOUNTS} AND ({joined})"


def _rule_condition(rule: Rule, sql: Sql) -> str:
    """TRUE or FALSE (never NULL, so NOT works) for each user, as `rule.matches` says."""
    if rule.operator is Operator.IS_NOT:
        return f"NOT ({_holds(rule, Operator.IS, rule.value, sql)})"
    if rule.operator is Operator.IS_ONE_OF:
        values = rule.value if isinstance(rule.value, list) else [rule.value]
        if not values:
            return "1 = 0"
        return " OR ".join(f"({_holds(rule, Operator.IS, value, sql)})" for value in values)
    return _holds(rule, rule.operator, rule.value, sql)


def _holds(rule: Rule, operator: Operator, value: Any, sql: Sql) -> str:
    if rule.attribute is Attribute.EMAIL_DOMAIN:
        # Addresses are stored in lower case with one '@', and domains hold neither '@' nor
        # spaces: the domain is what follows '@' at the end of the address.
        exact = _ends_with(f"@{value}", sql)
        if operator is Operator.ENDS_WITH:
            return f"{exact} OR {_ends_with(f'.{value}', sql)}"
        return exact
    if rule.attribute is Attribute.LOCALE:
        return f"u.locale = {sql.param(value)}"
    if rule.attribute is Attribute.ROLE:
        return (
            "u.id IN (SELECT r.user_id FROM roles r"  # noqa: S608 - placeholders only
            f" WHERE r.kind = {sql.param(str(value))})"
        )
    return _field_holds(rule.field_key or "", operator, value, sql)


def _ends_with(suffix: str, sql: Sql) -> str:
    # A comparison of the address's end, cheaper than a LIKE with a leading wildcard.
    length = len(suffix)
    if sql.postgres:
        return f"right(u.email, {length:d}) = {sql.param(suffix)}"
    return f"substr(u.email, -{length:d}) = {sql.param(suffix)}"


def _field_holds(key: str, operator: Operator, value: Any, sql: Sql) -> str:
    """A registration field's value: a missing key or a JSON null is no value, and an unticked
    checkbox is false; a value of another type than the rule's never matches (nor compares)."""
    if sql.postgres:
        values = "u.registration_field_values"
        if isinstance(value, bool):
            found = f"NULLIF({values} -> {sql.param(key)}::text, 'null'::jsonb)"
            if value:
                return f"COALESCE({found} = 'true'::jsonb, FALSE)"
            return f"COALESCE({found}, 'false'::jsonb) = 'false'::jsonb"
        if operator is Operator.IS:
            # Containment compares like Python: numbers by value, text exactly, types apart.
            return f"{values} @> {sql.param(json.dumps({key: value}))}::text::jsonb"
        found = f"{values} -> {sql.param(key)}::text"
        given = f"{sql.param(json.dumps(value))}::text::jsonb"
        compare = ">" if operator is Operator.GREATER_THAN else "<"
        if isinstance(value, int | float):
            return (
                f"COALESCE(CASE WHEN jsonb_typeof({found}) = 'number'"
                f" THEN {found} {compare} {given} END, FALSE)"
            )
        # Dates, as ISO text: compared as Python compares strings (by code point).
        return (
            f"COALESCE(CASE WHEN jsonb_typeof({found}) = 'string' THEN ({found} #>> '{{}}')"
            f" COLLATE \"C\" {compare} ({given} #>> '{{}}') END, FALSE)"
        )
    path = sql.param(f"$.{key}")
    kind_of = f"json_type(u.registration_field_values, {path})"
    found = f"json_extract(u.registration_field_values, {path})"
    if isinstance(value, bool):
        if value:
            return f"COALESCE({kind_of} = 'true', 0)"
        return f"COALESCE({kind_of}, 'null') IN ('false', 'null')"
    kinds = "('integer', 'real')" if isinstance(value, int | float) else "('text')"
    compare = {Operator.IS: "=", Operator.GREATER_THAN: ">", Operator.LESS_THAN: "<"}[operator]
    return f"COALESCE({kind_of} IN {kinds} AND {found} {compare} {sql.param(value)}, 0)"


async def member_counts(groups: Sequence[Group]) -> dict[int, int]:
    """Each group's member count: the manual ones from their memberships, all the smart ones
    from one pass over the users."""
    counts = {group.id: 0 for group in groups}
    manual = [g.id for g in groups if g.kind is GroupKind.MANUAL]
    smart = [g for g in groups if g.kind is GroupKind.SMART]
    if manual:
        sql = Sql()
        placeholders = ", ".join(sql.param(group_id) for group_id in manual)
        rows = await connection().execute_query_dict(
            "SELECT group_id, COUNT(*) AS n FROM memberships"  # noqa: S608
            f" WHERE group_id IN ({placeholders}) GROUP BY group_id",
            sql.params,
        )
        counts.update({int(row["group_id"]): int(row["n"]) for row in rows})
    if smart:
        sql = Sql()
        sums = ", ".join(
            f"SUM(CASE WHEN {member_condition(group, sql)} THEN 1 ELSE 0 END) AS g{index}"
            for index, group in enumerate(smart)
        )
        [row] = await connection().execute_query_dict(
            f"SELECT {sums} FROM users u",  # noqa: S608
            sql.params,
        )
        counts.update({group.id: int(row[f"g{i}"] or 0) for i, group in enumerate(smart)})
    return counts


async def members(group: Group) -> list[User]:
    """Every member, by last name (any case) and id."""
    ids = await member_ids(group)
    users = {user.id: user for user in await User.filter(id__in=ids)} if ids else {}
    return [users[i] for i in ids if i in users]


async def member_ids(group: Group) -> list[int]:
    """Every member's id, by last name (any case) and id."""
    sql = Sql()
    rows = await connection().execute_query_dict(
        f"SELECT u.id AS id FROM users u WHERE {member_condition(group, sql)}"  # noqa: S608
        " ORDER BY lower(u.last_name), u.id",
        sql.params,
    )
    return [int(row["id"]) for row in rows]


@dataclass(frozen=True, slots=True)
class MemberPage:
    users: list[User]
    cursors: list[str]
    has_next_page: bool


def _cursor(sort_key: str, user_id: int) -> str:
    raw = json.dumps([sort_key, user_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _after(cursor: str) -> tuple[str, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        sort_key, user_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError, binascii.Error):
        sort_key = user_id = None
    if not isinstance(sort_key, str) or not isinstance(user_id, int):
        raise DomainError.single(
            ErrorCode.INVALID_INPUT,
            "This cursor does not belong to this list: start again from the first page.",
            "after",
        )
    return sort_key, user_id


async def member_page(
    group: Group, *, first: int = 50, after: str | None = None, search: str | None = None
) -> MemberPage:
    """A page of members by last name (any case) and id; the next continues after the last
    one seen (keyset), so every page costs the same. `search`: a prefix of the email, first
    or last name, in any case."""
    if first < 0 or first > MAX_PAGE:
        raise DomainError.single(
            ErrorCode.INVALID_INPUT, f"Ask for between 0 and {MAX_PAGE} members at a time.", "first"
        )
    sql = Sql()
    sort = "lower(u.last_name)"
    clauses = [member_condition(group, sql)]
    if search and search.strip():
        clauses.append(prefix_search(_SEARCHED, search, sql.param))
    if after:
        sort_key, user_id = _after(after)
        clauses.append(f"({sort}, u.id) > ({sql.param(sort_key)}, {sql.param(user_id)})")
    rows = await connection().execute_query_dict(
        f"SELECT u.id AS id, {sort} AS sort_key FROM users u"  # noqa: S608
        f" WHERE {' AND '.join(f'({c})' for c in clauses)}"
        f" ORDER BY {sort}, u.id LIMIT {sql.param(first + 1)}",
        sql.params,
    )
    has_next = len(rows) > first
    rows = rows[:first]
    users = {user.id: user for user in await User.filter(id__in=[row["id"] for row in rows])}
    found = [row for row in rows if row["id"] in users]
    return MemberPage(
        users=[users[row["id"]] for row in found],
        cursors=[_cursor(str(row["sort_key"]), int(row["id"])) for row in found],
        has_next_page=has_next,
    )


async def count_members(group: Group, search: str | None = None) -> int:
    if not search or not search.strip():
        return (await member_counts([group]))[group.id]
    sql = Sql()
    members = member_condition(group, sql)
    rows = await connection().execute_query_dict(
        f"SELECT COUNT(*) AS n FROM users u WHERE ({members})"  # noqa: S608
        f" AND {prefix_search(_SEARCHED, search, sql.param)}",
        sql.params,
    )
    return int(rows[0]["n"])
