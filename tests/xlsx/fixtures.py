"""Writes the Excel workbooks the XLSX import test reads, with openpyxl: files made by
another tool than Verbund's own writer, as a member organisation's Excel would. Typed
cells: whole numbers, a number with a fraction, yes/no, dates. No organisation column: the
test imports them with an organisation's token, which means its own organisation.

Run from the repository root: python3 tests/xlsx/fixtures.py (needs openpyxl)."""
import datetime
import pathlib

import openpyxl

here = pathlib.Path(__file__).parent

book = openpyxl.Workbook()
sheet = book.active
sheet.title = "Ehrenamtliche"
sheet.append(["Externe ID", "Referenz", "Kapazität", "Sprachen", "Aktiv"])
sheet.append(["XL-1", "XL-Büro-1", 2, "de|uk", True])
sheet.append(["XL-2", "XL-Büro-2", 3.0, "de", False])
book.save(here / "volunteers.xlsx")

book = openpyxl.Workbook()
sheet = book.active
sheet.title = "Tandems"
sheet.append(["Externe ID", "Mentee", "Format", "Zielgruppe", "Status", "Angefragt am"])
sheet.append(["XL-M-1", "XL-T-1", "one_to_one", "refugees", "requested", datetime.date(2025, 12, 31)])
sheet["F2"].number_format = "DD.MM.YYYY"
# A capacity-like mistake: a fraction where a whole number belongs is refused by name.
bad = openpyxl.Workbook()
s = bad.active
s.append(["Externe ID", "Referenz", "Kapazität"])
s.append(["XL-3", "XL-Büro-3", 2.5])
bad.save(here / "volunteers-fraction.xlsx")
book.save(here / "mentorships.xlsx")
