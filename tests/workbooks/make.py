"""Makes the workbooks in this folder with the writers people use: openpyxl, xlsxwriter,
pandas, LibreOffice (headless) and gnumeric's ssconvert. The files are committed, so the tests
need none of these writers; run this by hand after changing it, then commit what it wrote:

    apt-get install libreoffice-calc-nogui gnumeric
    .tools/bin/uv run --no-project --with openpyxl --with xlsxwriter --with pandas \\
        python tests/workbooks/make.py

Each file is described in MANIFEST below (the tests read the same names).
"""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import pandas
import xlsxwriter
from openpyxl import Workbook

HERE = Path(__file__).resolve().parent
HEADER = ["email", "first_name", "last_name", "language", "groups", "admin"]

MANIFEST = {
    "openpyxl-formulas.xlsx": "openpyxl: formulas in the email, admin and groups columns and"
    " =NA(), written without results (<v />), as openpyxl always does",
    "libreoffice-formulas.xlsx": "the same, opened and saved by LibreOffice: every formula has"
    " its result, =NA() is the error #N/A",
    "openpyxl-note-in-bj.xlsx": "openpyxl: 22 rows and a note in column BJ of row 5",
    "xlsxwriter-note-in-bj.xlsx": "xlsxwriter: the same",
    "gnumeric-note-in-bj.xlsx": "ssconvert: the same, converted from CSV",
    "power-query.xlsx": "xlsxwriter, with the customXml item Excel adds for a Power Query:"
    " UTF-16 with a byte-order mark",
    "power-query-doctype.xlsx": "the same, its UTF-16 item declaring an entity",
    "pandas-3000-bad-addresses.xlsx": "pandas: 3,000 rows whose address is not one",
    "xlsxwriter-chart-first.xlsx": "xlsxwriter: a chart sheet, then the invitees' worksheet",
    "xlsxwriter-hidden-first.xlsx": "xlsxwriter: a hidden worksheet of notes, then the invitees",
    "libreoffice-hidden-first.xlsx": "LibreOffice: the same, converted from xlsxwriter's",
    "libreoffice-no-macros.xlsm": "LibreOffice: an .xlsm (macro-enabled type) with no macros",
    "libreoffice-merged-groups.xlsx": "LibreOffice, from openpyxl's: four people, the groups"
    " cell 'Bewoners Noordlaan' merged over the first three rows (C2:C4)",
    "libreoffice-hidden-rows.xlsx": "LibreOffice, from openpyxl's: six people under an"
    " autofilter, row 3 hidden by hand, rows 5 and 6 filtered out",
    "xlsxwriter-screenshot.xlsx": "xlsxwriter: the template's rows and a 5.5 MiB bitmap"
    " screenshot, which packs 818 to 1, as well as a zip bomb",
    "backslash-paths.xlsx": "openpyxl's file packed again with Windows paths (xl\\workbook.xml)",
    "minimal-package.xlsx": "openpyxl's file with only the parts calamine needs: no"
    " [Content_Types].xml, docProps, styles or theme",
}


def openpyxl_file(rows: list[list[object]], title: str = "Invitations") -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def xlsxwriter_file(write: Callable[[xlsxwriter.Workbook], None]) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    write(book)
    book.close()
    return buffer.getvalue()


def soffice(source: Path, target_dir: Path, to: str = "xlsx") -> Path:
    profile = Path(tempfile.mkdtemp(prefix="lo-profile-"))
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            to,
            "--outdir",
            str(target_dir),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    shutil.rmtree(profile, ignore_errors=True)
    return target_dir / (source.stem + "." + to.split(":")[0])


def note_rows() -> list[list[object]]:
    rows: list[list[object]] = [HEADER]
    for i in range(1, 22):
        rows.append([f"person{i}@example.org", f"Person {i}", "Peeters", "nl-BE", None, None])
    return rows


def repack(
    content: bytes,
    rename: Callable[[str], str] | None = None,
    keep: Callable[[str], bool] | None = None,
) -> bytes:
    """The parts of `content` in a new zip, renamed and filtered."""
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            if keep is not None and not keep(entry.filename):
                continue
            name = rename(entry.filename) if rename else entry.filename
            target.writestr(name, source.read(entry.filename))
    return buffer.getvalue()


POWER_QUERY_ITEM = (
    '<?xml version="1.0" encoding="utf-16"?>'
    '<DataMashup xmlns="http://schemas.microsoft.com/DataMashup">'
    "AAAAAEQDAABQSwMEFAACAAgA</DataMashup>"
)


def with_custom_xml(content: bytes, item: str) -> bytes:
    """Adds customXml/item1.xml (UTF-16 with a BOM, as Excel writes it) and its properties."""
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            data = source.read(entry.filename)
            if entry.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/'
                    b'officeDocument/2006/relationships/customXml" Target="../customXml/'
                    b'item1.xml"/></Relationships>',
                )
            target.writestr(entry.filename, data)
        target.writestr("customXml/item1.xml", item.encode("utf-16"))
        target.writestr(
            "customXml/itemProps1.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="no"?>'
            '<ds:datastoreItem ds:itemID="{7A1B7B8C-0000-4000-8000-000000000001}"'
            ' xmlns:ds="http://schemas.openxmlformats.org/officeDocument/2006/customXml">'
            "<ds:schemaRefs/></ds:datastoreItem>",
        )
        target.writestr(
            "customXml/_rels/item1.xml.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/customXmlProps" Target="itemProps1.xml"/></Relationships>',
        )
    return buffer.getvalue()


def bitmap(width: int = 1600, height: int = 1200) -> bytes:
    """A 24-bit BMP, white but for a blue block: a screenshot of a mostly empty window."""
    pixels = bytearray(b"\xff" * 3 * width * height)
    for y in range(100, 300):
        start = (y * width + 100) * 3
        pixels[start : start + 300 * 3] = b"\x20\x60\xa0" * 300
    header = b"BM" + struct.pack("<IHHI", 54 + len(pixels), 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, len(pixels), 2835, 2835, 0, 0)
    return header + info + bytes(pixels)


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="workbooks-"))
    files: dict[str, bytes] = {}

    formulas = openpyxl_file(
        [
            HEADER,
            ['=LOWER("ANN@EXAMPLE.ORG")', "Ann", "Peeters", "nl-BE", None, None],
            ["bob@example.org", "Bob", "Maes", "nl-BE", None, "=TRUE()"],
            ["cas@example.org", "Cas", "Goossens", "nl-BE", '="Volunteers"', None],
            ["dirk@example.org", "=NA()", "Wouters", "nl-BE", None, None],
        ]
    )
    files["openpyxl-formulas.xlsx"] = formulas
    (work / "formulas.xlsx").write_bytes(formulas)
    saved = soffice(work / "formulas.xlsx", work / "lo")
    files["libreoffice-formulas.xlsx"] = saved.read_bytes()

    notes = note_rows()
    noted = [list(row) for row in notes]
    noted[4] = noted[4] + [None] * (61 - len(noted[4])) + ["called back: see Mieke"]
    files["openpyxl-note-in-bj.xlsx"] = openpyxl_file(noted)

    def note_in_bj(book: xlsxwriter.Workbook) -> None:
        sheet = book.add_worksheet("Invitations")
        for r, row in enumerate(notes):
            sheet.write_row(r, 0, row)
        sheet.write(4, 61, "called back: see Mieke")

    files["xlsxwriter-note-in-bj.xlsx"] = xlsxwriter_file(note_in_bj)
    csv = "\n".join(",".join("" if v is None else str(v) for v in row) for row in noted) + "\n"
    (work / "notes.csv").write_text(csv)
    subprocess.run(
        ["ssconvert", str(work / "notes.csv"), str(work / "notes.xlsx")],
        check=True,
        capture_output=True,
    )
    files["gnumeric-note-in-bj.xlsx"] = (work / "notes.xlsx").read_bytes()

    def plain(book: xlsxwriter.Workbook) -> None:
        sheet = book.add_worksheet("Invitations")
        sheet.write_row(0, 0, HEADER)
        sheet.write_row(1, 0, ["eva@example.org", "Eva", "Claes", "nl-BE"])

    plain_file = xlsxwriter_file(plain)
    files["power-query.xlsx"] = with_custom_xml(plain_file, POWER_QUERY_ITEM)
    files["power-query-doctype.xlsx"] = with_custom_xml(
        plain_file,
        POWER_QUERY_ITEM.replace(
            "<DataMashup", '<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><DataMashup'
        ),
    )

    frame = pandas.DataFrame(
        {
            "email": [f"person {i} at example.org" for i in range(3000)],
            "first_name": [f"Person {i}" for i in range(3000)],
        }
    )
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False, engine="xlsxwriter", sheet_name="Invitations")
    files["pandas-3000-bad-addresses.xlsx"] = buffer.getvalue()

    def chart_first(book: xlsxwriter.Workbook) -> None:
        chartsheet = book.add_chartsheet("Chart")
        sheet = book.add_worksheet("Invitations")
        sheet.write_row(0, 0, HEADER)
        sheet.write_row(1, 0, ["fien@example.org", "Fien", "Jacobs", "nl-BE"])
        sheet.write_row(2, 0, ["gert@example.org", "Gert", "Mertens", "nl-BE"])
        chart = book.add_chart({"type": "column"})
        chart.add_series({"values": "=Invitations!$A$2:$A$3"})
        chartsheet.set_chart(chart)
        sheet.activate()

    files["xlsxwriter-chart-first.xlsx"] = xlsxwriter_file(chart_first)

    def hidden_first(book: xlsxwriter.Workbook) -> None:
        notes_sheet = book.add_worksheet("Notes")
        notes_sheet.write(0, 0, "Ask Mieke before sending")
        notes_sheet.hide()
        sheet = book.add_worksheet("Invitations")
        sheet.write_row(0, 0, HEADER)
        sheet.write_row(1, 0, ["hanne@example.org", "Hanne", "Willems", "nl-BE"])
        sheet.activate()

    hidden = xlsxwriter_file(hidden_first)
    files["xlsxwriter-hidden-first.xlsx"] = hidden
    (work / "hidden.xlsx").write_bytes(hidden)
    files["libreoffice-hidden-first.xlsx"] = soffice(work / "hidden.xlsx", work / "lo").read_bytes()

    (work / "plain.xlsx").write_bytes(plain_file)
    files["libreoffice-no-macros.xlsm"] = soffice(
        work / "plain.xlsx", work / "xlsm", "xlsm:Calc MS Excel 2007 VBA XML"
    ).read_bytes()

    merged = Workbook()
    sheet = merged.active
    sheet.append(["email", "first_name", "groups"])
    for number in range(1, 5):
        sheet.append([f"person{number}@example.org", f"P{number}", None])
    sheet["C2"] = "Bewoners Noordlaan"
    sheet.merge_cells("C2:C4")
    merged.save(work / "merged.xlsx")
    files["libreoffice-merged-groups.xlsx"] = soffice(
        work / "merged.xlsx", work / "lo"
    ).read_bytes()

    hidden_rows = Workbook()
    sheet = hidden_rows.active
    sheet.append(["email", "first_name"])
    for number in range(1, 7):
        sheet.append([f"person{number}@example.org", f"P{number}"])
    sheet.auto_filter.ref = "A1:B7"
    for row in (3, 5, 6):  # person2 by hand, person4 and person5 filtered out
        sheet.row_dimensions[row].hidden = True
    hidden_rows.save(work / "hidden-rows.xlsx")
    files["libreoffice-hidden-rows.xlsx"] = soffice(
        work / "hidden-rows.xlsx", work / "lo"
    ).read_bytes()

    def screenshot(book: xlsxwriter.Workbook) -> None:
        sheet = book.add_worksheet("Invitations")
        sheet.write_row(0, 0, HEADER)
        sheet.write_row(1, 0, ["jonas@example.org", "Jonas", "Lambert", "fr-BE"])
        sheet.insert_image("H2", "screenshot.bmp", {"image_data": io.BytesIO(bitmap())})

    files["xlsxwriter-screenshot.xlsx"] = xlsxwriter_file(screenshot)

    simple = openpyxl_file([HEADER, ["ilse@example.org", "Ilse", "Dubois", "fr-BE"]])
    files["backslash-paths.xlsx"] = repack(simple, rename=lambda name: name.replace("/", "\\"))
    needed = ("_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels")
    files["minimal-package.xlsx"] = repack(
        simple, keep=lambda name: name in needed or name.startswith("xl/worksheets/")
    )

    assert set(files) == set(MANIFEST), set(files) ^ set(MANIFEST)
    for name, content in files.items():
        (HERE / name).write_bytes(content)
        print(f"{name}: {len(content):,} bytes")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
