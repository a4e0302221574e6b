"""A failed import says exactly what is wrong and how to fix it, in the admin's language: each
problem's reason and the values it names (the column, the template's columns, the cell, the
smart group's rule) reach the console and the problems file; a file with more problems than
are listed says how many there are. And what a cell may hold: a language alone, an address
as the typed form takes it."""

from __future__ import annotations

import io
import json
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from domain.groups.service import create_group
from domain.imports import service as imports
from domain.imports.problems_file import problems_file
from domain.invitations.addresses import split_entries
from domain.invitations.checks import problem_count
from domain.models import GroupKind, ImportStatus, Invitation, User
from tests.fixtures import GraphQLClient
from tests.import_helpers import (
    HEADER,
    handmade,
    header_row,
    imported,
    text_cell,
    upload_body,
    workbook,
)
from tests.import_helpers import upload as upload_file


async def listed(import_id: int, locale: str) -> list[tuple[Any, ...]]:
    """The problems sheet of the problems file in `locale`: (row, column, cell, value, code,
    problem) for each problem."""
    made = await problems_file(import_id, locale)
    book = load_workbook(io.BytesIO(made.file.read()))
    return [tuple(row) for row in book.worksheets[-1].iter_rows(min_row=2, values_only=True)]


async def smart_group() -> None:
    await create_group(
        title="Northerners",
        titles={"nl-BE": "Noorderlingen", "fr-BE": "Nordistes"},
        kind=GroupKind.SMART,
        rules=[{"attribute": "email_domain", "operator": "ends_with", "value": "example.org"}],
    )


NBSP_ADDRESS = "nb\u00a0sp@gent.example"


def rows_with_problems(group: str) -> bytes:
    """A sheet whose rows each hold one problem the import words precisely."""
    return handmade(
        header_row()
        + '<row r="3"><c r="A3"><f>LOWER(B3)</f></c>'
        + text_cell("B3", "Bob")
        + "</row>"
        + f'<row r="4">{text_cell("A4", "ümlaut@gent.example")}</row>'
        + f'<row r="5">{text_cell("A5", "smart@gent.example")}{text_cell("E5", group)}</row>'
        + f'<row r="6">{text_cell("A6", "dot@gent.example.")}</row>'
        + f'<row r="7">{text_cell("A7", NBSP_ADDRESS)}</row>'
        + f'<row r="8">{text_cell("A8", "g@gent.example")}{text_cell("G8", "stray")}</row>'
    )


ROW_WORDS = {
    "en": {
        "A3": "Cell A3 holds a formula whose result was never saved: open the file in Excel or"
        " LibreOffice and save it again, or type the value.",
        "A4": "The part before the @ of this address has characters beyond ASCII (such as ü or"
        " é), which the platform's mail relay does not take: ask the person for another"
        " address.",
        "E5": "\u2018Northerners\u2019 is a smart group: this person does not meet its rule"
        " “Email domain"
        " ends with example.org”. Fill in the registration field values the rule tests, or"
        " leave the group out.",
        "A6": "This address ends with \u2018.\u2019: delete that character.",
        "A7": "This address holds a non-breaking space (it shows as a space; copied from a web"
        " page or a document): delete it.",
        "G8": "Column G has values but no header: give it one of the template's headers, or"
        " delete it.",
    },
    "nl-BE": {
        "A3": "Cel A3 bevat een formule waarvan het resultaat nooit bewaard is: open het bestand"
        " in Excel of LibreOffice en bewaar het opnieuw, of typ de waarde.",
        "A4": "Het deel voor de @ van dit adres bevat tekens buiten ASCII (zoals ü of é), die de"
        " mailserver van het platform niet aanneemt: vraag de persoon een ander adres.",
        "E5": "\u2018Noorderlingen\u2019 is een slimme groep: deze persoon voldoet niet aan"
        " haar regel"
        " “E-maildomein eindigt op example.org”. Vul de waarden van de registratievelden in"
        " die de regel test, of laat de groep weg.",
        "A6": "Dit adres eindigt op \u2018.\u2019: verwijder dat teken.",
        "A7": "Dit adres bevat een vaste spatie (die ziet eruit als een spatie; gekopieerd uit"
        " een webpagina of een document): verwijder ze.",
        "G8": "Kolom G heeft waarden maar geen kop: geef ze een van de koppen van het sjabloon,"
        " of verwijder ze.",
    },
    "fr-BE": {
        "A3": "La cellule A3 contient une formule dont le résultat n'a jamais été enregistré :"
        " ouvrez le fichier dans Excel ou LibreOffice et enregistrez-le à nouveau, ou tapez la"
        " valeur.",
        "A4": "La partie avant le @ de cette adresse contient des caractères hors ASCII (comme ü"
        " ou é), que le relais de courrier de la plateforme n'accepte pas : demandez une autre"
        " adresse à la personne.",
        "E5": "« Nordistes » est un groupe intelligent : cette personne ne remplit pas sa règle"
        " « Domaine de l'e-mail se termine par example.org ». Remplissez les valeurs des"
        " champs d'inscription que la règle teste, ou retirez le groupe.",
        "A6": "Cette adresse se termine par « . » : supprimez ce caractère.",
        "A7": "Cette adresse contient une espace insécable (elle s'affiche comme une espace ;"
        " copiée d'une page web ou d'un document) : supprimez-la.",
        "G8": "La colonne G a des valeurs mais pas d'en-tête : donnez-lui un des en-têtes du"
        " modèle, ou supprimez-la.",
    },
}
TYPED_GROUP = {"en": "Northerners", "nl-BE": "Noorderlingen", "fr-BE": "Nordistes"}


@pytest.mark.parametrize("locale", ["en", "nl-BE", "fr-BE"])
async def test_row_problems_say_their_reason_in_the_admins_language(
    admin_user: User, locale: str
) -> None:
    await smart_group()
    record = await imported(admin_user, rows_with_problems(TYPED_GROUP[locale]))
    assert record.status is ImportStatus.FAILED
    found = {(e["code"], e["reason"], e["row"]) for e in record.errors}
    assert found == {
        ("INVALID_EMAIL", "FORMULA_NOT_SAVED", 3),
        ("EMAIL_NOT_DELIVERABLE", None, 4),
        ("SMART_GROUP_RULES_NOT_MET", "RULE_NOT_MET", 5),
        ("INVALID_EMAIL", "ENDS_WITH", 6),
        ("INVALID_EMAIL", "NON_BREAKING_SPACE", 7),
        ("UNKNOWN_COLUMN", "NO_HEADER", 8),
    }
    rows = await listed(record.id, locale)
    assert {row[2]: row[5] for row in rows} == ROW_WORDS[locale]
    # The value shown is the group as the admin wrote it, not its default title.
    assert [row[3] for row in rows if row[2] == "E5"] == [TYPED_GROUP[locale]]


async def test_an_unknown_header_names_the_templates_columns_on_the_api_and_in_the_file(
    admin: GraphQLClient, http: httpx.AsyncClient, run_worker: Any
) -> None:
    response = await upload_file(
        http, admin.token, workbook([*HEADER, "Telefoonnummer"], ["lea@gent.example"])
    )
    queued = response.json()["data"]["importInvitations"]["invitationImport"]
    await run_worker()
    answer = await admin(
        """query($id: ID!) { invitationImport(id: $id) {
            status errors { code reason field row value details { name value } } } }""",
        {"id": queued["id"]},
    )
    failed = answer["invitationImport"]
    assert failed["status"] == "FAILED"
    columns = "email, first_name, last_name, language, groups, admin, address"
    assert failed["errors"] == [
        {
            "code": "UNKNOWN_COLUMN",
            "reason": "NOT_A_COLUMN",
            "field": "G",
            "row": 1,
            "value": "Telefoonnummer",
            "details": [{"name": "column", "value": "G"}, {"name": "columns", "value": columns}],
        }
    ]
    rows = await listed(int(queued["id"]), "nl-BE")
    assert [row[5] for row in rows] == [
        f"Kolom G (\u2018Telefoonnummer\u2019) is geen kolom van het sjabloon: {columns}."
        " Geef ze een van die"
        " namen, of verwijder ze."
    ]


async def test_a_workbook_with_a_password_is_refused_with_its_reason(
    admin: GraphQLClient, http: httpx.AsyncClient
) -> None:
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4096
    body = upload_body(ole2, None, "locked.xlsx")
    operations = json.loads(body["data"]["operations"])
    operations["query"] = operations["query"].replace("row value }", "row value reason }")
    body["data"]["operations"] = json.dumps(operations)
    response = await http.post(
        "/graphql",
        headers={"Apollo-Require-Preflight": "true", "Authorization": f"Bearer {admin.token}"},
        **body,
    )
    errors = response.json()["data"]["importInvitations"]["errors"]
    assert [(e["code"], e["reason"]) for e in errors] == [("NOT_AN_XLSX_FILE", "OLD_OR_PROTECTED")]
    assert errors[0]["message"] == (
        "This is an old Excel file (.xls) or a workbook protected by a password: save it as an"
        " Excel Workbook (.xlsx) without a password."
    )


async def test_more_problems_than_are_listed_are_counted_in_the_admins_language(
    admin_user: User,
) -> None:
    record = await imported(
        admin_user, workbook(HEADER, *[[f"not-an-address-{n}"] for n in range(1003)])
    )
    assert record.status is ImportStatus.FAILED
    assert len(record.errors) == 1001
    marker = record.errors[-1]
    assert (marker["code"], marker["reason"]) == ("INVALID_INPUT", "MORE_PROBLEMS")
    assert dict(marker["details"]) == {"count": "3", "shown": "1000", "total": "1003"}
    assert problem_count(imports.problems_of(record)) == 1003
    words = {
        "en": "The first 1,000 of 1,003 problems are listed; 3 more problems are not: fix these"
        " and upload the file again to see them.",
        "nl-BE": "De eerste 1.000 van 1.003 problemen staan in de lijst; nog 3 problemen niet:"
        " verbeter deze en laad het bestand opnieuw op om ze te zien.",
        "fr-BE": "Les 1\u202f000 premiers des 1\u202f003 problèmes sont listés ; 3 autres"
        " problèmes ne le sont pas : corrigez ceux-ci et chargez à nouveau le fichier pour les"
        " voir.",
    }
    for locale, expected in words.items():
        rows = await listed(record.id, locale)
        assert len(rows) == 1001
        assert rows[-1][4:] == ("INVALID_INPUT", expected)


async def test_a_language_alone_in_any_case_is_its_first_platform_locale(
    admin_user: User,
) -> None:
    rows = [
        [f"{code.lower()}-{n}@example.org", None, None, code]
        for n, code in enumerate(["nl", "NL", "fr", "FR", "en", "Nl-be"])
    ]
    record = await imported(admin_user, workbook(HEADER, *rows))
    assert record.status is ImportStatus.DONE, record.errors
    locales = {i.email: i.locale for i in await Invitation.all()}
    assert locales == {
        "nl-0@example.org": "nl-BE",
        "nl-1@example.org": "nl-BE",
        "fr-2@example.org": "fr-BE",
        "fr-3@example.org": "fr-BE",
        "en-4@example.org": "en",
        "nl-be-5@example.org": "nl-BE",
    }


async def test_a_cell_takes_an_address_as_the_typed_form_does(admin_user: User) -> None:
    record = await imported(
        admin_user,
        workbook(
            HEADER,
            ["Jan Janssens <jan.janssens@gent.example>"],
            ["mailto:piet@gent.example", "Piet"],
            ["Lea Peeters <LEA@gent.example>", "Lea-Marie"],  # the name cells win
        ),
    )
    assert record.status is ImportStatus.DONE, record.errors
    people = {
        i.email: (i.first_name, i.last_name)
        for i in await Invitation.all()  # type: ignore[attr-defined]
    }
    assert people == {
        "jan.janssens@gent.example": ("Jan", "Janssens"),
        "piet@gent.example": ("Piet", ""),
        "lea@gent.example": ("Lea-Marie", "Peeters"),
    }
    # The typed form reads 'mailto:' the same way (one parser for both).
    assert [e.email for e in split_entries("mailto:an@gent.example; Bo <MAILTO:bo@x.example>")] == [
        "an@gent.example",
        "bo@x.example",
    ]
