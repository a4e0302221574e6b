"""Group member counts and member pages at 200,000 accounts.

Writes 200,000 confirmed accounts (domains, locales, registration field values, one in 50 an
admin) into a scratch PostgreSQL database with one statement, two manual groups of 50,000 and
2,000 members and five smart groups (an email domain, a locale, a role, a select field, a
number range and-ed with a domain), then times what `groups { memberCount }` runs for all
seven at once, and `memberPage` (the first page and one after the 100,000th member) of the
largest smart group. The floors, in the same run: `SELECT COUNT(*) FROM users` for the
counts, 50 ids of the primary key after a given id for the pages. Median of 7.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench.common import reset_database

USERS = int(os.environ.get("BENCH_GROUPS_USERS", "200000"))
DATABASE = os.environ.get(
    "BENCH_GROUPS_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/invitations_bench_groups"
)
_USERS = """
INSERT INTO users (email, first_name, last_name, locale, password_hash, email_confirmed_at,
                   registered_at, registration_field_values)
SELECT 'person.' || n || '@' || (ARRAY['city.example.org', 'example.org', 'mail.test'])[n % 3 + 1],
       'Lea', 'Peeters ' || n, (ARRAY['en', 'nl-BE', 'fr-BE'])[n % 3 + 1], 'x', now(), now(),
       jsonb_build_object('district', (ARRAY['north', 'south', 'east', 'west'])[n % 4 + 1],
                          'age', n % 90)
FROM generate_series(1, {count}) AS n;
INSERT INTO roles (user_id, kind, created_at)
SELECT id, 'admin', now() FROM users WHERE id % 50 = 0;
ANALYZE;
"""


async def _time(run: Callable[[], Awaitable[Any]], repeat: int = 7) -> float:
    await run()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await run()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


async def _main() -> list[tuple[str, float, float]]:
    from tortoise import Tortoise

    from domain import db
    from domain.groups.members import _cursor, member_counts, member_page
    from domain.groups.service import create_group
    from domain.models import FieldType, Group, GroupKind
    from domain.registration_fields.service import create_registration_field
    from domain.settings import get_settings

    await reset_database(DATABASE)
    await db.init(get_settings(), apply_migrations=True)
    connection = db.connection()
    await connection.execute_script(_USERS.format(count=USERS))
    options = [{"key": key} for key in ("north", "south", "east", "west")]
    await create_registration_field(
        key="district", title="District", type=FieldType.SELECT, options=options
    )
    await create_registration_field(key="age", title="Age", type=FieldType.NUMBER)
    for title, size in (("Council", 50_000), ("Volunteers", 2_000)):
        group = await create_group(title=title, kind=GroupKind.MANUAL)
        await connection.execute_script(
            "INSERT INTO memberships (group_id, user_id, created_at)"
            f" SELECT {group.id}, id, now() FROM users WHERE id % {USERS // size} = 0"
        )

    def rule(attribute: str, operator: str, value: Any, key: str | None = None) -> dict[str, Any]:
        return {"attribute": attribute, "operator": operator, "value": value, "field_key": key}

    smart = {
        "City": [rule("email_domain", "ends_with", "example.org")],
        "Dutch": [rule("locale", "is", "nl-BE")],
        "Admins": [rule("role", "is", "admin")],
        "North": [rule("field", "is_one_of", ["north", "east"], "district")],
        "Young city": [
            rule("field", "less_than", "30", "age"),
            rule("email_domain", "is", "city.example.org"),
        ],
    }
    for title, rules in smart.items():
        await create_group(title=title, kind=GroupKind.SMART, rules=rules)
    groups = await Group.all()
    largest = next(g for g in groups if g.title == "City")

    async def floor() -> None:
        await connection.execute_query_dict("SELECT COUNT(*) AS n FROM users")

    async def page_floor() -> None:
        await connection.execute_query_dict(
            "SELECT id FROM users WHERE id > $1 ORDER BY id LIMIT 51", [USERS // 2]
        )

    async def counts() -> None:
        await member_counts(groups)

    async def first_page() -> None:
        await member_page(largest, first=50)

    # A cursor after the 100,000th member, as a client paging that far would hold.
    [row] = await connection.execute_query_dict(
        "SELECT lower(last_name) AS sort_key, id FROM users"
        " WHERE email LIKE '%example.org' ORDER BY lower(last_name), id OFFSET 100000 LIMIT 1"
    )
    sql_after = _cursor(row["sort_key"], row["id"])

    async def deep_page() -> None:
        await member_page(largest, first=50, after=sql_after)

    count_floor, pk_floor = await _time(floor), await _time(page_floor)
    figures = [
        ("memberCount of all 7 groups (5 smart)", await _time(counts), count_floor),
        ("memberPage, first 50 of 'City'", await _time(first_page), pk_floor),
        ("memberPage, 50 after the 100,000th member", await _time(deep_page), pk_floor),
    ]
    await Tortoise.close_connections()
    return figures


def main() -> list[tuple[str, float, float]]:
    os.environ.update(
        {
            "INVITES_ENV": "production",
            "INVITES_SECRET_KEY": "bench-secret-key-" + "x" * 40,
            "INVITES_DATABASE_URL": DATABASE,
            "INVITES_LOG_LEVEL": "WARNING",
        }
    )
    figures = asyncio.run(_main())
    print(f"groups at {USERS:,} accounts (median of 7, ms)")
    for name, milliseconds, floor in figures:
        print(
            f"  {name:<45} {milliseconds:8.1f} ms  {milliseconds / floor:6.1f}x its floor"
            f" ({floor:.2f} ms)"
        )
    return figures


if __name__ == "__main__":
    main()
