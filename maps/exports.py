"""Query results as downloads: CSV (UTF-8 with BOM, so Excel reads the Chinese), XLSX (openpyxl)
and GeoJSON. Rows are dicts with the same keys as `columns`.

Cells carry applicants' text (titles, purposes) into the planner's spreadsheet, so no text may
become a formula there (CSV/formula injection, OWASP): numbers are written as numbers, every other
value as text, and text starting with = + - @ tab or CR is neutralised (a leading apostrophe in
CSV; an explicit string cell with Excel's quote prefix in XLSX, which shows the text unchanged).
"""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal
from typing import Any

from django.http import HttpResponse

FORMATS = ("csv", "xlsx", "geojson")

# First characters that make Excel, LibreOffice or Google Sheets read a cell as a formula (or, for
# tab and CR, that let one slip past a naive check). Full-width ＝＋－＠ are converted by some IMEs
# and spreadsheet locales, so they are treated the same.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
# Control characters an XLSX file cannot hold (openpyxl would raise): replaced, never a 500.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _is_number(value: Any) -> bool:
    # bool is an int subclass but is not a quantity
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _text(value: Any) -> str:
    return "" if value is None else _XML_ILLEGAL.sub("\ufffd", str(value))


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_TRIGGERS)


def csv_cell(value: Any) -> str | int | float | Decimal:
    """A value for csv.writer: numbers stay numbers; text that a spreadsheet would evaluate gets a
    leading apostrophe (Excel hides it and shows the text)."""
    if _is_number(value):
        return value
    text = _text(value)
    return "'" + text if is_formula_like(text) else text


def _xlsx_row(sheet, values: list[Any]) -> None:
    """Appends one row with typed cells: numeric cells for numbers, string cells for the rest."""
    from openpyxl.cell.cell import Cell

    cells = []
    for value in values:
        if _is_number(value):
            cell = Cell(sheet, value=float(value) if isinstance(value, Decimal) else value)
        else:
            text = _text(value)
            cell = Cell(sheet, value=text)
            # openpyxl turns any string starting with "=" into a formula: force a plain string
            cell.data_type = "s"
            if is_formula_like(text):
                cell.quotePrefix = True
        cells.append(cell)
    sheet.append(cells)


def export(*, fmt: str, filename: str, columns: list[tuple[str, str]], rows: list[dict[str, Any]],
           features: list[dict[str, Any]] | None = None) -> HttpResponse:
    """`columns`: (key, header) pairs. For GeoJSON, `features` (with properties) are written instead."""
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([csv_cell(h) for _k, h in columns])
        for row in rows:
            writer.writerow([csv_cell(row.get(k, "")) for k, _h in columns])
        response = HttpResponse(("\ufeff" + buffer.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8")
    elif fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        sheet.title = filename[:31]
        _xlsx_row(sheet, [h for _k, h in columns])
        for row in rows:
            _xlsx_row(sheet, [row.get(k, "") for k, _h in columns])
        out = io.BytesIO()
        book.save(out)
        response = HttpResponse(out.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    elif fmt == "geojson":
        body = {"type": "FeatureCollection", "features": features or []}
        response = HttpResponse(json.dumps(body, ensure_ascii=False).encode("utf-8"), content_type="application/geo+json")
    else:
        raise ValueError(f"unknown export format {fmt!r}")
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response
