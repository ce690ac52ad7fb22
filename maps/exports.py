"""Query results as downloads: CSV (UTF-8 with BOM, so Excel reads the Chinese), XLSX (openpyxl)
and GeoJSON. Rows are dicts with the same keys as `columns`."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from django.http import HttpResponse

FORMATS = ("csv", "xlsx", "geojson")


def export(*, fmt: str, filename: str, columns: list[tuple[str, str]], rows: list[dict[str, Any]],
           features: list[dict[str, Any]] | None = None) -> HttpResponse:
    """`columns`: (key, header) pairs. For GeoJSON, `features` (with properties) are written instead."""
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([h for _k, h in columns])
        for row in rows:
            writer.writerow([row.get(k, "") for k, _h in columns])
        response = HttpResponse(("\ufeff" + buffer.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8")
    elif fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        sheet.title = filename[:31]
        sheet.append([h for _k, h in columns])
        for row in rows:
            sheet.append([row.get(k, "") for k, _h in columns])
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
