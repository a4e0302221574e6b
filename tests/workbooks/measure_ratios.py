"""Measures how well real workbooks pack: the largest ratio of a part's unpacked size to its
packed size, which the import's zip-bomb limit (domain.imports.xlsx.Limits.max_ratio) must stay
well above. Writes large files in a temporary folder (nothing is kept); run by hand:

    .tools/bin/uv run --no-project --with openpyxl --with xlsxwriter --with pandas \\
        python tests/workbooks/measure_ratios.py

Needs LibreOffice (soffice) for one of them. Deflate itself packs at most about 1,030 to 1.
"""

from __future__ import annotations

import csv
import subprocess
import tempfile
import zipfile
from pathlib import Path

import xlsxwriter
from openpyxl import Workbook
from openpyxl.styles import PatternFill

HEADER = ["email", "first_name", "last_name", "language", "groups", "admin"]


def row(i: int) -> list[object]:
    return [f"person{i}@example.org", f"First{i}", f"Last{i % 977}", "nl-BE", "Volunteers", None]


def ratio(path: Path) -> tuple[float, str]:
    with zipfile.ZipFile(path) as archive:
        return max(
            (e.file_size / max(e.compress_size, 1), e.filename)
            for e in archive.infolist()
            if e.file_size > 1024 * 1024
        )


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="ratios-"))
    files = {}

    path = work / "xlsxwriter-100000.xlsx"
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, HEADER)
    for i in range(1, 100_001):
        sheet.write_row(i, 0, row(i))
    book.close()
    files["xlsxwriter, 100,000 template rows"] = path

    path = work / "openpyxl-100000.xlsx"
    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(HEADER)
    for i in range(1, 100_001):
        ws.append(row(i))
    wb.save(path)
    files["openpyxl, 100,000 template rows"] = path

    source = work / "lo-50000.csv"
    with source.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(1, 50_001):
            writer.writerow(row(i))
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{work}/profile",
            "--headless",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(work),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    files["LibreOffice, 50,000 template rows"] = work / "lo-50000.xlsx"

    # Excel (on the Mac especially) writes every formatted cell, even empty: a column
    # formatted or filled down the sheet gives long runs of <c r="G5" s="1"/>.
    path = work / "formatted-empty.xlsx"
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet()
    fill = book.add_format({"bg_color": "#FFF2CC", "border": 1})
    sheet.write_row(0, 0, HEADER)
    for i in range(1, 100_001):
        sheet.write_row(i, 0, row(i)[:4] if i <= 200 else [])
        for column in range(6, 16):
            sheet.write_blank(i, column, None, fill)
    book.close()
    files["xlsxwriter, 200 rows and 1,000,000 formatted empty cells"] = path

    path = work / "openpyxl-formatted-empty.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    yellow = PatternFill("solid", fgColor="FFF2CC")
    for i in range(2, 100_002):
        for column in range(7, 17):
            ws.cell(i, column).fill = yellow
    wb.save(path)
    files["openpyxl, 1,000,000 formatted empty cells"] = path

    from make import bitmap  # the screenshot in xlsxwriter-screenshot.xlsx

    path = work / "screenshot.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, HEADER)
    sheet.insert_image("H2", "screenshot.bmp", {"image_data": __import__("io").BytesIO(bitmap())})
    book.close()
    files["xlsxwriter, a bitmap screenshot"] = path

    for what, path in files.items():
        best, part = ratio(path)
        print(f"{what}: {path.stat().st_size / 2**20:.1f} MiB, {part} packs {best:.0f} to 1")


if __name__ == "__main__":
    main()
