"""maps.render: the server-side SVG map renderer (issue 11, 出图).

Scale and grid are measured from the SVG's own coordinates and checked against independent pyproj
Gauss–Krüger coordinates; hostile texts are parsed back as text; errors are RenderErrors (4xx).
"""

from __future__ import annotations

import itertools
import math
import re
import xml.etree.ElementTree as ET

import pytest
from pyproj import Transformer
from shapely.geometry import LineString, Point, box

from maps.render import (
    MapFrame,
    MapLayer,
    RenderError,
    TooMuchData,
    frame_for,
    render_svg,
    svg_data_uri,
)

SVG = "{http://www.w3.org/2000/svg}"
CENTRE = (113.93, 29.97)  # Jiayu county seat: CGCS2000 3° GK zone 38 (EPSG:4526), central meridian 114°


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg.split("\n", 1)[1])


def _lines(root: ET.Element, cls: str) -> list[ET.Element]:
    return [e for e in root.iter(f"{SVG}line") if e.get("class") == cls]


def test_frame_zone_and_extent_from_pyproj():
    frame = MapFrame(centre_lonlat=CENTRE, scale=2000, width_mm=170, height_mm=120)
    assert frame.epsg == 4526
    assert frame.zone == 38
    assert frame.central_meridian == 114
    e, n = Transformer.from_crs("EPSG:4490", "EPSG:4526", always_xy=True).transform(*CENTRE)
    e0, n0, e1, n1 = frame.extent_m
    # 170 mm at 1:2000 is 340 m of ground, 120 mm is 240 m
    assert e1 - e0 == pytest.approx(340.0, abs=1e-9)
    assert n1 - n0 == pytest.approx(240.0, abs=1e-9)
    assert (e0 + e1) / 2 == pytest.approx(e, abs=1e-6)
    assert (n0 + n1) / 2 == pytest.approx(n, abs=1e-6)


@pytest.mark.parametrize(("scale", "grid_m", "step_mm"), [(1000, 100, 100.0), (5000, 100, 20.0), (2000, 100, 50.0), (500, 50, 100.0)])
def test_grid_step_measures_grid_over_scale(scale, grid_m, step_mm):
    frame = MapFrame(centre_lonlat=CENTRE, scale=scale, width_mm=277, height_mm=190)
    root = _parse(render_svg(frame=frame, layers=[], grid_m=grid_m))
    assert root.get("viewBox") == "0 0 277 190"
    assert root.get("width") == "277mm"
    xs = sorted(float(e.get("x1")) for e in _lines(root, "grid-e"))
    ys = sorted(float(e.get("y1")) for e in _lines(root, "grid-n"))
    assert len(xs) >= 2
    assert len(ys) >= 1 or step_mm > 190
    for a, b in itertools.pairwise(xs):
        assert abs((b - a) - step_mm) / step_mm < 0.01
    for a, b in itertools.pairwise(ys):
        assert abs((b - a) - step_mm) / step_mm < 0.01


def test_grid_labels_are_the_pyproj_coordinates_of_their_lines():
    """Each label's X (northing) or Y (easting, zone-prefixed) equals the GK coordinate pyproj gives
    for the point where its line is drawn, to 0.01 mm of paper."""
    frame = MapFrame(centre_lonlat=CENTRE, scale=1000, width_mm=180, height_mm=260)
    root = _parse(render_svg(frame=frame, layers=[], grid_m=100))
    to_gk = Transformer.from_crs("EPSG:4490", "EPSG:4526", always_xy=True)
    ce, cn = to_gk.transform(*CENTRE)
    left, top = ce - 0.090 * 1000, cn + 0.130 * 1000  # half the paper (mm → m at 1:1000)
    labels = {t.get("class"): [] for t in root.iter(f"{SVG}text")}
    for t in root.iter(f"{SVG}text"):
        labels[t.get("class")].append((float(t.get("x")), float(t.get("y")), t.text))
    easting = {float(e.get("x1")): e for e in _lines(root, "grid-e")}
    northing = {float(e.get("y1")): e for e in _lines(root, "grid-n")}
    assert len(labels["grid-label-e"]) >= 2
    assert len(labels["grid-label-n"]) >= 2
    for x, _y, text in labels["grid-label-e"]:
        assert re.fullmatch(r"Y 38\d{6}", text)
        value = int(text[2:])
        # the label text starts 1 mm right of its line
        line_x = min(easting, key=lambda v, x=x: abs(v - (x - 1.0)))
        assert abs(line_x - (x - 1.0)) < 1e-6
        assert abs((left + line_x) - value) <= 0.01  # 0.01 mm of paper is 0.01 m at 1:1000
    for _x, y, text in labels["grid-label-n"]:
        assert re.fullmatch(r"X 33\d{5}", text)
        value = int(text[2:])
        line_y = min(northing, key=lambda v, y=y: abs(v - (y + 1.0)))
        assert abs(line_y - (y + 1.0)) < 1e-6
        assert abs((top - line_y) - value) <= 0.01
    # and the line at each label value is where pyproj puts that GK coordinate on paper
    for value_text in {t for _x, _y, t in labels["grid-label-e"]}:
        value = int(value_text[2:])
        drawn = [x for x, e in easting.items() if int(e.get("data-m")) == value]
        assert drawn == [pytest.approx(value - left, abs=0.006)]


def test_features_are_clipped_and_written_in_mm_with_limited_precision():
    frame = MapFrame(centre_lonlat=CENTRE, scale=1000, width_mm=100, height_mm=80)
    huge = box(113.5, 29.5, 114.5, 30.5)
    line = LineString([(113.8, 29.97), (114.1, 29.97)])
    svg = render_svg(frame=frame, layers=[MapLayer(name="a", features=[huge, line], fill="#00ff00")])
    root = _parse(svg)
    d = " ".join(p.get("d") for p in root.iter(f"{SVG}path") if p.get("d", "").startswith("M") and "layer" in svg)
    numbers = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", d)]
    assert numbers
    # clipped to the frame plus 2 mm, in paper millimetres
    assert min(numbers) >= -2.01
    assert max(numbers) <= 102.01
    assert all(len(v.split(".")[1]) <= 2 for v in re.findall(r"\d+\.\d+", d))


def test_hostile_texts_are_escaped():
    hostile = '<script>alert(1)</script> "quoted" \'single\' ]]> &amp; \x00nul'
    frame = MapFrame(centre_lonlat=CENTRE, scale=1000, width_mm=150, height_mm=100)
    site = box(113.9295, 29.9695, 113.9305, 29.9705)
    svg = render_svg(frame=frame, layers=[MapLayer(name=hostile, features=[site], labels=[hostile])], title=hostile)
    assert "<script" not in svg
    assert "]]>" not in svg
    assert "\x00" not in svg
    root = _parse(svg)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    expected = hostile.replace("\x00", "")
    # title, legend entry and the feature label each come back as the same text
    assert texts.count(expected) == 3
    assert not list(root.iter(f"{SVG}script"))


def test_svg_is_self_contained():
    frame = MapFrame(centre_lonlat=CENTRE, scale=1000, width_mm=150, height_mm=100)
    svg = render_svg(frame=frame, layers=[MapLayer(name="x", features=[Point(113.93, 29.97)], labels=["http://evil/"])], grid_m=100)
    without_label = svg.replace("http://evil/", "")
    assert re.findall(r"https?://[^\"' ]+", without_label) == ["http://www.w3.org/2000/svg"]
    assert "href" not in svg
    assert re.findall(r"url\([^)]*\)", svg) == ["url(#frame-clip)"]
    assert svg_data_uri(svg).startswith("data:image/svg+xml;base64,")


def test_frame_for_chooses_the_round_scale_that_fits():
    to_gk = Transformer.from_crs("EPSG:4490", "EPSG:4526", always_xy=True)
    to_ll = Transformer.from_crs("EPSG:4526", "EPSG:4490", always_xy=True)
    ce, cn = to_gk.transform(*CENTRE)
    # a site 100 m wide and 60 m high in the GK zone
    corners = [to_ll.transform(ce + dx, cn + dy) for dx, dy in ((-50, -30), (50, -30), (50, 30), (-50, 30))]
    site = box(min(c[0] for c in corners), min(c[1] for c in corners), max(c[0] for c in corners), max(c[1] for c in corners))
    # 170 × 120 mm, 10 % margin each side: 136 × 96 mm usable → 1:500 gives 68 m (too small), 1:1000 136 m
    frame = frame_for(site, width_mm=170, height_mm=120, margin=0.1)
    assert frame.scale == 1000
    e, n = frame.centre_gk
    assert abs(e - ce) < 0.5
    assert abs(n - cn) < 0.5
    assert frame_for(site, width_mm=170, height_mm=120, margin=0.4).scale == 5000
    with pytest.raises(TooMuchData):
        frame_for(box(110, 25, 116, 31), width_mm=170, height_mm=120)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"scale": 0},
        {"scale": 10**9},
        {"scale": float("nan")},
        {"scale": 1234.5},
        {"centre_lonlat": (float("nan"), 30.0)},
        {"centre_lonlat": (2.35, 48.85)},  # Paris
        {"centre_lonlat": (113.9, 95.0)},
        {"centre_lonlat": "113,30"},
        {"width_mm": 0},
        {"height_mm": float("inf")},
        {"width_mm": "wide"},
    ],
)
def test_bad_frames_are_refused(kwargs):
    args = {"centre_lonlat": CENTRE, "scale": 1000, "width_mm": 100, "height_mm": 100} | kwargs
    with pytest.raises(RenderError):
        MapFrame(**args)


@pytest.mark.parametrize(
    "kwargs",
    [{"stroke": "red"}, {"fill": '#fff" onload="x'}, {"fill_opacity": 2}, {"stroke_width_mm": math.nan}, {"labels": ["a", "b"]}, {"features": ["POINT (1 2)"]}],
)
def test_bad_layers_are_refused(kwargs):
    args = {"name": "n", "features": [Point(113.93, 29.97)]} | kwargs
    with pytest.raises(RenderError):
        MapLayer(**args)


def test_too_many_vertices_and_too_dense_grid_are_refused():
    frame = MapFrame(centre_lonlat=CENTRE, scale=1000, width_mm=100, height_mm=100)
    site = Point(*CENTRE).buffer(0.0003, quad_segs=64)
    with pytest.raises(TooMuchData):
        render_svg(frame=frame, layers=[MapLayer(name="a", features=[site] * 10)], max_vertices=100)
    with pytest.raises(RenderError):
        render_svg(frame=frame, layers=[], grid_m=1)  # 1 mm apart on paper
    with pytest.raises(RenderError):
        render_svg(frame=frame, layers=[], grid_m=float("nan"))


def test_geos_geometry_in_another_srid_is_transformed():
    from django.contrib.gis.geos import Polygon

    frame = MapFrame(centre_lonlat=CENTRE, scale=1000, width_mm=100, height_mm=100)
    to_gk = Transformer.from_crs("EPSG:4490", "EPSG:4526", always_xy=True)
    ce, cn = to_gk.transform(*CENTRE)
    square = Polygon.from_bbox((ce - 10, cn - 10, ce + 10, cn + 10))
    square.srid = 4526
    root = _parse(render_svg(frame=frame, layers=[MapLayer(name="a", features=[square])], legend=False))
    d = next(p.get("d") for p in root.iter(f"{SVG}path") if p.get("d", "").startswith("M") and "Z" in p.get("d") and "L" in p.get("d"))
    numbers = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", d)]
    # a 20 m square at 1:1000 is 20 mm on paper, centred in the 100 mm frame
    assert min(numbers[0::2]) == pytest.approx(40.0, abs=0.02)
    assert max(numbers[0::2]) == pytest.approx(60.0, abs=0.02)


def test_svg_prints_through_weasyprint_at_true_size_and_is_not_blank():
    """The data: URI image in a WeasyPrint page of the SVG's size: page in points, text, dark pixels."""
    import io
    import subprocess

    from PIL import Image

    from approvals.issued.pdf import pdf_render
    from maps.render.raster import pdf_to_png

    frame = MapFrame(centre_lonlat=CENTRE, scale=2000, width_mm=170, height_mm=120)
    svg = render_svg(frame=frame, layers=[MapLayer(name="本宗地", features=[box(113.929, 29.969, 113.931, 29.9705)], fill="#d62728")], grid_m=100, title="宗地图")
    html = ('<html><head><style>@page { size: 170mm 120mm; margin: 0 } body { margin: 0 } img { display: block; width: 170mm; height: 120mm }</style>'
            f'</head><body><img src="{svg_data_uri(svg)}" alt=""></body></html>')
    pdf = pdf_render(html)
    info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    width_pt, height_pt = (float(v) for v in re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info).groups())
    assert width_pt == pytest.approx(170 / 25.4 * 72, abs=0.01)
    assert height_pt == pytest.approx(120 / 25.4 * 72, abs=0.01)
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    assert "宗地图" in text
    assert "本宗地" in text
    assert "Y 38493200" in text
    image = Image.open(io.BytesIO(pdf_to_png(pdf, dpi=96))).convert("L")
    assert image.size == (round(170 / 25.4 * 96), round(120 / 25.4 * 96))
    assert sum(image.histogram()[:128]) > 2000


def test_pdf_to_png_refuses_other_dpi():
    from maps.render.raster import pdf_to_png

    with pytest.raises(RenderError):
        pdf_to_png(b"%PDF-1.4", dpi=10**6)


def test_lines_are_never_filled_and_collections_are_drawn():
    from shapely.geometry import GeometryCollection

    frame = MapFrame(centre_lonlat=CENTRE, scale=1000, width_mm=100, height_mm=100)
    mixed = GeometryCollection([LineString([(113.9295, 29.9695), (113.9305, 29.9705)]), box(113.9296, 29.9699, 113.9298, 29.9701), Point(*CENTRE)])
    root = _parse(render_svg(frame=frame, layers=[MapLayer(name="a", features=[mixed], fill="#ff0000")], legend=False, scale_bar=False, north_arrow=False))
    layer = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "layer")
    paths = layer.findall(f"{SVG}path")
    assert [p.get("fill") for p in paths] == [None, "none"]
    assert paths[0].get("d").endswith("Z")
    assert "Z" not in paths[1].get("d")
    assert len(layer.findall(f"{SVG}circle")) == 1
