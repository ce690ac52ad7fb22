"""Map output (出图): the print-map page, its PDF and PNG, who may print, and hostile input.

The printed scale is measured from the output itself: PDF page size in points, grid lines found in
the PNG rendered at a known dpi, and grid labels against independent pyproj coordinates.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import itertools
import math
import re
import subprocess
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import time_machine
from django.utils import timezone
from PIL import Image
from pyproj import Proj, Transformer

from maps.render import sheet as sheet_module
from tests.factories import JIAYU_SITE, submit

URL = "/maps/print/"
CENTRE = {"lon": "113.93", "lat": "29.97"}
ALLOWED = ("clerk_jiayu", "reviewer_jiayu", "dept_jiayu", "planner", "admin")
MM_PER_INCH = 25.4
PT_PER_MM = 72 / MM_PER_INCH


def _params(**kw) -> dict:
    return {"scale": "1000", "paper": "A4", "orientation": "landscape", "centre": "lonlat", **CENTRE, **kw}


def _pdftotext(pdf: bytes) -> str:
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


def _page_size_pt(pdf: bytes) -> tuple[float, float]:
    info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    assert "Pages:           1" in info
    w, h = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info).groups()
    return float(w), float(h)


def _preview_svg(response) -> ET.Element:
    uri = re.search(r'src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', response.content.decode()).group(1)
    return ET.fromstring(base64.b64decode(uri).decode().split("\n", 1)[1])


def test_pdf_is_the_paper_with_title_scale_date_and_versions(client_as, onemap):
    response = client_as("planner").get(URL, _params(layers=["permanent-farmland", "urban-boundary"], parcels="on",
                                                     applications="on", title="Jiayu sheet 7", format="pdf"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('attachment; filename="map-1-1000-')
    pdf = response.content
    # A4 landscape, exactly, in points
    w, h = _page_size_pt(pdf)
    assert w == pytest.approx(297 * PT_PER_MM, abs=0.01)
    assert h == pytest.approx(210 * PT_PER_MM, abs=0.01)
    text = _pdftotext(pdf)
    assert "Jiayu sheet 7" in text
    assert "1:1000" in text
    assert timezone.localdate().isoformat() in text
    farmland, urban = onemap["permanent-farmland"], onemap["urban-boundary"]
    assert f"Permanent basic farmland: version {farmland.version}, imported" in text
    assert f"Urban development boundary: version {urban.version}, imported" in text
    assert "CGCS2000 3° Gauss–Krüger zone 38 (central meridian 114°E, EPSG:4526)" in text
    assert "Registered parcels" in text
    # the meridian convergence at the centre, from pyproj independently (-0.0350° at 113.93°E, 29.97°N)
    gamma = Proj("EPSG:4526").get_factors(113.93, 29.97).meridian_convergence
    assert f"Meridian convergence {gamma:+.4f}°." in text
    assert f"{gamma:+.4f}" == "-0.0350"
    # the legend inside the map names the layer versions too
    assert f"Permanent basic farmland v{farmland.version}" in text
    # page 1 rasterised is not blank
    png = subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", "-"], input=pdf, capture_output=True, check=True).stdout
    image = Image.open(io.BytesIO(png)).convert("L")
    assert sum(image.histogram()[:128]) > 2000


def test_a3_portrait_page_size(client_as, onemap):
    pdf = client_as("clerk_jiayu").get(URL, _params(paper="A3", orientation="portrait", format="pdf")).content
    w, h = _page_size_pt(pdf)
    assert w == pytest.approx(297 * PT_PER_MM, abs=0.01)
    assert h == pytest.approx(420 * PT_PER_MM, abs=0.01)


def _line_centres(profile: np.ndarray) -> list[float]:
    """Centres (px, darkness-weighted) of runs of columns whose darkness marks a line across the frame."""
    hits = np.flatnonzero(profile > 0.6)
    runs: list[list[int]] = []
    for i in hits:
        if runs and i - runs[-1][-1] <= 1:
            runs[-1].append(int(i))
        else:
            runs.append([int(i)])
    return [float(np.average(r, weights=profile[r])) for r in runs]


def test_png_grid_step_measures_100_m_over_the_scale(client_as, onemap):
    """At 1:1000 the 100 m grid is 100 mm apart on paper: found in the PNG at 200 dpi within 1 %."""
    dpi = 200
    response = client_as("planner").get(URL, _params(paper="A3", grid="100", dpi=str(dpi), format="png"))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content)).convert("L")
    px_per_mm = dpi / MM_PER_INCH
    assert image.size == (math.ceil(420 * px_per_mm), math.ceil(297 * px_per_mm))  # pdftoppm rounds up
    pixels = np.asarray(image, dtype=float)
    # the map frame: 10 mm margin, 15 mm header; 400 × 240 mm. Look inside it, 3 mm from its border.
    top, left = (10 + 15) * px_per_mm, 10 * px_per_mm
    fw, fh = sheet_module.frame_size("A3", "landscape")
    inner = pixels[round(top + 3 * px_per_mm): round(top + (fh - 3) * px_per_mm), round(left + 3 * px_per_mm): round(left + (fw - 3) * px_per_mm)]
    dark = inner < 230
    step_px = 100 * px_per_mm  # 100 m at 1:1000 = 100 mm
    columns = _line_centres(dark.mean(axis=0))
    rows = _line_centres(dark.mean(axis=1))
    assert len(columns) >= 3
    assert len(rows) >= 2
    for positions in (columns, rows):
        for a, b in itertools.pairwise(positions):
            assert abs((b - a) - step_px) / step_px < 0.01, (positions, step_px)


def test_grid_labels_equal_pyproj_gauss_kruger_coordinates(client_as, onemap):
    response = client_as("planner").get(URL, _params(scale="2000", grid="100", title="labels"))
    assert response.status_code == 200
    root = _preview_svg(response)
    svg_ns = "{http://www.w3.org/2000/svg}"
    e_c, n_c = Transformer.from_crs("EPSG:4490", "EPSG:4526", always_xy=True).transform(113.93, 29.97)
    fw, fh = sheet_module.frame_size("A4", "landscape")
    left, top = e_c - fw / 2 / 1000 * 2000, n_c + fh / 2 / 1000 * 2000
    expected_e = [100 * i for i in range(math.ceil(left / 100), math.floor((left + fw * 2) / 100) + 1)]
    drawn_e = [int(e.get("data-m")) for e in root.iter(f"{svg_ns}line") if e.get("class") == "grid-e"]
    assert drawn_e == expected_e
    for line in (e for e in root.iter(f"{svg_ns}line") if e.get("class") == "grid-e"):
        assert float(line.get("x1")) == pytest.approx((int(line.get("data-m")) - left) / 2, abs=0.006)
    for line in (e for e in root.iter(f"{svg_ns}line") if e.get("class") == "grid-n"):
        assert float(line.get("y1")) == pytest.approx((top - int(line.get("data-m"))) / 2, abs=0.006)
    labels = {t.text for t in root.iter(f"{svg_ns}text") if (t.get("class") or "").startswith("grid-label")}
    assert f"Y {expected_e[1]}" in labels
    first_n = 100 * math.floor(top / 100)
    assert f"X {first_n}" in labels


def test_gk_centre_gives_the_same_frame_as_lonlat(client_as, onemap):
    e_c, n_c = Transformer.from_crs("EPSG:4490", "EPSG:4526", always_xy=True).transform(113.93, 29.97)
    client = client_as("planner")
    by_lonlat = _preview_svg(client.get(URL, _params()))
    by_gk = _preview_svg(client.get(URL, {"scale": "1000", "paper": "A4", "orientation": "landscape", "centre": "gk",
                                          "x": f"{n_c:.4f}", "y": f"{e_c:.4f}"}))
    lines = [(e.get("class"), e.get("data-m"), e.get("x1"), e.get("y1")) for e in by_lonlat.iter("{http://www.w3.org/2000/svg}line")]
    assert lines
    assert lines == [(e.get("class"), e.get("data-m"), e.get("x1"), e.get("y1")) for e in by_gk.iter("{http://www.w3.org/2000/svg}line")]


def test_application_sites_only_in_the_users_jurisdiction(client_as, users, onemap):
    app = submit(users["applicant"])
    centre = {"lon": str((JIAYU_SITE[0] + JIAYU_SITE[2]) / 2), "lat": str((JIAYU_SITE[1] + JIAYU_SITE[3]) / 2)}
    params = {**_params(scale="2000", applications="on"), **centre}
    jiayu = client_as("planner").get(URL, params)
    assert jiayu.status_code == 200
    assert app.reference in ET.tostring(_preview_svg(jiayu), encoding="unicode")
    # a reviewer of another county (no step of this case there) does not get the site on paper
    chibi = client_as("reviewer_chibi").get(URL, params)
    assert chibi.status_code == 200
    assert app.reference not in ET.tostring(_preview_svg(chibi), encoding="unicode")


def test_hostile_title_is_text_on_the_page_the_svg_and_the_pdf(client_as, onemap):
    hostile = '<script>alert(1)</script>"]]>'
    client = client_as("planner")
    page = client.get(URL, _params(title=hostile))
    assert page.status_code == 200
    assert "<script>alert(1)" not in page.content.decode()
    pdf = client.get(URL, _params(title=hostile, format="pdf")).content
    assert "<script>alert(1)</script>\"]]>" in _pdftotext(pdf)
    # control characters and undecodable bytes in the query string: still a sheet, not a 500
    odd = client.get(URL + "?" + "&".join(f"{k}={v}" for k, v in _params(format="pdf").items()) + "&title=%01%1f%ff%fe%ed%a0%80")
    assert odd.status_code == 200
    assert odd.content.startswith(b"%PDF")


@pytest.mark.django_db
def test_anonymous_is_sent_to_login():
    from django.test import Client

    response = Client().get(URL, _params(format="pdf"))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/") or "login" in response["Location"]


def test_applicants_and_callers_are_refused(client_as):
    for username in ("applicant", "caller_hubei"):
        for params in ({}, _params(format="pdf"), _params(format="png")):
            response = client_as(username).get(URL, params)
            assert response.status_code == 403, (username, params)
            assert response["Content-Type"].startswith("text/html")


def test_staff_and_planners_may_print(client_as):
    for username in ALLOWED:
        page = client_as(username).get(URL)
        assert page.status_code == 200, username
        assert 'id="print-map-form"' in page.content.decode()
        pdf = client_as(username).get(URL, _params(format="pdf"))
        assert pdf.status_code == 200, username
        assert pdf.content.startswith(b"%PDF")


HOSTILE = [
    {"scale": "0"},
    {"scale": "1e9"},
    {"scale": "nan"},
    {"scale": "1500"},
    {"lon": "nan"},
    {"lat": "inf"},
    {"lon": "2.35", "lat": "48.85"},  # Paris
    {"lon": "200"},
    {"lon": ""},
    {"centre": "gk", "x": "3316789", "y": "12000000"},  # no zone number
    {"centre": "gk", "x": "3316789", "y": "38900000"},  # outside zone 38's band
    {"centre": "gk", "x": "nan", "y": "38493243"},
    {"centre": "gk"},
    {"centre": "mars"},
    {"layers": "no-such-layer"},
    {"paper": "A0"},
    {"orientation": "diagonal"},
    {"grid": "1"},
    {"dpi": "100000", "format": "png"},
    {"format": "exe"},
    {"title": "x" * 81},
    {"title": "a\x00b"},
    {"lon": "113.93\x00"},
]


def test_hostile_inputs_are_4xx(client_as):
    client = client_as("planner")
    for override in HOSTILE:
        response = client.get(URL, _params(format="pdf") | override)
        assert response.status_code == 400, override
        assert not response.content.startswith(b"%PDF")


def test_a_too_dense_grid_for_the_scale_is_a_400(client_as, onemap):
    # 50 m at 1:50 000 is 1 mm on paper
    response = client_as("planner").get(URL, _params(scale="50000", grid="50"))
    assert response.status_code == 400
    assert "closer than 5 mm" in response.content.decode()


def test_too_many_features_is_a_400_saying_what_to_change(client_as, onemap, monkeypatch):
    monkeypatch.setattr(sheet_module, "MAX_FEATURES_PER_LAYER", 1)
    response = client_as("planner").get(URL, _params(scale="50000", layers=["landuse-survey"], format="pdf"))
    assert response.status_code == 400
    assert "more than 1 features in this sheet" in response.content.decode()


def test_outputs_are_rate_limited_per_user(client_as, onemap, monkeypatch):
    from maps.views import printmap

    monkeypatch.setattr(printmap, "OUTPUTS_PER_MINUTE", 1)
    client = client_as("planner")
    # the clock stands still, so both requests fall in the same one-minute window
    with time_machine.travel(dt.datetime.now(dt.UTC), tick=False):
        assert client.get(URL, _params(format="pdf")).status_code == 200
        refused = client.get(URL, _params(format="png"))
        assert refused.status_code == 429
        assert refused["Retry-After"]
        # the preview draws no PDF and is not counted; another user has their own allowance
        assert client.get(URL, _params()).status_code == 200
        assert client_as("clerk_jiayu").get(URL, _params(format="pdf")).status_code == 200


def test_page_keeps_the_policy_with_hostile_layer_names_and_titles(client_as, users, onemap):
    """The preview page with a hostile layer name and application title (drawn into the SVG as
    text): the Content-Security-Policy holds, nothing inline, and the SVG carries no element of the payload."""
    from parcels.models import Layer
    from tests.maps.test_csp import PAYLOAD, assert_policy

    app = submit(users["applicant"], title=PAYLOAD)
    Layer.objects.filter(slug="urban-boundary").update(name=PAYLOAD, name_en=PAYLOAD)
    centre = {"lon": str((JIAYU_SITE[0] + JIAYU_SITE[2]) / 2), "lat": str((JIAYU_SITE[1] + JIAYU_SITE[3]) / 2)}
    response = client_as("planner").get(URL, {**_params(scale="2000", layers=["urban-boundary"], applications="on", title=PAYLOAD), **centre})
    assert response.status_code == 200
    assert_policy(response, URL)
    root = _preview_svg(response)
    svg_ns = "{http://www.w3.org/2000/svg}"
    assert not list(root.iter(f"{svg_ns}script"))
    assert not list(root.iter(f"{svg_ns}img"))
    assert not list(root.iter("script"))
    texts = [t.text for t in root.iter(f"{svg_ns}text")]
    assert f"{PAYLOAD} v1" in texts  # the legend names the hostile layer, as text
    assert app.reference in texts
