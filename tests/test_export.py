"""The token export: GET /invitations/export.xlsx, read back with openpyxl and calamine."""

from __future__ import annotations

import io
import re
import tempfile
import tracemalloc
import zipfile
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from api.admin_downloads import attachment
from domain import outbox
from domain.clock import clock
from domain.exports.service import export_to_temporary_file, write_export
from domain.groups.service import create_group
from domain.invitations.listing import InvitationFilter
from domain.invitations.service import InvitationOptions, Invitee, plan_invitations, write_plan
from domain.models import (
    DeliveryState,
    FieldType,
    GroupKind,
    Invitation,
    InvitationExport,
    InvitationImport,
    User,
)
from domain.projects.service import create_project
from domain.registration_fields.service import create_registration_field
from domain.settings import get_settings
from domain.users.service import open_session
from tests.fixtures import GraphQLClient
from tests.invitations_helpers import (
    GENERATE,
    accept,
    create,
    new_invitation,
    store_invitations,
)

HEADER = [
    "token",
    "status",
    "delivery",
    "email",
    "first_name",
    "last_name",
    "language",
    "groups",
    "admin",
    "created_at",
    "sent_at",
    "expires_at",
    "accepted_at",
    "address",
    "projects",
    "personal_message",
    "failure_reason",
    "link",
    "registered_first_name",
    "registered_last_name",
    "registered_email",
]
TOKEN = re.compile(r"^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$")
LIST_TOKENS = "{ invitations(first: 200) { edges { node { email token } } } }"


async def export(admin: GraphQLClient, **params: str) -> httpx.Response:
    response = await admin.http.get(
        "/invitations/export.xlsx",
        params=params,
        headers={"Authorization": f"Bearer {admin.token}"},
    )
    assert response.status_code == 200, response.text
    return response


def rows_of(content: bytes, fields: Sequence[str] = ()) -> list[dict[str, Any]]:
    """The sheet as openpyxl reads it, one dict a row, after checking calamine agrees.
    `fields`: the headers of the registration field columns after the fixed ones."""
    header = [*HEADER, *fields]
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None and sheet.title == "invitations"
    cells = [list(row) for row in sheet.iter_rows()]
    assert [cell.value for cell in cells[0]] == header
    rows = [{header[index]: cell.value for index, cell in enumerate(row)} for row in cells[1:]]
    for row in cells[1:]:
        for cell in row:
            if isinstance(cell.value, str):
                assert cell.data_type == "s", (cell.coordinate, cell.value)
    calamine = CalamineWorkbook.from_filelike(io.BytesIO(content))
    read = calamine.get_sheet_by_name("invitations").to_python()
    assert read[0] == header
    assert [[_same(value) for value in row] for row in read[1:]] == [
        list(row.values()) for row in rows
    ]
    return rows


def _same(value: Any) -> Any:
    """A value calamine reads as openpyxl does: blank is None, a day is a datetime."""
    if value == "":
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    return value


def utc(value: datetime) -> datetime:
    """A stored date as the export writes it: naive UTC to the second (Excel has no zones)."""
    return value.astimezone(UTC).replace(tzinfo=None, microsecond=0)


async def named(*invitees: Invitee, **options: Any) -> None:
    """Invitations with names (the GraphQL mutation takes addresses only)."""
    plan = await plan_invitations(list(invitees), InvitationOptions(send_email=False, **options))
    async with outbox.collect():
        await write_plan(plan, inviter_id=None)


async def signed_in_user(gql: GraphQLClient, email: str) -> GraphQLClient:
    user = await User.create(
        email=email, locale="en", password_hash="-", email_confirmed_at=datetime.now(UTC)
    )
    return gql.as_user((await open_session(user)).token)


async def test_the_export_lists_every_invitation_with_its_token_and_reads_back(
    admin: GraphQLClient,
) -> None:
    readers = await create_group(title="Readers", kind=GroupKind.MANUAL)
    attic = await create_group(title="Attic Club", kind=GroupKind.MANUAL)
    await named(
        Invitee(email="lea@example.org", first_name="Léa", last_name="Peeters", position=0),
        group_ids=[readers.id, attic.id],
        locale="nl-BE",
        is_admin=True,
    )
    await create(admin, ["bert@example.org"])

    response = await export(admin)
    assert response.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    today = (await clock.now()).date().isoformat()
    assert response.headers["content-disposition"] == (
        f'attachment; filename="invitations-{today}.xlsx"'
    )
    assert int(response.headers["content-length"]) == len(response.content)

    lea, bert = rows_of(response.content)
    listed = (await admin(LIST_TOKENS))["invitations"]["edges"]
    tokens = {edge["node"]["email"]: edge["node"]["token"] for edge in listed}
    stored = {invitation.email: invitation for invitation in await Invitation.all()}
    assert lea == {
        "token": tokens["lea@example.org"],
        "status": "Pending",
        "delivery": "Not mailed",
        "email": "lea@example.org",
        "first_name": "Léa",
        "last_name": "Peeters",
        "language": "nl-BE",
        "groups": "Attic Club, Readers",
        "admin": True,
        "created_at": utc(stored["lea@example.org"].created_at),
        "sent_at": None,
        "expires_at": utc(stored["lea@example.org"].expires_at),
        "accepted_at": None,
        "address": None,
        "projects": None,
        "personal_message": None,
        "failure_reason": None,
        "link": f"{get_settings().public_url}/invite#token={tokens['lea@example.org']}",
        "registered_first_name": None,
        "registered_last_name": None,
        "registered_email": None,
    }
    assert bert["token"] == tokens["bert@example.org"]
    assert (bert["status"], bert["delivery"], bert["admin"], bert["groups"]) == (
        "Pending",
        "Queued",
        False,
        None,
    )
    assert bert["first_name"] is None and bert["language"] == "en"


async def test_a_formula_in_a_name_comes_back_as_text_and_is_no_formula_in_the_file(
    admin: GraphQLClient,
) -> None:
    group = await create_group(title="@everyone", kind=GroupKind.MANUAL)
    await named(
        Invitee(
            email="formula@example.org",
            first_name='=HYPERLINK("http://x")',
            last_name="-2+3",
            position=0,
        ),
        Invitee(email="=cmd@example.org", first_name="+32 2 555", last_name="#N/A", position=1),
        group_ids=[group.id],
    )
    content = (await export(admin)).content
    first, second = rows_of(content)
    assert first["first_name"] == '\'=HYPERLINK("http://x")'
    assert first["last_name"] == "'-2+3"
    assert first["groups"] == "'@everyone"
    assert second["email"] == "'=cmd@example.org"
    assert second["first_name"] == "'+32 2 555"
    assert second["last_name"] == "#N/A"  # text, not Excel's error value

    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "HYPERLINK" in sheet
    assert not re.search(r"<f[ >/]", sheet), "the sheet holds a formula"
    assert not re.search(r't="(str|e)"', sheet), "a cell is a formula result or an error"


async def test_filters_select_what_the_invitations_list_selects(
    admin: GraphQLClient, gql: GraphQLClient
) -> None:
    group = await create_group(title="Readers", kind=GroupKind.MANUAL)
    project = await create_project(title="Library")
    await create(admin, ["anna@example.org"], groupIds=[str(group.id)], sendEmail=False)
    await create(admin, ["bert@example.org"], admin=True)
    await create(admin, ["carl@other.org"], projectIds=[str(project.id)], sendEmail=False)
    [dora] = (await create(admin, ["dora@example.org"], sendEmail=False))["invitations"]
    assert (await accept(gql, dora["token"]))["errors"] == []

    async def emails(**params: str) -> list[str]:
        return [row["email"] for row in rows_of((await export(admin, **params)).content)]

    assert await emails() == [
        "anna@example.org",
        "bert@example.org",
        "carl@other.org",
        "dora@example.org",
    ]
    assert await emails(status="accepted") == ["dora@example.org"]
    assert await emails(status="PENDING") == [
        "anna@example.org",
        "bert@example.org",
        "carl@other.org",
    ]
    assert await emails(status="expired") == []
    assert await emails(delivery="queued") == ["bert@example.org"]
    assert await emails(search="BE") == ["bert@example.org"]
    assert await emails(search="%") == []
    assert await emails(groupId=str(group.id)) == ["anna@example.org"]
    assert await emails(role="admin") == ["bert@example.org"]
    assert await emails(role="PROJECT_MANAGER") == ["carl@other.org"]
    assert await emails(search="a", status="pending") == ["anna@example.org"]


async def test_an_import_filter_exports_that_import_only(admin: GraphQLClient) -> None:
    imported = await InvitationImport.create(file_name="residents.xlsx")
    rows = [new_invitation(f"resident{i}@example.org") for i in range(3)]
    await store_invitations(rows, import_id=imported.id)
    await create(admin, ["typed@example.org"], sendEmail=False)
    exported = rows_of((await export(admin, importId=str(imported.id))).content)
    assert [row["email"] for row in exported] == [f"resident{i}@example.org" for i in range(3)]


async def test_a_batch_filter_exports_the_codes_generated_together_and_no_others(
    admin: GraphQLClient,
) -> None:
    async def generate(count: int) -> list[dict[str, Any]]:
        payload = (await admin(GENERATE, {"count": count}))["generateInvitationCodes"]
        assert payload["errors"] == []
        invitations: list[dict[str, Any]] = payload["invitations"]
        return invitations

    await generate(2)  # an earlier batch, printed already
    batch = await generate(3)
    await create(admin, ["typed@example.org"], sendEmail=False)
    await generate(1)
    for member in batch:  # any of its invitations finds the whole batch
        exported = rows_of((await export(admin, batchOf=member["id"])).content)
        assert [row["token"] for row in exported] == [i["token"] for i in batch]
    response = await admin.http.get(
        "/invitations/export.xlsx",
        params={"batchOf": "first"},
        headers={"Authorization": f"Bearer {admin.token}"},
    )
    assert response.status_code == 400
    assert [(e["field"], e["value"]) for e in response.json()["errors"]] == [("batchOf", "first")]
    unknown = rows_of((await export(admin, batchOf="999999")).content)
    assert unknown == []
    record = await InvitationExport.all().order_by("-id").first()
    assert record is not None and record.filters == {"batch_of": 999999}


async def test_code_only_invitations_have_a_blank_email_and_a_token(
    admin: GraphQLClient,
) -> None:
    group = await create_group(title="North Avenue Residents", kind=GroupKind.MANUAL)
    generated = (await admin(GENERATE, {"count": 3, "options": {"groupIds": [str(group.id)]}}))[
        "generateInvitationCodes"
    ]
    assert generated["errors"] == []
    rows = rows_of((await export(admin)).content)
    assert [row["token"] for row in rows] == [i["token"] for i in generated["invitations"]]
    for row in rows:
        assert TOKEN.match(row["token"])
        assert row["email"] is None
        assert (row["status"], row["delivery"], row["groups"]) == (
            "Pending",
            "Not mailed",
            "North Avenue Residents",
        )


async def test_accepted_and_expired_invitations_show_their_status_and_dates(
    admin: GraphQLClient, gql: GraphQLClient
) -> None:
    [kept] = (await create(admin, ["kept@example.org"], sendEmail=False))["invitations"]
    await create(admin, ["late@example.org"], sendEmail=False)
    assert (await accept(gql, kept["token"]))["errors"] == []

    accepted, pending = rows_of((await export(admin)).content)
    assert accepted["status"] == "Accepted" and accepted["accepted_at"] is not None
    assert pending["status"] == "Pending" and pending["accepted_at"] is None

    clock.advance(timedelta(days=31))  # read as expired before the sweep marks them
    rows = rows_of((await export(admin)).content)
    assert [(row["email"], row["status"]) for row in rows] == [
        ("kept@example.org", "Accepted"),
        ("late@example.org", "Expired"),
    ]
    expired = rows_of((await export(admin, status="expired")).content)
    assert [row["email"] for row in expired] == ["late@example.org"]


async def test_each_export_is_recorded_with_who_when_and_how_many_rows(
    admin: GraphQLClient,
) -> None:
    await create(admin, ["a@example.org", "b@example.org", "c@example.org"], sendEmail=False)
    before = await clock.now()
    await export(admin)
    await export(admin, status="pending", search="b")
    after = await clock.now()
    records = await InvitationExport.all().order_by("id").prefetch_related("exported_by")
    assert [(r.exported_by.email, r.row_count, r.filters) for r in records] == [  # type: ignore[union-attr]
        ("admin@participate.example.org", 3, {}),
        ("admin@participate.example.org", 1, {"status": "pending", "search": "b"}),
    ]
    for record in records:
        assert before - timedelta(seconds=1) <= record.created_at <= after + timedelta(seconds=1)


async def test_anonymous_and_non_admin_requests_are_refused(
    admin: GraphQLClient, gql: GraphQLClient, http: httpx.AsyncClient
) -> None:
    await create(admin, ["secret@example.org"], sendEmail=False)
    anonymous = await http.get("/invitations/export.xlsx")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert anonymous.headers["cache-control"] == "no-store"
    assert anonymous.json()["errors"][0]["code"] == "UNAUTHENTICATED"
    forged = await http.get(
        "/invitations/export.xlsx", headers={"Authorization": "Bearer not-a-session"}
    )
    assert forged.status_code == 401

    member = await signed_in_user(gql, "member@example.org")
    refused = await http.get(
        "/invitations/export.xlsx", headers={"Authorization": f"Bearer {member.token}"}
    )
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "FORBIDDEN"
    assert "secret@example.org" not in refused.text
    head = await http.head(
        "/invitations/export.xlsx", headers={"Authorization": f"Bearer {admin.token}"}
    )
    assert head.status_code == 405
    assert await InvitationExport.all().count() == 0


async def test_bad_filter_values_get_a_clear_400_and_no_export(
    admin: GraphQLClient, http: httpx.AsyncClient
) -> None:
    auth = {"Authorization": f"Bearer {admin.token}"}

    async def problems(query: str) -> list[tuple[str, str | None]]:
        response = await http.get(f"/invitations/export.xlsx?{query}", headers=auth)
        assert response.status_code == 400, response.text
        assert response.headers["cache-control"] == "no-store"
        errors = response.json()["errors"]
        assert all(e["code"] == "INVALID_INPUT" and e["message"] for e in errors)
        return [(e["field"], e["value"]) for e in errors]

    assert await problems("status=bogus") == [("status", "bogus")]
    assert await problems("delivery=lost&role=king") == [("delivery", "lost"), ("role", "king")]
    assert await problems("groupId=abc&importId=-1") == [("groupId", "abc"), ("importId", "-1")]
    assert await problems("groupId=99999999999") == [("groupId", "99999999999")]
    assert await problems("statu=pending") == [("statu", "pending")]  # a typo never exports all
    assert await problems("status=pending&status=expired") == [("status", None)]
    # What the database cannot store is refused as GraphQL refuses it, on every database.
    assert await problems("search=%00") == [("search", "\x00")]
    assert await problems("search=a%00b&status=pen%00ding&groupId=1%00") == [
        ("search", "a\x00b"),
        ("status", "pen\x00ding"),
        ("groupId", "1\x00"),
    ]
    response = await http.get("/invitations/export.xlsx?search=lea%00", headers=auth)
    assert "cannot be stored" in response.json()["errors"][0]["message"]
    response = await http.get("/invitations/export.xlsx?status=bogus", headers=auth)
    assert "pending, accepted, expired" in response.json()["errors"][0]["message"]
    assert await InvitationExport.all().count() == 0


async def _bulk(prefix: str, count: int, group_id: int) -> None:
    await store_invitations(
        [
            new_invitation(
                f"{prefix}{i:05d}@example.org",
                first_name=f"First{i}",
                last_name=f"Last{i}",
                is_admin=i % 7 == 0,
                group_ids=[group_id],
            )
            for i in range(count)
        ]
    )


async def _peak_bytes(query: InvitationFilter, destination: Path) -> tuple[int, int]:
    tracemalloc.start()
    try:
        record = await write_export(
            query, exported_by=None, destination=destination, batch_size=500
        )
        return tracemalloc.get_traced_memory()[1], record.row_count
    finally:
        tracemalloc.stop()


async def test_a_large_export_streams_in_batches_with_flat_memory(
    admin: GraphQLClient, tmp_path: Path
) -> None:
    group = await create_group(title="Everyone", kind=GroupKind.MANUAL)
    await _bulk("small", 1000, group.id)
    await _bulk("large", 5000, group.id)

    response = await export(admin, search="large")
    rows = rows_of(response.content)
    assert len(rows) == 5000
    assert [row["email"] for row in rows] == [f"large{i:05d}@example.org" for i in range(5000)]
    assert len({row["token"] for row in rows}) == 5000
    assert all(row["groups"] == "Everyone" for row in rows)

    # Memory follows the batch, not the export: five times the rows, about the same peak.
    small_peak, small_count = await _peak_bytes(InvitationFilter(search="small"), tmp_path / "s")
    large_peak, large_count = await _peak_bytes(InvitationFilter(search="large"), tmp_path / "l")
    assert (small_count, large_count) == (1000, 5000)
    assert large_peak < small_peak * 1.5, (small_peak, large_peak)


async def test_batches_continue_after_the_last_id_without_gaps_or_repeats(
    admin: GraphQLClient, tmp_path: Path
) -> None:
    group = await create_group(title="Everyone", kind=GroupKind.MANUAL)
    await _bulk("row", 21, group.id)
    for batch_size in (1, 7, 20, 21, 22):
        path = tmp_path / f"export-{batch_size}.xlsx"
        record = await write_export(
            InvitationFilter(), exported_by=None, destination=path, batch_size=batch_size
        )
        assert record.row_count == 21
        emails = [row["email"] for row in rows_of(path.read_bytes())]
        assert emails == [f"row{i:05d}@example.org" for i in range(21)], batch_size


async def test_an_empty_export_is_a_sheet_with_its_header_only(admin: GraphQLClient) -> None:
    assert rows_of((await export(admin)).content) == []
    [record] = await InvitationExport.all()
    assert record.row_count == 0


async def test_the_download_file_has_no_name_on_disk_and_a_failed_export_leaves_nothing(
    admin: GraphQLClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    temporary = tmp_path / "temporary"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))  # this test's files only
    await create(admin, ["kept@example.org"], sendEmail=False)
    exported = await export_to_temporary_file(InvitationFilter(), exported_by=None)
    try:
        assert not Path(exported.file.name).exists()  # every token in clear: no name to find
        content = exported.file.read()
        assert len(content) == exported.size
        assert [row["email"] for row in rows_of(content)] == ["kept@example.org"]
    finally:
        exported.file.close()

    with pytest.raises(FileNotFoundError):
        await write_export(
            InvitationFilter(), exported_by=None, destination=tmp_path / "gone" / "x.xlsx"
        )
    assert list(temporary.iterdir()) == []
    assert await InvitationExport.all().count() == 1  # the first export only


async def test_new_columns_read_back_the_grants_message_delivery_link_and_registered_names(
    admin: GraphQLClient, gql: GraphQLClient
) -> None:
    """Every column past `address`, read back by openpyxl and by calamine (rows_of)."""
    for key, kind, options in (
        ("employer", FieldType.TEXT, []),
        ("household_size", FieldType.NUMBER, []),
        ("district", FieldType.SELECT, [{"key": "north", "title": "North"}]),
        ("newsletter", FieldType.CHECKBOX, []),
        ("birthday", FieldType.DATE, []),
        ("status", FieldType.TEXT, []),  # a key another column already has
    ):
        await create_registration_field(key=key, title=key.title(), type=kind, options=options)
    library = await create_project(title="Library")
    park = await create_project(title="park renovation")
    await named(
        Invitee(
            email="lea@example.org",
            registration_field_values={
                "employer": "=Acme",
                "household_size": "3.5",
                "district": "North",
                "newsletter": "yes",
                "birthday": "1990-02-28",
                "status": "retired",
            },
            postal_address="Léa Peeters\nKerkstraat 12\n9000 Gent",
            position=0,
        ),
        Invitee(email="bert@example.org", position=1),
        Invitee(email="carl@example.org", position=2),
        project_ids=[park.id, library.id],
        personal_message="Welcome, neighbour!\nSee you on Monday.",
    )
    await create(admin, ["dora@example.org"], sendEmail=False)
    await Invitation.filter(email="carl@example.org").update(
        delivery_state=DeliveryState.FAILED, last_error="550 5.1.1 <carl@example.org>: no such user"
    )
    listed = (await admin(LIST_TOKENS))["invitations"]["edges"]
    tokens = {edge["node"]["email"]: edge["node"]["token"] for edge in listed}
    accepted = await accept(gql, tokens["bert@example.org"], firstName="Bertrand", lastName="Smet")
    assert accepted["errors"] == []

    content = (await export(admin)).content
    header = load_workbook(io.BytesIO(content)).active[1]  # type: ignore[index]
    fields = ["employer", "household_size", "district", "newsletter", "birthday", "field:status"]
    assert [cell.value for cell in header][len(HEADER) :] == fields
    lea, bert, carl, dora = rows_of(content, fields=fields)
    link = f"{get_settings().public_url}/invite#token="
    message = "Welcome, neighbour!\nSee you on Monday."
    assert {name: value for name, value in lea.items() if name not in HEADER[:13]} == {
        "address": "Léa Peeters\nKerkstraat 12\n9000 Gent",
        "projects": "Library, park renovation",
        "personal_message": message,
        "failure_reason": None,
        "link": link + tokens["lea@example.org"],
        "registered_first_name": None,
        "registered_last_name": None,
        "registered_email": None,
        "employer": "'=Acme",
        "household_size": 3.5,
        "district": "north",
        "newsletter": True,
        "birthday": datetime(1990, 2, 28),
        "field:status": "retired",
    }
    assert (bert["status"], bert["link"], bert["first_name"]) == ("Accepted", None, None)
    assert (bert["registered_first_name"], bert["registered_last_name"]) == ("Bertrand", "Smet")
    assert bert["projects"] == "Library, park renovation"
    assert bert["personal_message"] == message
    assert carl["delivery"] == "Failed"
    assert carl["failure_reason"] == "550 5.1.1 <carl@example.org>: no such user"
    assert carl["link"] == link + tokens["carl@example.org"]  # the token still works: a letter
    assert dora["projects"] is None and dora["personal_message"] is None
    assert all(dora[name] is None for name in fields)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<hyperlink" not in sheet and "<f" not in sheet  # links are text, never run

    clock.advance(timedelta(days=31))
    expired = rows_of((await export(admin, status="expired")).content, fields=fields)
    assert [(row["email"], row["link"]) for row in expired] == [
        ("lea@example.org", None),
        ("carl@example.org", None),
        ("dora@example.org", None),
    ]


async def test_an_export_that_fails_midway_leaves_no_rows_on_disk(
    admin: GraphQLClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    temporary = tmp_path / "temporary"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))  # this test's files only
    group = await create_group(title="Everyone", kind=GroupKind.MANUAL)
    await _bulk("row", 5, group.id)
    # A token encrypted with a key that is gone cannot be exported: the export stops there.
    last = await Invitation.all().order_by("-id").first()
    assert last is not None
    await Invitation.filter(id=last.id).update(token_encrypted="bm90LWVuY3J5cHRlZC1ieS11cw==")
    with pytest.raises(ValueError, match="cannot decrypt"):
        await write_export(
            InvitationFilter(), exported_by=None, destination=tmp_path / "x.xlsx", batch_size=1
        )
    assert list(temporary.iterdir()) == []
    assert await InvitationExport.all().count() == 0


WORDS = {
    "nl-BE": {
        "group": "Bewoners Noordlaan",
        "north": "Noordlaan",
        "accepted": "Aanvaard",
        "pending": "Openstaand",
        "not_sent": "Niet gemaild",
        "sheet": "Uitleg",
        "token": "De code van de uitnodiging",
        "dates": "Datums en tijden staan in UTC",
        "field": 'Registratieveld "Wijk"',
        "file": "uitnodigingen",
    },
    "fr-BE": {
        "group": "Résidents avenue du Nord",
        "north": "Avenue du Nord",
        "accepted": "Acceptée",
        "pending": "En attente",
        "not_sent": "Pas envoyée par e-mail",
        "sheet": "Explications",
        "token": "Le code de l'invitation",
        "dates": "Les dates et heures sont en UTC",
        "field": "Champ d'inscription « Quartier »",
        "file": "liste-des-invitations",
    },
}


@pytest.mark.parametrize("locale", ["nl-BE", "fr-BE"])
async def test_an_export_in_the_admins_language_shows_what_a_letters_person_registered(
    admin: GraphQLClient, locale: str
) -> None:
    """The console's language with the download: status and delivery in its words, groups by
    its titles, a sheet about the columns; the first row keeps the keys mail merges read. An
    accepted letter shows the account the person made and their answers."""
    words = WORDS[locale]
    group = await create_group(
        title="North Avenue Residents",
        kind=GroupKind.MANUAL,
        titles={"nl-BE": "Bewoners Noordlaan", "fr-BE": "Résidents avenue du Nord"},
    )
    await create_registration_field(
        key="neighbourhood",
        title="Neighbourhood",
        titles={"nl-BE": "Wijk", "fr-BE": "Quartier"},
        type=FieldType.SELECT,
        options=[
            {
                "key": "north",
                "title": "North Avenue",
                "titles": {"nl-BE": "Noordlaan", "fr-BE": "Avenue du Nord"},
            },
            {"key": "south", "title": "South Avenue"},
        ],
    )
    generated = (await admin(GENERATE, {"count": 2, "options": {"groupIds": [str(group.id)]}}))[
        "generateInvitationCodes"
    ]
    used, waiting = generated["invitations"]
    person = await User.create(
        email="an.peeters@example.org",
        first_name="An",
        last_name="Peeters",
        locale=locale,
        password_hash="-",
        email_confirmed_at=datetime.now(UTC),
        registration_field_values={"neighbourhood": "north"},
    )
    await Invitation.filter(id=int(used["id"])).update(
        status="accepted", accepted_at=await clock.now(), accepted_user_id=person.id
    )

    response = await export(admin, lang=locale)
    assert response.headers["content-language"] == locale
    today = (await clock.now()).date().isoformat()
    assert response.headers["content-disposition"] == (
        f'attachment; filename="{words["file"]}-{today}.xlsx"'
    )
    accepted, pending = rows_of(response.content, fields=["neighbourhood"])
    assert (accepted["status"], accepted["delivery"], accepted["groups"]) == (
        words["accepted"],
        words["not_sent"],
        words["group"],
    )
    assert (accepted["email"], accepted["first_name"], accepted["link"]) == (None, None, None)
    assert (
        accepted["registered_first_name"],
        accepted["registered_last_name"],
        accepted["registered_email"],
        accepted["neighbourhood"],
    ) == ("An", "Peeters", "an.peeters@example.org", "north")
    assert (pending["status"], pending["token"]) == (words["pending"], waiting["token"])
    assert pending["registered_email"] is None and pending["neighbourhood"] is None
    made = await Invitation.get(id=int(used["id"])).values_list("created_at", flat=True)
    assert accepted["created_at"] == utc(made)  # UTC, as the sheet about the columns says

    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["invitations", words["sheet"]]
    about = [[cell for cell in row] for row in book[words["sheet"]].iter_rows(values_only=True)]
    text = "\n".join(" | ".join(str(cell) for cell in row if cell) for row in about)
    assert words["dates"] in text
    meanings = {row[0]: row[1] for row in about if row[0] in [*HEADER, "neighbourhood"]}
    assert set(meanings) == {*HEADER, "neighbourhood"}
    assert meanings["token"].startswith(words["token"])
    assert meanings["neighbourhood"].startswith(words["field"])
    assert f"north = {words['north']}" in meanings["neighbourhood"]
    assert [words["accepted"], "accepted"] in [list(row[:2]) for row in about]
    # LibreOffice, when there is one, opens the file and reads both sheets.
    converted = _libreoffice_csv(response.content)
    if converted is not None:
        assert words["accepted"] in converted and "an.peeters@example.org" in converted

    # Without the console's language: the admin's own (English here), whatever the browser.
    english = await admin.http.get(
        "/invitations/export.xlsx",
        headers={"Authorization": f"Bearer {admin.token}", "Accept-Language": locale},
    )
    assert english.headers["content-language"] == "en"
    assert [row["status"] for row in rows_of(english.content, ["neighbourhood"])] == [
        "Accepted",
        "Pending",
    ]
    assert load_workbook(io.BytesIO(english.content)).sheetnames == ["invitations", "About"]


def _libreoffice_csv(content: bytes) -> str | None:
    """The first sheet as LibreOffice reads it (headless, as CSV), or None without it."""
    import shutil
    import subprocess

    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        return None
    with tempfile.TemporaryDirectory() as directory:
        source = Path(directory) / "export.xlsx"
        source.write_bytes(content)
        subprocess.run(
            [
                office,
                f"-env:UserInstallation=file://{directory}/profile",
                "--headless",
                "--convert-to",
                "csv:Text - txt - csv (StarCalc):44,34,76",
                "--outdir",
                directory,
                str(source),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        return (Path(directory) / "export.csv").read_text(encoding="utf-8")


def test_a_download_named_beyond_ascii_keeps_its_name_for_browsers_and_a_plain_one_for_others() -> (
    None
):
    assert attachment("uitnodigingen-2026-12-07.xlsx") == (
        'attachment; filename="uitnodigingen-2026-12-07.xlsx"'
    )
    assert attachment('invitations "été" 2026.xlsx') == (
        "attachment; filename=\"invitations '?t?' 2026.xlsx\";"
        " filename*=UTF-8''invitations%20%22%C3%A9t%C3%A9%22%202026.xlsx"
    )
