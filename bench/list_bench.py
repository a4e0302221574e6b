"""The admins' invitation list at a million invitations: every ordering, filters, deep pages.

Writes 1,000,000 invitations into a scratch PostgreSQL database the way imports write them,
then times `list_invitations` (what the `invitations` query runs) for the first page and for a
page deep in each ordering (keyset: after the 500,000th row), the search, the filters and
`totalCount`; and `console_page` (what the admin console's own document runs, in one
statement) for the first page, a deep one and each filter, asked often enough for PostgreSQL
to settle on the plan it keeps for a prepared statement. The floor, measured in the same run:
the cheapest page there is, 20 rows of the primary key after a given id.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench.common import reset_database

ROWS = int(os.environ.get("BENCH_LIST_ROWS", "1000000"))
DATABASE = os.environ.get(
    "BENCH_LIST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/invitations_bench_list"
)
FIRSTS = ("Lea", "Jan", "Amira", "Lucas", "Emma", "Noah", "Sofia", "Mohamed", "Louise", "Émile")
LASTS = ("Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "de Smet", "Van Damme", "Claes")


async def _fill() -> dict[str, int]:
    from datetime import timedelta

    from tortoise.transactions import in_transaction

    from domain.clock import clock
    from domain.groups.service import create_group
    from domain.invitations import writer
    from domain.models import GroupKind, Invitation
    from domain.projects.service import create_project
    from domain.users.service import create_admin

    admin = await create_admin(email="bench-admin@example.org", password="bench passphrase 2026")
    group = await create_group(title="North Avenue Residents", kind=GroupKind.MANUAL)
    project = await create_project(title="Riverside park")
    now = await clock.now()
    chunk = 50_000
    for start in range(0, ROWS, chunk):
        rows = [
            writer.NewInvitation(
                email=f"{FIRSTS[i % 10].lower()}.{i}@example{i % 97}.org",
                first_name=FIRSTS[i % 10],
                last_name=f"{LASTS[(i // 10) % 8]} {i % 1000}",
                locale=("en", "nl-BE", "fr-BE")[i % 3],
                personal_message="",
                is_admin=i % 5000 == 0,
                registration_field_values={},
                send_email=i % 10 != 0,
                group_ids=[group.id] if i % 6 == 0 else [],
                project_ids=[project.id] if i % 2000 == 1 else [],
            )
            for i in range(start, min(start + chunk, ROWS))
        ]
        async with in_transaction():
            await writer.insert_invitations(
                rows,
                inviter_id=admin.id,
                import_id=None,
                now=now - timedelta(days=40 * (ROWS - start) / ROWS),
                expires_at=now + timedelta(days=30),
            )
    # A realistic mix: most sent, some accepted, some expired, a few failed.
    await Invitation.filter(delivery_state="queued").update(delivery_state="sent", sent_at=now)
    connection = Invitation._meta.db
    await connection.execute_script(
        "UPDATE invitations SET status = 'accepted', accepted_at = now() WHERE id % 7 = 0;"
        "UPDATE invitations SET status = 'expired', expires_at = now() - interval '1 day'"
        " WHERE id % 11 = 0 AND status = 'pending';"
        "UPDATE invitations SET delivery_state = 'failed', last_error = 'bench'"
        " WHERE id % 997 = 0;"
        # Each accepted invitation made an account, under names of its own (what the search
        # finds by the account).
        "INSERT INTO users (email, first_name, last_name, locale, password_hash, registered_at,"
        " registration_field_values) SELECT 'registered.' || id || '@example.net', 'Reg',"
        " 'Istered ' || id, locale, 'x', now(), '{}' FROM invitations WHERE status = 'accepted';"
        "UPDATE invitations i SET accepted_user_id = u.id FROM users u"
        " WHERE i.status = 'accepted' AND u.email = 'registered.' || i.id || '@example.net';"
        "ANALYZE;"
    )
    return {"group_id": group.id, "admin_id": admin.id}


async def _a_code(invitation_id: int) -> str:
    """An invitation's code, as a resident reads it out: decrypted, with dashes."""
    from domain.crypto import keyring
    from domain.invitations import tokens
    from domain.models import Invitation

    stored = await Invitation.get(id=invitation_id).values_list("token_encrypted", flat=True)
    return tokens.display(keyring("invitation-token").decrypt(str(stored)))


async def _middle_cursor(order: Any, direction: Any) -> str:
    from domain import db
    from domain.invitations.listing import _sort_expression, cursor

    column = _sort_expression(order, postgres=True)
    keyword = direction.value.upper()
    rows = await db.connection().execute_query_dict(
        f"SELECT i.id AS id, {column} AS sort_value FROM invitations i"
        f" ORDER BY {column} {keyword}, i.id {keyword} OFFSET {ROWS // 2} LIMIT 1"
    )
    return cursor(order, rows[0]["sort_value"], rows[0]["id"])


async def _time(run: Callable[[], Awaitable[Any]], repeat: int = 7, warm: int = 1) -> float:
    for _ in range(warm):  # the cache, the prepared statements (and their kept plans)
        await run()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await run()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


async def _main() -> list[tuple[str, float]]:
    from tortoise import Tortoise

    from domain import db
    from domain.invitations.listing import (
        Direction,
        InvitationFilter,
        OrderField,
        count_invitations,
        list_invitations,
    )
    from domain.models import DeliveryState, InvitationStatus, RoleKind
    from domain.settings import get_settings

    await reset_database(DATABASE)
    await db.init(get_settings(), apply_migrations=True)
    started = time.perf_counter()
    ids = await _fill()
    fill_seconds = time.perf_counter() - started
    connection = db.connection()
    middle = ROWS // 2

    async def floor() -> None:
        await connection.execute_query_dict(
            "SELECT id FROM invitations WHERE id > $1 ORDER BY id LIMIT 21", [middle]
        )

    figures: list[tuple[str, float]] = [
        ("floor: 20 ids of the primary key after an id", await _time(floor))
    ]
    everything = InvitationFilter()
    for order in OrderField:
        for direction in Direction:
            first = await list_invitations(everything, order=order, direction=direction, first=20)

            async def first_page(o: OrderField = order, d: Direction = direction) -> None:
                await list_invitations(everything, order=o, direction=d, first=20)

            figures.append(
                (f"first page by {order.value} {direction.value}", await _time(first_page))
            )
            # A cursor from the middle of the ordering, as a client paging that far would hold.
            assert first.cursors
            cursor = await _middle_cursor(order, direction)

            async def deep_page(
                o: OrderField = order, d: Direction = direction, c: str = cursor
            ) -> None:
                await list_invitations(everything, order=o, direction=d, first=20, after=c)

            figures.append(
                (
                    f"page after row {ROWS // 2:,} by {order.value} {direction.value}",
                    await _time(deep_page),
                )
            )
    code = await _a_code(ROWS // 3)
    filters = {
        "search a whole code (an old invitation's)": InvitationFilter(search=code),
        f"search 'nr. {ROWS // 3}' (a letter's number)": InvitationFilter(
            search=f"nr. {ROWS // 3}"
        ),
        "search 'registered.7000' (an account's address)": InvitationFilter(
            search="registered.7000"
        ),
        "search 'reg istered 700' (an account's name)": InvitationFilter(search="reg istered 700"),
        "search 'lea.12' (email prefix)": InvitationFilter(search="lea.12"),
        "search 'van damme 99' (last name prefix)": InvitationFilter(search="van damme 99"),
        "search 'lea van damme 99' (full name)": InvitationFilter(search="lea van damme 99"),
        "search 'sof' (first name prefix, many)": InvitationFilter(search="sof"),
        "status pending": InvitationFilter(status=InvitationStatus.PENDING),
        "status expired": InvitationFilter(status=InvitationStatus.EXPIRED),
        "delivery failed": InvitationFilter(delivery=DeliveryState.FAILED),
        "group": InvitationFilter(group_id=ids["group_id"]),
        "role admin": InvitationFilter(role=RoleKind.ADMIN),
        "role project manager": InvitationFilter(role=RoleKind.PROJECT_MANAGER),
    }
    for name, query in filters.items():

        async def filtered(q: InvitationFilter = query) -> None:
            await list_invitations(q, first=20)

        figures.append((f"first page, {name}", await _time(filtered)))
    for name, query in (
        ("all", everything),
        ("status pending", filters["status pending"]),
        ("group", filters["group"]),
    ):

        async def counted(q: InvitationFilter = query) -> None:
            await count_invitations(q)

        figures.append((f"totalCount, {name}", await _time(counted, repeat=3)))
    figures += await _console_pages(ids, filters)
    await Tortoise.close_connections()
    figures.insert(0, ("writing the invitations (s, not ms)", fill_seconds))
    return figures


async def _console_pages(ids: dict[str, int], filters: dict[str, Any]) -> list[tuple[str, float]]:
    """console_page's figures: PostgreSQL plans a prepared statement for its values five
    times, then may keep a generic plan; each runs ten times before it is timed."""
    from domain.clock import clock
    from domain.invitations.listing import Direction, InvitationFilter, OrderField, console_page
    from domain.models import User
    from domain.users.sessions import open_session

    deep = await _middle_cursor(OrderField.CREATED_AT, Direction.DESC)
    token = (await open_session(await User.get(id=ids["admin_id"]))).token
    pages = {"all": InvitationFilter(), **filters}
    figures = []
    for name, query in [*pages.items(), (f"all, after row {ROWS // 2:,}", pages["all"])]:
        after = deep if name.startswith("all, after") else None

        async def page(q: Any = query, a: str | None = after) -> None:
            found = await console_page(
                q,
                order=OrderField.CREATED_AT,
                direction=Direction.DESC,
                first=20,
                after=a,
                locale="en",
                with_total=False,
                session_token=token,
                now=clock.local_now(),
            )
            assert found is not None  # an admin's session

        figures.append((f"console page, {name}", await _time(page, warm=10)))
    return figures


def main() -> list[tuple[str, float]]:
    os.environ.update(
        {
            "INVITES_ENV": "production",
            "INVITES_SECRET_KEY": "bench-secret-key-" + "x" * 40,
            "INVITES_DATABASE_URL": DATABASE,
            "INVITES_LOG_LEVEL": "WARNING",
        }
    )
    figures = asyncio.run(_main())
    floor = figures[1][1]
    print(f"invitation list at {ROWS:,} invitations (median of 7, ms; floor {floor:.2f} ms)")
    print(f"  {figures[0][0]}: {figures[0][1]:.1f}")
    for name, milliseconds in figures[1:]:
        print(f"  {name:<55} {milliseconds:8.2f} ms  {milliseconds / floor:6.1f}x the floor")
    return figures


if __name__ == "__main__":
    main()
