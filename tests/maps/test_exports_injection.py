"""Formula injection: an applicant's title must reach the planner's CSV and XLSX as text, never as
a live formula; numbers stay numeric cells. Hostile titles go through the real submission and the
planner's export page."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from maps.exports import export
from tests.factories import submit

pytestmark = pytest.mark.django_db

HYPERLINK = '=HYPERLINK("http://evil.example/","x")'
# Each starts with a character a spreadsheet evaluates (or that hides one), plus control characters
# an XLSX file cannot hold at all.
HOSTILE_TITLES = [
    HYPERLINK,
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "＝HYPERLINK(\"http://evil.example/\")",
    "bell\x07and\x01nul",
]


def _csv(client) -> list[list[str]]:
    response = client.get(reverse("planner-applications"), {"format": "csv"})
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.content.decode("utf-8").lstrip("\ufeff"), newline="")))


def test_hostile_titles_are_text_in_the_planners_csv_and_xlsx(users, client_as):
    apps = [submit(users["applicant"], title=t, documents=False) for t in HOSTILE_TITLES]
    client = client_as("planner")
    table = _csv(client)
    header, body = table[0], table[1:]
    title_col, area_col = header.index("Title"), header.index("Site area (m²)")
    titles = {row[header.index("Reference")]: row[title_col] for row in body}
    for app in apps:
        cell = titles[app.reference]
        assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r", "＝"), repr(cell)
    assert titles[apps[0].reference] == "'" + HYPERLINK
    # the area is a plain number, not quoted text that a spreadsheet would have to guess at
    for row in body:
        float(row[area_col])
    response = client.get(reverse("planner-applications"), {"format": "xlsx"})
    assert response.status_code == 200
    raw = zipfile.ZipFile(io.BytesIO(response.content))
    sheet_xml = raw.read("xl/worksheets/sheet1.xml").decode()
    # no formula anywhere in the sheet
    assert "<f>" not in sheet_xml
    assert "<f " not in sheet_xml
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows())
    header = [c.value for c in rows[0]]
    title_col, area_col, ref_col = header.index("Title"), header.index("Site area (m²)"), header.index("Reference")
    cells = {r[ref_col].value: r for r in rows[1:]}
    link = cells[apps[0].reference][title_col]
    assert (link.data_type, link.value, link.quotePrefix) == ("s", HYPERLINK, True)
    for app in apps:
        row = cells[app.reference]
        assert row[title_col].data_type == "s"
        assert row[area_col].data_type == "n"
        assert row[area_col].value == pytest.approx(app.site_area_m2, abs=0.01)
    assert cells[apps[-1].reference][title_col].value == "bell\ufffdand\ufffdnul"


def test_numbers_stay_numbers_and_negative_numbers_are_not_escaped():
    columns = [("name", "Name"), ("m2", "m²"), ("n", "count")]
    rows = [{"name": "-5", "m2": -3.5, "n": 7}, {"name": "@x", "m2": 0.25, "n": None}]
    text = export(fmt="csv", filename="t", columns=columns, rows=rows).content.decode("utf-8").lstrip("\ufeff")
    assert list(csv.reader(io.StringIO(text))) == [["Name", "m²", "count"], ["'-5", "-3.5", "7"], ["'@x", "0.25", ""]]
    book = load_workbook(io.BytesIO(export(fmt="xlsx", filename="t", columns=columns, rows=rows).content)).active
    values = [[(c.data_type, c.value) for c in r] for r in book.iter_rows(min_row=2)]
    assert values[0] == [("s", "-5"), ("n", -3.5), ("n", 7)]
    assert values[1][0] == ("s", "@x")
