"""Smart group membership in SQL (member counts, pages) means what the rules mean in Python.

The same users and rules, asked of the database (`domain.groups.members`) and of
`Rule.matches`: the answers must be the same, on PostgreSQL and on SQLite.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from domain.groups.members import count_members, member_counts, member_ids, member_page
from domain.groups.rules import first_failing_rule, parse_rules
from domain.groups.service import facts_of_users, rules_of
from domain.models import Group, GroupKind, Membership, Role, RoleKind, User
from tests.test_group_rules import FIELDS

PEOPLE: list[tuple[str, str, dict[str, Any]]] = [
    ("ann@city.example.org", "nl-BE", {"age": 30, "nickname": "Sam", "newsletter": True}),
    ("bob@example.org", "en", {"age": 12, "born": "1990-05-01", "district": "north"}),
    ("cas@otherexample.org", "fr-BE", {"age": 12.5, "nickname": "12", "newsletter": False}),
    ("dee@ex_ample.org", "en", {"born": "2001-12-31", "district": "south"}),
    ("eve@exxample.org", "nl-BE", {"nickname": "sam", "age": 0}),
    ("fay@deep.city.example.org", "en", {}),
    ("gus@example.org.evil.test", "fr-BE", {"age": 45, "born": "1995-01-01"}),
]
RULES: list[dict[str, Any]] = [
    {"attribute": "email_domain", "operator": "is", "value": "example.org"},
    {"attribute": "email_domain", "operator": "is_not", "value": "example.org"},
    {
        "attribute": "email_domain",
        "operator": "is_one_of",
        "value": "example.org, city.example.org",
    },
    {"attribute": "email_domain", "operator": "ends_with", "value": "example.org"},
    {"attribute": "email_domain", "operator": "is", "value": "ex_ample.org"},
    {"attribute": "locale", "operator": "is", "value": "nl-BE"},
    {"attribute": "locale", "operator": "is_not", "value": "en"},
    {"attribute": "locale", "operator": "is_one_of", "value": ["nl-BE", "fr-BE"]},
    {"attribute": "role", "operator": "is", "value": "admin"},
    {"attribute": "role", "operator": "is_not", "value": "admin"},
    {"attribute": "role", "operator": "is", "value": "project_manager"},
    *(
        {"attribute": "field", "field_key": key, "operator": operator, "value": value}
        for key, operator, value in [
            ("nickname", "is", "Sam"),
            ("nickname", "is_not", "Sam"),
            ("nickname", "is_one_of", ["Sam", "12"]),
            ("age", "is", "12"),
            ("age", "is", "12.5"),
            ("age", "is_not", "30"),
            ("age", "greater_than", "12"),
            ("age", "less_than", "20"),
            ("newsletter", "is", "true"),
            ("newsletter", "is", "false"),
            ("born", "is", "1990-05-01"),
            ("born", "is_not", "1990-05-01"),
            ("born", "greater_than", "1995-01-01"),
            ("born", "less_than", "1995-01-01"),
            ("district", "is", "north"),
            ("district", "is_not", "Noord"),
            ("district", "is_one_of", ["north", "south"]),
        ]
    ),
]


async def people() -> list[User]:
    users = []
    for index, (email, locale, values) in enumerate(PEOPLE):
        users.append(
            await User.create(
                email=email,
                last_name=f"{'Zz' if index % 2 else 'aa'} {index}",
                locale=locale,
                password_hash="x",
                email_confirmed_at=datetime.now(UTC),
                registration_field_values=values,
            )
        )
    await Role.create(user=users[0], kind=RoleKind.ADMIN)
    await Role.create(user=users[3], kind=RoleKind.ADMIN)
    # An unconfirmed account meets many rules, and is no smart group's member.
    await User.create(
        email="new@example.org",
        locale="nl-BE",
        password_hash="x",
        registration_field_values={"age": 30, "district": "north", "newsletter": True},
    )
    return users


def smart(rules: list[dict[str, Any]], match_all: bool = True) -> Group:
    parsed = parse_rules(rules, FIELDS)
    return Group(
        id=len(rules) * 2 + match_all,
        title="t",
        kind=GroupKind.SMART,
        rules=[rule.to_dict() for rule in parsed],
        match_all=match_all,
    )


async def test_every_kind_of_rule_selects_in_sql_the_users_it_selects_in_python(
    database: None,
) -> None:
    users = await people()
    facts = await facts_of_users(users)
    groups = [smart([rule]) for rule in RULES]
    combined = [RULES[3], RULES[17]]  # a domain and an age above 12
    groups += [smart(combined, match_all=True), smart(combined, match_all=False)]
    for index, group in enumerate(groups):
        group.id = index + 1
    counts = await member_counts(groups)
    for group in groups:
        expected = {
            user.id
            for user in users
            if first_failing_rule(rules_of(group), group.match_all, facts[user.id]) is None
        }
        found = set(await member_ids(group))
        assert found == expected, (group.rules, group.match_all)
        assert counts[group.id] == len(expected)
    # Not vacuous: the rules select from none to most of the users.
    assert len(set(counts.values())) >= 6 and 0 in counts.values()


async def test_members_come_in_keyset_pages_by_last_name_with_a_search(database: None) -> None:
    users = await people()
    everyone = smart([{"attribute": "locale", "operator": "is_one_of", "value": "en,nl-BE,fr-BE"}])
    manual = await Group.create(title="Manual", kind=GroupKind.MANUAL)
    for user in users[:5]:
        await Membership.create(group=manual, user=user)
    for group, size in ((everyone, len(users)), (manual, 5)):
        seen: list[str] = []
        after = None
        while True:
            page = await member_page(group, first=2, after=after)
            seen.extend(user.last_name for user in page.users)
            if not page.has_next_page:
                break
            after = page.cursors[-1]
        assert len(seen) == size
        assert seen == sorted(seen, key=lambda name: (name.lower(), name))
    found = await member_page(everyone, search="ZZ 3")
    assert [user.email for user in found.users] == ["dee@ex_ample.org"]
    assert [u.email for u in (await member_page(manual, search="FAY")).users] == []
    assert [u.email for u in (await member_page(everyone, search="fay@")).users] == [
        "fay@deep.city.example.org"
    ]


async def test_a_member_search_finds_names_beyond_ascii_typed_in_either_case(
    database: None,
) -> None:
    group = await Group.create(title="Neighbours", kind=GroupKind.MANUAL)
    for email, first_name, last_name in (
        ("a@example.org", "", "Çelik"),
        ("b@example.org", "Élise", "Dupont"),
        ("c@example.org", "", "Cela"),
    ):
        user = await User.create(
            email=email,
            first_name=first_name,
            last_name=last_name,
            locale="fr-BE",
            password_hash="x",
            email_confirmed_at=datetime.now(UTC),
        )
        await Membership.create(group=group, user=user)

    async def found(search: str) -> tuple[list[str], int]:
        page = await member_page(group, search=search)
        return [user.email for user in page.users], await count_members(group, search)

    for typed in ("çelik", "ÇEL"):
        assert await found(typed) == (["a@example.org"], 1), typed
    assert await found("élise") == (["b@example.org"], 1)
    assert await found("ce") == (["c@example.org"], 1)
    assert await found("[ç]") == ([], 0)
