"""Excel files for the import tests: made by openpyxl, or byte by byte where openpyxl cannot
(cached formula results, error cells, hostile files), and the GraphQL upload."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import httpx
from openpyxl import Workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = ["email", "first_name", "last_name", "language", "groups", "admin"]

IMPORT = """
mutation($file: Upload!, $defaults: InvitationOptionsInput) {
  importInvitations(file: $file, defaults: $defaults) {
    invitationImport { id status fileName fileSize }
    errors { code message field row value }
  }
}
"""

IMPORT_STATE = """
query($id: ID!) {
  invitationImport(id: $id) {
    id status fileName fileSize rowsTotal rowsProcessed
    invitedCount existingUsersUpdatedCount skippedCount
    errors { code message field row value }
    createdBy { email }
    startedAt finishedAt
  }
}
"""


def workbook(*rows: list[Any], title: str = "Invitations") -> bytes:
    """An .xlsx written by openpyxl: the first row is the header."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels"'
    ' ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="{workbook_type}"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml"'
    ' ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
WORKBOOK_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
MACRO_WORKBOOK_TYPE = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    ' xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Invitations" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)


def sheet_xml(rows: str, *, doctype: str = "") -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{doctype}'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{rows}</sheetData></worksheet>"
    )


def text_cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def header_row(columns: list[str] = HEADER, row: int = 1) -> str:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    cells = "".join(text_cell(f"{letters[i]}{row}", name) for i, name in enumerate(columns))
    return f'<row r="{row}">{cells}</row>'


def handmade(
    rows: str,
    *,
    sheet: str | None = None,
    workbook_type: str = WORKBOOK_TYPE,
    extra: dict[str, bytes | str] | None = None,
    compression: int = zipfile.ZIP_DEFLATED,
) -> bytes:
    """A minimal workbook written part by part, with the first sheet's rows as given."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        archive.writestr(
            "[Content_Types].xml", _CONTENT_TYPES.replace("{workbook_type}", workbook_type)
        )
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet or sheet_xml(rows))
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# Hostile files


def zip_bomb() -> bytes:
    """A workbook whose sheet inflates a thousandfold: 200 MiB of blanks inside the markup."""
    padding = " " * (200 * 1024 * 1024)
    return handmade("", sheet=sheet_xml(header_row() + f"<row r='2'>{padding}</row>"))


def lying_zip_bomb() -> bytes:
    """A sheet that declares 1 KiB but inflates to 50 MiB (sizes patched after writing)."""
    content = handmade("", sheet=sheet_xml(header_row() + " " * (50 * 1024 * 1024)))
    archive = zipfile.ZipFile(io.BytesIO(content))
    entry = archive.getinfo("xl/worksheets/sheet1.xml")
    real = entry.file_size.to_bytes(4, "little")
    return content.replace(real, (1024).to_bytes(4, "little"))


def entity_bomb() -> bytes:
    """Billion laughs: nine levels of ten references each, in the sheet."""
    levels = ['<!ENTITY lol0 "lol">']
    for level in range(1, 10):
        levels.append(f'<!ENTITY lol{level} "{f"&lol{level - 1};" * 10}">')
    doctype = f"<!DOCTYPE worksheet [{''.join(levels)}]>"
    rows = header_row() + '<row r="2">' + text_cell("B2", "&lol9;") + "</row>"
    return handmade("", sheet=sheet_xml(rows, doctype=doctype))


def macro_workbook() -> bytes:
    return handmade(
        header_row(),
        workbook_type=MACRO_WORKBOOK_TYPE,
        extra={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0" + b"\x00" * 512},
    )


def pdf_renamed() -> bytes:
    return b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def sparse_sheet() -> bytes:
    """5 KB that ask calamine for a grid of 17 billion cells: A1 and XFD1048576."""
    return handmade(header_row() + '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')


def upload_body(content: bytes, defaults: dict[str, Any] | None, file_name: str) -> dict[str, Any]:
    operations = {"query": IMPORT, "variables": {"file": None, "defaults": defaults}}
    return {
        "data": {
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.file"]}),
        },
        "files": {"0": (file_name, content, XLSX)},
    }


async def upload(
    http: httpx.AsyncClient,
    token: str | None,
    content: bytes,
    defaults: dict[str, Any] | None = None,
    *,
    preflight: bool = True,
    file_name: str = "invitations.xlsx",
) -> httpx.Response:
    """importInvitations as a GraphQL multipart request, the way a browser client sends it."""
    headers = {"Apollo-Require-Preflight": "true"} if preflight else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return await http.post("/graphql", headers=headers, **upload_body(content, defaults, file_name))


async def imported(admin: Any, content: bytes, **options: Any) -> Any:
    """Upload and run an import the way the mutation and the job do, without Redis: the
    import's record once it has run (`options` as the form gives them)."""
    from domain import outbox
    from domain.imports import service as imports
    from domain.invitations.service import InvitationOptions
    from domain.models import InvitationImport

    async with outbox.collect():
        record = await imports.start_import(
            admin=admin,
            file_name="people.xlsx",
            content=content,
            options=InvitationOptions(**options),
        )
        await imports.run_import(record.id)
    return await InvitationImport.get(id=record.id)
