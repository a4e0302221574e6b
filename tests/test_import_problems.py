"""The imports list, and a failed import's problems as a workbook: the upload's rows with each
problem cell marked, to fix in place and upload again."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from domain import i18n, outbox
from domain.clock import clock
from domain.imports import service as imports
from domain.models import ImportStatus, InvitationImport, User
from domain.users.service import create_admin
from tests.fixtures import SIGN_IN, GraphQLClient
from tests.import_helpers import HEADER, IMPORT_STATE, workbook
from tests.import_helpers import upload as upload_file
from tests.invitations_helpers import sample_platform

STATE = IMPORT_STATE.replace("startedAt finishedAt", "startedAt finishedAt problemsFileUrl")
IMPORTS = """
query($first: Int!, $after: String, $filter: InvitationImportFilterInput) {
  invitationImports(first: $first, after: $after, filter: $filter) {
    totalCount
    edges { cursor node { id fileName status invitedCount createdBy { email } createdAt } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


async def imported(
    admin: GraphQLClient, http: httpx.AsyncClient, run_worker: Any, content: bytes, name: str
) -> dict[str, Any]:
    response = await upload_file(http, admin.token, content, file_name=name)
    queued = response.json()["data"]["importInvitations"]["invitationImport"]
    await run_worker()
    result: dict[str, Any] = (await admin(STATE, {"id": queued["id"]}))["invitationImport"]
    return result


def download_path(record: dict[str, Any]) -> str:
    url = record["problemsFileUrl"]
    assert url.startswith("https://participate.example.org/invitations/imports/")
    return str(url.removeprefix("https://participate.example.org"))


async def test_a_failed_imports_problems_come_back_in_its_rows_to_fix_in_place(
    admin: GraphQLClient, http: httpx.AsyncClient, run_worker: Any
) -> None:
    await sample_platform()
    rows = [
        [],  # the header may start lower down: rows keep their numbers
        [*HEADER, "neighbourhood"],
        ["lea@example.org", "Lea", "-Janssens", "nl-BE", None, None, "north"],
        ["not-an-address", "Tom", "Maes", None, "Nowhere", None, None],
        ["ann@example.org", "Ann", None, "xx", None, "maybe", "west"],
        [],
        ["bob@example.org", "Bob", "=not a formula", None, None, True, None],
    ]
    written = load_workbook(io.BytesIO(workbook(*rows)))
    written.active["C7"].data_type = "s"  # text that looks like a formula, as Excel keeps it
    content = io.BytesIO()
    written.save(content)
    failed = await imported(admin, http, run_worker, content.getvalue(), "North campaign.xlsx")
    assert failed["status"] == "FAILED"
    assert {(e["row"], e["field"]) for e in failed["errors"]} == {
        (4, "email"),
        (4, "groups"),
        (5, "language"),
        (5, "admin"),
        (5, "neighbourhood"),
    }
    assert await InvitationImport.filter(content__isnull=False).count() == 1  # kept for this

    response = await http.get(
        download_path(failed), headers={"Authorization": f"Bearer {admin.token}"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-disposition"] == (
        'attachment; filename="North campaign-problems.xlsx"'
    )
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Invitations", "Problems"]
    sheet = book["Invitations"]
    # The admin's values, each where it was, text as text.
    assert [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2, max_row=3)] == [
        [*HEADER, "neighbourhood"],
        ["lea@example.org", "Lea", "-Janssens", "nl-BE", None, None, "north"],
    ]
    assert sheet["C7"].value == "=not a formula" and sheet["C7"].data_type == "s"
    assert sheet["F7"].value is True
    marked = {
        cell.coordinate: cell.comment.text
        for row in sheet.iter_rows()
        for cell in row
        if cell.comment is not None
    }
    assert set(marked) == {"A4", "E4", "D5", "F5", "G5"}
    # Each problem as the console words it (its value is the cell's, and the list's).
    assert marked["A4"] == "This is not a valid email address."
    assert marked["E4"] == "This group does not exist."
    assert marked["D5"] == "This is not one of the platform's languages: en, nl-BE, fr-BE."
    assert sheet["A4"].fill.fgColor.rgb.endswith("FFC7CE")
    listed = [[cell.value for cell in row] for row in book["Problems"].iter_rows()]
    assert listed[0] == ["row", "column", "cell", "value", "code", "problem"]
    assert sorted((r[0], r[1], r[2], r[4]) for r in listed[1:]) == [
        (4, "email", "A4", "INVALID_EMAIL"),
        (4, "groups", "E4", "UNKNOWN_GROUP"),
        (5, "admin", "F5", "MALFORMED_ADMIN_VALUE"),
        (5, "language", "D5", "UNKNOWN_LOCALE"),
        (5, "neighbourhood", "G5", "MALFORMED_FIELD_VALUE"),
    ]
    assert [r[3:] for r in listed[1:] if r[2] == "E4"] == [
        ["Nowhere", "UNKNOWN_GROUP", "This group does not exist."]
    ]

    # Fixed in place, and uploaded as it is: the marks and the second sheet are no obstacle.
    sheet["A4"] = "tom@example.org"
    sheet["E4"] = "North Avenue Residents"
    sheet["D5"], sheet["F5"], sheet["G5"] = "fr-BE", "FALSE", "south"
    fixed = io.BytesIO()
    book.save(fixed)
    done = await imported(admin, http, run_worker, fixed.getvalue(), "North campaign.xlsx")
    assert done["status"] == "DONE", done["errors"]
    assert (done["invitedCount"], done["skippedCount"], done["problemsFileUrl"]) == (4, 1, None)


PROBLEMS_WORDS = {
    "nl-BE": {
        "sheets": ["Uitnodigingen", "Problemen"],
        "header": ["rij", "kolom", "cel", "waarde", "probleemcode", "probleem"],
        "A3": "Dit is geen geldig e-mailadres.",
        "D4": "Dit is geen taal van het platform: en, nl-BE, fr-BE.",
        "F4": "Schrijf TRUE of FALSE in de kolom admin.",
        "author": "Import van uitnodigingen",
        "not_kept": "Het opgeladen bestand wordt niet meer bewaard",
    },
    "fr-BE": {
        "sheets": ["Liste des invitations", "Problèmes"],
        "header": ["ligne", "colonne", "cellule", "valeur", "code du problème", "problème"],
        "A3": "Ce n'est pas une adresse e-mail valide.",
        "D4": "Ce n'est pas une des langues de la plateforme : en, nl-BE, fr-BE.",
        "F4": "Écrivez TRUE ou FALSE dans la colonne admin.",
        "author": "Import d'invitations",
        "not_kept": "Le fichier téléversé n'est plus conservé",
    },
}


@pytest.mark.parametrize("locale", ["nl-BE", "fr-BE"])
async def test_the_problems_file_says_what_the_console_says_in_the_admins_language(
    admin: GraphQLClient, http: httpx.AsyncClient, run_worker: Any, locale: str
) -> None:
    words = PROBLEMS_WORDS[locale]
    rows = [
        HEADER,
        ["lea@example.org", "Lea", None, "nl-BE", None, None],
        ["not-an-address", "Tom", None, None, None, None],
        ["ann@example.org", "Ann", None, "xx", None, "maybe"],
    ]
    failed = await imported(admin, http, run_worker, workbook(*rows), "North.xlsx")
    assert failed["status"] == "FAILED"
    bearer = {"Authorization": f"Bearer {admin.token}"}
    # The console's link names the page's language; the admin's account is in English.
    response = await http.get(f"{download_path(failed)}?lang={locale}", headers=bearer)
    assert response.status_code == 200, response.text
    assert response.headers["content-language"] == locale
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == words["sheets"]
    sheet, listing = book.worksheets
    comments = {
        cell.coordinate: cell.comment
        for row in sheet.iter_rows()
        for cell in row
        if cell.comment is not None
    }
    assert {place: comment.text for place, comment in comments.items()} == {
        place: words[place] for place in ("A3", "D4", "F4")
    }
    assert {comment.author for comment in comments.values()} == {words["author"]}
    for problem in failed["errors"]:  # the very words of the console's catalog
        key = f"admin.problem.{problem['code']}"
        assert i18n.catalog(locale)(key, languages="en, nl-BE, fr-BE") in words.values()
    listed = [[cell.value for cell in row] for row in listing.iter_rows()]
    assert listed[0] == words["header"]
    assert sorted((r[2], r[3], r[4], r[5]) for r in listed[1:]) == [
        ("A3", "not-an-address", "INVALID_EMAIL", words["A3"]),
        ("D4", "xx", "UNKNOWN_LOCALE", words["D4"]),
        ("F4", "maybe", "MALFORMED_ADMIN_VALUE", words["F4"]),
    ]

    # Fixed in place and uploaded as it is, whatever its sheets are called.
    sheet["A3"], sheet["D4"], sheet["F4"] = "tom@example.org", locale, "FALSE"
    fixed = io.BytesIO()
    book.save(fixed)
    done = await imported(admin, http, run_worker, fixed.getvalue(), "North.xlsx")
    assert (done["status"], done["invitedCount"]) == ("DONE", 3), done["errors"]

    # With nothing to mark, the list alone, its note in the same language: here the admin's
    # own, as the link names none.
    await User.filter(email="admin@participate.example.org").update(locale=locale)
    empty = await imported(admin, http, run_worker, workbook(), "empty.xlsx")
    response = await http.get(download_path(empty), headers=bearer)
    assert response.headers["content-language"] == locale
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == words["sheets"][1:]
    listed = [[cell.value for cell in row] for row in book.worksheets[0].iter_rows()]
    assert listed[1][4] == "MISSING_COLUMN"
    assert listed[-1][5].startswith(words["not_kept"])


async def test_the_problems_file_lists_only_once_the_upload_is_forgotten_or_unreadable(
    admin: GraphQLClient, http: httpx.AsyncClient, run_worker: Any
) -> None:
    bearer = {"Authorization": f"Bearer {admin.token}"}
    rows = [HEADER, ["not-an-address"]]
    failed = await imported(admin, http, run_worker, workbook(*rows), "a.xlsx")
    # A problem with the file as a whole: nothing to mark, so the upload goes at once.
    no_email = await imported(admin, http, run_worker, workbook(), "b.xlsx")  # empty
    assert no_email["status"] == "FAILED" and no_email["errors"][0]["code"] == "MISSING_COLUMN"
    assert await InvitationImport.filter(content__isnull=False).count() == 1

    clock.advance(timedelta(days=6))
    async with outbox.collect():
        await imports.recover_imports()
    assert await InvitationImport.filter(content__isnull=False).count() == 1
    clock.advance(timedelta(days=2))  # past INVITES_IMPORT_PROBLEMS_FILE_DAYS (7)
    async with outbox.collect():
        await imports.recover_imports()
    assert await InvitationImport.filter(content__isnull=False).count() == 0

    for record in (failed, no_email):
        response = await http.get(download_path(record), headers=bearer)
        assert response.status_code == 200
        book = load_workbook(io.BytesIO(response.content))
        assert book.sheetnames == ["Problems"]
        listed = [[cell.value for cell in row] for row in book["Problems"].iter_rows()]
        assert listed[1][4] in ("INVALID_EMAIL", "MISSING_COLUMN")
        assert "no longer kept" in listed[-1][5]

    done = await imported(admin, http, run_worker, workbook(HEADER, ["c@example.org"]), "c.xlsx")
    refused = await http.get(f"/invitations/imports/{done['id']}/problems.xlsx", headers=bearer)
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["message"].startswith("This import has not failed")
    for missing in ("999999", "abc"):
        unknown = await http.get(f"/invitations/imports/{missing}/problems.xlsx", headers=bearer)
        assert unknown.status_code == 404


async def test_the_imports_list_pages_newest_first_with_who_and_how_it_went(
    admin: GraphQLClient, gql: GraphQLClient, http: httpx.AsyncClient, run_worker: Any
) -> None:
    await create_admin(email="second@participate.example.org", password="second admin pass 77")
    signed = await gql(
        SIGN_IN, {"email": "second@participate.example.org", "password": "second admin pass 77"}
    )
    second = gql.as_user(signed["signIn"]["session"]["token"])
    for number in range(3):
        content = workbook(HEADER, [f"p{number}@example.org"])
        await imported(admin, http, run_worker, content, f"list-{number}.xlsx")
        clock.advance(timedelta(minutes=1))
    await imported(second, http, run_worker, workbook(HEADER, ["bad"]), "second.xlsx")

    names: list[str] = []
    after = None
    while True:
        page = (await admin(IMPORTS, {"first": 3, "after": after}))["invitationImports"]
        assert page["totalCount"] == 4
        names.extend(edge["node"]["fileName"] for edge in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert names == ["second.xlsx", "list-2.xlsx", "list-1.xlsx", "list-0.xlsx"]

    failed = await admin(IMPORTS, {"first": 10, "filter": {"status": "FAILED"}})
    [edge] = failed["invitationImports"]["edges"]
    assert edge["node"]["createdBy"] == {"email": "second@participate.example.org"}
    mine_id = (await User.get(email="admin@participate.example.org")).id
    mine = await admin(IMPORTS, {"first": 10, "filter": {"createdById": str(mine_id)}})
    assert mine["invitationImports"]["totalCount"] == 3
    assert {e["node"]["invitedCount"] for e in mine["invitationImports"]["edges"]} == {1}
    wrong = await admin.post(IMPORTS, {"first": 1, "after": "nope"})
    assert "cursor" in wrong["errors"][0]["message"]
    assert await InvitationImport.filter(status=ImportStatus.DONE).count() == 3
