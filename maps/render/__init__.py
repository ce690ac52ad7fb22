"""Server-side map renderer: maps drawn as self-contained SVG without a browser (出图, issue 11).

Paper is in millimetres, the ground in metres of the CGCS2000 3° Gauss–Krüger zone of the frame's
centre (parcels.geo.gk3_epsg, zone-prefixed easting). A frame is axis-aligned in that zone, so grid
north is "up" and a grid step of G metres measures G / scale · 1000 mm on the paper.

API (all keyword-typed; every error is a RenderError, a ValueError, with a message fit for a 4xx):

    from maps.render import MapFrame, MapLayer, frame_for, render_svg

    frame = MapFrame(centre_lonlat=(113.93, 29.97), scale=2000, width_mm=170, height_mm=120)
    frame.epsg, frame.zone            # 4526, 38 (CGCS2000 / 3-degree GK zone 38)
    frame.extent_m                    # (e_min, n_min, e_max, n_max) in GK metres
    frame = frame_for(site, width_mm=170, height_mm=120, margin=0.15)  # round scale fitting a site
    svg = render_svg(
        frame=frame,
        layers=[
            MapLayer(name="相邻宗地", features=neighbours, stroke="#555555", fill="none", labels=codes),
            MapLayer(name="本宗地", features=[site], stroke="#d62728", fill="#d62728", fill_opacity=0.25),
        ],
        grid_m=100, scale_bar=True, north_arrow=True, legend=True, title="宗地图",
    )

- `features`: geometries in SRID 4490 (lon/lat), shapely or GEOS (a GEOS geometry in another SRID
  is transformed); polygons, lines and points. `labels` (optional) is parallel to `features`.
- Layers are drawn in list order (the last on top), clipped to the frame and simplified to a tenth
  of a millimetre on paper; at most `max_vertices` vertices in all (TooMuchData otherwise).
- Coordinates are written in mm of paper with 0.01 mm precision; the SVG's viewBox is the paper
  (0 0 width_mm height_mm) and its width/height carry "mm", so `<img src="data:image/svg+xml;…">`
  in WeasyPrint or a browser prints it at the true scale. `svg_data_uri(svg)` makes that URI.
- All text (titles, layer names, labels) is escaped and stripped of characters XML forbids; the
  SVG references nothing outside itself (its only url() is its own clip path).
- Grid: lines every `grid_m` metres (refused when closer than 5 mm on paper); `<line class="grid-e">`
  are easting (Y) lines, `class="grid-n"` northing (X) lines, each with data-m = its coordinate;
  labels are "X 3317200" / "Y 38512400" in metres (Y with the zone prefix), as Chinese surveying
  writes X = northing, Y = easting. Grid north is up; the north arrow points to it.
- Furniture sits inside the frame: title top left, north arrow top right, scale bar (a round
  length, "1:scale" above it) bottom left, legend (layers in list order) bottom right.
- Polygons are filled with `fill` at `fill_opacity`; lines are never filled; points are small dots.
  Per-feature labels are drawn at a point on the feature's surface when that lies in the frame.

Also here: maps.render.raster.pdf_to_png(pdf, dpi=…) (PDF → PNG by pdftoppm, fixed arguments and a
timeout) and maps.render.sheet (the print-map sheet: paper sizes, data queries, PDF via the
project's one PDF path approvals.issued.pdf.pdf_render).
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

import numpy as np
import shapely
from django.utils.translation import gettext as _
from pyproj import Transformer
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from parcels.geo import STORAGE_SRID, gk3_epsg, gk3_zone

__all__ = [
    "SCALES",
    "MapFrame",
    "MapLayer",
    "RenderError",
    "TooMuchData",
    "frame_for",
    "render_svg",
    "svg_data_uri",
]

# The round scales a sheet may have (1:500 … 1:50 000), the series of Chinese large-scale maps.
SCALES: tuple[int, ...] = (500, 1000, 2000, 5000, 10000, 25000, 50000)
MIN_SCALE, MAX_SCALE = 500, 50000
# Paper sides accepted, mm (a business card up to A0's long side).
MIN_PAPER_MM, MAX_PAPER_MM = 20.0, 1200.0
# China with a margin, degrees (CGCS2000 lon/lat); the GK zones 25–45 are checked by gk3_epsg.
CHINA_LON = (72.0, 136.0)
CHINA_LAT = (3.0, 54.0)
DEFAULT_MAX_VERTICES = 200_000
FONT = "Noto Sans CJK SC, Noto Sans, DejaVu Sans, sans-serif"
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
# Characters XML 1.0 does not allow (NUL and the other C0 controls except tab, LF, CR; surrogates; FFFE/FFFF).
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class RenderError(ValueError):
    """A map that cannot be drawn as asked (bad parameter, out of China, too much data)."""


class TooMuchData(RenderError):
    """More vertices or features than a sheet may carry at this scale."""


def _finite(value: Any, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise RenderError(f"{what} is not a number") from None
    if not math.isfinite(number):
        raise RenderError(f"{what} is not a finite number")
    return number


@lru_cache(maxsize=32)
def _to_gk(epsg: int) -> Transformer:
    # always_xy: (lon, lat) → (easting E, northing N), whatever the EPSG axis order.
    return Transformer.from_crs(f"EPSG:{STORAGE_SRID}", f"EPSG:{epsg}", always_xy=True)


@lru_cache(maxsize=32)
def _from_gk(epsg: int) -> Transformer:
    return Transformer.from_crs(f"EPSG:{epsg}", f"EPSG:{STORAGE_SRID}", always_xy=True)


def _check_lonlat(lon: float, lat: float) -> None:
    if not (CHINA_LON[0] <= lon <= CHINA_LON[1] and CHINA_LAT[0] <= lat <= CHINA_LAT[1]):
        raise RenderError(_("The centre %(lon).6f, %(lat).6f lies outside China.") % {"lon": lon, "lat": lat})
    try:
        gk3_epsg(lon)
    except ValueError:
        raise RenderError(_("The centre (longitude %(lon).6f) lies outside China's 3° Gauss–Krüger zones 25–45.") % {"lon": lon}) from None


@dataclass(frozen=True)
class MapFrame:
    """A sheet's map area: centre (CGCS2000 lon, lat in degrees), scale denominator, paper mm."""

    centre_lonlat: tuple[float, float]
    scale: int
    width_mm: float
    height_mm: float

    def __post_init__(self) -> None:
        try:
            lon, lat = self.centre_lonlat
        except (TypeError, ValueError):
            raise RenderError("centre must be a (longitude, latitude) pair") from None
        lon, lat = _finite(lon, "longitude"), _finite(lat, "latitude")
        _check_lonlat(lon, lat)
        scale = _finite(self.scale, "scale")
        if scale != int(scale) or not MIN_SCALE <= scale <= MAX_SCALE:
            raise RenderError(f"scale must be a whole number from {MIN_SCALE} to {MAX_SCALE}")
        for name in ("width_mm", "height_mm"):
            side = _finite(getattr(self, name), name)
            if not MIN_PAPER_MM <= side <= MAX_PAPER_MM:
                raise RenderError(f"{name} must be from {MIN_PAPER_MM:g} to {MAX_PAPER_MM:g} mm")
            object.__setattr__(self, name, side)
        object.__setattr__(self, "centre_lonlat", (lon, lat))
        object.__setattr__(self, "scale", int(scale))

    @property
    def epsg(self) -> int:
        """Zone-prefixed CGCS2000 3° GK EPSG code of the centre's zone (4513–4533)."""
        return gk3_epsg(self.centre_lonlat[0])

    @property
    def zone(self) -> int:
        return gk3_zone(self.centre_lonlat[0])

    @property
    def central_meridian(self) -> int:
        return 3 * self.zone

    @cached_property
    def centre_gk(self) -> tuple[float, float]:
        """(easting E = Y, northing N = X) of the centre in metres."""
        e, n = _to_gk(self.epsg).transform(*self.centre_lonlat)
        return float(e), float(n)

    @property
    def ground_size_m(self) -> tuple[float, float]:
        """Width and height of the frame on the ground, metres."""
        return self.width_mm / 1000 * self.scale, self.height_mm / 1000 * self.scale

    @property
    def extent_m(self) -> tuple[float, float, float, float]:
        """(e_min, n_min, e_max, n_max) in GK metres."""
        e, n = self.centre_gk
        w, h = self.ground_size_m
        return e - w / 2, n - h / 2, e + w / 2, n + h / 2

    def extent_lonlat(self, margin_mm: float = 0.0) -> tuple[float, float, float, float]:
        """A lon/lat box (4490) covering the frame plus `margin_mm` of paper: for a bbox query."""
        e0, n0, e1, n1 = self.extent_m
        pad = margin_mm / 1000 * self.scale
        es = np.array([e0 - pad, e1 + pad, e0 - pad, e1 + pad, (e0 + e1) / 2, (e0 + e1) / 2])
        ns = np.array([n0 - pad, n0 - pad, n1 + pad, n1 + pad, n0 - pad, n1 + pad])
        lons, lats = _from_gk(self.epsg).transform(es, ns)
        return float(lons.min()), float(lats.min()), float(lons.max()), float(lats.max())

    def to_paper(self, e: float, n: float) -> tuple[float, float]:
        """GK metres → paper mm from the frame's top-left corner (y grows downwards)."""
        e0, _n0, _e1, n1 = self.extent_m
        return (e - e0) / self.scale * 1000, (n1 - n) / self.scale * 1000


@dataclass(frozen=True)
class MapLayer:
    """Features (4490 geometries) drawn alike, with their legend name and optional labels."""

    name: str
    features: Sequence[Any]
    stroke: str = "#333333"
    fill: str = "none"
    fill_opacity: float = 0.3
    stroke_width_mm: float = 0.25
    labels: Sequence[str | None] | None = None
    dashed: bool = False
    _geoms: tuple[BaseGeometry, ...] = field(init=False, repr=False, compare=False, default=())

    def __post_init__(self) -> None:
        for name in ("stroke", "fill"):
            colour = getattr(self, name)
            if colour != "none" and not (isinstance(colour, str) and _COLOUR.match(colour)):
                raise RenderError(f"{name} must be #rrggbb or none")
        opacity = _finite(self.fill_opacity, "fill_opacity")
        if not 0 <= opacity <= 1:
            raise RenderError("fill_opacity must be from 0 to 1")
        width = _finite(self.stroke_width_mm, "stroke_width_mm")
        if not 0 <= width <= 5:
            raise RenderError("stroke_width_mm must be from 0 to 5")
        if self.labels is not None and len(self.labels) != len(self.features):
            raise RenderError("labels must have one entry per feature")
        object.__setattr__(self, "_geoms", tuple(_as_shapely(g) for g in self.features))


def _as_shapely(geometry: Any) -> BaseGeometry:
    if isinstance(geometry, BaseGeometry):
        return geometry
    wkb = getattr(geometry, "wkb", None)
    if wkb is None:
        raise RenderError("a feature is not a geometry")
    srid = getattr(geometry, "srid", None)
    if srid and srid != STORAGE_SRID:
        geometry = geometry.transform(STORAGE_SRID, clone=True)
        wkb = geometry.wkb
    return shapely.from_wkb(bytes(wkb))


def xml_text(value: Any) -> str:
    """Text for an SVG element or attribute: XML-forbidden characters dropped, & < > " ' escaped."""
    text = _XML_FORBIDDEN.sub("", str(value))
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


def _text_width_mm(text: str, size_mm: float) -> float:
    """Rough advance of `text` at font size `size_mm`: CJK and full-width glyphs one em, others ~0.6."""
    return sum(size_mm if ord(ch) > 0x2E7F else size_mm * 0.6 for ch in text)


def _num(value: float) -> str:
    """A paper coordinate in mm with 0.01 mm precision, without trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _ring_path(coords: np.ndarray, frame: MapFrame, close: bool) -> str:
    e0, _n0, _e1, n1 = frame.extent_m
    k = 1000 / frame.scale
    xs = (coords[:, 0] - e0) * k
    ys = (n1 - coords[:, 1]) * k
    parts = [f"M{_num(xs[0])} {_num(ys[0])}"]
    parts.extend(f"L{_num(x)} {_num(y)}" for x, y in zip(xs[1:], ys[1:], strict=True))
    if close:
        parts.append("Z")
    return "".join(parts)


def _geometry_path(geom: BaseGeometry, frame: MapFrame) -> str:
    out: list[str] = []
    for part in getattr(geom, "geoms", [geom]):
        if part.is_empty:
            continue
        if part.geom_type == "Polygon":
            out.append(_ring_path(np.asarray(part.exterior.coords), frame, True))
            out.extend(_ring_path(np.asarray(r.coords), frame, True) for r in part.interiors)
        elif part.geom_type in ("LineString", "LinearRing"):
            out.append(_ring_path(np.asarray(part.coords), frame, False))
        elif part.geom_type == "GeometryCollection":
            out.append(_geometry_path(part, frame))
    return "".join(out)


def _flat(geom: BaseGeometry) -> list[BaseGeometry]:
    """Single parts (Polygon, LineString, Point) of any geometry, collections unpacked recursively."""
    if hasattr(geom, "geoms"):
        return [p for g in geom.geoms for p in _flat(g)]
    return [] if geom.is_empty else [geom]


def _prepare(layer: MapLayer, frame: MapFrame) -> list[tuple[BaseGeometry, str | None]]:
    """The layer's features in GK metres, clipped to the frame (plus 2 mm so that edge strokes fall
    outside) and simplified to 0.1 mm on paper; empty results dropped."""
    if not layer._geoms:
        return []
    transformer = _to_gk(frame.epsg)
    e0, n0, e1, n1 = frame.extent_m
    pad = 2 / 1000 * frame.scale
    clip = box(e0 - pad, n0 - pad, e1 + pad, n1 + pad)
    tolerance = 0.1 / 1000 * frame.scale
    geoms = np.array(layer._geoms, dtype=object)
    # A quick lon/lat bbox reject before projecting (a bbox query may bring features just outside).
    lon0, lat0, lon1, lat1 = frame.extent_lonlat(margin_mm=4)
    keep = shapely.intersects(geoms, box(lon0, lat0, lon1, lat1))
    out: list[tuple[BaseGeometry, str | None]] = []
    for index in np.flatnonzero(keep):
        projected = shapely.transform(geoms[index], lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))
        if not projected.is_valid:
            projected = shapely.make_valid(projected)
        clipped = shapely.intersection(projected, clip)
        if clipped.is_empty:
            continue
        if clipped.geom_type not in ("Point", "MultiPoint"):
            clipped = shapely.simplify(clipped, tolerance, preserve_topology=True)
        label = layer.labels[index] if layer.labels is not None else None
        out.append((clipped, label))
    return out


def _grid(frame: MapFrame, grid_m: int, parts: list[str]) -> None:
    e0, n0, e1, n1 = frame.extent_m
    step_mm = grid_m / frame.scale * 1000
    if step_mm < 5:
        raise RenderError(_("A %(grid)s m grid is closer than 5 mm at 1:%(scale)s: choose a wider grid.") % {"grid": grid_m, "scale": frame.scale})
    w, h = frame.width_mm, frame.height_mm
    size = 2.2
    # Label every k-th line so that labels (about 11 characters) do not run into each other.
    every = max(1, math.ceil(18 / step_mm))
    parts.append('<g id="grid" stroke="#7f7f7f" stroke-width="0.15" fill="none">')
    labels: list[str] = []
    first_e = math.ceil(e0 / grid_m)
    for i in range(first_e, math.floor(e1 / grid_m) + 1):
        x, _y = frame.to_paper(i * grid_m, n1)
        parts.append(f'<line class="grid-e" data-m="{i * grid_m}" x1="{_num(x)}" y1="0" x2="{_num(x)}" y2="{_num(h)}"/>')
        if i % every == 0 and 3 < x < w - 22:
            text = f"Y {i * grid_m}"
            labels.append(_label_box(x + 0.6, 0.6, text, size, "grid-label-e"))
            labels.append(_label_box(x + 0.6, h - size - 1.2, text, size, "grid-label-e"))
    for i in range(math.ceil(n0 / grid_m), math.floor(n1 / grid_m) + 1):
        _x, y = frame.to_paper(e0, i * grid_m)
        parts.append(f'<line class="grid-n" data-m="{i * grid_m}" x1="0" y1="{_num(y)}" x2="{_num(w)}" y2="{_num(y)}"/>')
        if i % every == 0 and 6 < y < h - 4:
            text = f"X {i * grid_m}"
            labels.append(_label_box(0.6, y - size - 1.0, text, size, "grid-label-n"))
            labels.append(_label_box(w - 0.6 - _text_width_mm(text, size) - 0.8, y - size - 1.0, text, size, "grid-label-n"))
    parts.append("</g>")
    parts.append('<g id="grid-labels">' + "".join(labels) + "</g>")


def _label_box(x: float, y: float, text: str, size: float, cls: str) -> str:
    """Text on a white box (a halo WeasyPrint and browsers both draw), top-left at (x, y) mm."""
    width = _text_width_mm(text, size) + 0.8
    return (f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(width)}" height="{_num(size + 0.8)}" fill="#ffffff" fill-opacity="0.85"/>'
            f'<text class="{cls}" x="{_num(x + 0.4)}" y="{_num(y + size)}" font-size="{size}" fill="#333333">{xml_text(text)}</text>')


def _nice_bar_m(frame: MapFrame, max_mm: float) -> int:
    best = 0
    for length in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 50000):
        if length / frame.scale * 1000 <= max_mm:
            best = length
    return best or 1


def _metres(length: int) -> str:
    return f"{length // 1000} km" if length >= 1000 and length % 1000 == 0 else f"{length} m"


def _scale_bar(frame: MapFrame, parts: list[str]) -> None:
    length = _nice_bar_m(frame, min(50.0, frame.width_mm * 0.35))
    bar_mm = length / frame.scale * 1000
    x0, y0 = 5.0, frame.height_mm - 9.0
    seg = bar_mm / 4
    parts.append(f'<g id="scale-bar" data-m="{length}" data-mm="{_num(bar_mm)}">')
    parts.append(f'<rect x="{_num(x0 - 2)}" y="{_num(y0 - 5.5)}" width="{_num(bar_mm + 12)}" height="11" fill="#ffffff" fill-opacity="0.85"/>')
    for i in range(4):
        fill = "#000000" if i % 2 == 0 else "#ffffff"
        parts.append(f'<rect x="{_num(x0 + i * seg)}" y="{_num(y0)}" width="{_num(seg)}" height="1.2" fill="{fill}" stroke="#000000" stroke-width="0.15"/>')
    parts.append(f'<text x="{_num(x0)}" y="{_num(y0 + 4)}" font-size="2.2" text-anchor="middle">0</text>')
    parts.append(f'<text x="{_num(x0 + bar_mm)}" y="{_num(y0 + 4)}" font-size="2.2" text-anchor="middle">{xml_text(_metres(length))}</text>')
    parts.append(f'<text class="scale-text" x="{_num(x0)}" y="{_num(y0 - 1.5)}" font-size="2.6">1:{frame.scale}</text>')
    parts.append("</g>")


def _north_arrow(frame: MapFrame, parts: list[str]) -> None:
    # Grid north (up the GK frame); true north differs by the meridian convergence, stated in words
    # by the sheet that wants it.
    cx, top = frame.width_mm - 10.0, 8.0
    parts.append(f'<g id="north-arrow"><rect x="{_num(cx - 5)}" y="{_num(top - 4)}" width="10" height="17" fill="#ffffff" fill-opacity="0.85"/>')
    parts.append(f'<path d="M{_num(cx)} {_num(top)}L{_num(cx + 3)} {_num(top + 10)}L{_num(cx)} {_num(top + 7.5)}Z" fill="#000000"/>')
    parts.append(f'<path d="M{_num(cx)} {_num(top)}L{_num(cx - 3)} {_num(top + 10)}L{_num(cx)} {_num(top + 7.5)}Z" fill="#ffffff" stroke="#000000" stroke-width="0.2"/>')
    parts.append(f'<text x="{_num(cx)}" y="{_num(top - 0.8)}" font-size="3" font-weight="bold" text-anchor="middle">N</text></g>')


def _legend(frame: MapFrame, layers: Sequence[MapLayer], parts: list[str]) -> None:
    if not layers:
        return
    size, row = 2.6, 4.5
    names = [xml_text(layer.name) for layer in layers]
    width = 12 + max(_text_width_mm(layer.name, size) for layer in layers)
    height = 3 + row * len(layers)
    x0, y0 = frame.width_mm - width - 3, frame.height_mm - height - 3
    parts.append(f'<g id="legend"><rect x="{_num(x0)}" y="{_num(y0)}" width="{_num(width)}" height="{_num(height)}" fill="#ffffff" fill-opacity="0.9" stroke="#000000" stroke-width="0.2"/>')
    for i, (layer, name) in enumerate(zip(layers, names, strict=True)):
        y = y0 + 2 + i * row
        parts.append(f'<rect x="{_num(x0 + 2)}" y="{_num(y)}" width="6" height="3" {_paint(layer)}/>')
        parts.append(f'<text x="{_num(x0 + 10)}" y="{_num(y + 2.6)}" font-size="{size}">{name}</text>')
    parts.append("</g>")


def _paint(layer: MapLayer) -> str:
    fill = f'fill="{layer.fill}"' + (f' fill-opacity="{layer.fill_opacity:g}"' if layer.fill != "none" else "")
    dash = ' stroke-dasharray="1.2 0.8"' if layer.dashed else ""
    return f'{fill} stroke="{layer.stroke}" stroke-width="{layer.stroke_width_mm:g}"{dash}'


def render_svg(
    *,
    frame: MapFrame,
    layers: Iterable[MapLayer],
    grid_m: int | None = None,
    scale_bar: bool = True,
    north_arrow: bool = True,
    legend: bool = True,
    title: str | None = None,
    max_vertices: int = DEFAULT_MAX_VERTICES,
) -> str:
    """The frame as a standalone SVG document (string) with the layers, grid and furniture."""
    layers = list(layers)
    if grid_m is not None:
        grid = _finite(grid_m, "grid_m")
        if grid != int(grid) or grid < 1:
            raise RenderError("grid_m must be a positive whole number of metres")
        grid_m = int(grid)
    w, h = frame.width_mm, frame.height_mm
    body: list[str] = []
    vertices = 0
    for index, layer in enumerate(layers):
        prepared = _prepare(layer, frame)
        vertices += sum(int(shapely.get_num_coordinates(g)) for g, _label in prepared)
        if vertices > max_vertices:
            raise TooMuchData(_("More than %(limit)s vertices to draw at 1:%(scale)s. Choose a larger scale (a smaller area) or fewer layers.")
                              % {"limit": max_vertices, "scale": frame.scale})
        paths, lines, points, labels = [], [], [], []
        for geom, label in prepared:
            for part in _flat(geom):
                if part.geom_type == "Polygon":
                    paths.append(_geometry_path(part, frame))
                elif part.geom_type in ("LineString", "LinearRing"):
                    lines.append(_geometry_path(part, frame))
                elif part.geom_type == "Point":
                    x, y = frame.to_paper(part.x, part.y)
                    points.append(f'<circle cx="{_num(x)}" cy="{_num(y)}" r="0.8"/>')
            if label:
                anchor = geom.representative_point() if not geom.geom_type.endswith("Point") else shapely.get_point(geom, 0) if geom.geom_type == "MultiPoint" else geom
                x, y = frame.to_paper(anchor.x, anchor.y)
                if 1 < x < w - 1 and 3 < y < h - 1:
                    labels.append(f'<text x="{_num(x)}" y="{_num(y)}" font-size="2.4" text-anchor="middle">{xml_text(label)}</text>')
        body.append(f'<g class="layer" id="layer-{index}" {_paint(layer)} fill-rule="evenodd" stroke-linejoin="round">')
        if paths:
            body.append(f'<path d="{"".join(paths)}"/>')
        if lines:
            # an open subpath in a filled path would be filled as if closed: lines never are
            body.append(f'<path fill="none" d="{"".join(lines)}"/>')
        body.extend(points)
        body.append("</g>")
        if labels:
            body.append(f'<g class="labels" fill="#000000">{"".join(labels)}</g>')
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{_num(w)}mm" height="{_num(h)}mm" '
        f'viewBox="0 0 {_num(w)} {_num(h)}" font-family="{FONT}" data-scale="{frame.scale}" data-epsg="{frame.epsg}">',
        f'<defs><clipPath id="frame-clip"><rect x="0" y="0" width="{_num(w)}" height="{_num(h)}"/></clipPath></defs>',
        f'<rect x="0" y="0" width="{_num(w)}" height="{_num(h)}" fill="#ffffff"/>',
        '<g clip-path="url(#frame-clip)">',
        *body,
    ]
    if grid_m is not None:
        _grid(frame, grid_m, parts)
    if title:
        parts.append(_label_box(3, 3, title, 3.5, "title"))
    if scale_bar:
        _scale_bar(frame, parts)
    if north_arrow:
        _north_arrow(frame, parts)
    if legend:
        _legend(frame, layers, parts)
    parts.append("</g>")
    parts.append(f'<rect x="0" y="0" width="{_num(w)}" height="{_num(h)}" fill="none" stroke="#000000" stroke-width="0.35"/>')
    parts.append("</svg>")
    return "\n".join(parts)


def frame_for(geometry: Any, *, width_mm: float, height_mm: float, margin: float = 0.1, scales: Sequence[int] = SCALES) -> MapFrame:
    """The frame centred on a 4490 geometry at the largest round scale (smallest denominator from
    `scales`) at which the geometry plus `margin` (a fraction of the frame on each side) fits."""
    geom = _as_shapely(geometry)
    if geom.is_empty:
        raise RenderError("the geometry is empty")
    margin = _finite(margin, "margin")
    if not 0 <= margin < 0.5:
        raise RenderError("margin must be from 0 to 0.5")
    lon0, lat0, lon1, lat1 = geom.bounds
    clon, clat = (lon0 + lon1) / 2, (lat0 + lat1) / 2
    _check_lonlat(clon, clat)
    epsg = gk3_epsg(clon)
    projected = shapely.transform(geom, lambda xy: np.column_stack(_to_gk(epsg).transform(xy[:, 0], xy[:, 1])))
    e0, n0, e1, n1 = projected.bounds
    centre = _from_gk(epsg).transform((e0 + e1) / 2, (n0 + n1) / 2)
    usable = 1 - 2 * margin
    for scale in sorted(scales):
        if (e1 - e0) <= width_mm * usable / 1000 * scale and (n1 - n0) <= height_mm * usable / 1000 * scale:
            return MapFrame(centre_lonlat=(float(centre[0]), float(centre[1])), scale=scale, width_mm=width_mm, height_mm=height_mm)
    raise TooMuchData(f"the geometry does not fit at 1:{max(scales)}")


def svg_data_uri(svg: str) -> str:
    """data: URI of an SVG for <img src> (WeasyPrint's fetcher here loads data: URIs only)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
