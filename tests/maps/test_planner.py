"""Planners' queries: layer × layer per class pair (checked against an independent shapely
overlay), queries across applications, exports (CSV, XLSX, GeoJSON), the dashboard, denials."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook
from shapely.geometry import shape

from approvals.services import step_decide, window_accept
from approvals.workdays import TZ
from parcels.models import Division
from tests.factories import CHIBI_SITE, open_step, submit
from tests.geodesy import assert_area_close, geod_area_m2

pytestmark = pytest.mark.django_db


CROSS = {"layer_a": "permanent-farmland", "layer_b": "landuse-survey", "division": "421221"}


def test_layer_by_layer_matches_an_independent_overlay(client_as, demo_frames):
    response = client_as("planner").get(reverse("planner-layers"), CROSS)
    assert response.status_code == 200
    result = response.context["result"]
    county = shape(json.loads(Division.objects.get(code="421221").boundary.geojson))
    farmland, survey = demo_frames["permanent_farmland"], demo_frames["landuse_survey"]
    expected: dict[tuple[str, str], float] = {}
    for _i, a in farmland.iterrows():
        a_geom = a.geometry.intersection(county)
        for _j, b in survey[survey.intersects(a_geom)].iterrows():
            expected[(a.class_code, b.class_code)] = expected.get((a.class_code, b.class_code), 0.0) + geod_area_m2(a_geom.intersection(b.geometry))
    expected = {k: v for k, v in expected.items() if v > 0.01}
    got = {(r["class_a"], r["class_b"]): r["area_m2"] for r in result.rows}
    assert set(got) == set(expected)
    for key, area in expected.items():
        assert_area_close(got[key], area)
    html = response.content.decode()
    assert 'id="cross-table"' in html
    assert "<svg" in html  # the chart


def test_layer_by_layer_exports(client_as):
    client = client_as("planner")
    rows = client.get(reverse("planner-layers"), CROSS).context["result"].rows
    text = client.get(reverse("planner-layers"), {**CROSS, "format": "csv"}).content.decode("utf-8")
    assert text.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert table[0][0] == "Class (first layer)"
    assert len(table) == len(rows) + 1
    assert float(table[1][4]) == pytest.approx(rows[0]["area_m2"])
    book = load_workbook(io.BytesIO(client.get(reverse("planner-layers"), {**CROSS, "format": "xlsx"}).content))
    sheet = book.active
    assert sheet.max_row == len(rows) + 1
    assert sheet.cell(row=2, column=5).value == pytest.approx(rows[0]["area_m2"])
    geo = client.get(reverse("planner-layers"), {**CROSS, "format": "geojson"})
    assert geo["Content-Type"] == "application/geo+json"
    assert len(geo.json()["features"]) == len(rows)


def test_same_layer_twice_is_a_clear_400(client_as):
    response = client_as("planner").get(reverse("planner-layers"), {**CROSS, "layer_b": "permanent-farmland"})
    assert response.status_code == 400
    assert "Pick two different layers" in response.content.decode()


def test_applications_that_touch_farmland_and_approved_area_per_county(client_as, users):
    touching = submit(users["applicant"], title="占用农田", code="registration")
    elsewhere = submit(users["applicant"], title="赤壁项目", bbox=CHIBI_SITE, code="registration")
    window_accept(application=touching, by=users["clerk_jiayu"])
    step_decide(step=open_step(touching), by=users["reviewer_jiayu"], outcome="approved")
    client = client_as("planner")
    response = client.get(reverse("planner-applications"), {"year": dt.date.today().year, "layer": "permanent-farmland"})
    rows = response.context["rows"]
    assert [r["reference"] for r in rows] == [touching.reference]
    report = touching.overlap_reports.latest().result
    farmland = next(lr for lr in report["layers"] if lr["layer"] == "permanent-farmland")
    assert rows[0]["layer_overlap_m2"] == farmland["overlap_m2"]
    # the planner (Jiayu) does not see Chibi's application at all
    assert elsewhere.reference not in response.content.decode()
    approved = response.context["approved"]
    survey = next(lr for lr in report["layers"] if lr["layer"] == "landuse-survey")
    assert {a["division"] for a in approved} == {"嘉鱼县"}
    assert_area_close(sum(a["area_m2"] for a in approved), sum(c["area_m2"] for c in survey["classes"]))
    geo = client.get(reverse("planner-applications"), {"layer": "permanent-farmland", "format": "geojson"}).json()
    assert geo["features"][0]["properties"]["reference"] == touching.reference
    assert geo["features"][0]["geometry"]["type"] == "MultiPolygon"


@pytest.mark.parametrize("url_name", ["planner-layers", "planner-applications", "planner-overlap"])
def test_planner_pages_are_for_planners(client_as, url_name):
    assert client_as("applicant").get(reverse(url_name)).status_code == 403
    assert client_as("reviewer_jiayu").get(reverse(url_name)).status_code == 403


def test_dashboard_counts_and_overdue_list(client_as, users):
    with time_machine.travel(dt.datetime(2026, 11, 2, 9, tzinfo=TZ), tick=False):
        late = submit(users["applicant"], title="超期项目")
        window_accept(application=late, by=users["clerk_jiayu"])
    submit(users["applicant"], title="新项目")
    response = client_as("reviewer_jiayu").get(reverse("dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    overdue = response.context["overdue"]
    assert [r.application.reference for r in overdue] == [late.reference]
    assert html.count("<svg") >= 3
    # the reviewer sees only the accepted one (the other waits at the window)
    assert dict(response.context["status_rows"]) == {"In review": 1}
    clerk = client_as("clerk_jiayu").get(reverse("dashboard")).context
    assert dict(clerk["status_rows"]) == {"In review": 1, "Awaiting window acceptance": 1}
    assert client_as("applicant").get(reverse("dashboard")).status_code == 403


def test_a_site_outside_the_gauss_krueger_zones_gets_its_area_and_no_gk_figure(client_as):
    """73.2° E lies in China's lon/lat range but west of zone 25 (73.5° E): the report gives the
    ellipsoidal area and says why there is no Gauss–Krüger figure, instead of "EPSG:None"."""
    import json

    ring = [[73.2, 39.0], [73.21, 39.0], [73.21, 39.01], [73.2, 39.01], [73.2, 39.0]]
    site = {"type": "Polygon", "coordinates": [ring]}
    response = client_as("planner").post(reverse("planner-overlap"), {"site_geojson": json.dumps(site)})
    assert response.status_code == 200, response.content.decode()[:500]
    report = response.context["report"]
    assert report["site"]["gk_epsg"] is None
    # 0.01° × 0.01° at 39° N on the CGCS2000 ellipsoid: ≈ 1,112 m × 864 m
    assert 955_000 < report["site"]["area_m2"] < 965_000
    html = response.content.decode()
    assert "EPSG:None" not in html
    assert "outside China&#x27;s 3° zones" in html or "outside China's 3° zones" in html
