"""Reads the workbooks the e2e tests exported (VERBUND_XLSX_DUMP) with openpyxl, a reader
independent of Verbund's own, and checks what Excel users rely on: one sheet named after
the resource (a statistic: `statistic` and `about`), a bold header row that stays in view,
typed cells — whole numbers as numbers, yes/no as booleans, dates as dates shown as
31.12.2025 — and a suppressed count as the symbol `.`.

Usage: python3 tests/xlsx/verify.py DIR"""
import datetime
import pathlib
import sys

import openpyxl

NUMBERS = {"version", "capacity", "weeklyHours", "amountCents", "contingentMentorships", "count", "amount"}
BOOLEANS = {"active", "published", "primary"}


def check(path: pathlib.Path) -> list[str]:
    problems = []
    book = openpyxl.load_workbook(path)
    kind = path.name.split("-")[0]
    expected = ["statistic", "about"] if kind == "statistic" else [kind]
    if book.sheetnames != expected:
        problems.append(f"sheets {book.sheetnames}, expected {expected}")
    sheet = book[book.sheetnames[0]]
    rows = list(sheet.iter_rows())
    header = [c.value for c in rows[0]]
    if not all(c.font.b for c in rows[0]):
        problems.append("the header row is not bold")
    if sheet.freeze_panes != "A2":
        problems.append(f"the header row does not stay in view ({sheet.freeze_panes})")
    cells = 0
    for row in rows[1:]:
        for name, cell in zip(header, row):
            v = cell.value
            if v is None:
                continue
            cells += 1
            if name in NUMBERS and not (isinstance(v, (int, float)) and not isinstance(v, bool)):
                if not (name == "count" and v == "."):
                    problems.append(f"{cell.coordinate} ({name}) is {v!r}, not a number")
            if name in BOOLEANS and not isinstance(v, bool):
                problems.append(f"{cell.coordinate} ({name}) is {v!r}, not yes/no")
            if name.endswith("On") and name != "On":
                if not isinstance(v, datetime.datetime):
                    problems.append(f"{cell.coordinate} ({name}) is {v!r}, not a date")
                elif cell.number_format.lower() != "dd.mm.yyyy":
                    problems.append(f"{cell.coordinate} ({name}) shows as {cell.number_format}")
    if cells == 0:
        problems.append("no cells")
    return [f"{path.name}: {p}" for p in problems]


def main() -> int:
    files = sorted(pathlib.Path(sys.argv[1]).glob("*.xlsx"))
    kinds = {f.name.split("-")[0] for f in files}
    problems = [p for f in files for p in check(f)]
    for p in problems[:20]:
        print(p)
    print(f"openpyxl: {len(files)} workbooks ({', '.join(sorted(kinds))}), {len(problems)} problems")
    if not {"volunteers", "mentorships", "statistic"} <= kinds:
        print("expected workbooks of volunteers, mentorships and a statistic", file=sys.stderr)
        return 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
