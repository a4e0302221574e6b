"""What an import does with each row: the values it reads, how they override the form's
defaults, and every problem it reports (row, column, value, code) before writing anything."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from arq.connections import ArqRedis
from openpyxl import load_workbook

from domain import outbox
from domain.clock import clock
from domain.errors import DomainError, ErrorCode
from domain.groups.service import create_group
from domain.imports import service as imports
from domain.invitations.service import InvitationOptions, create_invitations
from domain.models import (
    DeliveryState,
    FieldType,
    GroupKind,
    ImportStatus,
    Invitation,
    InvitationImport,
    Membership,
    User,
)
from domain.registration_fields.service import create_registration_field
from domain.settings import get_settings
from domain.users.service import create_admin
from tests.import_helpers import HEADER, handmade, header_row, imported, text_cell, workbook
from tests.invitations_helpers import sample_platform
from workers.jobs import import_invitations


@pytest.fixture
async def platform(database: None) -> dict[str, Any]:
    made = await sample_platform()
    for key, kind in (
        ("age", FieldType.NUMBER),
        ("postcode", FieldType.TEXT),
        ("newsletter", FieldType.CHECKBOX),
        ("birthday", FieldType.DATE),
    ):
        await create_registration_field(key=key, title=key.title(), type=kind)
    return {**made, "other": await create_group(title="Youth, Council", kind=GroupKind.MANUAL)}


@pytest.fixture
def import_settings() -> Iterator[Any]:
    """The import limits, set for one test and restored after it."""
    settings = get_settings()
    saved = (settings.import_max_rows, settings.import_max_file_bytes)
    yield settings
    settings.import_max_rows, settings.import_max_file_bytes = saved


def problems(record: InvitationImport) -> set[tuple[str, int | None, str | None, str | None]]:
    return {(e["code"], e["row"], e["field"], e["value"]) for e in record.errors}


async def invitation(email: str) -> Invitation:
    found = await Invitation.get(email=email)
    await found.fetch_related("groups", "projects")
    return found


def group_ids(found: Invitation) -> list[int]:
    return sorted(grant.group_id for grant in found.groups)  # type: ignore[attr-defined]


async def test_blank_cells_keep_the_forms_defaults_and_filled_ones_override_them(
    admin_user: User, platform: dict[str, Any]
) -> None:
    record = await imported(
        admin_user,
        workbook(
            [*HEADER, "neighbourhood", "postcode"],
            ["keep@example.org"],
            [
                "change@example.org",
                "Ann",
                "Peeters",
                "nl-BE",
                "Northerners; north avenue residents",
                False,
                "north",
                9000,
            ],
            ["comma@example.org", None, None, None, "youth, council"],
        ),
        is_admin=True,
        group_ids=[platform["manual"].id],
        project_ids=[platform["project"].id],
        locale="fr-BE",
        registration_field_values={"postcode": "1000"},
        personal_message="Welcome!",
    )
    assert record.status is ImportStatus.DONE, record.errors
    keep, change = await invitation("keep@example.org"), await invitation("change@example.org")
    assert (keep.is_admin, keep.locale, group_ids(keep)) == (True, "fr-BE", [platform["manual"].id])
    assert keep.registration_field_values == {"postcode": "1000"}
    assert (change.is_admin, change.locale) == (False, "nl-BE")
    # A groups cell replaces the form's groups, like every other column replaces its default.
    assert group_ids(change) == sorted([platform["manual"].id, platform["smart"].id])
    comma = await invitation("comma@example.org")  # a title holding a comma, as a whole cell
    assert group_ids(comma) == [platform["other"].id]
    assert change.registration_field_values == {"postcode": "9000", "neighbourhood": "north"}
    assert (change.first_name, change.last_name) == ("Ann", "Peeters")
    # What has no column comes from the form for every row.
    for found in (keep, change):
        assert [p.project_id for p in found.projects] == [platform["project"].id]  # type: ignore[attr-defined]
        assert found.personal_message == "Welcome!"


async def test_admin_values_in_every_spelling(admin_user: User, platform: dict[str, Any]) -> None:
    values = [
        True,
        "TRUE",
        "true",
        " True ",
        1,
        1.0,
        "1",
        "1.0",
        False,
        "FALSE",
        "false",
        0,
        0.0,
        "0",
    ]
    rows = [[f"a{i}@example.org", None, None, None, None, v] for i, v in enumerate(values)]
    record = await imported(admin_user, workbook(HEADER, *rows))
    assert record.status is ImportStatus.DONE, record.errors
    flags = {i.email: i.is_admin for i in await Invitation.all()}
    assert [flags[f"a{i}@example.org"] for i in range(len(values))] == [True] * 8 + [False] * 6

    record = await imported(
        admin_user,
        workbook(
            HEADER,
            ["b@example.org", None, None, None, None, "yes"],
            ["c@example.org", None, None, None, None, 2],
        ),
    )
    assert problems(record) == {
        ("MALFORMED_ADMIN_VALUE", 2, "admin", "yes"),
        ("MALFORMED_ADMIN_VALUE", 3, "admin", "2"),
    }


async def test_a_row_without_an_email_makes_a_code_only_invitation(
    admin_user: User, platform: dict[str, Any]
) -> None:
    record = await imported(
        admin_user,
        workbook(
            HEADER,
            [None, "Letter", "One", None, "North Avenue Residents"],
            [None],
            ["   ", None, None, "fr-BE"],
        ),
    )
    assert record.status is ImportStatus.DONE, record.errors
    assert (record.invited_count, record.skipped_count, record.rows_total) == (2, 1, 3)
    letters = await Invitation.filter(email="").order_by("id")
    assert [(i.first_name, i.locale, i.send_email, i.delivery_state) for i in letters] == [
        ("Letter", "en", False, DeliveryState.NOT_SENT),
        ("", "fr-BE", False, DeliveryState.NOT_SENT),
    ]


async def test_every_problem_is_reported_with_its_row_column_and_value_and_nothing_is_written(
    admin_user: User, platform: dict[str, Any]
) -> None:
    async with outbox.collect():
        await create_invitations(
            inviter=admin_user, emails=["pending@example.org"], options=InvitationOptions()
        )
    before = await Invitation.all().count()
    record = await imported(
        admin_user,
        workbook(
            [*HEADER, "neighbourhood", "age", "newsletter", "birthday"],
            ["ok@example.org", "Ok"],
            ["not-an-email", "Line\nbreak", "x" * 101, "xx"],
            ["Twice@Example.org"],
            ["pending@example.org"],
            ["twice@example.ORG", None, None, None, "Nowhere, North Avenue Residents"],
            ["smart@example.org", None, None, None, "Northerners"],
            ["bad-groups@example.org", None, None, None, True],
            [None, None, None, None, None, "maybe", "west", "old", "perhaps", "31/05/2026"],
        ),
    )
    assert record.status is ImportStatus.FAILED
    assert problems(record) == {
        ("INVALID_EMAIL", 3, "email", "not-an-email"),
        ("INVALID_NAME", 3, "first_name", "Line\nbreak"),
        ("INVALID_NAME", 3, "last_name", "x" * 101),
        ("UNKNOWN_LOCALE", 3, "language", "xx"),
        ("DUPLICATE_EMAIL", 4, "email", "Twice@Example.org"),
        ("DUPLICATE_EMAIL", 6, "email", "twice@example.ORG"),
        ("ALREADY_INVITED", 5, "email", "pending@example.org"),
        ("UNKNOWN_GROUP", 6, "groups", "Nowhere"),
        ("SMART_GROUP_RULES_NOT_MET", 7, "groups", "Northerners"),  # the groups cell's
        ("MALFORMED_GROUPS_VALUE", 8, "groups", "TRUE"),
        ("MALFORMED_ADMIN_VALUE", 9, "admin", "maybe"),
        ("MALFORMED_FIELD_VALUE", 9, "neighbourhood", "west"),
        ("MALFORMED_FIELD_VALUE", 9, "age", "old"),
        ("MALFORMED_FIELD_VALUE", 9, "newsletter", "perhaps"),
        ("MALFORMED_FIELD_VALUE", 9, "birthday", "31/05/2026"),
    }
    duplicate = next(e for e in record.errors if e["code"] == "DUPLICATE_EMAIL")
    assert "row 4, row 6" in duplicate["message"]  # every row involved is named
    assert [e["row"] for e in record.errors] == sorted(e["row"] for e in record.errors)
    assert await Invitation.all().count() == before
    # The upload is kept a while for the problems file, which marks these rows in it.
    assert record.content is not None and record.invited_count == 0


async def test_groups_and_options_are_named_by_their_title_in_any_of_the_platforms_languages(
    admin_user: User, platform: dict[str, Any]
) -> None:
    # What a Dutch or French admin sees in the console is what they write in the sheet.
    manual = await create_group(
        title="Riverside Residents",
        kind=GroupKind.MANUAL,
        titles={"nl-BE": "Bewoners Rivierkant", "fr-BE": "Habitants du Bord de rivière"},
    )
    await create_registration_field(
        key="street",
        title="Street",
        type=FieldType.SELECT,
        options=[
            {
                "key": "north_avenue",
                "title": "North Avenue",
                "titles": {"nl-BE": "Noordlaan"},
            },
            {
                "key": "riverside",
                "title": "Riverside",
                "titles": {"fr-BE": "Bord de rivière"},
            },
        ],
    )
    record = await imported(
        admin_user,
        workbook(
            [*HEADER, "street"],
            ["nl@example.org", None, None, None, "bewoners  RIVIERKANT", None, "noordlaan"],
            [
                "fr@example.org",
                None,
                None,
                None,
                "Habitants du Bord de rivière",
                None,
                "Bord de rivière",
            ],
            ["en@example.org", None, None, None, "Riverside Residents", None, "riverside"],
        ),
    )
    assert record.status is ImportStatus.DONE, record.errors
    for email, street in (
        ("nl@example.org", "north_avenue"),
        ("fr@example.org", "riverside"),
        ("en@example.org", "riverside"),
    ):
        found = await invitation(email)
        assert group_ids(found) == [manual.id]
        assert found.registration_field_values == {"street": street}


async def test_the_templates_help_says_titles_may_be_in_any_of_the_platforms_languages(
    platform: dict[str, Any],
) -> None:
    await create_group(
        title="Riverside Residents", kind=GroupKind.MANUAL, titles={"nl-BE": "Bewoners Rivierkant"}
    )
    help_sheet = load_workbook(io.BytesIO(await imports.template())).worksheets[1]
    lines = [" ".join(str(c.value) for c in row if c.value) for row in help_sheet.iter_rows()]
    assert any(line.startswith("groups") and "any of the platform's" in line for line in lines)
    riverside = next(line for line in lines if line.startswith("Riverside Residents"))
    assert "Also written: Bewoners Rivierkant (nl-BE)." in riverside


async def test_a_title_two_groups_or_options_share_in_other_languages_is_reported_as_ambiguous(
    admin_user: User, platform: dict[str, Any]
) -> None:
    await create_group(title="Park Lane", kind=GroupKind.MANUAL, titles={"nl-BE": "Parklaan"})
    await create_group(title="Park Avenue", kind=GroupKind.MANUAL, titles={"fr-BE": "Parklaan"})
    # A title in the default language names its group, whatever another's translation says.
    await create_group(title="Centre", kind=GroupKind.MANUAL)
    centrum = await create_group(title="Centrum", kind=GroupKind.MANUAL, titles={"fr-BE": "Centre"})
    await create_registration_field(
        key="street",
        title="Street",
        type=FieldType.SELECT,
        options=[
            {"key": "a", "title": "A", "titles": {"nl-BE": "Laan"}},
            {"key": "b", "title": "B", "titles": {"fr-BE": "Laan"}},
        ],
    )
    record = await imported(
        admin_user,
        workbook(
            [*HEADER, "street"],
            ["one@example.org", None, None, None, "parklaan", None, "laan"],
            ["two@example.org", None, None, None, "Centrum", None, "b"],
        ),
    )
    assert record.status is ImportStatus.FAILED
    assert problems(record) == {
        ("AMBIGUOUS_GROUP", 2, "groups", "parklaan"),
        ("MALFORMED_FIELD_VALUE", 2, "street", "laan"),
    }
    ambiguous = {e["code"]: e["message"] for e in record.errors}
    assert "'Park Lane', 'Park Avenue'" in ambiguous["AMBIGUOUS_GROUP"]
    assert "more than one option ('A', 'B')" in ambiguous["MALFORMED_FIELD_VALUE"]
    record = await imported(
        admin_user, workbook(HEADER, ["centre@example.org", None, None, None, "centre"])
    )
    assert record.status is ImportStatus.DONE, record.errors
    assert group_ids(await invitation("centre@example.org")) != [centrum.id]


async def test_field_columns_read_numbers_dates_and_checkboxes_as_their_type(
    admin_user: User, platform: dict[str, Any]
) -> None:
    record = await imported(
        admin_user,
        workbook(
            ["email", "age", "postcode", "newsletter", "birthday", "neighbourhood"],
            ["a@example.org", 42, 9000, True, date(1990, 5, 31), "NORTH"],
            ["b@example.org", "42.5", "B-1000", "1.0", "1990-05-31", "North"],
        ),
    )
    assert record.status is ImportStatus.DONE, record.errors
    a, b = await invitation("a@example.org"), await invitation("b@example.org")
    assert a.registration_field_values == {
        "age": 42,
        "postcode": "9000",
        "newsletter": True,
        "birthday": "1990-05-31",
        "neighbourhood": "north",
    }
    assert b.registration_field_values == {
        "age": 42.5,
        "postcode": "B-1000",
        "newsletter": True,
        "birthday": "1990-05-31",
        "neighbourhood": "north",
    }


async def test_formula_cells_give_their_saved_result_and_broken_ones_are_reported(
    admin_user: User, platform: dict[str, Any]
) -> None:
    rows = header_row() + (
        '<row r="2"><c r="A2" t="str"><f>LOWER("ANN@EXAMPLE.ORG")</f><v>ann@example.org</v></c>'
        '<c r="F2" t="b"><f>1=1</f><v>1</v></c></row>'
        '<row r="3"><c r="A3" t="e"><f>VLOOKUP(1,Z:Z,2)</f><v>#N/A</v></c></row>'
        '<row r="4"><c r="A4"><f>LOWER(B4)</f></c>' + text_cell("B4", "Bob") + "</row>"
    )
    record = await imported(admin_user, handmade(rows))
    assert problems(record) == {
        ("INVALID_EMAIL", 3, "email", None),
        ("INVALID_EMAIL", 4, "email", None),
    }
    messages = [e["message"] for e in record.errors]
    assert messages[0].startswith("Cell A3 holds an error value")
    assert messages[1].startswith("Cell A4 holds a formula whose result was never saved")

    record = await imported(admin_user, handmade(rows.split('<row r="3">')[0]))
    assert record.status is ImportStatus.DONE, record.errors
    ann = await invitation("ann@example.org")
    assert ann.is_admin is True


async def test_headers_match_in_any_case_and_spacing_and_rows_keep_their_sheet_numbers(
    admin_user: User, platform: dict[str, Any]
) -> None:
    rows = (
        '<row r="3">'
        + "".join(
            text_cell(f"{letter}3", name)
            for letter, name in zip("BCD", (" E-mail ", "First  Name", "LANGUAGE"), strict=True)
        )
        + '</row><row r="5">'
        + text_cell("B5", "bad address")
        + "</row>"
    )
    record = await imported(admin_user, handmade(rows))
    assert problems(record) == {("INVALID_EMAIL", 5, "email", "bad address")}


async def test_columns_must_be_the_templates(admin_user: User, platform: dict[str, Any]) -> None:
    record = await imported(admin_user, workbook(["first_name", "phone"], ["Ann", "0470"]))
    assert problems(record) == {
        ("UNKNOWN_COLUMN", 1, "B", "phone"),
        ("MISSING_COLUMN", 1, "email", None),
    }
    record = await imported(admin_user, workbook(["email", "Email"], ["a@example.org"]))
    assert problems(record) == {("UNKNOWN_COLUMN", 1, "B", "Email")}
    record = await imported(
        admin_user, workbook(["email", None, "first_name"], ["a@example.org", "stray", "Ann"])
    )
    assert problems(record) == {("UNKNOWN_COLUMN", 2, "B", "stray")}


async def test_blank_rows_are_skipped_and_counted(
    admin_user: User, platform: dict[str, Any]
) -> None:
    record = await imported(
        admin_user,
        workbook(HEADER, [None], ["a@example.org"], [None, " "], ["b@example.org"], [None]),
    )
    assert record.status is ImportStatus.DONE, record.errors
    # The sheet ends with its last value: rows 2 to 5, of which 2 and 4 are blank.
    assert (record.rows_total, record.rows_processed, record.skipped_count) == (4, 4, 2)
    assert record.invited_count == 2


async def test_an_empty_sheet_or_one_with_only_its_header_imports_nothing(
    admin_user: User, platform: dict[str, Any]
) -> None:
    record = await imported(admin_user, workbook())
    assert [e["code"] for e in record.errors] == ["MISSING_COLUMN"]
    record = await imported(admin_user, workbook(HEADER, [None]))
    assert [e["code"] for e in record.errors] == ["NO_EMAILS"]


async def test_addresses_with_an_account_get_the_access_now_and_no_invitation(
    admin_user: User, platform: dict[str, Any]
) -> None:
    member = await create_admin(email="member@example.org", password="member passphrase 2026")
    record = await imported(
        admin_user,
        workbook(
            HEADER,
            ["MEMBER@example.org", None, None, None, "North Avenue Residents"],
            ["new@example.org"],
        ),
    )
    assert (record.status, record.invited_count, record.existing_users_updated_count) == (
        ImportStatus.DONE,
        1,
        1,
    )
    assert await Membership.filter(user_id=member.id, group_id=platform["manual"].id).exists()
    assert not await Invitation.filter(email="member@example.org").exists()


async def test_the_row_and_size_limits_are_settings(
    admin_user: User, platform: dict[str, Any], import_settings: Any
) -> None:
    import_settings.import_max_rows = 3
    rows = [[f"p{i}@example.org"] for i in range(4)]
    record = await imported(admin_user, workbook(HEADER, *rows))
    assert [e["code"] for e in record.errors] == ["TOO_MANY_ROWS"]
    record = await imported(admin_user, workbook(HEADER, *rows[:3]))
    assert record.status is ImportStatus.DONE

    content = workbook(HEADER, ["a@example.org"])
    import_settings.import_max_file_bytes = len(content) - 1
    with pytest.raises(DomainError) as refused:
        await imported(admin_user, content)  # refused at upload: nothing is stored
    assert refused.value.code is ErrorCode.FILE_TOO_LARGE


async def test_the_job_is_idempotent_and_an_unexpected_error_fails_the_import(
    admin_user: User, platform: dict[str, Any], redis: ArqRedis
) -> None:
    record = await imported(admin_user, workbook(HEADER, ["once@example.org"]))
    async with outbox.collect() as jobs:
        await imports.run_import(record.id)  # arq may run it again: nothing happens
    assert jobs.jobs == [] and await Invitation.all().count() == 1

    # Stored defaults the code cannot read: the import fails instead of staying RUNNING.
    async with outbox.collect():
        broken = await imports.start_import(
            admin=admin_user,
            file_name="x.xlsx",
            content=workbook(HEADER, ["crash@example.org"]),
            options=InvitationOptions(),
        )
    await InvitationImport.filter(id=broken.id).update(defaults={"group_ids": ["not a number"]})
    await import_invitations({"redis": redis}, broken.id)
    failed = await InvitationImport.get(id=broken.id)
    assert failed.status is ImportStatus.FAILED
    assert "unexpected error" in failed.errors[0]["message"]
    assert not await Invitation.filter(email="crash@example.org").exists()


async def test_lost_and_stalled_imports_are_recovered(
    admin_user: User, platform: dict[str, Any]
) -> None:
    async with outbox.collect():
        queued = await imports.start_import(
            admin=admin_user,
            file_name="x.xlsx",
            content=workbook(HEADER, ["a@example.org"]),
            options=InvitationOptions(),
        )
    running = await InvitationImport.create(
        created_by=admin_user, status=ImportStatus.RUNNING, started_at=await clock.now()
    )
    async with outbox.collect() as early:
        assert await imports.recover_imports() == 0
    clock.advance(timedelta(minutes=21))
    async with outbox.collect() as late:
        assert await imports.recover_imports() == 2
    assert [job.job_id for job in late.jobs] == [f"import:{queued.id}"]
    assert early.jobs == []
    assert (await InvitationImport.get(id=running.id)).status is ImportStatus.FAILED


async def test_imported_invitations_count_towards_the_admins_daily_allowance(
    admin_user: User, platform: dict[str, Any], redis: ArqRedis
) -> None:
    settings = get_settings()
    saved = settings.limit_invitations_per_admin_per_day
    settings.limit_invitations_per_admin_per_day = 3
    try:
        for emails, status in ((["a", "b"], ImportStatus.DONE), (["c", "d"], ImportStatus.FAILED)):
            async with outbox.collect():
                record = await imports.start_import(
                    admin=admin_user,
                    file_name="x.xlsx",
                    content=workbook(HEADER, *([f"{e}@example.org"] for e in emails)),
                    options=InvitationOptions(send_email=False),
                )
            await import_invitations({"redis": redis}, record.id)
            done = await InvitationImport.get(id=record.id)
            assert done.status is status, done.errors
        assert [e["code"] for e in done.errors] == ["RATE_LIMITED"]
        assert await Invitation.all().count() == 2
    finally:
        settings.limit_invitations_per_admin_per_day = saved


async def test_the_cycle_collector_runs_whenever_an_import_awaits_and_is_on_after_it(
    admin_user: User, platform: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Paused only inside synchronous stretches: whatever else the worker runs while an
    import waits (another job, the database) runs with the collector on."""
    import gc

    seen: list[bool] = []
    frozen: list[int] = []
    original = imports._Write._progress

    async def observed(self: Any, rows_processed: int) -> None:
        seen.append(gc.isenabled())
        frozen.append(gc.get_freeze_count())  # the parsed sheet, out of the collector's way
        await original(self, rows_processed)

    monkeypatch.setattr(imports._Write, "_progress", observed)
    assert gc.isenabled()
    good = await imported(admin_user, workbook(HEADER, ["ok@example.org"]))
    bad = await imported(admin_user, workbook(HEADER, ["not an address"]))
    assert (good.status, bad.status) == (ImportStatus.DONE, ImportStatus.FAILED)
    assert seen and all(seen)
    assert frozen and all(frozen)
    assert gc.isenabled() and gc.get_freeze_count() == 0  # after a refused import too


def test_a_paused_collector_is_resumed_and_one_turned_off_before_stays_off() -> None:
    import gc

    from domain.collector import collector_paused

    assert gc.isenabled()
    with pytest.raises(ValueError), collector_paused():
        assert not gc.isenabled()
        raise ValueError
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # someone else turned it off: left off
    finally:
        gc.enable()
