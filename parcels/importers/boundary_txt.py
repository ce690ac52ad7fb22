"""Boundary-point coordinate exchange files (勘测定界界址点坐标交换格式, "报盘 TXT"): parser and exporter.

The format is described in docs/domain.md ("The boundary-point file"), the coordinate systems in its
"Coordinate systems and areas". This module is pure Python
(shapely + pyproj, no ORM, no database): `parse_boundary_txt` turns the bytes of an uploaded file into
`TxtFile`/`TxtParcel` values with shapely MultiPolygons in the file's projected CRS and in EPSG:4490
(CGCS2000 lon/lat), and `export_boundary_txt` writes CGCS2000 MultiPolygons back out.

Units and axes: projected coordinates are metres, ``x`` = easting (with the zone prefix exactly as the
file's CRS has it), ``y`` = northing. Survey files write X = northing first, Y = easting second.
Geographic coordinates are EPSG:4490 lon/lat degrees. Areas are m²; declared areas are as written.

Decisions (the tests in tests/parcels/test_boundary_txt.py check each of them):

Reading
- Bytes: at most ``MAX_BYTES``; NUL bytes mean binary (unless the file starts with a UTF-16 BOM, which is
  decoded as UTF-16). Otherwise UTF-8 (a BOM is dropped), then GB18030 (a superset of GBK and GB2312).
  A trailing DOS end-of-file mark (Ctrl-Z) is dropped; any other control character is an error naming
  the line. Line ends CRLF, LF and CR are all accepted; line numbers count them as editors do.
- At most ``MAX_LINES`` lines of at most ``MAX_LINE_CHARS`` characters, and ``MAX_POINTS_PER_PARCEL``
  point lines per parcel; beyond that the file is refused. Nothing is ever evaluated.
- Sections are ``[name]`` lines (full-width 【】 also). ``[属性描述]`` keys go into ``TxtFile.attributes``
  as written; keys of any other section before or after (``[项目信息]``, ``[扩展信息]``) are stored as
  ``"<section>.<key>"``, e.g. ``"项目信息.项目名称"``. Lines before the first section are ignored with a
  warning. A file without ``[地块坐标]`` is refused ("not a boundary-point file").
- Full-width commas (，) count as commas in ``[地块坐标]``; fields are stripped of blanks.
- 坐标系: anything containing 2000/CGCS → CGCS2000; 80/西安/Xian → Xi'an 80; 54/北京/Beijing → Beijing 54;
  any other value is refused. Missing or empty → CGCS2000 with a warning.
- 几度分带 (or any key containing 分带, e.g. ``分带=3度带``): 3/6, 三/六, optionally followed by 度/°/带.
  Missing → inferred from the zone number (3° zones are 25–45 and 6° zones 13–23 in China, they do not
  overlap) with a warning. A zone outside its width's range is refused.
- 带号: a number (``38``, ``38带``, ``第38带``) or empty. 计量单位 must be metres (米/m) when given.
  A 投影类型 that does not name Gauss–Krüger gives a warning (the file is still read as Gauss–Krüger).
- Parcel header: a line ending with ``@`` (a stray comma after it is tolerated); the comma before ``@``
  is a separator, not an empty field.
  At least 8 fields are required. The provincial variant (division code and village name before the
  parcel number) is recognised by having ≥ 10 fields *and* a 6-, 9- or 12-digit administrative code in
  the third field; otherwise fields after the eighth are extra attributes (``attr_1``, ``attr_2``, …,
  also after the provincial fields). ``extra`` holds ``division_code`` and ``village`` for the
  provincial variant.
- 界址点数 (point count): the standard counts every point line including each ring's repeated closing
  point. Also accepted silently: the count without closing points, and the count the parcel would have
  once unclosed rings are closed. Any other value is a *warning* naming both numbers, unless it is
  wildly off (more than twice, or less than half, the number of point lines): then the file is refused,
  because a block that lost half its points (truncated, or two parcels merged) must not be imported.
- 地块面积 (declared area): normally hectares. It is compared with the Gauss–Krüger planar area of the
  parcel: within 1 % → fine; if the declared value matches the area *in m²* within 1 % → a warning that
  the file seems to give m²; otherwise a warning with both figures and the difference in %. An empty
  area or 0 (some exporters write 0 for "not computed") is not compared.
- Point line: point name, ring number (圈号, a whole number ≥ 1), X, Y; further fields are ignored.
  Numbers are plain decimals (optionally with an exponent); ``nan``, ``inf`` and ``1_000`` are refused.
- Rings: consecutive point lines with the same ring number. A ring ends when the ring number changes or
  when it closes (a point equal to its first point within 0.5 mm), so files that number every part
  "1" and separate them by closing each one are read correctly. Consecutive duplicate points are
  dropped. Unclosed rings are closed by repeating their first point, with one warning per file.
  A ring with fewer than 3 distinct points or that is not a valid polygon on its own (self-intersection,
  reported with the position as X/Y from shapely's ``is_valid_reason``) is refused, naming the parcel's
  header line, the ring number and the line of its first point.
- Holes and parts: a ring inside an odd number of other rings is a hole of the smallest ring around it;
  every other ring is an outer boundary of a part. So ring 2 inside ring 1 is a hole, ring 2 outside
  ring 1 a further part, a ring inside a further part is that part's hole, and an island inside a hole
  is another part. A ring numbered 1 must not end up a hole (ring 1 is the outer boundary by
  definition). Rings that cross each other, or parts that overlap, are refused naming both rings.
  Exteriors are oriented counter-clockwise, holes clockwise (in x = easting, y = northing).
- Axes, by the number of integer digits over the whole file: X 7 (or 6) digits and Y 8 digits →
  standard, zone-prefixed; X 8 and Y 6–7 → swapped (warning); X 7 and Y 6 → standard without prefix;
  X 6 and Y 7 → swapped without prefix (warning). Anything else is refused, naming the ranges found.
  Without a prefix, northings must have 7 digits (China north of ≈ 9°N) to tell them apart.
- Zone: the easting prefix (all points must share one) or 带号. If both are present and differ → refused.
  带号 empty and prefixed eastings → zone from the prefix, with a warning. Neither → refused, naming the
  possible zones.
- CRS: CGCS2000 uses the EPSG codes of docs/domain.md, Gauss–Krüger zones (3° prefixed zone + 4488, 3° unprefixed zone + 4509,
  6° prefixed zone + 4478, 6° unprefixed 4502 + zone − 13). Xi'an 80 and Beijing 54 are refused unless
  seven transformation parameters are given (argument ``transform_params``, which wins, or 转换参数 in
  the file; all-zero parameters in the file count as the empty placeholder). They are PROJ
  ``+towgs84`` parameters to CGCS2000 in the position-vector convention: dx, dy, dz in metres, rx, ry, rz
  in arc-seconds, scale in ppm. The target is then GRS80 lon/lat with a zero shift (= CGCS2000 within
  centimetres), because PROJ would otherwise drop the shift ("ballpark" transformation).
  Parameters given for a CGCS2000 file are ignored with a warning.
- Sanity: every transformed vertex must lie in China (lon 73–136, lat 3–54), else the file is refused
  with a message that the coordinate system is probably wrong.
- Areas: ``area_m2`` is the ellipsoidal area on the CGCS2000 ellipsoid (pyproj.Geod; GRS80 differs by
  1e-10 in flattening); ``planar_area_m2`` the area in the file's projected CRS.

Writing
- ``[属性描述]`` with CGCS2000, 3° or 6° zones, zone-prefixed eastings, ``[地块坐标]`` with 8-field
  national headers (area = Gauss–Krüger planar area in hectares, 4 decimals, of the rounded
  coordinates), points named J1, J2, … per parcel (a ring's closing point repeats its first point's
  name), rings numbered 1, 2, 3, … per parcel (each exterior followed by its holes), X = northing and
  Y = easting with 3 decimals, CRLF line ends. Exteriors run clockwise on the map and start at their
  north-westernmost vertex (max northing − easting), the surveyors' custom; holes run anticlockwise.
  Commas in text fields become full-width commas, line breaks blanks. The default zone is the one of
  the centroid longitude of all parcels. A parcel that becomes invalid at millimetre precision is
  refused (ValueError), as are empty or invalid geometries.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date as _date
from functools import lru_cache
from typing import NoReturn

import numpy as np
import shapely
from django.utils.translation import gettext as _
from pyproj import Geod, Transformer
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from parcels.exceptions import TxtFormatError

__all__ = [
    "ExportParcel",
    "TxtFile",
    "TxtParcel",
    "export_boundary_txt",
    "parse_boundary_txt",
]

MAX_BYTES = 50 * 1024 * 1024  # as parcels.importers.readers.MAX_TXT_BYTES
MAX_LINES = 200_000
MAX_LINE_CHARS = 4096
MAX_POINTS_PER_PARCEL = 100_000

CHINA_LON = (73.0, 136.0)
CHINA_LAT = (3.0, 54.0)
AREA_TOLERANCE = 0.01  # 1 %
CLOSE_TOLERANCE_M = 0.0005  # two vertices closer than half a millimetre are the same point
M2_PER_HA = 10_000.0

GEOGRAPHIC_CRS = "EPSG:4490"
# CGCS2000 as a PROJ string with an explicit zero shift: the hub for +towgs84 sources (see docstring).
CGCS2000_TOWGS84 = "+proj=longlat +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +no_defs"
GEOD = Geod(a=6378137.0, f=1 / 298.257222101)  # CGCS2000 ellipsoid

CGCS2000 = "CGCS2000"
XIAN80 = "Xian80"
BEIJING54 = "Beijing54"
_ELLIPSOID = {XIAN80: "IAU76", BEIJING54: "krass"}

COORDS_SECTION = "地块坐标"
ATTRIBUTES_SECTION = "属性描述"
HEADER_FIELDS = "界址点数,地块面积,地块编号,地块名称,图形属性,图幅号,地块用途,地类编码"

_SECTION = re.compile(r"^[\[【]\s*([^\]】]*?)\s*[\]】]$")
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
_WHOLE = re.compile(r"^\d+$")
_DIVISION_CODE = re.compile(r"^\d{6}(?:\d{3}){0,2}$")
_ZONE_VALUE = re.compile(r"^第?\s*(\d{1,2})\s*带?$")
_WIDTH_VALUE = re.compile(r"^([36三六])\s*(?:度|°)?\s*(?:分?带)?$")
_REASON = re.compile(r"^(.*?)\[\s*([-+\d.eE]+)\s+([-+\d.eE]+)\s*\]\s*$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_METRES = {"米", "m", "M", "metre", "meter", "metres", "meters", "公尺"}
_GK_NAMES = ("高斯", "gauss", "kruger", "krüger", "克吕格", "横轴墨卡托", "transverse")


# --------------------------------------------------------------------------------------------- values


@dataclass(frozen=True)
class TxtParcel:
    """One parcel (地块): a header line ending in ``@`` and its point lines.

    ``projected`` is in the file's projected CRS (metres, x = easting with the zone prefix as in the CRS,
    y = northing); ``geometry`` is EPSG:4490 lon/lat. ``area_m2`` is ellipsoidal (CGCS2000/GRS80
    ellipsoid), ``planar_area_m2`` Gauss–Krüger planar in the file's CRS, both m².
    ``declared_area`` is the 地块面积 field as written (normally hectares), None when empty.
    """

    number: str
    name: str
    geometry_type: str
    sheet: str
    use: str
    land_class: str
    declared_area: float | None
    extra: dict[str, str]
    line: int
    projected: MultiPolygon
    geometry: MultiPolygon
    area_m2: float
    planar_area_m2: float


@dataclass(frozen=True)
class TxtFile:
    """A parsed boundary-point file.

    ``source_epsg`` is the EPSG code of the projected CRS (e.g. 4526) or None for Xi'an 80 / Beijing 54
    files read through a PROJ string; ``source_crs`` is what pyproj was given. ``warnings`` are
    translated, human-readable sentences about what was assumed or repaired.
    """

    attributes: dict[str, str]
    datum: str
    zone_width: int
    zone: int
    source_epsg: int | None
    source_crs: str
    parcels: tuple[TxtParcel, ...]
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class ExportParcel:
    """A parcel to write: ``geometry`` is a shapely (Multi)Polygon in EPSG:4490 lon/lat degrees."""

    geometry: MultiPolygon
    number: str = ""
    name: str = ""
    use: str = ""
    land_class: str = ""
    sheet: str = ""


@dataclass
class _Point:
    line: int
    name: str
    ring: int
    x: float  # the file's X column (normally northing)
    y: float  # the file's Y column (normally easting)


@dataclass
class _RawParcel:
    line: int
    fields: list[str]
    points: list[_Point] = field(default_factory=list)


@dataclass
class _Ring:
    number: int
    line: int  # line of its first point
    coords: list[tuple[float, float]] = field(default_factory=list)  # (easting, northing)
    closed: bool = False
    closing_in_file: bool = False

    def label(self) -> str:
        return _("ring %(ring)d (line %(line)d)") % {"ring": self.number, "line": self.line}


@dataclass
class _Crs:
    datum: str
    zone_width: int
    zone: int
    epsg: int | None
    crs: str
    to_crs: str  # geographic CRS the transformation goes to


# ---------------------------------------------------------------------------------------- utilities


def _loc(n: int) -> str:
    return _("line %(n)d") % {"n": n}


def _fail(message: str, source: str, line: int | None = None) -> TxtFormatError:
    return TxtFormatError(message, source=source, location=_loc(line) if line else None)


def _fmt(value: float) -> str:
    """A number for a message: no trailing zeros, at most 4 decimals."""
    return f"{value:.4f}".rstrip("0").rstrip(".")


def _same(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return abs(a[0] - b[0]) <= CLOSE_TOLERANCE_M and abs(a[1] - b[1]) <= CLOSE_TOLERANCE_M


@lru_cache(maxsize=64)
def _transformer(src: str, dst: str) -> Transformer:
    """Cached pyproj transformer (always_xy: lon/lat and easting/northing order). Thread-safe since pyproj 3.1."""
    return Transformer.from_crs(src, dst, always_xy=True)


def _transform(geom: BaseGeometry, src: str, dst: str) -> BaseGeometry:
    tr = _transformer(src, dst)
    return shapely.transform(geom, lambda x, y: tr.transform(x, y), interleaved=False)


def _ellipsoidal_area(geom: BaseGeometry) -> float:
    """m² on the CGCS2000 ellipsoid of a lon/lat (Multi)Polygon whose exteriors run counter-clockwise."""
    return abs(GEOD.geometry_area_perimeter(geom)[0])


def _orient_multi(polygons: Sequence[Polygon], sign: float = 1.0) -> MultiPolygon:
    return MultiPolygon([orient(p, sign) for p in polygons])


# ------------------------------------------------------------------------------------------ reading


def _decode(data: bytes, source: str) -> str:
    if len(data) > MAX_BYTES:
        raise _fail(_("the file is larger than %(mb)d MB; a boundary-point file is much smaller") % {"mb": MAX_BYTES // 2**20}, source)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise _fail(_("the file starts like UTF-16 text but cannot be decoded as such"), source) from exc
    else:
        if b"\x00" in data:
            raise _fail(_("this is a binary file, not a boundary-point text file"), source)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("gb18030")
            except UnicodeDecodeError as exc:
                raise _fail(
                    _("the file is neither UTF-8 nor GBK/GB18030 text (undecodable bytes at offset %(offset)d)") % {"offset": exc.start}, source
                ) from exc
    text = text.lstrip("\ufeff").rstrip("\x1a")
    if not text.strip():
        raise _fail(_("the file is empty"), source)
    return text


def _parse_number(text: str, what: str, source: str, line: int) -> float:
    if not _NUMBER.match(text):
        raise _fail(_("%(what)s %(value)r is not a number") % {"what": what, "value": text[:40]}, source, line)
    value = float(text)
    if not math.isfinite(value):
        raise _fail(_("%(what)s %(value)r is out of range") % {"what": what, "value": text[:40]}, source, line)
    return value


def _split_fields(line: str) -> list[str]:
    return [f.strip() for f in line.replace("，", ",").split(",")]


def _read(text: str, source: str, warnings: list[str]) -> tuple[dict[str, str], dict[str, int], list[_RawParcel]]:
    """Lines → attributes (with the line of each [属性描述] key) and raw parcels. Syntax only."""
    lines = re.split(r"\r\n|\r|\n", text)
    if len(lines) > MAX_LINES:
        raise _fail(_("the file has %(count)d lines; at most %(max)d are accepted") % {"count": len(lines), "max": MAX_LINES}, source)
    attributes: dict[str, str] = {}
    attribute_lines: dict[str, int] = {}
    parcels: list[_RawParcel] = []
    section: str | None = None
    seen_coords = False
    ignored_before: list[int] = []
    for n, raw in enumerate(lines, 1):
        if len(raw) > MAX_LINE_CHARS:
            raise _fail(_("the line is longer than %(max)d characters") % {"max": MAX_LINE_CHARS}, source, n)
        if _CONTROL.search(raw):
            raise _fail(_("the line contains control characters; this is not a boundary-point text file"), source, n)
        line = raw.replace("\u3000", " ").strip()
        if not line:
            continue
        match = _SECTION.match(line)
        if match:
            section = match.group(1).strip()
            seen_coords = seen_coords or section == COORDS_SECTION
            continue
        if section is None:
            ignored_before.append(n)
            continue
        if section != COORDS_SECTION:
            key, sep, value = line.replace("＝", "=").partition("=")
            if not sep:
                warnings.append(_("line %(n)d: ignored, not a key=value line: %(text)s") % {"n": n, "text": line[:60]})
                continue
            key, value = key.strip(), value.strip()
            name = key if section == ATTRIBUTES_SECTION else f"{section}.{key}"
            attributes[name] = value
            if section == ATTRIBUTES_SECTION:
                attribute_lines[key] = n
            continue
        header = line.rstrip(",， ")  # tolerate a stray comma after '@'
        if header.endswith("@"):
            body = header[:-1].rstrip()
            fields = _split_fields(body)
            if body.endswith((",", "，")):
                fields.pop()
            if len(fields) < 8:
                raise _fail(
                    _("a parcel header needs at least 8 fields (%(fields)s) before '@'; found %(count)d") % {"fields": HEADER_FIELDS, "count": len(fields)},
                    source, n,
                )
            parcels.append(_RawParcel(line=n, fields=fields))
            continue
        if not parcels:
            raise _fail(_("a point line before the first parcel header (a line ending with '@')"), source, n)
        parcel = parcels[-1]
        fields = _split_fields(line)
        if len(fields) < 4:
            raise _fail(
                _("a point line needs 4 fields: point name, ring number, X, Y; found %(count)d: %(text)s") % {"count": len(fields), "text": line[:60]},
                source, n,
            )
        if not _WHOLE.match(fields[1]) or int(fields[1]) < 1:
            raise _fail(_("ring number %(value)r is not a whole number ≥ 1") % {"value": fields[1][:40]}, source, n)
        if len(parcel.points) >= MAX_POINTS_PER_PARCEL:
            raise _fail(
                _("the parcel starting at line %(header)d has more than %(max)d points") % {"header": parcel.line, "max": MAX_POINTS_PER_PARCEL},
                source, n,
            )
        x = _parse_number(fields[2], "X", source, n)
        y = _parse_number(fields[3], "Y", source, n)
        parcel.points.append(_Point(line=n, name=fields[0], ring=int(fields[1]), x=x, y=y))
    if not seen_coords:
        raise _fail(_("there is no [地块坐标] section: this is not a boundary-point coordinate file"), source)
    if not parcels:
        raise _fail(_("the [地块坐标] section holds no parcel (a header line ending with '@' followed by point lines)"), source)
    for parcel in parcels:
        if not parcel.points:
            raise _fail(_("the parcel has no point lines"), source, parcel.line)
    if ignored_before:
        warnings.append(
            _("%(count)d line(s) before the first section were ignored (from line %(first)d)") % {"count": len(ignored_before), "first": ignored_before[0]}
        )
    return attributes, attribute_lines, parcels


def _find(attributes: dict[str, str], lines: dict[str, int], test: Callable[[str], bool]) -> tuple[str, int | None]:
    """First [属性描述] value whose key passes `test` ('' and None when there is none)."""
    for key, n in lines.items():
        if test(key):
            return attributes[key], n
    return "", None


def _datum(attributes: dict[str, str], lines: dict[str, int], source: str, warnings: list[str]) -> tuple[str, int | None]:
    value, n = _find(attributes, lines, lambda k: k in {"坐标系", "坐标系统", "大地坐标系", "坐标系名称"})
    v = value.upper().replace(" ", "").replace("’", "'")
    if not v:
        warnings.append(_("坐标系 (coordinate system) is not given; assumed CGCS2000 (2000国家大地坐标系)"))
        return CGCS2000, n
    if "2000" in v or "CGCS" in v:
        return CGCS2000, n
    if "80" in v or "西安" in v or "XIAN" in v or "XI'AN" in v:
        return XIAN80, n
    if "54" in v or "北京" in v or "BEIJING" in v:
        return BEIJING54, n
    raise _fail(
        _("coordinate system %(value)r is not supported; use 2000国家大地坐标系 (CGCS2000), 西安80 or 北京54 Gauss–Krüger coordinates")
        % {"value": value[:60]},
        source, n,
    )


def _file_params(attributes: dict[str, str], lines: dict[str, int], source: str) -> tuple[tuple[float, ...] | None, int | None]:
    value, n = _find(attributes, lines, lambda k: k == "转换参数")
    parts = _split_fields(value) if value else []
    if not any(parts):
        return None, n
    if len(parts) != 7 or not all(_NUMBER.match(p) for p in parts):
        raise _fail(
            _("转换参数 must be 7 numbers dx,dy,dz,rx,ry,rz,scale (or 6 commas and nothing else); found %(value)r") % {"value": value[:80]},
            source, n,
        )
    params = tuple(float(p) for p in parts)
    if not all(math.isfinite(p) for p in params):
        raise _fail(_("转换参数 contains a number out of range"), source, n)
    return (None if not any(params) else params), n


def _axes(parcels: list[_RawParcel], source: str, warnings: list[str]) -> tuple[bool, bool]:
    """(swapped, prefixed) from the integer digits of the X and Y columns over the whole file."""
    xs = np.array([p.x for parcel in parcels for p in parcel.points])
    ys = np.array([p.y for parcel in parcels for p in parcel.points])

    def digits(values: np.ndarray) -> set[int]:
        return {len(str(int(v))) for v in np.unique(np.floor(np.abs(values)))}

    dx, dy = digits(xs), digits(ys)
    if dy == {8} and dx <= {6, 7}:
        return False, True
    if dx == {8} and dy <= {6, 7}:
        warnings.append(
            _("the X column holds eastings (8 digits, with zone prefix) and the Y column northings: the columns were read the other way round (X = northing, Y = easting)")
        )
        return True, True
    if dx == {7} and dy == {6}:
        return False, False
    if dx == {6} and dy == {7}:
        warnings.append(
            _("the X column holds eastings (6 digits) and the Y column northings (7 digits): the columns were read the other way round (X = northing, Y = easting)")
        )
        return True, False
    raise _fail(
        _(
            "cannot tell northings from eastings: X runs from %(xmin)s to %(xmax)s and Y from %(ymin)s to %(ymax)s; "
            "expected X = northing (7 integer digits, e.g. 3316000) and Y = easting (8 digits with zone prefix, e.g. 38490000, or 6 without, e.g. 490000)"
        )
        % {"xmin": _fmt(xs.min()), "xmax": _fmt(xs.max()), "ymin": _fmt(ys.min()), "ymax": _fmt(ys.max())},
        source,
    )


def _crs(
    attributes: dict[str, str],
    lines: dict[str, int],
    parcels: list[_RawParcel],
    prefixed: bool,
    swapped: bool,
    transform_params: tuple[float, ...] | None,
    source: str,
    warnings: list[str],
) -> _Crs:
    datum, datum_line = _datum(attributes, lines, source, warnings)

    zone_value, zone_line = _find(attributes, lines, lambda k: k == "带号")
    declared_zone: int | None = None
    if zone_value:
        match = _ZONE_VALUE.match(zone_value)
        if not match:
            raise _fail(_("带号 (zone) %(value)r is not a zone number") % {"value": zone_value[:40]}, source, zone_line)
        declared_zone = int(match.group(1))

    if prefixed:
        prefixes = sorted({int((p.x if swapped else p.y) // 1_000_000) for parcel in parcels for p in parcel.points})
        if len(prefixes) > 1:
            raise _fail(
                _("the eastings carry different zone prefixes (%(zones)s); a file must use one zone") % {"zones": ", ".join(map(str, prefixes))}, source
            )
        zone = prefixes[0]
        if declared_zone is not None and declared_zone != zone:
            raise _fail(
                _("带号 (zone) is %(declared)d but the eastings carry the zone prefix %(prefix)d") % {"declared": declared_zone, "prefix": zone},
                source, zone_line,
            )
        if declared_zone is None:
            warnings.append(_("带号 (zone) is empty; zone %(zone)d was taken from the easting prefix") % {"zone": zone})
    elif declared_zone is None:
        raise _fail(
            _(
                "the zone is unknown: 带号 is empty and the eastings carry no zone prefix. Fill in 带号= with the Gauss–Krüger zone: "
                "a 3° zone 25–45 (central meridian 3 × zone, e.g. 38 for Xianning, 114°E) or a 6° zone 13–23 (e.g. 19, 111°E)"
            ),
            source, zone_line,
        )
    else:
        zone = declared_zone

    width_key, width_line = next(((k, n) for k, n in lines.items() if "分带" in k), (None, None))
    width_value = attributes.get(width_key, "") if width_key else ""
    if width_value:
        match = _WIDTH_VALUE.match(width_value.strip())
        if not match:
            raise _fail(_("%(key)s %(value)r: expected 3 or 6 (degrees)") % {"key": width_key, "value": width_value[:40]}, source, width_line)
        width = 3 if match.group(1) in "3三" else 6
    else:
        width = 6 if 13 <= zone <= 23 else 3
        warnings.append(_("几度分带 (zone width) is not given; %(width)d° zones assumed from zone %(zone)d") % {"width": width, "zone": zone})
    low, high = (25, 45) if width == 3 else (13, 23)
    if not low <= zone <= high:
        raise _fail(
            _("zone %(zone)d is not a %(width)d° Gauss–Krüger zone of China (3° zones are 25–45, 6° zones 13–23)") % {"zone": zone, "width": width},
            source, zone_line or width_line,
        )
    central_meridian = 3 * zone if width == 3 else 6 * zone - 3

    unit, unit_line = _find(attributes, lines, lambda k: k == "计量单位")
    if unit and unit not in _METRES:
        raise _fail(_("计量单位 (unit) %(value)r is not supported; coordinates must be in metres (米)") % {"value": unit[:40]}, source, unit_line)
    projection, projection_line = _find(attributes, lines, lambda k: k == "投影类型")
    if projection and not any(name in projection.lower() for name in _GK_NAMES):
        warnings.append(
            _("line %(n)d: 投影类型 %(value)r is not Gauss–Krüger; the coordinates were read as Gauss–Krüger")
            % {"n": projection_line, "value": projection[:40]}
        )

    file_params, params_line = _file_params(attributes, lines, source)
    if transform_params is not None:
        if len(transform_params) != 7 or not all(isinstance(p, int | float) and math.isfinite(p) for p in transform_params):
            raise _fail(_("the transformation parameters must be 7 numbers: dx, dy, dz, rx, ry, rz, scale"), source)
        transform_params = tuple(float(p) for p in transform_params)

    if datum == CGCS2000:
        if transform_params is not None or file_params is not None:
            warnings.append(_("the coordinates are CGCS2000: the 7 transformation parameters were not needed and were ignored"))
        if width == 3:
            epsg = zone + 4488 if prefixed else zone + 4509
        else:
            epsg = zone + 4478 if prefixed else 4502 + zone - 13
        return _Crs(datum, width, zone, epsg, f"EPSG:{epsg}", GEOGRAPHIC_CRS)

    datum_name = _("Xi'an 1980 (西安80)") if datum == XIAN80 else _("Beijing 1954 (北京54)")
    params = transform_params if transform_params is not None else file_params
    if params is None:
        raise _fail(
            _(
                "the coordinates are in the %(datum)s coordinate system. Converting them to CGCS2000 needs the 7 transformation parameters "
                "of your area (dx, dy, dz in metres; rx, ry, rz in arc-seconds; scale in ppm; position-vector convention): write them into "
                "转换参数=dx,dy,dz,rx,ry,rz,scale in [属性描述], or enter them with the upload, or ask the surveyor for CGCS2000 coordinates"
            )
            % {"datum": datum_name},
            source, datum_line,
        )
    if transform_params is not None and file_params is not None and file_params != transform_params:
        warnings.append(
            _("line %(n)d: 转换参数 in the file were replaced by the transformation parameters given with the upload") % {"n": params_line}
        )
    false_easting = (zone * 1_000_000 if prefixed else 0) + 500_000
    towgs84 = ",".join(repr(p) for p in params)
    proj = (
        f"+proj=tmerc +lat_0=0 +lon_0={central_meridian} +k=1 +x_0={false_easting} +y_0=0 "
        f"+ellps={_ELLIPSOID[datum]} +towgs84={towgs84} +units=m +no_defs"
    )
    warnings.append(
        _("%(datum)s coordinates were converted to CGCS2000 with the transformation parameters %(params)s") % {"datum": datum_name, "params": towgs84}
    )
    return _Crs(datum, width, zone, None, proj, CGCS2000_TOWGS84)


def _rings(parcel: _RawParcel, swapped: bool) -> list[_Ring]:
    """Point lines → rings of (easting, northing); closes unclosed rings (ring.closed_in_file tells)."""
    rings: list[_Ring] = []
    for p in parcel.points:
        coord = (p.x, p.y) if swapped else (p.y, p.x)
        ring = rings[-1] if rings else None
        if ring is None or ring.number != p.ring or ring.closed:
            ring = _Ring(number=p.ring, line=p.line)
            rings.append(ring)
        if ring.coords and _same(coord, ring.coords[-1]):
            continue  # consecutive duplicate
        if len(ring.coords) >= 2 and _same(coord, ring.coords[0]):
            ring.coords.append(ring.coords[0])
            ring.closed = ring.closing_in_file = True
            continue
        ring.coords.append(coord)
    for ring in rings:
        if not ring.closed:
            ring.coords.append(ring.coords[0])
            ring.closed = True
    return rings


def _near(geom: BaseGeometry) -> tuple[float, float]:
    point = geom.representative_point() if not geom.is_empty else None
    return (point.x, point.y) if point is not None else (math.nan, math.nan)


def _invalid(reason: str) -> tuple[str, tuple[float, float] | None]:
    match = _REASON.match(reason)
    if not match:
        return reason, None
    return match.group(1).strip(), (float(match.group(2)), float(match.group(3)))


def _where(parcel_label: str, what: str) -> str:
    return _("parcel %(parcel)s, %(what)s") % {"parcel": parcel_label, "what": what}


def _geometry(parcel: _RawParcel, label: str, rings: list[_Ring], source: str) -> MultiPolygon:
    """Rings → a valid MultiPolygon (holes by containment parity, see the module docstring)."""
    polygons: list[Polygon] = []
    for ring in rings:
        if len(set(ring.coords)) < 3:
            raise _fail(
                _where(label, _("%(ring)s: a ring needs at least 3 distinct points; it has %(count)d") % {"ring": ring.label(), "count": len(set(ring.coords))}),
                source, parcel.line,
            )
        polygon = Polygon(ring.coords)
        reason = shapely.is_valid_reason(polygon)
        if reason != "Valid Geometry":
            text, at = _invalid(reason)
            at = at or _near(polygon)
            raise _fail(
                _where(
                    label,
                    _("%(ring)s is not a valid polygon: %(reason)s at X=%(x).3f, Y=%(y).3f")
                    % {"ring": ring.label(), "reason": text, "x": at[1], "y": at[0]},
                ),
                source, parcel.line,
            )
        polygons.append(polygon)

    if len(polygons) == 1:
        return _orient_multi(polygons)
    tree = shapely.STRtree(polygons)
    outer, inner = tree.query(polygons, predicate="contains")
    keep = outer != inner
    outer, inner = outer[keep], inner[keep]
    depth = np.bincount(inner, minlength=len(polygons))
    for i, ring in enumerate(rings):
        if ring.number == 1 and depth[i] % 2 == 1:
            container = rings[int(outer[inner == i][0])]
            raise _fail(
                _where(
                    label,
                    _("%(ring)s lies inside %(other)s, but ring 1 is the outer boundary; holes and further parts are numbered 2, 3, …")
                    % {"ring": ring.label(), "other": container.label()},
                ),
                source, parcel.line,
            )
    holes: dict[int, list[int]] = {i: [] for i in range(len(polygons)) if depth[i] % 2 == 0}
    for i in range(len(polygons)):
        if depth[i] % 2 == 1:
            containers = [int(o) for o in outer[inner == i] if depth[int(o)] == depth[i] - 1]
            if not containers:  # only identical rings nest like this
                _raise_overlap(parcel, label, rings, polygons, list(range(len(polygons))), MultiPolygon(polygons), source)
            holes[containers[0]].append(i)
    parts = []
    for shell, hole_indices in holes.items():
        part = Polygon(rings[shell].coords, [rings[h].coords for h in hole_indices])
        if not part.is_valid:
            _raise_overlap(parcel, label, rings, polygons, [shell, *hole_indices], part, source)
        parts.append(part)
    result = _orient_multi(parts)
    if not result.is_valid:
        _raise_overlap(parcel, label, rings, polygons, list(holes), result, source)
    return result


def _raise_overlap(
    parcel: _RawParcel, label: str, rings: list[_Ring], polygons: list[Polygon], indices: list[int], geom: BaseGeometry, source: str
) -> NoReturn:
    """Names the first two rings among `indices` whose areas overlap (or touch along a line), else GEOS's reason."""
    subset = [polygons[i] for i in indices]
    left, right = shapely.STRtree(subset).query(subset, predicate="intersects")
    for a_pos, b_pos in sorted((int(i), int(j)) for i, j in zip(left, right, strict=True) if i < j):
        a, b = indices[a_pos], indices[b_pos]
        shared = polygons[a].boundary.intersection(polygons[b].boundary)
        if polygons[a].overlaps(polygons[b]) or shared.length > 0 or polygons[a].equals(polygons[b]):
            x, y = _near(shared)
            raise _fail(
                _where(
                    label,
                    _(
                        "%(a)s and %(b)s cross or share an edge near X=%(x).3f, Y=%(y).3f; a ring numbered 2 or more must lie "
                        "completely inside ring 1 (a hole) or completely outside it (a further part)"
                    )
                    % {"a": rings[a].label(), "b": rings[b].label(), "x": y, "y": x},
                ),
                source, parcel.line,
            )
    text, at = _invalid(shapely.is_valid_reason(geom))
    at = at or _near(geom)
    raise _fail(
        _where(label, _("the rings do not form a valid polygon: %(reason)s at X=%(x).3f, Y=%(y).3f") % {"reason": text, "x": at[1], "y": at[0]}),
        source, parcel.line,
    )


def _header(parcel: _RawParcel, source: str) -> dict[str, object]:
    f = parcel.fields
    count_text, area_text = f[0], f[1]
    if count_text and not _WHOLE.match(count_text):
        raise _fail(_("界址点数 (point count) %(value)r is not a whole number") % {"value": count_text[:40]}, source, parcel.line)
    extra: dict[str, str] = {}
    if len(f) >= 10 and _DIVISION_CODE.match(f[2]):
        extra["division_code"], extra["village"] = f[2], f[3]
        rest = f[4:]
    else:
        rest = f[2:]
    for i, value in enumerate(rest[6:], 1):
        extra[f"attr_{i}"] = value
    return {
        "count": int(count_text) if count_text else None,
        "declared_area": _parse_number(area_text, _("地块面积 (area)"), source, parcel.line) if area_text else None,
        "number": rest[0],
        "name": rest[1],
        "geometry_type": rest[2],
        "sheet": rest[3],
        "use": rest[4],
        "land_class": rest[5],
        "extra": extra,
    }


def _check_count(parcel: _RawParcel, label: str, declared: int | None, rings: list[_Ring], source: str, warnings: list[str]) -> None:
    if declared is None:
        return
    lines = len(parcel.points)
    closing_in_file = sum(r.closing_in_file for r in rings)
    unclosed = len(rings) - closing_in_file
    if declared in {lines, lines - closing_in_file, lines + unclosed}:
        return
    values = {"parcel": label, "declared": declared, "lines": lines}
    if declared > 2 * lines or 2 * declared < lines:
        raise _fail(
            _("parcel %(parcel)s: the header declares %(declared)d points but %(lines)d point lines follow; the block is incomplete or two parcels ran together")
            % values,
            source, parcel.line,
        )
    warnings.append(
        _("line %(n)d: parcel %(parcel)s: the header declares %(declared)d points but %(lines)d point lines follow") % {"n": parcel.line, **values}
    )


def _check_area(parcel: _RawParcel, label: str, declared: float | None, planar_m2: float, warnings: list[str]) -> None:
    if not declared:
        return
    if abs(declared * M2_PER_HA - planar_m2) <= AREA_TOLERANCE * planar_m2:
        return
    values = {"n": parcel.line, "parcel": label, "declared": _fmt(declared), "m2": planar_m2, "ha": planar_m2 / M2_PER_HA}
    if abs(declared - planar_m2) <= AREA_TOLERANCE * planar_m2:
        warnings.append(
            _(
                "line %(n)d: parcel %(parcel)s: the declared area %(declared)s matches the computed area in m² (%(m2).2f m²), "
                "not in hectares; the file seems to give areas in m² instead of hectares"
            )
            % values
        )
        return
    values["percent"] = (declared * M2_PER_HA - planar_m2) / planar_m2 * 100
    warnings.append(
        _(
            "line %(n)d: parcel %(parcel)s: the declared area %(declared)s ha differs from the computed Gauss–Krüger area "
            "%(ha).4f ha (%(m2).2f m²) by %(percent)+.2f %%"
        )
        % values
    )


def _check_china(parcel: _RawParcel, label: str, geometry: MultiPolygon, crs: _Crs, source: str) -> None:
    coords = shapely.get_coordinates(geometry)
    lon, lat = coords[:, 0], coords[:, 1]
    inside = np.isfinite(coords).all() and (lon >= CHINA_LON[0]).all() and (lon <= CHINA_LON[1]).all()
    inside = inside and (lat >= CHINA_LAT[0]).all() and (lat <= CHINA_LAT[1]).all()
    if not inside:
        finite = coords[np.isfinite(coords).all(axis=1)]
        where = f"{finite[0, 0]:.4f}°E, {finite[0, 1]:.4f}°N" if len(finite) else "∞"
        raise _fail(
            _(
                "parcel %(parcel)s falls at %(where)s, outside China, when read in %(crs)s (%(datum)s, %(width)d° zone %(zone)d): "
                "the coordinate system, zone or coordinates are probably wrong"
            )
            % {"parcel": label, "where": where, "crs": crs.crs if crs.epsg else _("a Gauss–Krüger projection"), "datum": crs.datum, "width": crs.zone_width, "zone": crs.zone},
            source, parcel.line,
        )


def parse_boundary_txt(data: bytes, *, source: str = "boundary.txt", transform_params: tuple[float, ...] | None = None) -> TxtFile:
    """Reads a boundary-point coordinate file (报盘 TXT) given as bytes.

    `source` names the file in messages (``site.txt: line 14: …``). `transform_params` are the 7
    parameters dx, dy, dz (m), rx, ry, rz (arc-seconds), scale (ppm) from Xi'an 80 / Beijing 54 to
    CGCS2000; they override 转换参数 in the file. Raises TxtFormatError for anything that cannot be read
    safely; see the module docstring for every rule.
    """
    warnings: list[str] = []
    text = _decode(data, source)
    attributes, attribute_lines, raw_parcels = _read(text, source, warnings)
    swapped, prefixed = _axes(raw_parcels, source, warnings)
    crs = _crs(attributes, attribute_lines, raw_parcels, prefixed, swapped, transform_params, source, warnings)

    parcels: list[TxtParcel] = []
    unclosed_at: list[int] = []
    unclosed = 0
    for index, raw in enumerate(raw_parcels, 1):
        header = _header(raw, source)
        label = str(header["number"]) or f"#{index}"
        rings = _rings(raw, swapped)
        n_unclosed = sum(not r.closing_in_file for r in rings)
        if n_unclosed:
            unclosed += n_unclosed
            unclosed_at.append(raw.line)
        projected = _geometry(raw, label, rings, source)
        _check_count(raw, label, header["count"], rings, source, warnings)  # type: ignore[arg-type]
        geometry = _orient_multi(list(_transform(projected, crs.crs, crs.to_crs).geoms))
        _check_china(raw, label, geometry, crs, source)
        planar = float(projected.area)
        _check_area(raw, label, header["declared_area"], planar, warnings)  # type: ignore[arg-type]
        parcels.append(
            TxtParcel(
                number=str(header["number"]),
                name=str(header["name"]),
                geometry_type=str(header["geometry_type"]),
                sheet=str(header["sheet"]),
                use=str(header["use"]),
                land_class=str(header["land_class"]),
                declared_area=header["declared_area"],  # type: ignore[arg-type]
                extra=header["extra"],  # type: ignore[arg-type]
                line=raw.line,
                projected=projected,
                geometry=geometry,
                area_m2=_ellipsoidal_area(geometry),
                planar_area_m2=planar,
            )
        )
    if unclosed:
        warnings.append(
            _("%(count)d ring(s) were not closed and were closed by repeating their first point (parcels at lines %(lines)s)")
            % {"count": unclosed, "lines": ", ".join(map(str, unclosed_at))}
        )
    return TxtFile(
        attributes=attributes,
        datum=crs.datum,
        zone_width=crs.zone_width,
        zone=crs.zone,
        source_epsg=crs.epsg,
        source_crs=crs.crs,
        parcels=tuple(parcels),
        warnings=tuple(dict.fromkeys(warnings)),
    )


# ------------------------------------------------------------------------------------------ writing


def _text_field(value: object) -> str:
    return re.sub(r"[\r\n\t]+", " ", str(value)).replace(",", "，").strip()


def _export_ring(coords: np.ndarray) -> list[tuple[float, float]]:
    """A ring (closed, easting/northing) rounded to mm, starting at its north-westernmost vertex, closed."""
    pts = [(round(float(x), 3), round(float(y), 3)) for x, y in coords[:-1]]
    start = max(range(len(pts)), key=lambda i: (pts[i][1] - pts[i][0], -i))
    pts = pts[start:] + pts[:start]
    return [*pts, pts[0]]


def export_boundary_txt(
    parcels: Sequence[ExportParcel],
    *,
    zone: int | None = None,
    zone_width: int = 3,
    producer: str = "OneMap",
    date: str | None = None,
    encoding: str = "utf-8",
) -> bytes:
    """Writes parcels (EPSG:4490 lon/lat MultiPolygons) as a boundary-point TXT file in CGCS2000 Gauss–Krüger.

    `zone` is the 3° (25–45) or 6° (13–23, with ``zone_width=6``) zone; by default the zone of the
    parcels' centroid longitude. Coordinates are written zone-prefixed, X = northing, Y = easting, in
    metres with 3 decimals; areas in hectares (planar, 4 decimals). `date` defaults to today (ISO).
    `encoding` is e.g. "utf-8", "utf-8-sig" (with BOM), "gbk" or "gb18030". Raises ValueError for no
    parcels, empty or invalid geometries, a bad zone, or text the encoding cannot hold.
    """
    if not parcels:
        raise ValueError("no parcels to export")
    if zone_width not in (3, 6):
        raise ValueError(f"zone_width must be 3 or 6, not {zone_width!r}")
    geometries: list[MultiPolygon] = []
    for i, parcel in enumerate(parcels, 1):
        geom = parcel.geometry
        if isinstance(geom, Polygon):
            geom = MultiPolygon([geom])
        if not isinstance(geom, MultiPolygon) or geom.is_empty or not geom.is_valid:
            raise ValueError(f"parcel {i}: the geometry must be a valid, non-empty (Multi)Polygon in EPSG:4490")
        geometries.append(geom)
    if zone is None:
        lon = shapely.GeometryCollection(geometries).centroid.x
        zone = round(lon / 3) if zone_width == 3 else math.floor(lon / 6) + 1
    low, high = (25, 45) if zone_width == 3 else (13, 23)
    if not low <= zone <= high:
        raise ValueError(f"zone {zone} is not a {zone_width}° CGCS2000 Gauss–Krüger zone of China ({low}–{high})")
    epsg = zone + 4488 if zone_width == 3 else zone + 4478

    out = [
        f"[{ATTRIBUTES_SECTION}]",
        "格式版本号=1.01版本",
        f"数据产生单位={_text_field(producer)}",
        f"数据产生日期={_text_field(date or _date.today().isoformat())}",
        "坐标系=2000国家大地坐标系",
        f"几度分带={zone_width}",
        "投影类型=高斯克吕格",
        "计量单位=米",
        f"带号={zone}",
        "精度=0.001",
        "转换参数=,,,,,,",
        f"[{COORDS_SECTION}]",
    ]
    for i, (parcel, geom) in enumerate(zip(parcels, geometries, strict=True), 1):
        projected = _transform(geom, GEOGRAPHIC_CRS, f"EPSG:{epsg}")
        rings: list[list[tuple[float, float]]] = []
        parts: list[Polygon] = []
        for polygon in projected.geoms:
            polygon = orient(polygon, -1.0)  # exterior clockwise on the map, holes anticlockwise
            exterior = _export_ring(np.asarray(polygon.exterior.coords))
            interiors = [_export_ring(np.asarray(r.coords)) for r in polygon.interiors]
            parts.append(Polygon(exterior, interiors))
            rings.extend([exterior, *interiors])
        rounded = MultiPolygon(parts)
        if not rounded.is_valid:
            raise ValueError(f"parcel {i}: the geometry becomes invalid at millimetre precision ({shapely.is_valid_reason(rounded)})")
        number = _text_field(parcel.number) or str(i)
        count = sum(len(r) for r in rings)
        fields = [str(count), f"{rounded.area / M2_PER_HA:.4f}", number, _text_field(parcel.name), "面",
                  _text_field(parcel.sheet), _text_field(parcel.use), _text_field(parcel.land_class)]
        out.append(",".join(fields) + ",@")
        point = 0
        for ring_number, ring in enumerate(rings, 1):
            first_name = ""
            for j, (easting, northing) in enumerate(ring):
                if j == len(ring) - 1:
                    name = first_name
                else:
                    point += 1
                    name = f"J{point}"
                    first_name = first_name or name
                out.append(f"{name},{ring_number},{northing:.3f},{easting:.3f}")
    text = "\r\n".join(out) + "\r\n"
    return text.encode(encoding)
