"""The boundary-point TXT parser and exporter (报盘 TXT, docs/domain.md "The boundary-point file"), without a database.

Expected values come from the fixtures' own definitions (tests/fixtures/txt/make_fixtures.py: shapes
in millimetres in EPSG:4526) and are recomputed here independently: planar areas with shapely on the
fixture rings, ellipsoidal areas with pyproj (Transformer + Geod on GRS80) ring by ring.
"""

from __future__ import annotations

import importlib.util
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pyproj import Geod, Transformer
from shapely.geometry import MultiPolygon, Polygon

from parcels.exceptions import SpatialInputError, TxtFormatError
from parcels.importers import boundary_txt
from parcels.importers.boundary_txt import ExportParcel, TxtParcel, export_boundary_txt, parse_boundary_txt

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "txt"
_spec = importlib.util.spec_from_file_location("make_fixtures", FIXTURES / "make_fixtures.py")
mf = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mf)

GRS80 = Geod(ellps="GRS80")
JIAYU_BOX = (113.85, 29.90, 114.00, 30.05)  # lon/lat box the fixtures' parcels lie in
PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def read(name: str, **kwargs) -> boundary_txt.TxtFile:
    return parse_boundary_txt((FIXTURES / name).read_bytes(), source=name, **kwargs)


def _transformer(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(src, dst, always_xy=True)


def geod_area(mp: MultiPolygon) -> float:
    """Ellipsoidal area (GRS80) ring by ring, independent of orientation: exteriors minus holes."""

    def ring(coords) -> float:
        lons, lats = zip(*coords, strict=True)
        return abs(GRS80.polygon_area_perimeter(lons, lats)[0])

    return sum(ring(p.exterior.coords) - sum(ring(h.coords) for h in p.interiors) for p in mp.geoms)


def to_lonlat(mp: MultiPolygon, crs: str) -> MultiPolygon:
    tr = _transformer(crs, "EPSG:4490") if crs.startswith("EPSG") else _transformer(crs, mf.CGCS2000_TOWGS84)

    def ring(coords):
        xs, ys = zip(*coords, strict=True)
        return list(zip(*tr.transform(xs, ys), strict=True))

    return MultiPolygon([Polygon(ring(p.exterior.coords), [ring(h.coords) for h in p.interiors]) for p in mp.geoms])


def truth(rings_mm, holes: dict[int, int] | None = None, *, drop_prefix: bool = False) -> MultiPolygon:
    """The expected MultiPolygon (metres) from fixture rings; `holes` maps a hole's ring number to its shell's."""
    holes = holes or {}
    offset = 38_000_000_000 if drop_prefix else 0
    by_number = {n: [((e - offset) / 1000, no / 1000) for e, no in pts] for n, pts in rings_mm}
    return MultiPolygon(
        [Polygon(by_number[n], [by_number[h] for h, s in holes.items() if s == n]) for n, _ in rings_mm if n not in holes]
    )


def vertices(mp: MultiPolygon) -> list[tuple[float, float]]:
    """Distinct vertices of every ring, sorted (order and orientation free)."""
    out = []
    for p in mp.geoms:
        for r in (p.exterior, *p.interiors):
            out.extend(tuple(c) for c in list(r.coords)[:-1])
    return sorted(out)


def shape_signature(mp: MultiPolygon) -> list[int]:
    """Sorted hole counts per part: [0] = one simple polygon, [0, 1] = two parts, one with a hole."""
    return sorted(len(p.interiors) for p in mp.geoms)


def assert_rings_match(a: MultiPolygon, b: MultiPolygon, tol: float) -> None:
    """Same parts, each ring of `a` matched by a ring of `b` with the same vertex count and every vertex within `tol`."""
    assert len(a.geoms) == len(b.geoms)
    rings_b = [np.asarray(r.coords)[:-1] for p in b.geoms for r in (p.exterior, *p.interiors)]
    for p in a.geoms:
        for r in (p.exterior, *p.interiors):
            ra = np.asarray(r.coords)[:-1]
            candidates = [rb for rb in rings_b if len(rb) == len(ra)]
            dists = [np.max(np.min(np.linalg.norm(ra[:, None, :] - rb[None, :, :], axis=2), axis=1)) for rb in candidates]
            assert dists, f"no ring with {len(ra)} vertices"
            assert min(dists) <= tol, f"ring vertices off by {min(dists)}"
    assert shape_signature(a) == shape_signature(b)


# ------------------------------------------------------------------------------- the fixture files


def test_fixture_files_are_what_make_fixtures_builds():
    built = mf.build()
    on_disk = {p.name for p in FIXTURES.glob("*.txt")}
    assert on_disk == set(built)
    for name, data in built.items():
        assert (FIXTURES / name).read_bytes() == data, f"{name} differs; run make_fixtures.py"
    readme = (FIXTURES / "README.md").read_text(encoding="utf-8")
    assert [n for n in built if f"`{n}`" not in readme] == []


def test_fixture_bytes_are_the_encodings_they_claim():
    assert (FIXTURES / "utf8_bom_crlf.txt").read_bytes().startswith(b"\xef\xbb\xbf[")
    assert b"\r\n" in (FIXTURES / "utf8_bom_crlf.txt").read_bytes()
    gbk = (FIXTURES / "gbk_lf.txt").read_bytes()
    assert b"\r" not in gbk
    with pytest.raises(UnicodeDecodeError):
        gbk.decode("utf-8")
    gb18030 = (FIXTURES / "gb18030.txt").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        gb18030.decode("gbk")  # the 4-byte 𠮷 needs GB18030
    cr = (FIXTURES / "utf8_cr.txt").read_bytes()
    assert b"\n" not in cr
    assert cr.count(b"\r") == 20


def test_parcel_a_literal_coordinates():
    """Parcel A's vertices as written (X = northing, Y = easting) and read back (x = easting, y = northing)."""
    text = (FIXTURES / "utf8_bom_crlf.txt").read_bytes().decode("utf-8-sig")
    assert "J1,1,3316500.000,38490000.000\r\nJ2,1,3316491.793,38490152.314\r\nJ3,1,3316564.930,38490181.442" in text
    parcel = read("utf8_bom_crlf.txt").parcels[0]
    coords = list(parcel.projected.geoms[0].exterior.coords)
    assert (38490000.0, 3316500.0) in coords
    assert (38490181.442, 3316564.93) in coords
    assert (38489987.227, 3316558.341) in coords
    assert len(coords) == 7
    assert parcel.planar_area_m2 == pytest.approx(20014.825, abs=0.001)
    lon, lat = 113.89639223622369, 29.967362711896776  # J1 by pyproj, EPSG:4526 → 4490
    assert any(math.isclose(x, lon, abs_tol=1e-9) and math.isclose(y, lat, abs_tol=1e-9) for x, y in parcel.geometry.geoms[0].exterior.coords)


# ----------------------------------------------------------------------------------- good variants


@dataclass(frozen=True)
class P:
    rings: list
    holes: dict[int, int] = field(default_factory=dict)
    number: str = "1"
    name: str = mf.NAME
    extra: dict[str, str] = field(default_factory=dict)
    declared: float | None = None  # None: the fixture's hectares from make_fixtures.declared_ha
    sheet: str = mf.SHEET
    use: str = mf.USE
    land_class: str = mf.LAND_CLASS
    signature: list[int] = field(default_factory=lambda: [0])
    drop_prefix: bool = False


@dataclass(frozen=True)
class V:
    parcels: list[P]
    warnings: tuple[str, ...] = ()
    epsg: int | None = 4526
    zone: int = 38
    width: int = 3
    datum: str = "CGCS2000"
    crs: str | None = None  # for non-EPSG files, the PROJ string expected
    kwargs: dict = field(default_factory=dict)


A = mf.rings_mm("A")
B = mf.rings_mm("B")
C = mf.rings_mm("C")
PA = P(A)
PB = P(B, holes={2: 1}, signature=[1])
XIAN80_PROJ = mf.XIAN80_PROJ.format("24.0,-123.0,-94.0,0.02,-0.25,-0.13,1.1")
BEIJING54_PROJ = mf.BEIJING54_PROJ.format("15.8,-154.4,-82.3,0.0,0.0,0.0,0.0")

VARIANTS: dict[str, V] = {
    "utf8_bom_crlf.txt": V([PA]),
    "gbk_lf.txt": V([P(A, name="鱼岳镇工业园地块")]),
    "gb18030.txt": V([P(A, name="𠮷祥村地块")]),
    "utf8_cr.txt": V([PA]),
    "national_8comma.txt": V([P(A, number="JY-01", name="城北地块", sheet="", use="", land_class="")]),
    "provincial_10comma.txt": V([P(A, number="2024-017", extra={"division_code": "421221", "village": "鱼岳镇城北村"})]),
    "extra_attributes.txt": V(
        [
            P(A, number="JY-2024-01", extra={"attr_1": "新增建设用地", "attr_2": "批次一"}),
            P(mf.rings_mm("D"), number="2", extra={"division_code": "421221001", "village": "鱼岳镇", "attr_1": "备注：无"}),
        ]
    ),
    "multi_parcel.txt": V(
        [P(A, number="1", name="一号地块"), P(mf.rings_mm("D"), number="2", name="二号地块"), P(mf.rings_mm("E"), number="3", name="三号地块")]
    ),
    "hole.txt": V([P(B, holes={2: 1}, name="带洞地块", signature=[1])]),
    "second_part.txt": V([P(C, holes={3: 2}, name="两部分地块", signature=[0, 1])]),
    "parts_all_ring1.txt": V([P([(1, C[0][1]), (2, C[1][1])], name="两部分同圈号", signature=[0, 0])]),
    "unclosed_rings.txt": V(
        [PA, P(B, holes={2: 1}, number="2", signature=[1])],
        warnings=("3 ring(s) were not closed and were closed by repeating their first point (parcels at lines 13, 20)",),
    ),
    "empty_zone.txt": V([PA], warnings=("带号 (zone) is empty; zone 38 was taken from the easting prefix",)),
    "zone6.txt": V([P(mf.zone6_rings_mm())], epsg=4497, zone=19, width=6),
    "no_prefix.txt": V([P(A, drop_prefix=True)], epsg=4547),
    "swapped_xy.txt": V(
        [PA],
        warnings=(
            "the X column holds eastings (8 digits, with zone prefix) and the Y column northings: "
            "the columns were read the other way round (X = northing, Y = easting)",
        ),
    ),
    "xian80.txt": V(
        [P(mf.xian80_rings_mm())],
        epsg=None,
        datum="Xian80",
        crs=XIAN80_PROJ,
        kwargs={"transform_params": mf.XIAN80_PARAMS},
        warnings=("Xi'an 1980 (西安80) coordinates were converted to CGCS2000 with the transformation parameters 24.0,-123.0,-94.0,0.02,-0.25,-0.13,1.1",),
    ),
    "beijing54.txt": V(
        [P(mf.beijing54_rings_mm())],
        epsg=None,
        datum="Beijing54",
        crs=BEIJING54_PROJ,
        warnings=("Beijing 1954 (北京54) coordinates were converted to CGCS2000 with the transformation parameters 15.8,-154.4,-82.3,0.0,0.0,0.0,0.0",),
    ),
    "project_info.txt": V([PA]),
    "fendai_3dudai.txt": V([PA]),
    "area_m2.txt": V(
        [P(A, declared=20014.83)],
        warnings=(
            "line 13: parcel 1: the declared area 20014.83 matches the computed area in m² (20014.83 m²), not in hectares; "
            "the file seems to give areas in m² instead of hectares",
        ),
    ),
    "area_mismatch.txt": V(
        [P(A, declared=2.1016)],
        warnings=("line 13: parcel 1: the declared area 2.1016 ha differs from the computed Gauss–Krüger area 2.0015 ha (20014.83 m²) by +5.00 %",),
    ),
    "count_mismatch.txt": V([PA], warnings=("line 13: parcel 1: the header declares 9 points but 7 point lines follow",)),
    "count_without_closing.txt": V([PB]),
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_variant(name):
    v = VARIANTS[name]
    result = read(name, **v.kwargs)

    assert (result.datum, result.zone_width, result.zone, result.source_epsg) == (v.datum, v.width, v.zone, v.epsg)
    assert result.source_crs == (f"EPSG:{v.epsg}" if v.epsg else v.crs)
    assert result.warnings == v.warnings
    assert len(result.parcels) == len(v.parcels)
    for parcel, expected in zip(result.parcels, v.parcels, strict=True):
        assert isinstance(parcel, TxtParcel)
        assert (parcel.number, parcel.name, parcel.geometry_type) == (expected.number, expected.name, "面")
        assert (parcel.sheet, parcel.use, parcel.land_class) == (expected.sheet, expected.use, expected.land_class)
        assert parcel.extra == expected.extra
        want = truth(expected.rings, expected.holes, drop_prefix=expected.drop_prefix)
        declared = expected.declared if expected.declared is not None else round(want.area / 10_000, 4)
        assert parcel.declared_area == pytest.approx(declared, abs=1e-9)

        # vertices exactly as written, rings classified into the same holes and parts
        assert vertices(parcel.projected) == vertices(want)
        assert shape_signature(parcel.projected) == expected.signature
        assert parcel.projected.equals(want)
        assert parcel.projected.is_valid
        assert parcel.geometry.is_valid

        # areas, recomputed independently
        assert parcel.planar_area_m2 == pytest.approx(want.area, abs=1e-6)
        lonlat = to_lonlat(want, result.source_crs)
        assert parcel.area_m2 == pytest.approx(geod_area(lonlat), abs=0.01)
        assert parcel.geometry.area == pytest.approx(lonlat.area, rel=1e-9)
        minx, miny, maxx, maxy = parcel.geometry.bounds
        assert JIAYU_BOX[0] < minx < maxx < JIAYU_BOX[2]
        assert JIAYU_BOX[1] < miny < maxy < JIAYU_BOX[3]


def test_header_line_numbers_of_several_parcels():
    result = read("multi_parcel.txt")
    assert [p.line for p in result.parcels] == [13, 21, 27]
    text = (FIXTURES / "multi_parcel.txt").read_bytes().decode().split("\r\n")
    assert all(text[p.line - 1].endswith(",@") for p in result.parcels)


def test_hole_belongs_to_ring_1_and_part_hole_to_ring_2():
    hole = read("hole.txt").parcels[0].projected
    assert len(hole.geoms) == 1
    assert sorted(hole.geoms[0].interiors[0].coords[:-1]) == sorted((e / 1000, n / 1000) for e, n in B[1][1])

    parts = read("second_part.txt").parcels[0].projected
    with_hole = next(p for p in parts.geoms if p.interiors)
    assert sorted(with_hole.exterior.coords[:-1]) == sorted((e / 1000, n / 1000) for e, n in C[1][1])
    assert sorted(with_hole.interiors[0].coords[:-1]) == sorted((e / 1000, n / 1000) for e, n in C[2][1])
    assert parts.area == pytest.approx(mf.planar_area_m2(C[:2]) - mf.planar_area_m2(C[2:]), abs=1e-6)


def test_orientation_exteriors_ccw_holes_cw_so_geod_areas_are_positive():
    for name in ("hole.txt", "second_part.txt"):
        parcel = read(name).parcels[0]
        for geom in (parcel.projected, parcel.geometry):
            for p in geom.geoms:
                assert p.exterior.is_ccw
                assert all(not h.is_ccw for h in p.interiors)
        assert GRS80.geometry_area_perimeter(parcel.geometry)[0] == pytest.approx(parcel.area_m2, rel=1e-9)


def test_same_parcel_in_other_zones_and_datums_lands_on_the_same_ground():
    """Parcel A in zone 38, 6° zone 19, without prefix, Xi'an 80 and Beijing 54: the same lon/lat to < 1 cm."""
    base = read("utf8_bom_crlf.txt").parcels[0]
    others = [
        read("zone6.txt").parcels[0],
        read("no_prefix.txt").parcels[0],
        read("xian80.txt", transform_params=mf.XIAN80_PARAMS).parcels[0],
        read("beijing54.txt").parcels[0],
    ]
    for other in others:
        assert_rings_match(other.geometry, base.geometry, tol=1e-7)  # degrees: 1e-7° ≈ 1 cm
        assert other.area_m2 == pytest.approx(base.area_m2, abs=0.5)
    zone6 = others[0]
    # Gauss–Krüger planar areas differ: 2.9° from the 6° central meridian 111°E the scale is ≈ 1.00096
    assert zone6.planar_area_m2 / base.planar_area_m2 == pytest.approx(1.00193, abs=2e-4)


def test_attributes_keep_keys_and_section_prefixes():
    result = read("project_info.txt")
    assert result.attributes["项目信息.项目名称"] == "嘉鱼县2024年度第一批次城镇建设用地"
    assert result.attributes["项目信息.项目编号"] == "421221-2024-001"
    assert result.attributes["坐标系"] == "2000国家大地坐标系"
    assert result.attributes["转换参数"] == ",,,,,,"
    assert read("fendai_3dudai.txt").attributes["分带"] == "3度带"


# -------------------------------------------------------------------------------------- bad files

BAD = [
    ("bad_no_coordinates.txt", None, "there is no [地块坐标] section: this is not a boundary-point coordinate file"),
    ("bad_non_number.txt", 16, "X '3316O64.930' is not a number"),
    ("bad_too_few_points.txt", 13, "parcel 1, ring 1 (line 14): a ring needs at least 3 distinct points; it has 2"),
    ("bad_self_intersection.txt", 13, "parcel 1, ring 1 (line 14) is not a valid polygon: Self-intersection at X=3316550.000, Y=38490050.000"),
    ("bad_crossing_rings.txt", 13, "ring 1 (line 14) and ring 2 (line 19) cross or share an edge"),
    ("bad_point_count.txt", 13, "the header declares 40 points but 7 point lines follow; the block is incomplete or two parcels ran together"),
    ("bad_empty.txt", None, "the file is empty"),
    ("bad_binary.txt", None, "this is a binary file, not a boundary-point text file"),
    ("bad_garbage.txt", None, "the file is neither UTF-8 nor GBK/GB18030 text"),
    ("bad_outside_china.txt", 13, "outside China, when read in EPSG:4526 (CGCS2000, 3° zone 38): the coordinate system, zone or coordinates are probably wrong"),
    ("bad_zone_conflict.txt", 9, "带号 (zone) is 39 but the eastings carry the zone prefix 38"),
    ("bad_no_zone.txt", 9, "a 3° zone 25–45 (central meridian 3 × zone, e.g. 38 for Xianning, 114°E) or a 6° zone 13–23"),
    ("bad_unknown_datum.txt", 5, "coordinate system 'WGS84' is not supported"),
    ("xian80.txt", 5, "the coordinates are in the Xi'an 1980 (西安80) coordinate system. Converting them to CGCS2000 needs the 7 transformation parameters"),
]


@pytest.mark.parametrize(("name", "line", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_file(name, line, message):
    with pytest.raises(TxtFormatError) as caught:
        read(name)
    error = caught.value
    assert isinstance(error, SpatialInputError)
    assert error.source == name
    assert error.location == (f"line {line}" if line else None)
    assert message in error.detail
    assert str(error).startswith(f"{name}: line {line}: " if line else f"{name}: ")


def test_outside_china_names_the_position():
    with pytest.raises(TxtFormatError, match=r"falls at 113\.6\d+°E, 74\.9\d+°N"):
        read("bad_outside_china.txt")


def test_xian80_refusal_says_how_to_give_the_parameters():
    with pytest.raises(TxtFormatError) as caught:
        read("xian80.txt")
    detail = caught.value.detail
    for part in ("dx, dy, dz in metres", "arc-seconds", "ppm", "转换参数=dx,dy,dz,rx,ry,rz,scale", "with the upload"):
        assert part in detail


# ----------------------------------------------------------------------------- inline edge cases

HEAD = mf.attributes()


def txt(*lines: str, attributes: list[str] | None = None) -> bytes:
    return mf.document([*(HEAD if attributes is None else attributes), "[地块坐标]", *lines])


SQUARE = [
    "J1,1,3316500.000,38490000.000",
    "J2,1,3316500.000,38490100.000",
    "J3,1,3316600.000,38490100.000",
    "J4,1,3316600.000,38490000.000",
    "J1,1,3316500.000,38490000.000",
]


def test_square_baseline():
    result = parse_boundary_txt(txt("5,1.0000,1,a,面,,,,@", *SQUARE))
    assert result.warnings == ()
    assert result.parcels[0].planar_area_m2 == pytest.approx(10_000.0, abs=1e-9)


def test_fields_with_blanks_fullwidth_commas_and_lines_before_sections():
    data = mf.document(
        ["报盘文件", *HEAD, "[地块坐标]", " 5 , 1.0000 , 1 , a , 面 , , , , @ ", *(line.replace(",", "，") for line in SQUARE), ""]
    )
    result = parse_boundary_txt(data)
    assert result.parcels[0].planar_area_m2 == pytest.approx(10_000.0)
    assert result.warnings == ("1 line(s) before the first section were ignored (from line 1)",)


def test_header_without_comma_before_at_and_utf16():
    data = txt("5,1.0000,1,a,面,,,0601@", *SQUARE)
    assert parse_boundary_txt(data).parcels[0].land_class == "0601"
    assert parse_boundary_txt(txt("5,1.0000,1,a,面,,,0601,@,", *SQUARE)).parcels[0].land_class == "0601"
    utf16 = data.decode("utf-8").encode("utf-16")
    assert parse_boundary_txt(utf16).parcels[0].land_class == "0601"


@pytest.mark.parametrize(
    ("lines", "line", "message"),
    [
        (["J1,1,3316500,38490000", *SQUARE], 13, "a point line before the first parcel header"),
        (["5,1.0,1,a,面,,@", *SQUARE], 13, "a parcel header needs at least 8 fields"),
        (["x5,1.0,1,a,面,,,,@", *SQUARE], 13, "界址点数 (point count) 'x5' is not a whole number"),
        (["5,1.0,1,a,面,,,,@", "J1,1,nan,38490000.000", *SQUARE[1:]], 14, "X 'nan' is not a number"),
        (["5,1.0,1,a,面,,,,@", "J1,1,3316500.000,1e400", *SQUARE[1:]], 14, "Y '1e400' is out of range"),
        (["5,1.0,1,a,面,,,,@", "J1,1,3_316_500,38490000.000", *SQUARE[1:]], 14, "X '3_316_500' is not a number"),
        (["5,1.0,1,a,面,,,,@", "J1,0,3316500.000,38490000.000", *SQUARE[1:]], 14, "ring number '0' is not a whole number ≥ 1"),
        (["5,1.0,1,a,面,,,,@", "J1,1,3316500.000", *SQUARE[1:]], 14, "a point line needs 4 fields"),
        (["5,1.0,1,a,面,,,,@"], 13, "the parcel has no point lines"),
        (["5,1.0,1,a,面,,,,@", "J1,1,3316500.000,38490000.000\x07", *SQUARE[1:]], 14, "control characters"),
    ],
)
def test_bad_lines_are_named(lines, line, message):
    with pytest.raises(TxtFormatError) as caught:
        parse_boundary_txt(txt(*lines), source="site.txt")
    assert str(caught.value).startswith(f"site.txt: line {line}: ")
    assert message in caught.value.detail


def test_ring_1_inside_ring_2_is_refused():
    big = ["K1,2,3316400.000,38489900.000", "K2,2,3316400.000,38490200.000", "K3,2,3316700.000,38490200.000", "K4,2,3316700.000,38489900.000"]
    with pytest.raises(TxtFormatError, match=r"line 13: parcel 1, ring 1 \(line 14\) lies inside ring 2 \(line 19\), but ring 1 is the outer boundary"):
        parse_boundary_txt(txt("9,1.0,1,a,面,,,,@", *SQUARE, *big))


def _square(ring: int, e0: float, n0: float, size: float, prefix: str = "K") -> list[str]:
    """A closed square ring as point lines, offsets in metres from 38490000 E, 3316500 N."""
    corners = [(e0, n0), (e0 + size, n0), (e0 + size, n0 + size), (e0, n0 + size), (e0, n0)]
    return [f"{prefix}{i},{ring},{3316500 + n:.3f},{38490000 + e:.3f}" for i, (e, n) in enumerate(corners, 1)]


@pytest.mark.parametrize(
    ("rings", "message"),
    [
        # a hole sharing two edges with its shell
        ([_square(1, 0, 0, 100), _square(2, 0, 0, 50)], "ring 1 (line 14) and ring 2 (line 19) cross or share an edge near X="),
        # two parts sharing an edge
        ([_square(1, 0, 0, 100), _square(2, 100, 0, 100)], "ring 1 (line 14) and ring 2 (line 19) cross or share an edge near X="),
        # the same ring twice outside ring 1, with a ring inside both
        ([_square(1, 0, 0, 100), _square(2, 200, 0, 100), _square(3, 200, 0, 100), _square(4, 220, 20, 10)],
         "ring 2 (line 19) and ring 3 (line 24) cross or share an edge"),
        # two holes overlapping each other
        ([_square(1, 0, 0, 100), _square(2, 10, 10, 30), _square(3, 20, 20, 30)], "ring 2 (line 19) and ring 3 (line 24) cross or share an edge near X="),
    ],
    ids=["hole-shares-edge", "parts-share-edge", "duplicate-rings", "overlapping-holes"],
)
def test_bad_ring_layouts_name_both_rings(rings, message):
    lines = [line for ring in rings for line in ring]
    with pytest.raises(TxtFormatError) as caught:
        parse_boundary_txt(txt(f"{len(lines)},1.0,1,a,面,,,,@", *lines), source="site.txt")
    assert str(caught.value).startswith("site.txt: line 13: parcel 1, ")
    assert message in caught.value.detail


def test_island_in_a_hole_is_a_further_part():
    outer = ["O1,1,3316000.000,38490000.000", "O2,1,3316000.000,38491000.000", "O3,1,3317000.000,38491000.000", "O4,1,3317000.000,38490000.000"]
    hole = ["H1,2,3316200.000,38490200.000", "H2,2,3316200.000,38490800.000", "H3,2,3316800.000,38490800.000", "H4,2,3316800.000,38490200.000"]
    island = ["I1,3,3316400.000,38490400.000", "I2,3,3316400.000,38490500.000", "I3,3,3316500.000,38490500.000", "I4,3,3316500.000,38490400.000"]
    result = parse_boundary_txt(txt("12,65.0000,1,a,面,,,,@", *outer, *hole, *island))
    assert result.warnings == ("3 ring(s) were not closed and were closed by repeating their first point (parcels at lines 13)",)
    parcel = result.parcels[0]
    assert shape_signature(parcel.projected) == [0, 1]
    assert parcel.planar_area_m2 == pytest.approx(1_000_000 - 360_000 + 10_000)


def test_duplicate_consecutive_points_and_near_closing_point():
    lines = [SQUARE[0], SQUARE[0], *SQUARE[1:4], "J1,1,3316500.0004,38490000.0003"]
    parcel = parse_boundary_txt(txt("6,1.0000,1,a,面,,,,@", *lines)).parcels[0]
    assert len(parcel.projected.geoms[0].exterior.coords) == 5
    assert parcel.projected.geoms[0].exterior.coords[0] == parcel.projected.geoms[0].exterior.coords[-1] == (38490000.0, 3316500.0)


@pytest.mark.parametrize(
    ("declared", "outcome"),
    [(8, "silent"), (7, "silent"), (9, "silent"), (6, "warn"), (10, "warn"), (4, "warn"), (16, "warn"), (3, "refuse"), (17, "refuse")],
)
def test_point_count_rules(declared, outcome):
    """8 point lines: a closed square (1 closing point in the file) and an unclosed triangular hole.

    8 (standard), 7 (without closing points) and 9 (as if the hole were closed) are silent; other counts
    from half to double the lines warn; ≤ less than half or more than double refuse.
    """
    hole = ["J5,2,3316520.000,38490020.000", "J6,2,3316520.000,38490040.000", "J7,2,3316540.000,38490030.000"]
    data = txt(f"{declared},0.9980,1,a,面,,,,@", *SQUARE, *hole)
    if outcome == "refuse":
        with pytest.raises(TxtFormatError, match=f"line 13: parcel 1: the header declares {declared} points but 8 point lines follow; the block is incomplete"):
            parse_boundary_txt(data)
        return
    result = parse_boundary_txt(data)
    count_warnings = [w for w in result.warnings if "points but" in w]
    expected = [f"line 13: parcel 1: the header declares {declared} points but 8 point lines follow"] if outcome == "warn" else []
    assert count_warnings == expected
    assert result.parcels[0].planar_area_m2 == pytest.approx(10_000 - 200)


def test_zone_width_inferred_and_checked():
    no_width = mf.attributes(几度分带=None)
    result = parse_boundary_txt(txt("5,1.0000,1,a,面,,,,@", *SQUARE, attributes=no_width))
    assert (result.zone_width, result.source_epsg) == (3, 4526)
    assert result.warnings == ("几度分带 (zone width) is not given; 3° zones assumed from zone 38",)
    with pytest.raises(TxtFormatError, match=r"line 6: zone 38 is not a 6° Gauss–Krüger zone of China"):
        parse_boundary_txt(txt("5,1.0000,1,a,面,,,,@", *SQUARE, attributes=mf.attributes(几度分带="6", 带号=None)))
    with pytest.raises(TxtFormatError, match=r"line 6: 几度分带 '9度': expected 3 or 6"):
        parse_boundary_txt(txt("5,1.0000,1,a,面,,,,@", *SQUARE, attributes=mf.attributes(几度分带="9度")))


@pytest.mark.parametrize(
    ("zone", "width", "prefixed", "epsg"),
    [(38, 3, True, 4526), (25, 3, True, 4513), (45, 3, True, 4533), (38, 3, False, 4547), (25, 3, False, 4534), (45, 3, False, 4554),
     (19, 6, True, 4497), (13, 6, True, 4491), (23, 6, True, 4501), (19, 6, False, 4508), (13, 6, False, 4502), (23, 6, False, 4512)],
)
def test_epsg_codes(zone, width, prefixed, epsg):
    """The EPSG arithmetic of docs/domain.md (Gauss–Krüger zones), with a square at each zone's central meridian near 30°N."""
    cm = 3 * zone if width == 3 else 6 * zone - 3
    tr = _transformer("EPSG:4490", f"EPSG:{epsg}")
    e, n = tr.transform(cm + 0.001, 30.0)
    assert (e // 1_000_000 == zone) is prefixed
    square = [(e, n), (e + 100, n), (e + 100, n + 100), (e, n + 100), (e, n)]
    lines = [f"J{i},1,{y:.3f},{x:.3f}" for i, (x, y) in enumerate(square, 1)]
    result = parse_boundary_txt(txt("5,1.0000,1,a,面,,,,@", *lines, attributes=mf.attributes(几度分带=str(width), 带号=str(zone))))
    assert result.source_epsg == epsg
    assert result.parcels[0].geometry.centroid.x == pytest.approx(cm + 0.001 + 0.0005, abs=0.001)


def test_unprefixed_swapped_axes_are_detected():
    lines = ["J1,1,490000.000,3316500.000", "J2,1,490100.000,3316500.000", "J3,1,490100.000,3316600.000", "J4,1,490000.000,3316600.000"]
    result = parse_boundary_txt(txt("5,1.0000,1,a,面,,,,@", *lines))
    assert result.source_epsg == 4547
    assert result.warnings == (
        "the X column holds eastings (6 digits) and the Y column northings (7 digits): the columns were read the other way round (X = northing, Y = easting)",
        "1 ring(s) were not closed and were closed by repeating their first point (parcels at lines 13)",
    )
    assert result.parcels[0].projected.bounds == (490000.0, 3316500.0, 490100.0, 3316600.0)


def test_unreadable_axes_are_refused_with_the_ranges():
    lines = ["J1,1,500.000,1000.000", "J2,1,500.000,1100.000", "J3,1,600.000,1100.000"]
    with pytest.raises(TxtFormatError, match=r"cannot tell northings from eastings: X runs from 500 to 600 and Y from 1000 to 1100"):
        parse_boundary_txt(txt("4,1.0000,1,a,面,,,,@", *lines))


def test_mixed_zone_prefixes_are_refused():
    lines = [*SQUARE[:2], "J3,1,3316600.000,39490100.000", *SQUARE[3:]]
    with pytest.raises(TxtFormatError, match=r"different zone prefixes \(38, 39\)"):
        parse_boundary_txt(txt("5,1.0000,1,a,面,,,,@", *lines))


def test_unit_and_projection_type_checks():
    with pytest.raises(TxtFormatError, match=r"line 8: 计量单位 \(unit\) '度' is not supported"):
        parse_boundary_txt(txt("5,1.0000,1,a,面,,,,@", *SQUARE, attributes=mf.attributes(计量单位="度")))
    result = parse_boundary_txt(txt("5,1.0000,1,a,面,,,,@", *SQUARE, attributes=mf.attributes(投影类型="UTM")))
    assert result.warnings == ("line 7: 投影类型 'UTM' is not Gauss–Krüger; the coordinates were read as Gauss–Krüger",)


def test_missing_coordinate_system_assumes_cgcs2000():
    result = parse_boundary_txt(txt("5,1.0000,1,a,面,,,,@", *SQUARE, attributes=mf.attributes(坐标系=None)))
    assert result.datum == "CGCS2000"
    assert result.warnings == ("坐标系 (coordinate system) is not given; assumed CGCS2000 (2000国家大地坐标系)",)


def test_transformation_parameters():
    bad = list(mf.XIAN80_PARAMS[:6])
    with pytest.raises(TxtFormatError, match="must be 7 numbers"):
        read("xian80.txt", transform_params=tuple(bad))
    result = read("utf8_bom_crlf.txt", transform_params=mf.XIAN80_PARAMS)
    assert result.warnings == ("the coordinates are CGCS2000: the 7 transformation parameters were not needed and were ignored",)
    # the argument wins over 转换参数 in the file, with a warning
    result = read("beijing54.txt", transform_params=(15.8, -154.4, -82.3, 0.0, 0.0, 0.0, 0.5))
    assert "+towgs84=15.8,-154.4,-82.3,0.0,0.0,0.0,0.5" in result.source_crs
    assert "line 11: 转换参数 in the file were replaced by the transformation parameters given with the upload" in result.warnings
    # all-zero parameters in the file are the empty placeholder; a half-filled line is an error
    zeros = (FIXTURES / "beijing54.txt").read_bytes().replace(b"15.8,-154.4,-82.3,0.0,0.0,0.0,0.0", b"0,0,0,0,0,0,0")
    with pytest.raises(TxtFormatError, match="Beijing 1954"):
        parse_boundary_txt(zeros)
    half = (FIXTURES / "beijing54.txt").read_bytes().replace(b"15.8,-154.4,-82.3,0.0,0.0,0.0,0.0", b"15.8,-154.4,-82.3,,,,")
    with pytest.raises(TxtFormatError, match="line 11: 转换参数 must be 7 numbers"):
        parse_boundary_txt(half)


def test_hostile_sizes(monkeypatch):
    with pytest.raises(TxtFormatError, match="at most 200000 are accepted"):
        parse_boundary_txt(b"x\n" * 200_001)
    with pytest.raises(TxtFormatError, match="line 1: the line is longer than 4096 characters"):
        parse_boundary_txt(b"a" * 5000)
    monkeypatch.setattr(boundary_txt, "MAX_POINTS_PER_PARCEL", 4)
    with pytest.raises(TxtFormatError, match=r"line 18: the parcel starting at line 13 has more than 4 points"):
        parse_boundary_txt(txt("5,1.0000,1,a,面,,,,@", *SQUARE))
    monkeypatch.setattr(boundary_txt, "MAX_BYTES", 100)
    with pytest.raises(TxtFormatError, match="larger than"):
        parse_boundary_txt(txt("5,1.0000,1,a,面,,,,@", *SQUARE))


def test_messages_are_translatable():
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(TxtFormatError) as caught:
        read("bad_empty.txt")
    assert caught.value.source == "bad_empty.txt"  # text may or may not be translated yet; the call path works


# ---------------------------------------------------------------------------------------- exporter


def _a_lonlat() -> MultiPolygon:
    return read("utf8_bom_crlf.txt").parcels[0].geometry


def test_export_layout():
    parcels = [
        ExportParcel(_a_lonlat(), number="JY-1", name="一号, 地块", use="工业用地", land_class="0601", sheet="H49G058012"),
        ExportParcel(read("hole.txt").parcels[0].geometry),
    ]
    data = export_boundary_txt(parcels, producer="嘉鱼县自然资源局", date="2024-05-01")
    text = data.decode("utf-8")
    lines = text.split("\r\n")
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")
    assert lines[:12] == [
        "[属性描述]", "格式版本号=1.01版本", "数据产生单位=嘉鱼县自然资源局", "数据产生日期=2024-05-01", "坐标系=2000国家大地坐标系",
        "几度分带=3", "投影类型=高斯克吕格", "计量单位=米", "带号=38", "精度=0.001", "转换参数=,,,,,,", "[地块坐标]",
    ]
    # parcel A: exterior clockwise from its north-western vertex J5 of the fixture (max northing − easting)
    assert lines[12] == "7,2.0015,JY-1,一号， 地块,面,H49G058012,工业用地,0601,@"
    assert lines[13:20] == [
        "J1,1,3316618.226,38490037.605",
        "J2,1,3316621.557,38490140.018",
        "J3,1,3316564.930,38490181.442",
        "J4,1,3316491.793,38490152.314",
        "J5,1,3316500.000,38490000.000",
        "J6,1,3316558.341,38489987.227",
        "J1,1,3316618.226,38490037.605",
    ]
    assert lines[20] == "10,4.3658,2,,面,,,,@"
    assert [line.split(",")[:2] for line in lines[21:31]] == [[f"J{i}", "1"] for i in (1, 2, 3, 4, 1)] + [[f"J{i}", "2"] for i in (5, 6, 7, 8, 5)]
    assert all(re.fullmatch(r"J\d+,\d,\d{7}\.\d{3},38\d{6}\.\d{3}", line) for line in lines[13:31] if not line.endswith("@"))
    assert lines[31] == ""
    # and it reads back without a warning
    assert parse_boundary_txt(data).warnings == ()


def test_export_zone_choice_and_encodings():
    a = _a_lonlat()
    west = MultiPolygon([Polygon([(x - 2.8, y) for x, y in p.exterior.coords]) for p in a.geoms])  # ≈ 111.1°E
    assert b"\r\n\xe5\xb8\xa6\xe5\x8f\xb7=37\r\n" in export_boundary_txt([ExportParcel(west)])
    six = export_boundary_txt([ExportParcel(a)], zone_width=6, encoding="gbk", date="2024-01-01")
    result = parse_boundary_txt(six)
    assert (result.zone_width, result.zone, result.source_epsg) == (6, 19, 4497)
    assert "几度分带=6" in six.decode("gbk")
    assert export_boundary_txt([ExportParcel(a)], encoding="utf-8-sig").startswith(b"\xef\xbb\xbf[")
    forced = parse_boundary_txt(export_boundary_txt([ExportParcel(a)], zone=39))
    assert forced.source_epsg == 4527
    assert forced.parcels[0].area_m2 == pytest.approx(read("utf8_bom_crlf.txt").parcels[0].area_m2, abs=0.5)


@pytest.mark.parametrize(
    ("kwargs", "parcels", "message"),
    [
        ({}, [], "no parcels"),
        ({"zone_width": 4}, None, "zone_width must be 3 or 6"),
        ({"zone": 19}, None, "zone 19 is not a 3°"),
        ({}, [ExportParcel(Polygon([(113.9, 29.9), (113.91, 29.91), (113.91, 29.9), (113.9, 29.91)]))], "valid, non-empty"),
        ({}, [ExportParcel(MultiPolygon())], "valid, non-empty"),
    ],
)
def test_export_refuses(kwargs, parcels, message):
    with pytest.raises(ValueError, match=message):
        export_boundary_txt(parcels if parcels is not None else [ExportParcel(_a_lonlat())], **kwargs)


# ------------------------------------------------------------------------------------- properties

ORIGIN = (mf.ORIGIN_MM[0] / 1000, mf.ORIGIN_MM[1] / 1000)


@st.composite
def star_polygon(draw, center: tuple[float, float], radius: float, n_min: int = 5) -> list[tuple[float, float]]:
    """A star-shaped simple polygon around `center`: vertex radii within [radius, 1.3 radius], angle gaps ≤ 1.5 × even."""
    n = draw(st.integers(n_min, 12))
    jitter = draw(st.lists(st.floats(-0.25, 0.25), min_size=n, max_size=n))
    radii = draw(st.lists(st.floats(1.0, 1.3), min_size=n, max_size=n))
    step = 2 * math.pi / n
    return [
        (center[0] + radius * r * math.cos(step * (i + j)), center[1] + radius * r * math.sin(step * (i + j)))
        for i, (j, r) in enumerate(zip(jitter, radii, strict=True))
    ]


@st.composite
def projected_parcel(draw) -> MultiPolygon:
    """1–2 parts 800 m apart, each with 0–2 holes, in EPSG:4526 around Jiayu (metres, x = easting)."""
    base = (ORIGIN[0] + draw(st.floats(-3000, 3000)), ORIGIN[1] + draw(st.floats(-3000, 3000)))
    parts = []
    for k in range(draw(st.integers(1, 2))):
        center = (base[0] + 800 * k, base[1])
        radius = draw(st.floats(60, 300))
        shell = Polygon(draw(star_polygon(center, radius)))
        holes = []
        for h in range(draw(st.integers(0, 2))):
            offset = (-0.3 if h == 0 else 0.3) * radius
            hole = Polygon(draw(star_polygon((center[0] + offset, center[1]), 0.15 * radius, n_min=3)))
            holes.append(hole)
        assume(all(shell.contains(h.buffer(1.0)) for h in holes))
        parts.append(Polygon(shell.exterior.coords, [h.exterior.coords for h in holes]))
    geom = MultiPolygon(parts)
    assume(geom.is_valid)
    return geom


@PROPERTY
@given(st.lists(projected_parcel(), min_size=1, max_size=3))
def test_property_export_parse_round_trip_is_exact_to_a_millimetre(projected):
    to_ll = _transformer("EPSG:4526", "EPSG:4490")

    def lonlat(mp: MultiPolygon) -> MultiPolygon:
        def ring(coords):
            xs, ys = zip(*coords, strict=True)
            return list(zip(*to_ll.transform(xs, ys), strict=True))

        return MultiPolygon([Polygon(ring(p.exterior.coords), [ring(h.coords) for h in p.interiors]) for p in mp.geoms])

    exported = export_boundary_txt([ExportParcel(lonlat(mp), number=str(i)) for i, mp in enumerate(projected, 1)], zone=38, date="2024-01-01")
    result = parse_boundary_txt(exported)
    assert result.source_epsg == 4526
    assert result.warnings == ()
    assert len(result.parcels) == len(projected)
    for parcel, original in zip(result.parcels, projected, strict=True):
        assert_rings_match(parcel.projected, original, tol=0.001)
        assert_rings_match(original, parcel.projected, tol=0.001)
        assert parcel.planar_area_m2 == pytest.approx(original.area, abs=original.length * 0.001)
        assert parcel.declared_area == pytest.approx(parcel.planar_area_m2 / 10_000, abs=0.00005 + 1e-9)


@st.composite
def lonlat_polygon(draw) -> Polygon:
    """A valid polygon in lon/lat degrees around Jiayu (113.80–114.00°E, 29.90–30.05°N), 0–1 hole."""
    center = (draw(st.floats(113.80, 114.00)), draw(st.floats(29.90, 30.05)))
    radius = draw(st.floats(0.0008, 0.005))  # ≈ 80–500 m
    shell = Polygon(draw(star_polygon(center, radius)))
    holes = []
    if draw(st.booleans()):
        holes.append(Polygon(draw(star_polygon(center, 0.3 * radius, n_min=3))))
    assume(all(shell.contains(h) for h in holes))
    return Polygon(shell.exterior.coords, [h.exterior.coords for h in holes])


@PROPERTY
@given(lonlat_polygon())
def test_property_ellipsoidal_area_agrees_with_geod_grs80(polygon):
    """Projected by pyproj here, written by hand (not by the exporter), parsed: area within 0.01 % of Geod(GRS80)."""
    to_gk = _transformer("EPSG:4490", "EPSG:4526")

    def ring(coords, number, start):
        xs, ys = zip(*coords, strict=True)
        es, ns = to_gk.transform(xs, ys)
        return [f"P{start + i},{number},{n:.3f},{e:.3f}" for i, (e, n) in enumerate(zip(es, ns, strict=True))]

    lines = ring(polygon.exterior.coords, 1, 1)
    for k, hole in enumerate(polygon.interiors, 2):
        lines += ring(hole.coords, k, len(lines) + 1)
    data = txt(f"{len(lines)},,1,p,面,,,,@", *lines)
    parcel = parse_boundary_txt(data).parcels[0]
    expected = geod_area(MultiPolygon([polygon]))
    assert parcel.area_m2 == pytest.approx(expected, rel=1e-4)
    assert shape_signature(parcel.projected) == [len(polygon.interiors)]
