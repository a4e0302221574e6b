"""A failed import's problems file for a 100,000-row upload with 1,000 problems.

What runs: `write_problems_workbook`, what GET /invitations/imports/{id}/problems.xlsx runs
(the upload read by calamine, every row written back with openpyxl's write-only mode, the
problem cells marked with a fill and a comment, the list of problems on a second sheet).
The floor, in the same run: the same rows read and written the same way, with no marks and no
list. Median of 3.
"""

from __future__ import annotations

import io
import os
import statistics
import tempfile
import time
from pathlib import Path

ROWS = int(os.environ.get("BENCH_PROBLEMS_ROWS", "100000"))
PROBLEMS = 1000


def _upload() -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Invitations")
    sheet.append(["email", "first_name", "last_name", "language", "groups", "admin"])
    for i in range(ROWS):
        sheet.append([f"person.{i}@example.org", "Lea", f"Peeters {i}", "nl-BE", "North", False])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _time(run: object) -> float:
    samples = []
    for _ in range(3):
        started = time.perf_counter()
        run()  # type: ignore[operator]
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> list[tuple[str, float]]:
    os.environ.setdefault("INVITES_ENV", "test")
    os.environ.setdefault("INVITES_SECRET_KEY", "bench-secret-key-" + "x" * 40)
    from openpyxl import Workbook

    from domain.errors import ErrorCode, Problem
    from domain.imports.problems_file import write_problems_workbook
    from domain.imports.xlsx import Limits, read_first_sheet
    from domain.settings import get_settings

    limits = Limits.from_settings(get_settings())
    upload = _upload()
    step = max(ROWS // PROBLEMS, 1)
    problems = [
        Problem(ErrorCode.INVALID_EMAIL, "Not a valid address.", "email", row=row, value="x")
        for row in range(2, ROWS + 2, step)
    ][:PROBLEMS]
    destination = Path(tempfile.mkstemp(suffix=".xlsx")[1])

    def floor() -> None:
        book = Workbook(write_only=True)
        sheet = book.create_sheet("Invitations")
        for row in read_first_sheet(upload, limits).rows:
            sheet.append(row)
        book.save(destination)

    def problems_file() -> None:
        write_problems_workbook(destination, problems, upload, limits)

    try:
        floor_seconds = _time(floor)
        seconds = _time(problems_file)
        size = destination.stat().st_size
    finally:
        destination.unlink(missing_ok=True)
    print(
        f"problems file for {ROWS:,} rows with {len(problems):,} problems (median of 3):"
        f" {seconds:.2f} s, {size / 2**20:.1f} MiB; floor (read and write the rows unmarked)"
        f" {floor_seconds:.2f} s: {seconds / floor_seconds:.2f}x the floor"
    )
    return [("problems file", seconds), ("floor", floor_seconds)]


if __name__ == "__main__":
    main()
