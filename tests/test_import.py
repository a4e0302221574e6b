"""Importing invitations from Excel, end to end: the template, the upload over GraphQL multipart,
the worker, the progress, then the invitations and their mails. And who may do it."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from domain.clock import clock
from domain.groups.service import create_group
from domain.models import (
    GroupKind,
    Invitation,
    InvitationImport,
    Membership,
    RegistrationField,
    Role,
    User,
)
from domain.users.service import create_admin
from tests.fixtures import SIGN_IN, GraphQLClient, SmtpSink
from tests.import_helpers import (
    HEADER,
    IMPORT,
    IMPORT_STATE,
    XLSX,
    entity_bomb,
    lying_zip_bomb,
    macro_workbook,
    pdf_renamed,
    sparse_sheet,
    upload,
    workbook,
    zip_bomb,
)
from tests.invitations_helpers import create, enqueue_sweep, sample_platform

LIST = """
query($filter: InvitationFilterInput) {
  invitations(filter: $filter, first: 50, orderBy: {field: EMAIL, direction: ASC}) {
    totalCount
    edges { node {
      email firstName lastName locale sendEmail token
      delivery { state }
      grants { admin projects { title } groups { title } registrationFieldValues { key value } }
    } }
  }
}
"""


async def platform() -> dict[str, Any]:
    return await sample_platform()


async def state(admin: GraphQLClient, import_id: str) -> dict[str, Any]:
    data = await admin(IMPORT_STATE, {"id": import_id})
    result: dict[str, Any] = data["invitationImport"]
    return result


async def test_an_uploaded_file_is_imported_by_a_worker_and_its_invitations_are_mailed(
    admin: GraphQLClient, http: httpx.AsyncClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    data = await platform()
    content = workbook(
        [*HEADER, "neighbourhood"],
        ["lea@example.org", "Lea", "Janssens", "nl-BE", "Northerners", None, "north"],
        ["Tom@Example.org", "Tom", "Maes", None, None, "TRUE", None],
        [None, None, None, None, None, None, None],
        [None, "Letter", "Only", "fr-BE", "north avenue residents", None, None],
    )
    response = await upload(
        http,
        admin.token,
        content,
        {"groupIds": [str(data["manual"].id)], "projectIds": [str(data["project"].id)]},
        file_name="campaign.xlsx",
    )
    assert response.status_code == 200, response.text
    payload = response.json()["data"]["importInvitations"]
    assert payload["errors"] == []
    queued = payload["invitationImport"]
    assert queued["status"] == "QUEUED"
    assert queued["fileName"] == "campaign.xlsx" and queued["fileSize"] == len(content)
    assert await Invitation.all().count() == 0  # the worker does the work

    await run_worker()

    done = await state(admin, queued["id"])
    assert done["status"] == "DONE", done["errors"]
    assert (done["rowsTotal"], done["rowsProcessed"]) == (4, 4)
    assert (done["invitedCount"], done["existingUsersUpdatedCount"], done["skippedCount"]) == (
        3,
        0,
        1,
    )
    assert done["errors"] == [] and done["createdBy"] == {"email": "admin@participate.example.org"}
    assert await InvitationImport.filter(content__isnull=False).count() == 0  # upload dropped

    listed = (await admin(LIST, {"filter": {"importId": queued["id"]}}))["invitations"]
    assert listed["totalCount"] == 3
    by_email = {edge["node"]["email"]: edge["node"] for edge in listed["edges"]}
    lea, tom, letter = by_email["lea@example.org"], by_email["tom@example.org"], by_email[None]
    # A filled-in groups cell replaces the form's groups; a blank one keeps them.
    assert [g["title"] for g in lea["grants"]["groups"]] == ["Northerners"]
    assert lea["grants"]["registrationFieldValues"] == [
        {"key": "neighbourhood", "value": '"north"'}
    ]
    assert [g["title"] for g in tom["grants"]["groups"]] == ["North Avenue Residents"]
    assert tom["grants"]["admin"] is True and lea["grants"]["admin"] is False
    assert tom["grants"]["projects"] == [{"title": "Riverside park"}]  # the form's only
    assert (lea["locale"], tom["locale"], letter["locale"]) == ("nl-BE", "en", "fr-BE")
    assert (letter["firstName"], letter["sendEmail"], letter["delivery"]["state"]) == (
        "Letter",
        False,
        "NOT_SENT",
    )
    assert letter["token"]

    assert sorted(r for mail in smtp_sink.mails for r in mail.recipients) == [
        "lea@example.org",
        "tom@example.org",
    ]
    [mail] = smtp_sink.to("lea@example.org")
    assert mail.subject == "Ada Admin nodigt je uit op Participate Example"
    assert lea["token"] in mail.text


INVITER = """
query($filter: InvitationFilterInput) {
  invitations(filter: $filter, first: 5) { edges { node { email inviter { email } } } }
}
"""


async def test_an_imported_invitations_inviter_is_who_uploaded_the_file(
    admin: GraphQLClient,
    gql: GraphQLClient,
    http: httpx.AsyncClient,
    smtp_sink: SmtpSink,
    run_worker: Any,
    redis: Any,
) -> None:
    uploader = await create_admin(
        email="uploader@example.org",
        password="uploader passphrase 2026",
        first_name="Uma",
        last_name="Uploader",
    )
    signed_in = await gql(
        SIGN_IN, {"email": uploader.email, "password": "uploader passphrase 2026"}
    )
    token = signed_in["signIn"]["session"]["token"]
    content = workbook(HEADER, ["lea@example.org", "Lea"], ["tom@example.org", "Tom"])
    queued = (await upload(http, token, content)).json()["data"]["importInvitations"]
    import_filter = {"filter": {"importId": queued["invitationImport"]["id"]}}
    await run_worker()

    # Kept once, on the import: the rows themselves carry no inviter.
    assert await Invitation.filter(inviter_id__isnull=False).count() == 0
    listed = (await admin(INVITER, import_filter))["invitations"]["edges"]
    assert [edge["node"]["inviter"] for edge in listed] == [{"email": "uploader@example.org"}] * 2
    [mail] = smtp_sink.to("lea@example.org")
    assert mail.subject.startswith("Uma Uploader invites you")
    assert mail.message["Reply-To"] == "Uma Uploader <uploader@example.org>"

    clock.advance(timedelta(days=3, hours=1))
    await enqueue_sweep(redis)
    await run_worker()
    [_, reminder] = smtp_sink.to("lea@example.org")
    assert reminder.message["Reply-To"] == "Uma Uploader <uploader@example.org>"

    # Deleting the uploader forgets who invited, as it does for typed-in invitations.
    await User.filter(id=uploader.id).delete()
    listed = (await admin(INVITER, import_filter))["invitations"]["edges"]
    assert [edge["node"]["inviter"] for edge in listed] == [None, None]
    assert await Invitation.all().count() == 2


async def test_a_file_with_any_problem_imports_nothing_and_reports_every_row(
    admin: GraphQLClient, http: httpx.AsyncClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    await platform()
    content = workbook(
        HEADER,
        ["ok@example.org"],
        ["not-an-email", None, None, "xx"],
        ["dup@example.org"],
        ["DUP@example.org", None, None, None, "Nobody's group", "maybe"],
    )
    response = await upload(http, admin.token, content)
    import_id = response.json()["data"]["importInvitations"]["invitationImport"]["id"]
    await run_worker()
    failed = await state(admin, import_id)
    assert failed["status"] == "FAILED"
    assert {(e["code"], e["row"], e["field"], e["value"]) for e in failed["errors"]} == {
        ("INVALID_EMAIL", 3, "email", "not-an-email"),
        ("UNKNOWN_LOCALE", 3, "language", "xx"),
        ("DUPLICATE_EMAIL", 4, "email", "dup@example.org"),
        ("DUPLICATE_EMAIL", 5, "email", "DUP@example.org"),
        ("UNKNOWN_GROUP", 5, "groups", "Nobody's group"),
        ("MALFORMED_ADMIN_VALUE", 5, "admin", "maybe"),
    }
    assert failed["invitedCount"] == 0
    assert await Invitation.all().count() == 0 and smtp_sink.mails == []


async def test_progress_is_readable_while_queued_and_counts_rows(
    admin: GraphQLClient, http: httpx.AsyncClient, run_worker: Any
) -> None:
    rows = [[f"person{i}@example.org", f"First{i}", f"Last{i}"] for i in range(12_000)]
    response = await upload(http, admin.token, workbook(HEADER, *rows), {"sendEmail": False})
    import_id = response.json()["data"]["importInvitations"]["invitationImport"]["id"]
    queued = await state(admin, import_id)
    assert (queued["status"], queued["rowsTotal"], queued["rowsProcessed"]) == ("QUEUED", 0, 0)
    await run_worker()
    done = await state(admin, import_id)
    assert (done["status"], done["rowsTotal"], done["rowsProcessed"]) == ("DONE", 12_000, 12_000)
    assert done["invitedCount"] == 12_000
    assert done["startedAt"] <= done["finishedAt"]


async def _failed_import(
    admin: GraphQLClient, http: httpx.AsyncClient, run_worker: Any, rows: list[list[Any]]
) -> dict[str, Any]:
    """Upload these rows below the template's header, let the worker import them, and return
    the import's state, which must be FAILED."""
    response = await upload(http, admin.token, workbook(HEADER, *rows), {"sendEmail": False})
    import_id = response.json()["data"]["importInvitations"]["invitationImport"]["id"]
    await run_worker()
    failed = await state(admin, import_id)
    assert failed["status"] == "FAILED"
    return failed


async def test_problems_found_after_rows_were_stored_roll_the_whole_import_back(
    admin: GraphQLClient, http: httpx.AsyncClient, smtp_sink: SmtpSink, run_worker: Any
) -> None:
    """On PostgreSQL rows are stored while the next ones are checked: a problem only found
    later (a duplicate of an early row, an address invited before, checked after the rows were
    stored) still leaves nothing of the file behind."""
    data = await platform()
    await create(admin, ["invited.before@example.org"], sendEmail=False)
    rows: list[list[Any]] = [
        [f"person{i}@example.org", f"First{i}", f"Last{i}", None, "North Avenue Residents"]
        for i in range(7_000)
    ]
    rows[5_000][0] = "Invited.Before@example.org"  # sheet row 5,002
    rows[6_999][0] = "PERSON1@example.org"  # sheet row 7,001, a duplicate of row 3
    failed = await _failed_import(admin, http, run_worker, rows)
    assert {(e["code"], e["row"]) for e in failed["errors"]} == {
        ("DUPLICATE_EMAIL", 3),
        ("ALREADY_INVITED", 5_002),
        ("DUPLICATE_EMAIL", 7_001),
    }
    assert await Invitation.all().count() == 1  # the one invited before
    assert await data["manual"].invitation_grants.all().count() == 0  # no group grants either
    assert smtp_sink.mails == []


async def test_a_bad_cell_far_down_the_sheet_rolls_back_the_rows_stored_before_it(
    admin: GraphQLClient, http: httpx.AsyncClient, run_worker: Any
) -> None:
    """Rows are read, checked and stored part by part: a malformed cell and a value in a
    column without a header, read after thousands of rows were stored, fail the import and
    leave none of them."""
    data = await platform()
    rows: list[list[Any]] = [
        [f"person{i}@example.org", f"First{i}", f"Last{i}", None, "North Avenue Residents", None]
        for i in range(7_000)
    ]
    rows[6_500][5] = "maybe"  # sheet row 6,502
    rows[6_900].append("stray")  # sheet row 6,902, column G has no header
    failed = await _failed_import(admin, http, run_worker, rows)
    assert {(e["code"], e["row"]) for e in failed["errors"]} == {
        ("MALFORMED_ADMIN_VALUE", 6_502),
        ("UNKNOWN_COLUMN", 6_902),
    }
    assert failed["rowsTotal"] == 7_000
    assert await Invitation.all().count() == 0
    assert await data["manual"].invitation_grants.all().count() == 0


async def test_progress_moves_while_rows_are_stored_and_accounts_get_their_access(
    admin: GraphQLClient, http: httpx.AsyncClient, run_worker: Any
) -> None:
    """A poller sees rowsProcessed grow while the import runs, before anything is committed;
    an address with an account in the middle of the file updates that account instead."""
    data = await platform()
    member = await create_admin(email="member@example.org", password="a long passphrase 2026")
    rows: list[list[Any]] = [
        [f"person{i}@example.org", None, None, None, "North Avenue Residents"]
        for i in range(12_000)
    ]
    rows[6_000][0] = "Member@Example.org"
    response = await upload(http, admin.token, workbook(HEADER, *rows), {"sendEmail": False})
    import_id = int(response.json()["data"]["importInvitations"]["invitationImport"]["id"])
    seen: list[tuple[str, int, int]] = []

    async def poll() -> None:
        while True:
            # Counted first: still running after it means it was counted before the commit.
            invited = await Invitation.filter(invitation_import_id=import_id).count()
            record = await InvitationImport.get(id=import_id)
            seen.append((record.status.value, record.rows_processed, invited))
            if record.status.value in ("done", "failed"):
                return
            await asyncio.sleep(0.002)

    poller = asyncio.ensure_future(poll())
    await run_worker()
    await asyncio.wait_for(poller, 10)
    running = [(processed, invited) for status, processed, invited in seen if status == "running"]
    assert any(0 < processed < 12_000 for processed, _ in running), seen
    assert all(invited == 0 for _, invited in running)  # nothing visible before the commit
    done = await state(admin, str(import_id))
    assert (done["status"], done["invitedCount"], done["existingUsersUpdatedCount"]) == (
        "DONE",
        11_999,
        1,
    )
    assert await Invitation.filter(email="member@example.org").count() == 0
    assert await Membership.filter(group_id=data["manual"].id, user_id=member.id).exists()


async def test_an_upload_without_the_preflight_header_is_refused(
    admin: GraphQLClient, http: httpx.AsyncClient
) -> None:
    response = await upload(http, admin.token, workbook(HEADER, ["a@example.org"]), preflight=False)
    assert response.status_code == 400
    assert "apollo-require-preflight" in response.text
    assert await InvitationImport.all().count() == 0


async def test_request_bodies_are_bounded(admin: GraphQLClient, http: httpx.AsyncClient) -> None:
    from domain.settings import get_settings

    settings = get_settings()
    too_big = b"PK\x03\x04" + b"\x00" * (settings.import_max_file_bytes + 2 * 1024 * 1024)
    response = await upload(http, admin.token, too_big)
    assert response.status_code == 413
    json_body = b'{"query": "{ me { email } }", "pad": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    response = await http.post(
        "/graphql", content=json_body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413

    # Within the body limit but over the file limit: refused by the mutation itself.
    just_over = b"PK\x03\x04" + b"\x00" * settings.import_max_file_bytes
    payload = (await upload(http, admin.token, just_over)).json()["data"]["importInvitations"]
    assert payload["invitationImport"] is None
    assert [e["code"] for e in payload["errors"]] == ["FILE_TOO_LARGE"]
    assert await InvitationImport.all().count() == 0


async def test_a_body_sent_in_chunks_is_counted_as_it_arrives(
    admin: GraphQLClient, http: httpx.AsyncClient
) -> None:
    """No Content-Length to judge by: the body is counted as it streams in."""
    from domain.settings import get_settings

    limit = get_settings().max_request_body_bytes

    async def chunks(document: bytes, padding: int) -> AsyncIterator[bytes]:
        yield document[:-1] + b', "pad": "'
        for _ in range(padding // 65536):
            yield b"x" * 65536
        yield b'"}'

    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {admin.token}"}
    document = b'{"query": "{ me { email } }"}'
    too_big = await http.post("/graphql", content=chunks(document, limit + 65536), headers=headers)
    assert too_big.status_code == 413
    within = await http.post("/graphql", content=chunks(document, 65536), headers=headers)
    assert within.status_code == 200, within.text
    assert within.json()["data"]["me"]["email"]


async def test_files_that_are_not_workbooks_are_refused_at_upload(
    admin: GraphQLClient, http: httpx.AsyncClient
) -> None:
    for content, code in ((b"", "NOT_AN_XLSX_FILE"), (pdf_renamed(), "NOT_AN_XLSX_FILE")):
        payload = (await upload(http, admin.token, content)).json()["data"]["importInvitations"]
        assert [e["code"] for e in payload["errors"]] == [code]
        assert payload["errors"][0]["field"] == "file"
    assert await InvitationImport.all().count() == 0


async def test_hostile_workbooks_are_refused_by_the_worker_and_nothing_is_written(
    admin: GraphQLClient, http: httpx.AsyncClient, run_worker: Any
) -> None:
    corpus = {
        "zip bomb": (zip_bomb(), "UNPARSEABLE_FILE"),
        "lying zip bomb": (lying_zip_bomb(), "UNPARSEABLE_FILE"),
        "entity bomb": (entity_bomb(), "UNPARSEABLE_FILE"),
        "macros": (macro_workbook(), "NOT_AN_XLSX_FILE"),
        "sparse grid": (sparse_sheet(), "TOO_MANY_ROWS"),
    }
    ids = {}
    for name, (content, _) in corpus.items():
        payload = (await upload(http, admin.token, content)).json()["data"]["importInvitations"]
        assert payload["errors"] == [], name
        ids[name] = payload["invitationImport"]["id"]
    await run_worker()  # and the worker survives them all
    for name, (_, code) in corpus.items():
        failed = await state(admin, ids[name])
        assert failed["status"] == "FAILED", name
        assert [e["code"] for e in failed["errors"]] == [code], (name, failed["errors"])
    assert await Invitation.all().count() == 0


async def test_wrong_defaults_are_refused_at_upload(
    admin: GraphQLClient, http: httpx.AsyncClient
) -> None:
    content = workbook(HEADER, ["a@example.org"])
    defaults = {"groupIds": ["999999"], "locale": "xx", "personalMessage": "x" * 5000}
    payload = (await upload(http, admin.token, content, defaults)).json()["data"][
        "importInvitations"
    ]
    assert {e["code"] for e in payload["errors"]} == {
        "UNKNOWN_GROUP",
        "UNKNOWN_LOCALE",
        "MESSAGE_TOO_LONG",
    }
    assert payload["invitationImport"] is None


async def test_the_template_lists_the_columns_languages_groups_and_admin_values(
    admin: GraphQLClient, http: httpx.AsyncClient, run_worker: Any
) -> None:
    await platform()
    await create_group(title='=HYPERLINK("http://evil.example")', kind=GroupKind.MANUAL)
    response = await http.get(
        "/invitations/template.xlsx", headers={"Authorization": f"Bearer {admin.token}"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == XLSX
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-disposition"] == (
        'attachment; filename="invitations-template.xlsx"'
    )
    book = load_workbook(io.BytesIO(response.content))
    sheet, help_sheet = book.worksheets
    # The postal address comes after the fixed columns, before the registration fields.
    assert [c.value for c in sheet[1]] == [*HEADER, "address", "neighbourhood"]
    assert sheet["A2"].value == "jan.peeters@example.org"  # the example row
    assert sheet["G2"].value == "Jan Peeters\nKerkstraat 12 bus 3\n9000 Gent"
    help_text = [str(c.value) for row in help_sheet.iter_rows() for c in row if c.value]
    for expected in ("en", "nl-BE", "fr-BE", "TRUE", "FALSE", "North Avenue Residents"):
        assert expected in help_text
    assert any("field 'neighbourhood' is north" in text for text in help_text)
    assert any(text.startswith("A row without an email") for text in help_text)
    evil = next(
        c for row in help_sheet.iter_rows() for c in row if c.value and "HYPERLINK" in c.value
    )
    assert evil.data_type == "s"  # text, never a formula

    # Filled in and uploaded as it is, the example row is pointed out.
    buffer = io.BytesIO()
    book.save(buffer)
    payload = (await upload(http, admin.token, buffer.getvalue())).json()["data"]
    await run_worker()
    failed = await state(admin, payload["importInvitations"]["invitationImport"]["id"])
    assert [(e["code"], e["row"]) for e in failed["errors"]] == [("EXAMPLE_ROW", 2)]

    # With the example replaced by real rows, it imports.
    sheet.delete_rows(2)
    sheet.append(
        [
            "ann@example.org",
            "Ann",
            None,
            "fr-BE",
            "North Avenue Residents",
            False,
            " Ann Example\n\n Rue  Haute 1 \r\n1000 Bruxelles",
            "south",
        ]
    )
    buffer = io.BytesIO()
    book.save(buffer)
    payload = (await upload(http, admin.token, buffer.getvalue())).json()["data"]
    await run_worker()
    done = await state(admin, payload["importInvitations"]["invitationImport"]["id"])
    assert (done["status"], done["invitedCount"]) == ("DONE", 1)
    ann = await Invitation.get(email="ann@example.org")
    assert ann.postal_address == "Ann Example\nRue Haute 1\n1000 Bruxelles"
    assert ann.registration_field_values == {"neighbourhood": "south"}


# The template's name in the admin's language: beyond ASCII, as `filename*` (RFC 6266).
TEMPLATE_FILES = {
    "nl-BE": 'attachment; filename="sjabloon-uitnodigingen.xlsx"',
    "fr-BE": 'attachment; filename="mod?le-liste-des-invitations.xlsx";'
    " filename*=UTF-8''mod%C3%A8le-liste-des-invitations.xlsx",
}
TEMPLATE_WORDS = {
    "nl-BE": {
        "sheets": ["Uitnodigingen", "Zo vul je het in"],
        "headings": [
            "Kolommen",
            "Leeg e-mailadres",
            "Talen (kolom language)",
            "Groepen (kolom groups)",
        ],
        "email": "Het adres waarnaar de uitnodiging gemaild wordt.",
        "field": "Registratieveld 'Wijk'. Een van: north (Noord), south (South).",
        "smart": "Leden zijn wie voldoet aan: veld 'neighbourhood' is gelijk aan north.",
        "manual": "De persoon wordt lid van deze groep bij het aanvaarden.",
        "validation": "Gebruik een van de talen van het platform: en, nl-BE, fr-BE",
    },
    "fr-BE": {
        "sheets": ["Liste des invitations", "Comment le remplir"],
        "headings": [
            "Colonnes",
            "Adresse e-mail vide",
            "Langues (colonne language)",
            "Groupes (colonne groups)",
        ],
        "email": "L'adresse à laquelle l'invitation est envoyée.",
        "field": "Champ d'inscription « Neighbourhood ». L'une de ces valeurs : north (North),",
        "smart": "Les membres sont les personnes qui remplissent : champ « neighbourhood »"
        " est north.",
        "manual": "La personne rejoint ce groupe en acceptant l'invitation.",
        "validation": "Utilisez une des langues de la plateforme : en, nl-BE, fr-BE",
    },
}


@pytest.mark.parametrize("locale", ["nl-BE", "fr-BE"])
async def test_the_template_speaks_the_admins_language_and_imports_once_filled_in(
    admin: GraphQLClient, http: httpx.AsyncClient, run_worker: Any, locale: str
) -> None:
    await platform()
    field = await RegistrationField.get(key="neighbourhood")
    field.title_multiloc = {"nl-BE": "Wijk"}
    field.options = [
        {"key": "north", "title": "North", "title_multiloc": {"nl-BE": "Noord"}},
        {"key": "south", "title": "South"},
    ]
    await field.save()
    words = TEMPLATE_WORDS[locale]
    bearer = {"Authorization": f"Bearer {admin.token}"}
    # The console's link names the page's language; the admin's account is in English.
    response = await http.get(f"/invitations/template.xlsx?lang={locale}", headers=bearer)
    assert response.status_code == 200
    assert response.headers["content-language"] == locale
    assert response.headers["content-disposition"] == TEMPLATE_FILES[locale]
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == words["sheets"]
    sheet, help_sheet = book.worksheets
    # The headers are the import's names, in every language.
    assert [c.value for c in sheet[1]] == [*HEADER, "address", "neighbourhood"]
    lines = [[str(c.value) for c in row if c.value] for row in help_sheet.iter_rows()]
    texts = [" ".join(line) for line in lines]
    assert [line[0] for line in lines if len(line) == 1 and line[0] in words["headings"]] == (
        words["headings"]
    )
    assert any(text.startswith("email " + words["email"]) for text in texts)
    assert any(words["field"] in text for text in texts)
    assert any(text.startswith("Northerners") and words["smart"] in text for text in texts)
    assert any(
        text.startswith("North Avenue Residents") and words["manual"] in text for text in texts
    )
    assert not any("Registration field" in text or "Members are" in text for text in texts)
    language = next(v for v in sheet.data_validations.dataValidation if "D2" in str(v.sqref))
    assert language.error == words["validation"]

    # The same words come with the admin's own language when the link names none.
    await User.filter(email="admin@participate.example.org").update(locale=locale)
    again = await http.get("/invitations/template.xlsx", headers=bearer)
    assert again.headers["content-language"] == locale
    assert again.headers["content-disposition"] == TEMPLATE_FILES[locale]
    assert load_workbook(io.BytesIO(again.content)).sheetnames == words["sheets"]

    # Filled in, with its words left as they are, it imports.
    sheet.delete_rows(2)
    sheet.append(
        ["ann@example.org", "Ann", None, locale, "North Avenue Residents", "TRUE", None, "north"]
    )
    buffer = io.BytesIO()
    book.save(buffer)
    payload = (await upload(http, admin.token, buffer.getvalue())).json()["data"]
    await run_worker()
    done = await state(admin, payload["importInvitations"]["invitationImport"]["id"])
    assert (done["status"], done["invitedCount"]) == ("DONE", 1), done["errors"]
    ann = await Invitation.get(email="ann@example.org")
    assert (ann.locale, ann.is_admin, ann.registration_field_values) == (
        locale,
        True,
        {"neighbourhood": "north"},
    )


async def _signed_in_user(gql: GraphQLClient) -> str:
    user = await create_admin(email="plain@participate.example.org", password="plain user pass 123")
    await Role.filter(user_id=user.id).delete()
    data = await gql(SIGN_IN, {"email": user.email, "password": "plain user pass 123"})
    token: str = data["signIn"]["session"]["token"]
    return token


async def test_only_admins_may_upload_poll_or_download_the_template(
    admin: GraphQLClient, gql: GraphQLClient, http: httpx.AsyncClient
) -> None:
    content = workbook(HEADER, ["a@example.org"])
    mine = (await upload(http, admin.token, content)).json()["data"]["importInvitations"]
    import_id = mine["invitationImport"]["id"]
    user_token = await _signed_in_user(gql)
    message = "Only admins can do this."
    for token in (None, user_token):
        body = (await upload(http, token, content)).json()
        assert body["data"] is None and body["errors"][0]["message"] == message
        body = await gql.post(IMPORT_STATE, {"id": import_id}, token=token)
        assert body["data"]["invitationImport"] is None
        assert body["errors"][0]["message"] == message
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await http.get("/invitations/template.xlsx", headers=headers)
        assert response.status_code == (401 if token is None else 403)
        assert response.headers["cache-control"] == "no-store"
    assert await InvitationImport.all().count() == 1


async def test_a_file_sent_as_a_plain_value_is_answered_not_crashed(admin: GraphQLClient) -> None:
    body = await admin.post(IMPORT, {"file": "not a file"})
    payload = body["data"]["importInvitations"]
    assert [e["code"] for e in payload["errors"]] == ["INVALID_INPUT"]


async def test_a_look_alike_address_in_a_file_is_named_as_one(
    admin: GraphQLClient, http: httpx.AsyncClient, run_worker: Any
) -> None:
    """The import says why, and keeps saying it once the import is stored (its reason)."""
    await platform()
    look_alike = "admin@\u0435xample.org"  # a Cyrillic ie (U+0435)
    content = workbook(HEADER, ["ok@example.org"], [look_alike])
    response = await upload(http, admin.token, content)
    import_id = response.json()["data"]["importInvitations"]["invitationImport"]["id"]
    await run_worker()
    failed = await admin(
        """query($id: ID!) { invitationImport(id: $id) {
             status errors { code row message reason } } }""",
        {"id": import_id},
    )
    record = failed["invitationImport"]
    assert record["status"] == "FAILED"
    [error] = record["errors"]
    assert (error["code"], error["row"], error["reason"]) == ("INVALID_EMAIL", 3, "MIXED_SCRIPTS")
    assert "its domain mixes alphabets" in error["message"]
