"""Deterministic generator of the synthetic demo "one map" (一张图) of Jiayu County.

Jiayu County (嘉鱼县, division code 421221) is the demo jurisdiction of OneMap. Only
its boundary is real (from ``data/divisions/xianning_divisions.geojson``); every layer
generated here is *synthetic*: plausible in shape, size and class mix, but not real
planning or survey data.

Layers (GeoPackage layer names, all stored in EPSG:4490, CGCS2000 lon/lat degrees):

- ``landuse_survey``      土地利用现状 (三调): a tessellation of the whole county.
- ``permanent_farmland``  永久基本农田, class ``YJJBNT``.
- ``eco_redline``         生态保护红线, class ``STBHHX``.
- ``urban_boundary``      城镇开发边界, class ``CZKFBJ``.
- ``plan_zones``          土地利用总体规划建设用地管制区, classes 010/020/030/040.
- ``parcels``             registered land parcels (宗地) around the county seat.

All geometry is built in EPSG:4526 (CGCS2000 3-degree Gauss–Krüger zone 38 *with*
zone prefix: metres, easting ~38 500 000) and transformed to EPSG:4490 at the end,
because buffers, areas and street widths only make sense in a metric CRS.

The only source of randomness is ``numpy.random.default_rng(seed)`` (and generators
spawned from it), no wall clock and no iteration over unordered sets, so the same
seed always gives byte-identical geometry.

Run from the repository root::

    python -m data.generate [--seed N] [--out PATH]

This module deliberately has no Django imports: it is a plain data tool and the
platform's importers load its output like any other uploaded file.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from pyproj import Transformer
from shapely import affinity
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box
from shapely.ops import nearest_points
from tqdm import tqdm

from parcels.codes import LAND_CLASSES, PLAN_ZONE_NAMES

# --------------------------------------------------------------------------- constants

DEFAULT_SEED = 20261126
COUNTY_CODE = "421221"
CITY_CODE = "421200"
STORAGE_CRS = "EPSG:4490"  # CGCS2000 geographic, lon/lat degrees (the platform's storage SRID)
METRIC_CRS = "EPSG:4526"  # CGCS2000 3° Gauss–Krüger zone 38 with zone prefix, metres

DATA_DIR = Path(__file__).resolve().parent
DIVISIONS_PATH = DATA_DIR / "divisions" / "xianning_divisions.geojson"
DEFAULT_OUT = DATA_DIR / "demo" / "jiayu_onemap.gpkg"

LAYER_NAMES: tuple[str, ...] = (
    "landuse_survey",
    "permanent_farmland",
    "eco_redline",
    "urban_boundary",
    "plan_zones",
    "parcels",
)

#: Third national land survey (三调) second-level classes used by the survey layer.
LANDUSE_CLASSES: dict[str, str] = LAND_CLASSES
CULTIVATED_CLASSES: tuple[str, ...] = ("0101", "0102", "0103")

#: Old land-use master plan construction-control zones (field GZQLXDM).
PLAN_ZONE_CLASSES: dict[str, str] = PLAN_ZONE_NAMES
FARMLAND_CLASS = ("YJJBNT", "永久基本农田")
ECO_REDLINE_CLASS = ("STBHHX", "生态保护红线")
URBAN_BOUNDARY_CLASS = ("CZKFBJ", "城镇开发边界")

#: 19-character parcel code (宗地代码): county + cadastral district + sub-district
#: + 2-letter feature code + 5-digit sequence.
PARCEL_CODE_REGEX = r"^421221\d{3}\d{3}[GJZ][ABSXCDEFHWY]\d{5}$"
RIGHT_TYPES: dict[str, str] = {"GB": "国有建设用地使用权", "JC": "宅基地使用权"}
PARCEL_LAND_CLASSES: tuple[str, ...] = ("05H1", "0601", "0701", "0702", "08H2")

MIN_AREA_M2 = 1.0  # anything smaller is a numerical sliver and is dropped
GPKG_TIMESTAMP = "2026-01-01T00:00:00.000Z"  # written as every layer's last_change
PRECISION_M = 0.001  # vertices closer than this (metres) are snapped together before reprojection


@dataclass(frozen=True)
class Town:
    """A town that gets denser survey plots and an urban development boundary.

    ``lon``/``lat`` are approximate EPSG:4490 degrees; a point outside the county is
    moved to the nearest point at least 1 km inside it. ``urban_km2`` is the target
    area (km², Gauss–Krüger planar) of its urban development boundary, ``n_seeds``
    the number of extra survey seeds drawn from a normal distribution with standard
    deviation ``sigma_m`` metres around it.
    """

    name: str
    lon: float
    lat: float
    urban_km2: float
    n_seeds: int
    sigma_m: float


@dataclass(frozen=True)
class Lake:
    """A lake: approximate centre (EPSG:4490 degrees) and mean radius in metres."""

    name: str
    lon: float
    lat: float
    radius_m: float


# The county seat first: parcels are laid out around TOWNS[0].
TOWNS: tuple[Town, ...] = (
    Town("鱼岳镇", 113.92, 29.97, 20.0, 950, 2300.0),
    Town("潘家湾镇", 113.76, 29.90, 3.5, 230, 1100.0),
    Town("簰洲湾镇", 113.95, 30.22, 2.5, 180, 900.0),
    Town("官桥镇", 114.03, 29.90, 3.0, 200, 1000.0),
)
# Futou and Xiliang lakes straddle the county border; only the part inside is used.
LAKES: tuple[Lake, ...] = (
    Lake("斧头湖", 114.21, 30.03, 3300.0),
    Lake("西凉湖", 114.05, 29.90, 2700.0),
    Lake("蜜泉湖", 113.95, 29.99, 650.0),
)

N_BACKGROUND_SEEDS = 1900  # survey seeds spread uniformly over the county
N_PLAN_SEEDS = 280  # seeds of the coarser plan-zone tessellation
N_FARMLAND_GROUPS = 520  # farmland is dissolved within the cells of this many groups
FARMLAND_SHARE = 0.6  # share of eligible cultivated groups designated permanent farmland
TARGET_PARCELS = 300


# --------------------------------------------------------------------------- helpers


def _polygons(geom: shapely.Geometry | None, min_area: float = MIN_AREA_M2) -> list[Polygon]:
    """Polygonal parts of ``geom`` (made valid) with area >= ``min_area`` (CRS units²)."""
    if geom is None or geom.is_empty:
        return []
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    parts = shapely.get_parts(geom)
    out: list[Polygon] = []
    for part in parts:
        if isinstance(part, Polygon):
            if part.area >= min_area:
                out.append(part)
        elif part.geom_type in ("MultiPolygon", "GeometryCollection"):
            out.extend(_polygons(part, min_area))
    return out


def _multi(geom: shapely.Geometry | None, min_area: float = MIN_AREA_M2) -> MultiPolygon | None:
    """``geom`` as a valid MultiPolygon without slivers, or None when nothing is left."""
    parts = _polygons(geom, min_area)
    return MultiPolygon(parts) if parts else None


class _Noise:
    """Smooth random field on the metric plane, values roughly in [-1, 1].

    A sum of plane waves with random directions, wavelengths (metres) and phases.
    It gives spatially coherent variation (hilliness, paddy-vs-dry preference) that
    a per-cell random draw would not.
    """

    def __init__(self, rng: np.random.Generator, origin: tuple[float, float],
                 wavelengths_m: tuple[float, float] = (4000.0, 20000.0), n_waves: int = 12) -> None:
        self.origin = origin
        angle = rng.uniform(0.0, 2 * math.pi, n_waves)
        wavelength = rng.uniform(*wavelengths_m, n_waves)
        self.kx = np.cos(angle) * 2 * math.pi / wavelength
        self.ky = np.sin(angle) * 2 * math.pi / wavelength
        self.phase = rng.uniform(0.0, 2 * math.pi, n_waves)
        self.norm = math.sqrt(n_waves / 2.0)

    def __call__(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)[..., None] - self.origin[0]
        y = np.asarray(y, dtype=float)[..., None] - self.origin[1]
        value = np.cos(x * self.kx + y * self.ky + self.phase).sum(axis=-1) / self.norm
        return np.clip(value, -1.0, 1.0)


def _star(rng: np.random.Generator, center: tuple[float, float], radius_m: float,
          roughness: float = 0.22, n_vertices: int = 96) -> Polygon:
    """Irregular star-shaped blob (metres) whose radius varies smoothly with bearing."""
    theta = np.linspace(0.0, 2 * math.pi, n_vertices, endpoint=False)
    log_r = np.zeros_like(theta)
    for k in range(2, 13):  # low harmonics give the overall shape, high ones a ragged edge
        log_r += roughness / k * rng.normal() * np.cos(k * theta + rng.uniform(0, 2 * math.pi))
    r = radius_m * np.exp(log_r)
    return Polygon(np.column_stack([center[0] + r * np.cos(theta), center[1] + r * np.sin(theta)]))


def _scaled_to_area(make: Callable[[float], shapely.Geometry], radius_m: float, target_m2: float,
                    iterations: int = 4) -> shapely.Geometry:
    """Rescale ``make(radius)`` until its area is close to ``target_m2`` (m²).

    Clipping to the county and cutting out water make the area unpredictable, so we
    iterate radius *= sqrt(target / area), which converges in a few steps.
    """
    geom = make(radius_m)
    for _ in range(iterations):
        if geom.area <= 0:
            break
        radius_m *= math.sqrt(target_m2 / geom.area)
        geom = make(radius_m)
    return geom


def _wiggly_line(rng: np.random.Generator, a: Sequence[float], b: Sequence[float],
                 n_mid: int, jitter_m: float) -> LineString:
    """Polyline from a to b through ``n_mid`` waypoints displaced sideways by up to ``jitter_m`` metres."""
    a_arr, b_arr = np.asarray(a, float), np.asarray(b, float)
    d = b_arr - a_arr
    normal = np.array([-d[1], d[0]]) / max(np.hypot(*d), 1e-9)
    t = np.linspace(0.0, 1.0, n_mid + 2)
    offset = np.concatenate([[0.0], rng.uniform(-jitter_m, jitter_m, n_mid), [0.0]])
    pts = a_arr[None, :] + t[:, None] * d[None, :] + offset[:, None] * normal[None, :]
    return LineString(pts)


def _sample_in(rng: np.random.Generator, region: shapely.Geometry, n: int,
               center: tuple[float, float] | None = None, sigma_m: float = 0.0) -> np.ndarray:
    """``n`` random points (metres, shape (n, 2)) inside ``region`` by rejection sampling.

    Uniform over the bounding box when ``center`` is None, else normal around it.
    """
    minx, miny, maxx, maxy = region.bounds
    shapely.prepare(region)
    out: list[np.ndarray] = []
    count = 0
    while count < n:
        batch = max(64, 2 * (n - count))
        if center is None:
            xy = np.column_stack([rng.uniform(minx, maxx, batch), rng.uniform(miny, maxy, batch)])
        else:
            xy = rng.normal(0.0, sigma_m, (batch, 2)) + np.asarray(center)
        keep = xy[shapely.contains_xy(region, xy[:, 0], xy[:, 1])]
        out.append(keep)
        count += len(keep)
    return np.concatenate(out)[:n]


def _absorb_small(geoms: list[shapely.Geometry | None], classes: Sequence[str], min_area_m2: float,
                  same_class_only: bool, desc: str, progress: bool) -> list[shapely.Geometry | None]:
    """Merge every piece smaller than ``min_area_m2`` into the neighbour it shares most boundary with.

    Neighbours of the same class are preferred; with ``same_class_only`` a crumb
    without one is kept as it is (so a zoning rule is never bent). Keeps a
    tessellation a tessellation (nothing is dropped unless it is an isolated sliver
    below 1 m²) while removing the crumbs that cutting by roads and zones leaves.
    Removed pieces become None; indices are preserved.
    """
    geoms = list(geoms)
    areas = shapely.area(np.array(geoms, dtype=object))
    tree = shapely.STRtree(geoms)
    small = [i for i in np.argsort(areas, kind="stable") if areas[i] < min_area_m2]
    for i in tqdm(small, desc=desc, unit="piece", disable=not progress, leave=False):
        piece = geoms[i]
        if piece is None:
            continue
        if piece.area >= min_area_m2:  # it has already absorbed something
            continue
        cand = [int(j) for j in tree.query(piece.buffer(0.01)) if j != i and geoms[j] is not None]
        best, best_len = None, 0.0
        if cand:
            shared = shapely.length(shapely.intersection(
                piece.boundary, shapely.boundary(np.array([geoms[j] for j in cand], dtype=object))))
            same = np.array([classes[j] == classes[i] for j in cand])
            if (shared[same] > 0).any():
                shared = np.where(same, shared, 0.0)
            elif same_class_only:
                shared = np.zeros_like(shared)
            k = int(np.argmax(shared))
            best, best_len = cand[k], float(shared[k])
        if best is None or best_len <= 0.0:
            if piece.area < MIN_AREA_M2:
                geoms[i] = None
            continue
        merged = _multi(shapely.union(geoms[best], piece), 0.0)
        geoms[best] = merged.geoms[0] if merged is not None and len(merged.geoms) == 1 else merged
        geoms[i] = None
    return geoms


def _explode(geoms: Sequence[shapely.Geometry | None], classes: Sequence[str],
             min_area: float = MIN_AREA_M2) -> tuple[list[Polygon], list[str]]:
    """Split multipart pieces into single polygons, keeping their class; drop slivers."""
    out_g: list[Polygon] = []
    out_c: list[str] = []
    for g, c in zip(geoms, classes, strict=True):
        for p in _polygons(g, min_area):
            out_g.append(p)
            out_c.append(c)
    return out_g, out_c


def _grid_split(geom: shapely.Geometry, size_m: float) -> list[Polygon]:
    """Cut a (long, thin) polygon into pieces along a ``size_m`` metre square grid."""
    if geom.is_empty:
        return []
    minx, miny, maxx, maxy = geom.bounds
    x0, y0 = math.floor(minx / size_m) * size_m, math.floor(miny / size_m) * size_m
    cells = [box(x, y, x + size_m, y + size_m)
             for x in np.arange(x0, maxx, size_m) for y in np.arange(y0, maxy, size_m)]
    tree = shapely.STRtree(cells)
    out: list[Polygon] = []
    for j in sorted(int(k) for k in tree.query(geom, predicate="intersects")):
        out.extend(_polygons(shapely.intersection(geom, cells[j])))
    return out


# --------------------------------------------------------------------------- geography


@dataclass
class _Geography:
    county: shapely.Geometry  # county polygon, EPSG:4526 metres
    rim: shapely.Geometry  # boundary shared with the other Xianning counties (the hilly south)
    river_edge: shapely.Geometry  # county boundary along the Yangtze
    towns: list[tuple[Town, tuple[float, float]]]  # town and its metric centre
    origin: tuple[float, float]


def _load_geography(divisions_path: Path) -> _Geography:
    """Read the divisions file and derive the county polygon and its edges in EPSG:4526."""
    divisions = gpd.read_file(divisions_path)
    if divisions.crs is None:
        divisions = divisions.set_crs(STORAGE_CRS)
    divisions = divisions.to_crs(METRIC_CRS)
    county_rows = divisions[divisions["code"] == COUNTY_CODE]
    if county_rows.empty:
        raise ValueError(f"division {COUNTY_CODE} not found in {divisions_path}")
    # make_valid + dropping zero-area parts removes a degenerate hole in the source ring.
    county = shapely.union_all(_polygons(county_rows.geometry.iloc[0]))
    siblings = divisions[(divisions["parent_code"] == CITY_CODE) & (divisions["code"] != COUNTY_CODE)]
    boundary = county.boundary
    # The south and east edges are shared with Chibi and Xian'an; that is where the
    # Mufu mountain foothills are, so distance to this rim drives "hilliness".
    near_siblings = shapely.union_all(siblings.geometry.values).buffer(100.0)
    rim = boundary.intersection(near_siblings)
    # What is left faces Wuhan and Jingzhou.  All of it is the Yangtze except the
    # eastern land border with Jiangxia (Futou Lake), roughly x > 38 511 km, y < 3 338 km.
    outer = boundary.difference(near_siblings)
    east_land = box(38_511_000.0, 3_290_000.0, 38_530_000.0, 3_338_000.0)
    river_edge = outer.difference(east_land)
    to_metric = Transformer.from_crs(STORAGE_CRS, METRIC_CRS, always_xy=True)
    inner = county.buffer(-1000.0)
    towns: list[tuple[Town, tuple[float, float]]] = []
    for town in TOWNS:
        x, y = to_metric.transform(town.lon, town.lat)
        p = Point(x, y)
        if not inner.contains(p):
            # Approximate coordinates may fall just outside the (generalised) boundary:
            # snap to the nearest point at least 1 km inside so the town has room.
            p = nearest_points(inner, p)[0]
        towns.append((town, (p.x, p.y)))
    c = county.centroid
    return _Geography(county, rim, river_edge, towns, (round(c.x, -3), round(c.y, -3)))


# --------------------------------------------------------------------------- generation steps


def _water(rng: np.random.Generator, geo: _Geography) -> tuple[shapely.Geometry, list[tuple[str, Polygon]]]:
    """The Yangtze strip (the county owns the water up to the mid-channel border) and lakes, metres."""
    river = geo.county.intersection(geo.river_edge.buffer(550.0, quad_segs=4))
    river = shapely.union_all(_polygons(river, 1000.0))
    to_metric = Transformer.from_crs(STORAGE_CRS, METRIC_CRS, always_xy=True)
    lakes: list[tuple[str, Polygon]] = []
    for lake in LAKES:
        xy = to_metric.transform(lake.lon, lake.lat)
        blob = _star(rng, xy, lake.radius_m, roughness=0.35, n_vertices=120)
        part = geo.county.intersection(blob).difference(river)
        polys = sorted(_polygons(part, 10_000.0), key=lambda p: -p.area)
        if polys:
            lakes.append((lake.name, polys[0]))
    return river, lakes


def _eco_redline(rng: np.random.Generator, geo: _Geography, hilliness: Callable,
                 river: shapely.Geometry, lakes: list[tuple[str, Polygon]]) -> list[shapely.Geometry]:
    """5–12 ecological red-line blobs (metres): lakes with their shores, southern hills, a river wetland."""
    blobs: list[shapely.Geometry] = []
    for _name, lake in lakes:
        blobs.append(geo.county.intersection(lake.buffer(250.0, quad_segs=4)))
    # A Yangtze wetland (water plus a bank) around the point of the river edge farthest from
    # every town (on the Paizhou bend), so it never competes with urban land.
    edge_pts = shapely.get_coordinates(shapely.segmentize(geo.river_edge, 500.0))
    town_xy = np.array([xy for _t, xy in geo.towns])
    dist = np.min(np.hypot(edge_pts[:, None, 0] - town_xy[None, :, 0],
                           edge_pts[:, None, 1] - town_xy[None, :, 1]), axis=1)
    tip = edge_pts[int(np.argmax(dist))]
    blobs.append(river.intersection(_star(rng, tuple(tip), 4500.0, roughness=0.2)).union(
        geo.county.intersection(Point(tip).buffer(1200.0))))
    # Hills: well-spaced candidates where the terrain is hilly and no town is near.
    cand = _sample_in(rng, geo.county.buffer(-500.0), 3000)
    h = hilliness(cand[:, 0], cand[:, 1])
    d_town = np.min(np.hypot(cand[:, None, 0] - town_xy[None, :, 0],
                             cand[:, None, 1] - town_xy[None, :, 1]), axis=1)
    ok = (h > 0.7) & (d_town > 4500.0)
    cand = cand[ok]
    chosen: list[np.ndarray] = []
    for i in rng.permutation(len(cand)):
        p = cand[i]
        if all(np.hypot(*(p - q)) > 6000.0 for q in chosen):
            chosen.append(p)
        if len(chosen) == 5:
            break
    for p in chosen:
        blobs.append(geo.county.intersection(_star(rng, tuple(p), rng.uniform(1100.0, 2200.0))))
    # Make the blobs disjoint (earlier ones win) and drop crumbs.
    out: list[shapely.Geometry] = []
    taken: shapely.Geometry = Polygon()
    for b in blobs:
        m = _multi(b.difference(taken), 5000.0)
        if m is not None:
            out.append(m)
            taken = taken.union(m)
    return out


def _urban_boundaries(rng: np.random.Generator, geo: _Geography, avoid: shapely.Geometry) -> list[shapely.Geometry]:
    """One irregular urban development boundary per town (metres), clear of ``avoid``."""
    shapely.prepare(avoid)
    out: list[shapely.Geometry] = []
    for town, xy in geo.towns:
        # Every trial radius must redraw the *same* shape, so each town gets its own seed.
        shape_seed = int(rng.integers(2**63))

        def make(radius: float, xy: tuple[float, float] = xy, shape_seed: int = shape_seed) -> shapely.Geometry:
            blob = _star(np.random.default_rng(shape_seed), xy, radius, roughness=0.45, n_vertices=128)
            part = geo.county.intersection(blob).difference(avoid)
            polys = _polygons(part, 1000.0)
            # Keep the main piece(s), not crumbs cut off by water or the red line.
            polys = [p for p in polys if p.area > 0.05 * max(q.area for q in polys)] if polys else []
            return MultiPolygon(polys) if polys else Polygon()

        geom = _scaled_to_area(make, math.sqrt(town.urban_km2 * 1e6 / math.pi), town.urban_km2 * 1e6)
        out.append(geom)
    return out


def _lines(rng: np.random.Generator, geo: _Geography, hilliness: Callable) -> dict[str, list[LineString]]:
    """Centre lines (metres) of highways, canals and rural roads."""
    towns = [xy for _t, xy in geo.towns]
    seat = towns[0]
    minx, miny, _maxx, maxy = geo.county.bounds
    highways = [_wiggly_line(rng, seat, t, 4, 700.0) for t in towns[1:]]
    # A north–south expressway through the east of the county and a riverside road west.
    x_exp = rng.uniform(38_503_000.0, 38_508_000.0)
    highways.append(_wiggly_line(rng, (x_exp, miny - 2000.0), (x_exp + 3000.0, maxy - 12000.0), 6, 900.0))
    highways.append(_wiggly_line(rng, (minx - 1000.0, miny + 9000.0), seat, 5, 900.0))
    # Canals: straight-ish drains across the plains (low hilliness), 2–7 km long.
    canals: list[LineString] = []
    pts = _sample_in(rng, geo.county.buffer(-300.0), 400)
    plain = pts[hilliness(pts[:, 0], pts[:, 1]) < 0.3]
    for p in plain[:22]:
        ang = rng.uniform(0, math.pi)
        length = rng.uniform(2000.0, 7000.0)
        d = np.array([math.cos(ang), math.sin(ang)]) * length / 2
        canals.append(_wiggly_line(rng, p - d, p + d, 2, 150.0))
    # Rural roads: from a random village point to the nearest point of the road network
    # built so far (highways and earlier roads), a bit winding.
    network = shapely.union_all(highways)
    roads: list[LineString] = []
    for p in _sample_in(rng, geo.county.buffer(-200.0), 55):
        target = nearest_points(network, Point(p))[0]
        if np.hypot(target.x - p[0], target.y - p[1]) < 300.0:
            continue
        roads.append(_wiggly_line(rng, p, (target.x, target.y), 3, 400.0))
        network = network.union(roads[-1])
    return {"1003": highways, "1107": canals, "1006": roads}


def _survey(rng: np.random.Generator, geo: _Geography, noise: _Noise, hilliness: Callable,
            river: shapely.Geometry, lakes: list[tuple[str, Polygon]], redline: list[shapely.Geometry],
            urban: list[shapely.Geometry], industry_bearings: np.ndarray,
            lines: dict[str, list[LineString]], progress: bool) -> tuple[list[Polygon], list[str]]:
    """The land-use survey tessellation (metres): plots and carved linear/water features."""
    county = geo.county
    water = shapely.union_all([river] + [lk for _n, lk in lakes])
    dry = county.difference(water)
    # --- seeds: uniform background plus dense clusters around towns (smaller plots there)
    seeds = [_sample_in(rng, dry, N_BACKGROUND_SEEDS)]
    for town, xy in geo.towns:
        seeds.append(_sample_in(rng, dry, town.n_seeds, center=xy, sigma_m=town.sigma_m))
    pts = np.concatenate(seeds)
    # --- Voronoi in a stretched frame, so plots come out elongated like fields
    theta = rng.uniform(0.0, math.pi)
    k = 1.7
    ox, oy = geo.origin  # work relative to an origin: 8-digit eastings cost precision
    cos_t, sin_t = math.cos(theta), math.sin(theta)

    def fwd(xy: np.ndarray) -> np.ndarray:
        x, y = xy[:, 0] - ox, xy[:, 1] - oy
        return np.column_stack([(x * cos_t + y * sin_t) / k, -x * sin_t + y * cos_t])

    def inv(uv: np.ndarray) -> np.ndarray:
        u, v = uv[:, 0] * k, uv[:, 1]
        return np.column_stack([u * cos_t - v * sin_t + ox, u * sin_t + v * cos_t + oy])

    uv = fwd(pts)
    env = box(*(uv.min(0) - 20000.0), *(uv.max(0) + 20000.0))
    vor = shapely.voronoi_polygons(shapely.multipoints(uv), extend_to=env, ordered=True)
    cells = shapely.transform(np.asarray(shapely.get_parts(vor)), inv)
    # --- clip to the county (most cells are inside and skip the overlay)
    shapely.prepare(county)
    inside = shapely.contains(county, cells)
    clipped: list[Polygon] = []
    for cell, ins in tqdm(list(zip(cells, inside, strict=True)), desc="survey: clip cells", unit="cell",
                          disable=not progress, leave=False):
        clipped.extend([cell] if ins else _polygons(shapely.intersection(cell, county)))
    cells_arr = np.array(clipped, dtype=object)
    # --- classes from position: urban / fringe / plains / hills / lakeside / riverside
    cx, cy = shapely.get_coordinates(shapely.point_on_surface(cells_arr)).T
    classes = _assign_classes(rng, cx, cy, noise, hilliness, river, lakes, redline, urban, geo,
                              industry_bearings)
    # --- merge random same-class neighbours (groups of up to 3) into irregular plots
    cells_list, classes = _merge_neighbours(rng, list(cells_arr), classes, progress)
    # --- carve roads, canals, river and lakes out of the plots
    corridors: list[tuple[str, shapely.Geometry]] = [("1101", river)]
    corridors += [("1102", lk) for _n, lk in lakes]
    taken = water
    widths = {"1003": 16.0, "1107": 5.0, "1006": 3.5}  # half widths, metres
    for code in ("1003", "1107", "1006"):
        band = shapely.union_all([ln.buffer(widths[code], quad_segs=2, cap_style="flat")
                                  for ln in lines[code]])
        band = band.intersection(county).difference(taken)
        corridors.append((code, band))
        taken = taken.union(band)
    pieces: list[Polygon] = []
    piece_classes: list[str] = []
    for code, geom in corridors:
        # Split long features into ~2 km pieces, as a survey splits them at plot boundaries.
        parts = [geom] if code == "1102" else _grid_split(geom, 2000.0)
        for part in parts:
            for p in _polygons(part):
                pieces.append(p)
                piece_classes.append(code)
    tree = shapely.STRtree(pieces)
    hit_cell, hit_piece = tree.query(np.array(cells_list, dtype=object), predicate="intersects")
    by_cell: dict[int, list[int]] = {}
    for c, p in zip(hit_cell.tolist(), hit_piece.tolist(), strict=True):
        by_cell.setdefault(c, []).append(p)
    carved: list[shapely.Geometry | None] = list(cells_list)
    for c in tqdm(sorted(by_cell), desc="survey: carve roads/water", unit="cell",
                  disable=not progress, leave=False):
        carved[c] = shapely.difference(cells_list[c], shapely.union_all([pieces[p] for p in by_cell[c]]))
    geoms, codes = _explode(carved + pieces, classes + piece_classes)
    # Crumbs left where roads clip plot corners are absorbed into a neighbour.
    absorbed = _absorb_small(geoms, codes, 400.0, False, "survey: absorb crumbs", progress)
    keep = [i for i, g in enumerate(absorbed) if g is not None]
    return [absorbed[i] for i in keep], [codes[i] for i in keep]


# Relative class weights per setting; blended per plot by position.
_W_URBAN = {"0701": 40, "05H1": 16, "0601": 14, "08H2": 6, "1003": 2, "0702": 6, "1104": 3,
            "0101": 4, "1202": 1, "0404": 3}
_W_FRINGE = {"0601": 18, "0702": 18, "0101": 25, "0102": 6, "1104": 10, "1202": 5, "05H1": 4,
             "0404": 4, "0103": 5}
_W_PLAIN = {"0101": 52, "0102": 9, "0103": 7, "0702": 8, "1104": 9, "1202": 3, "0201": 3,
            "0204": 1, "0307": 3, "0404": 2, "0601": 1}
_W_HILL = {"0301": 34, "0305": 12, "0307": 10, "0201": 8, "0204": 5, "0404": 6, "0103": 9,
           "0101": 5, "0702": 5, "0602": 3, "1104": 2, "1202": 1}
_W_LAKESIDE = {"1104": 45, "0101": 30, "0404": 6, "0702": 5, "1106": 6, "1202": 4, "0102": 4}
_W_RIVERSIDE = {"1106": 35, "0101": 20, "0404": 12, "1104": 12, "0103": 10, "0307": 6, "0702": 5}
_W_FOREST = {"0301": 60, "0305": 20, "0307": 15, "0404": 5}


def _assign_classes(rng: np.random.Generator, x: np.ndarray, y: np.ndarray, noise: _Noise,
                    hilliness: Callable, river: shapely.Geometry, lakes: list[tuple[str, Polygon]],
                    redline: list[shapely.Geometry], urban: list[shapely.Geometry],
                    geo: _Geography, industry_bearings: np.ndarray) -> list[str]:
    """Draw a survey class for plots at metric points (x, y) from position-dependent weights."""
    codes = list(LANDUSE_CLASSES)
    col = {c: i for i, c in enumerate(codes)}

    def vec(weights: dict[str, float]) -> np.ndarray:
        v = np.zeros(len(codes))
        for c, w in weights.items():
            v[col[c]] = w
        return v / v.sum()

    pts = shapely.points(x, y)
    h = hilliness(x, y)[:, None]
    w = (1 - h) * vec(_W_PLAIN) + h * vec(_W_HILL)
    # Paddy where it is wetter, dry land where it is higher: a smooth preference field.
    wet = noise(x * 1.7 + 3000.0, y * 1.7)
    w[:, col["0101"]] *= 1 + 0.5 * wet
    w[:, col["0103"]] *= 1 - 0.5 * wet
    w /= w.sum(1, keepdims=True)
    if lakes:
        d_lake = shapely.distance(shapely.union_all([lk for _n, lk in lakes]), pts)[:, None]
        a = np.clip(1 - d_lake / 1500.0, 0, 1) * 0.8
        w = (1 - a) * w + a * vec(_W_LAKESIDE)
    d_river = shapely.distance(river, pts)[:, None]
    a = np.clip(1 - d_river / 1500.0, 0, 1) * 0.8
    w = (1 - a) * w + a * vec(_W_RIVERSIDE)
    urban_u = shapely.union_all(urban)
    d_urban = shapely.distance(urban_u, pts)[:, None]
    a = np.clip(1 - d_urban / 900.0, 0, 1) * 0.7
    w = (1 - a) * w + a * vec(_W_FRINGE)
    in_urban = (d_urban[:, 0] == 0.0)
    w[in_urban] = _urban_weights(x[in_urban], y[in_urban], noise, geo, industry_bearings, vec)
    in_red = shapely.contains_xy(shapely.union_all(redline), x, y) & ~in_urban
    forest_red = in_red & (h[:, 0] > 0.4)
    w[forest_red] = vec(_W_FOREST)
    cum = np.cumsum(w / w.sum(1, keepdims=True), axis=1)
    u = rng.random(len(x))
    idx = np.minimum((cum < u[:, None]).sum(1), len(codes) - 1)
    return [codes[i] for i in idx]


def _urban_weights(x: np.ndarray, y: np.ndarray, noise: _Noise, geo: _Geography,
                   industry_bearings: np.ndarray, vec: Callable[[dict[str, float]], np.ndarray]) -> np.ndarray:
    """Class weights for plots inside an urban boundary, at metric points (x, y).

    Commerce concentrates in the town centre, industry in one random sector of the
    outskirts, homesteads on the edge, housing in between: without this structure a
    town looks like confetti.
    """
    centres = np.array([xy for _t, xy in geo.towns])
    radii = np.array([math.sqrt(t.urban_km2 * 1e6 / math.pi) for t, _xy in geo.towns])
    dx = x[:, None] - centres[None, :, 0]
    dy = y[:, None] - centres[None, :, 1]
    nearest = np.argmin(np.hypot(dx, dy) / radii, axis=1)
    rows = np.arange(len(x))
    dn = np.hypot(dx, dy)[rows, nearest] / radii[nearest]  # 0 at the centre, ~1 at the edge
    bearing = np.arctan2(dy[rows, nearest], dx[rows, nearest])
    off = np.abs((bearing - industry_bearings[nearest] + math.pi) % (2 * math.pi) - math.pi)
    sector = np.exp(-((off / 0.7) ** 2)) * np.clip((dn - 0.3) / 0.4, 0, 1)
    base = np.tile(vec(_W_URBAN), (len(x), 1))
    codes = list(LANDUSE_CLASSES)
    col = {c: i for i, c in enumerate(codes)}
    base[:, col["05H1"]] *= 0.3 + 4.0 * np.exp(-((dn / 0.35) ** 2))
    base[:, col["0601"]] *= 0.2 + 6.0 * sector
    base[:, col["0701"]] *= (1 + 0.6 * noise(x * 4.0, y * 4.0)) * (1 - 0.7 * sector)
    base[:, col["0702"]] *= 3.0 * np.clip(dn - 0.4, 0, 1)
    base[:, col["0101"]] *= 2.0 * np.clip(dn - 0.5, 0, 1)
    return base / base.sum(1, keepdims=True)


def _merge_neighbours(rng: np.random.Generator, cells: list[Polygon], classes: list[str],
                      progress: bool, p_merge: float = 0.5, max_group: int = 3) -> tuple[list[Polygon], list[str]]:
    """Union random pairs of adjacent same-class cells (groups of at most ``max_group``)."""
    tree = shapely.STRtree(cells)
    a, b = tree.query(np.array(cells, dtype=object), predicate="touches")
    keep = (a < b) & (np.array(classes)[a] == np.array(classes)[b])
    a, b = a[keep], b[keep]
    # Only neighbours sharing an edge (not just a corner) can merge into one plot.
    shared = shapely.length(shapely.intersection(shapely.boundary(np.array(cells, dtype=object)[a]),
                                                 shapely.boundary(np.array(cells, dtype=object)[b])))
    a, b = a[shared > 1.0], b[shared > 1.0]
    parent = list(range(len(cells)))
    size = [1] * len(cells)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    order = rng.permutation(len(a))
    draws = rng.random(len(a))
    for n in order:
        ra, rb = find(int(a[n])), find(int(b[n]))
        if ra != rb and draws[n] < p_merge and size[ra] + size[rb] <= max_group:
            ra, rb = min(ra, rb), max(ra, rb)
            parent[rb] = ra
            size[ra] += size[rb]
    groups: dict[int, list[int]] = {}
    for i in range(len(cells)):
        groups.setdefault(find(i), []).append(i)
    out_g: list[Polygon] = []
    out_c: list[str] = []
    for root in tqdm(sorted(groups), desc="survey: merge plots", unit="plot", disable=not progress, leave=False):
        members = groups[root]
        geom = cells[root] if len(members) == 1 else shapely.union_all([cells[i] for i in members])
        for p in _polygons(geom):
            out_g.append(p)
            out_c.append(classes[root])
    return out_g, out_c


def _farmland(rng: np.random.Generator, geo: _Geography, survey: list[Polygon], codes: list[str],
              urban: shapely.Geometry, redline: shapely.Geometry, progress: bool) -> list[MultiPolygon]:
    """Permanent basic farmland (metres): ~60 % of cultivated plots outside the urban boundary.

    Plots are grouped by a coarse Voronoi partition and whole groups are designated,
    so the farmland comes in contiguous blocks; each group is dissolved into one
    feature, the urban boundary and red line are cut out, and the result shrunk by
    3 m so its edges do not coincide with the survey's.
    """
    group_pts = _sample_in(rng, geo.county, N_FARMLAND_GROUPS)
    shapely.prepare(urban)
    cultivated = [i for i, c in enumerate(codes) if c in CULTIVATED_CLASSES]
    centres = shapely.point_on_surface(np.array([survey[i] for i in cultivated], dtype=object))
    xy = shapely.get_coordinates(centres)
    outside = ~shapely.contains_xy(urban, xy[:, 0], xy[:, 1])
    # nearest group seed = Voronoi group membership
    d2 = (xy[:, None, 0] - group_pts[None, :, 0]) ** 2 + (xy[:, None, 1] - group_pts[None, :, 1]) ** 2
    group = np.argmin(d2, axis=1)
    chosen = rng.random(N_FARMLAND_GROUPS) < FARMLAND_SHARE
    members: dict[int, list[int]] = {}
    for n, i in enumerate(cultivated):
        if outside[n] and chosen[group[n]]:
            members.setdefault(int(group[n]), []).append(i)
    avoid = urban.union(redline)
    out: list[MultiPolygon] = []
    for g in tqdm(sorted(members), desc="farmland: dissolve", unit="group", disable=not progress, leave=False):
        geom = shapely.union_all([survey[i] for i in members[g]]).difference(avoid)
        # Drop bits under 0.2 ha: no one designates a crumb as permanent farmland.
        m = _multi(geom.buffer(-3.0, quad_segs=2, join_style="mitre"), 2000.0)
        if m is not None:
            out.append(m)
    return out


def _plan_zones(rng: np.random.Generator, geo: _Geography, urban: shapely.Geometry,
                redline: shapely.Geometry, progress: bool) -> tuple[list[Polygon], list[str]]:
    """Construction-control zones (metres): coarse Voronoi cells cut by the zone rule.

    010 inside the urban boundary, 020 a 700 m ring around it, 040 on the ecological
    red line, 030 everywhere else.
    """
    county = geo.county
    seeds = [_sample_in(rng, county, N_PLAN_SEEDS)]
    for town, xy in geo.towns:
        seeds.append(_sample_in(rng, county, town.n_seeds // 12, center=xy, sigma_m=town.sigma_m * 1.5))
    pts = np.concatenate(seeds)
    env = box(*(pts.min(0) - 20000.0), *(pts.max(0) + 20000.0))
    ox, oy = geo.origin
    vor = shapely.voronoi_polygons(shapely.multipoints(pts - [ox, oy]), extend_to=affinity.translate(env, -ox, -oy),
                                   ordered=True)
    cells = [affinity.translate(c, ox, oy) for c in shapely.get_parts(vor)]
    z010 = urban
    z040 = redline.difference(z010)
    z020 = urban.buffer(700.0, quad_segs=4).intersection(county).difference(z010).difference(z040)
    z030 = county.difference(shapely.union_all([z010, z020, z040]))
    zones = [("010", z010), ("020", z020), ("040", z040), ("030", z030)]
    for _c, z in zones:
        shapely.prepare(z)
    geoms: list[shapely.Geometry] = []
    codes: list[str] = []
    for cell in tqdm(cells, desc="plan zones: overlay", unit="cell", disable=not progress, leave=False):
        for code, z in zones:
            if shapely.intersects(z, cell):
                part = shapely.intersection(cell, z)
                for p in _polygons(part):
                    geoms.append(p)
                    codes.append(code)
    absorbed = _absorb_small(geoms, codes, 20_000.0, True, "plan zones: absorb crumbs", progress)
    keep = [i for i, g in enumerate(absorbed) if g is not None]
    return [absorbed[i] for i in keep], [codes[i] for i in keep]


# --------------------------------------------------------------------------- parcels

_SURNAMES = list("王李张刘陈杨黄赵周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯董程曹袁邓许沈曾彭吕余熊")
_GIVEN = ["伟", "芳", "敏", "静", "丽", "强", "磊", "军", "勇", "艳", "杰", "涛", "明", "超", "华", "平",
          "刚", "斌", "文", "辉", "秀英", "桂英", "建华", "志强", "国庆", "红梅", "海燕", "春生", "德明",
          "建国", "玉兰", "小平", "金山", "爱华", "永红", "新民", "俊杰", "家豪", "子涵", "雨欣"]
_TRADE = ["鑫源", "华欣", "长江", "嘉禾", "鱼岳", "楚天", "恒泰", "鸿运", "金谷", "瑞丰", "永兴", "宏达",
          "锦程", "丰泽", "天成", "润达", "福星", "联创", "蓝天", "荆楚", "江汉", "三湖", "龙腾", "顺发"]
_INDUSTRY = {
    "05H1": ["商贸", "置业", "酒店管理", "商业管理", "物流", "农贸市场管理"],
    "0601": ["机械制造", "纺织", "新材料", "食品", "建材", "电子科技", "管业", "生物科技"],
    "0701": ["房地产开发", "置业"],
}
_INSTITUTIONS = ["嘉鱼县第一中学", "嘉鱼县人民医院", "嘉鱼县中医医院", "鱼岳镇中心小学", "嘉鱼县图书馆",
                 "嘉鱼县文化馆", "嘉鱼县实验小学", "嘉鱼县职业教育中心", "嘉鱼县第二中学",
                 "嘉鱼县疾病预防控制中心", "嘉鱼县妇幼保健院", "嘉鱼县第一幼儿园", "嘉鱼县体育中心",
                 "嘉鱼县博物馆", "咸宁职业技术学院嘉鱼分院", "嘉鱼县城北小学"]


def _person(rng: np.random.Generator) -> str:
    return str(rng.choice(_SURNAMES)) + str(rng.choice(_GIVEN))


def _holder(rng: np.random.Generator, land_class: str, n_institution: list[int]) -> str:
    """A plausible right holder name for a parcel of ``land_class``."""
    if land_class == "0702":
        return _person(rng)
    if land_class == "08H2":
        name = _INSTITUTIONS[n_institution[0] % len(_INSTITUTIONS)]
        n_institution[0] += 1
        return name
    if land_class == "0701" and rng.random() < 0.45:
        return _person(rng)
    if land_class == "05H1" and rng.random() < 0.25:
        return _person(rng)
    prefix = "湖北" if rng.random() < 0.3 else "嘉鱼县"
    return f"{prefix}{rng.choice(_TRADE)}{rng.choice(_INDUSTRY[land_class])}有限公司"


def _split_block(rng: np.random.Generator, length: float, depth: float,
                 side_min: float, side_max: float) -> list[list[tuple[float, float]]]:
    """Cut a length × depth block (local metres) into quads with sides of about side_min–side_max.

    Cuts across the length are slightly slanted (independent jitter at both ends),
    so parcels are quadrilaterals rather than perfect rectangles; they still tile the
    block exactly.
    """
    def cuts(total: float) -> np.ndarray:
        n = min(round(total / rng.uniform(side_min, side_max)), int(total // side_min))
        n = max(n, math.ceil(total / side_max), 1)  # the maximum side wins over the minimum
        return np.linspace(0.0, total, n + 1)

    u = cuts(length)
    v = cuts(depth)
    jit = min(6.0, 0.05 * (u[1] - u[0]))  # metres; small enough to keep sides within 30–150 m
    # u-cut positions along each horizontal line v_j, jittered except at the block ends
    lines = []
    for _j in range(len(v)):
        pos = u.copy()
        if len(u) > 2:
            pos[1:-1] += rng.uniform(-jit, jit, len(u) - 2)
        lines.append(pos)
    quads = []
    for j in range(len(v) - 1):
        for i in range(len(u) - 1):
            quads.append([(lines[j][i], v[j]), (lines[j][i + 1], v[j]),
                          (lines[j + 1][i + 1], v[j + 1]), (lines[j + 1][i], v[j + 1])])
    return quads


def _parcels(rng: np.random.Generator, seat: tuple[float, float], seat_urban: shapely.Geometry,
             avoid: shapely.Geometry, industry_bearing: float, progress: bool) -> list[dict]:
    """Registered parcels (metres) in city blocks around the county seat.

    A street grid (blocks 150–280 m, streets 18 m, every fourth a 32 m main road) is
    laid at a random angle around the seat; blocks wholly inside the urban boundary
    and clear of water and red line are taken nearest-first (all of the centre,
    ~40 % further out) and cut into parcels until there are about TARGET_PARCELS.
    """
    angle = rng.uniform(-0.45, 0.45)
    cos_a, sin_a = math.cos(angle), math.sin(angle)

    def edges() -> list[tuple[float, float]]:
        # block extents along one axis, symmetric-ish around 0, streets between them
        out, pos, n = [], -2600.0, 0
        while pos < 2600.0:
            size = rng.uniform(150.0, 280.0)
            out.append((pos, pos + size))
            n += 1
            pos += size + (32.0 if n % 4 == 0 else 18.0)
        return out

    u_blocks, v_blocks = edges(), edges()
    inside = seat_urban.buffer(-15.0)
    shapely.prepare(inside)
    shapely.prepare(avoid)

    def to_world(pts: list[tuple[float, float]]) -> Polygon:
        a = np.asarray(pts)
        return Polygon(np.column_stack([seat[0] + a[:, 0] * cos_a - a[:, 1] * sin_a,
                                        seat[1] + a[:, 0] * sin_a + a[:, 1] * cos_a]))

    blocks = []
    for iu, (u0, u1) in enumerate(u_blocks):
        for iv, (v0, v1) in enumerate(v_blocks):
            poly = to_world([(u0, v0), (u1, v0), (u1, v1), (u0, v1)])
            if inside.contains(poly) and not avoid.intersects(poly):
                d = math.hypot((u0 + u1) / 2, (v0 + v1) / 2)
                blocks.append((d, iu, iv, u0, u1, v0, v1))
    blocks.sort()
    # (min, max) parcel side in metres; cut jitter adds up to 12 m, keeping sides within 30–150 m
    sizes = {"05H1": (50.0, 110.0), "0701": (45.0, 120.0), "0601": (90.0, 135.0),
             "08H2": (100.0, 135.0), "0702": (34.0, 44.0)}
    parcels: list[dict] = []
    for d, iu, iv, u0, u1, v0, v1 in tqdm(blocks, desc="parcels: blocks", unit="block",
                                          disable=not progress, leave=False):
        if len(parcels) >= TARGET_PARCELS:
            break
        # Registration is complete in the old centre and patchy further out, which
        # also spreads the parcels over commercial, residential, industrial and
        # homestead land.
        if d > 500.0 and rng.random() > 0.4:
            continue
        bearing = math.atan2((v0 + v1) / 2, (u0 + u1) / 2) + angle  # grid frame → world bearing
        toward_industry = abs((bearing - industry_bearing + math.pi) % (2 * math.pi) - math.pi) < 0.6
        r = rng.random()
        if d < 650.0:
            land_class = "05H1" if r < 0.55 else "0701"
        elif toward_industry and d > 700.0:
            land_class = "0601"
        elif d > 900.0 and r < 0.45:
            # villages swallowed by the town keep their collective homesteads
            land_class = "0702"
        elif r > 0.85:
            land_class = "08H2"
        else:
            land_class = "0701"
        lo, hi = sizes[land_class]
        for quad in _split_block(rng, u1 - u0, v1 - v0, lo, hi):
            poly = to_world([(u0 + a, v0 + b) for a, b in quad])
            parcels.append({"land_class": land_class, "geometry": poly, "iu": iu, "iv": iv})
    # Sub-districts (地籍子区): 4 × 4 blocks each, numbered in row-major order of the grid.
    keys = sorted({(p["iv"] // 4, p["iu"] // 4) for p in parcels})
    sub_of = {k: n + 1 for n, k in enumerate(keys)}
    seq: dict[tuple[int, str], int] = {}
    n_institution = [0]
    out = []
    for p in parcels:
        feature = "JC" if p["land_class"] == "0702" else "GB"
        sub = sub_of[(p["iv"] // 4, p["iu"] // 4)]
        seq[(sub, feature)] = seq.get((sub, feature), 0) + 1
        out.append({
            # cadastral district 001 = 鱼岳镇 (the county seat)
            "code": f"{COUNTY_CODE}001{sub:03d}{feature}{seq[(sub, feature)]:05d}",
            "right_holder": _holder(rng, p["land_class"], n_institution),
            "right_type": RIGHT_TYPES[feature],
            "land_class": p["land_class"],
            "geometry": p["geometry"],
        })
    return out


# --------------------------------------------------------------------------- public API


def _ring_without_spikes(coords: np.ndarray) -> np.ndarray | None:
    """Closed ring (metres) without zero-width spikes; None if fewer than 3 vertices remain.

    A spike is a vertex where the ring turns back on itself (the two edges at it are
    antiparallel within ~1e-7 rad) or a repeated vertex. Removing it changes no area.
    """
    pts = coords[:-1]
    while len(pts) >= 3:
        a = pts - np.roll(pts, 1, axis=0)  # edge into each vertex
        b = np.roll(pts, -1, axis=0) - pts  # edge out of each vertex
        la, lb = np.hypot(a[:, 0], a[:, 1]), np.hypot(b[:, 0], b[:, 1])
        cross = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
        dot = (a * b).sum(1)
        spike = (la == 0) | ((dot < 0) & (np.abs(cross) <= 1e-7 * la * lb))
        if not spike.any():
            return np.vstack([pts, pts[:1]])
        # Drop one spike per pass: its neighbours may become spikes in turn.
        pts = np.delete(pts, int(np.argmax(spike)), axis=0)
    return None


def _without_spikes(geom: shapely.Geometry) -> shapely.Geometry:
    """``geom`` (metres) with spikes removed from every ring, still valid.

    Overlays of nearly collinear edges leave needles of (almost) zero width. They are
    valid in metres but a reprojection can flip them into self-intersections.
    """
    polys = []
    for poly in _polygons(geom, 0.0):
        shell = _ring_without_spikes(np.asarray(poly.exterior.coords))
        if shell is None:
            continue
        holes = [h for h in (_ring_without_spikes(np.asarray(r.coords)) for r in poly.interiors) if h is not None]
        polys.append(Polygon(shell, holes))
    return shapely.union_all(_polygons(MultiPolygon(polys)) if polys else [])


def _zone_frame(geoms: Sequence[shapely.Geometry], codes: Sequence[str],
                names: dict[str, str] | Sequence[str]) -> gpd.GeoDataFrame:
    """A zone layer in EPSG:4490: class_code, class_name, MultiPolygon geometry."""
    multis = [_multi(g) for g in geoms]
    rows = [(c, m) for c, m in zip(codes, multis, strict=True) if m is not None]
    gdf = gpd.GeoDataFrame(
        {"class_code": [c for c, _m in rows],
         "class_name": [names[c] if isinstance(names, dict) else names[1] for c, _m in rows]},
        geometry=[m for _c, m in rows], crs=METRIC_CRS)
    return _to_storage(gdf, multi=True)


def _to_storage(gdf: gpd.GeoDataFrame, multi: bool) -> gpd.GeoDataFrame:
    """Clean metric geometry as a polygon coverage, transform it to EPSG:4490, repair if needed.

    Carving plots with roads and zones leaves zero-width needles (a vertex up to a few
    hundred metres out and straight back) and T-junctions (a vertex on one side of a
    shared edge but not the other). Both are harmless in metres but not after
    reprojection: needles turn into self-intersections, and a straight edge bends
    differently from its neighbour's broken one, leaving overlaps of a few m².
    ``coverage_clean`` removes the needles and makes shared edges vertex-identical
    (snapping vertices closer than 1 mm), so the reprojected layer stays valid and
    gap- and overlap-free. Every layer is a set of non-overlapping features, so this
    applies to all of them, not only the tessellations.
    """
    snapped = shapely.coverage_clean(gdf.geometry.values, snapping_distance=PRECISION_M)
    snapped = [_without_spikes(g) for g in snapped]
    keep = []
    for g in snapped:
        parts = _polygons(g)
        if not parts:
            keep.append(None)
        elif multi or len(parts) > 1:
            keep.append(MultiPolygon(parts))
        else:
            keep.append(parts[0])
    mask = np.array([g is not None for g in keep])
    gdf = gdf[mask].set_geometry(gpd.GeoSeries([g for g in keep if g is not None],
                                               crs=METRIC_CRS, index=gdf.index[mask]))
    out = gdf.to_crs(STORAGE_CRS)
    geoms = out.geometry.values
    bad = ~shapely.is_valid(geoms)
    if bad.any():
        # Not reached for any seed tried, kept as a safety net. 1e-10 deg² is about 1 m² here.
        fixed = [shapely.make_valid(g) for g in geoms[bad]]
        repaired = []
        for g in fixed:
            parts = _polygons(g, 1e-10)
            repaired.append(MultiPolygon(parts) if multi or len(parts) > 1 else parts[0])
        geoms = np.array(geoms, dtype=object)
        geoms[bad] = repaired
        out = out.set_geometry(gpd.GeoSeries(geoms, crs=STORAGE_CRS, index=out.index))
    return out.reset_index(drop=True)


def generate(seed: int = DEFAULT_SEED, divisions_path: Path = DIVISIONS_PATH, *,
             progress: bool = True) -> dict[str, gpd.GeoDataFrame]:
    """Generate the synthetic Jiayu one-map layers.

    Args:
        seed: seed of ``numpy.random.default_rng``; the same seed gives identical output.
        divisions_path: divisions file containing county 421221 (any CRS; EPSG:4490 assumed
            when it declares none).
        progress: show tqdm progress bars for the slow steps.

    Returns:
        Layer name (see ``LAYER_NAMES``) → GeoDataFrame in EPSG:4490 (lon/lat degrees).
        Zone layers have ``class_code``, ``class_name`` and MultiPolygon geometry;
        ``parcels`` has ``code``, ``right_holder``, ``right_type``, ``land_class`` and
        Polygon geometry. Geometry was built in EPSG:4526 metres.
    """
    root = np.random.default_rng(seed)
    # Independent child streams per step: tuning one step does not reshuffle the others.
    (r_noise, r_water, r_red, r_urban, r_lines, r_survey,
     r_farm, r_plan, r_parcels) = root.spawn(9)
    geo = _load_geography(Path(divisions_path))
    noise = _Noise(r_noise, geo.origin)
    rim_noise = _Noise(r_noise, geo.origin, (3000.0, 9000.0))
    shapely.prepare(geo.rim)

    def hilliness(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """0 (plain) … 1 (hills): high within ~5 km of the southern rim, with smooth noise."""
        d = shapely.distance(geo.rim, shapely.points(x, y))
        return np.clip(1.15 - d / 5000.0 + 0.3 * rim_noise(x, y) + 0.1 * noise(x, y), 0.0, 1.0)

    river, lakes = _water(r_water, geo)
    redline = _eco_redline(r_red, geo, hilliness, river, lakes)
    redline_u = shapely.union_all(redline)
    water_u = shapely.union_all([river] + [lk for _n, lk in lakes])
    urban = _urban_boundaries(r_urban, geo, shapely.union_all([redline_u.buffer(30.0), water_u]))
    urban_u = shapely.union_all(urban)
    lines = _lines(r_lines, geo, hilliness)
    # Each town's industry sits in one sector of its outskirts, in the survey and the parcels alike.
    industry_bearings = r_urban.uniform(-math.pi, math.pi, len(geo.towns))
    survey, survey_codes = _survey(r_survey, geo, noise, hilliness, river, lakes, redline, urban,
                                   industry_bearings, lines, progress)
    farmland = _farmland(r_farm, geo, survey, survey_codes, urban_u, redline_u, progress)
    plan, plan_codes = _plan_zones(r_plan, geo, urban_u, redline_u, progress)
    parcels = _parcels(r_parcels, geo.towns[0][1], urban[0], shapely.union_all([water_u, redline_u]),
                       float(industry_bearings[0]), progress)

    parcel_gdf = gpd.GeoDataFrame(
        {k: [p[k] for p in parcels] for k in ("code", "right_holder", "right_type", "land_class")},
        geometry=[p["geometry"] for p in parcels], crs=METRIC_CRS)
    return {
        "landuse_survey": _zone_frame(survey, survey_codes, LANDUSE_CLASSES),
        "permanent_farmland": _zone_frame(farmland, [FARMLAND_CLASS[0]] * len(farmland), FARMLAND_CLASS),
        "eco_redline": _zone_frame(redline, [ECO_REDLINE_CLASS[0]] * len(redline), ECO_REDLINE_CLASS),
        "urban_boundary": _zone_frame(urban, [URBAN_BOUNDARY_CLASS[0]] * len(urban), URBAN_BOUNDARY_CLASS),
        "plan_zones": _zone_frame(plan, plan_codes, PLAN_ZONE_CLASSES),
        "parcels": _to_storage(parcel_gdf, multi=False),
    }


def write(layers: dict[str, gpd.GeoDataFrame], out_path: Path) -> Path:
    """Write ``layers`` (EPSG:4490) as one GeoPackage, replacing any existing file; returns the path."""
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.unlink(missing_ok=True)
    # GDAL stamps "last_change" with the wall clock unless OGR_CURRENT_DATE is set; a
    # fixed date makes the file byte-identical for the same seed (stable checksums).
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": GPKG_TIMESTAMP})
    try:
        for name, gdf in layers.items():
            gdf.to_file(out_path, layer=name, driver="GPKG", engine="pyogrio")
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})
    return out_path


def summary(layers: dict[str, gpd.GeoDataFrame]) -> str:
    """Features and total area per layer; areas are Gauss–Krüger planar (EPSG:4526) km²."""
    lines = [f"{'layer':<20} {'features':>8} {'area km² (EPSG:4526)':>22}"]
    for name, gdf in layers.items():
        area = gdf.to_crs(METRIC_CRS).area.sum() / 1e6
        lines.append(f"{name:<20} {len(gdf):>8} {area:>22.3f}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point: generate, write the GeoPackage, print a summary."""
    parser = argparse.ArgumentParser(prog="python -m data.generate", description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output GeoPackage (default {DEFAULT_OUT})")
    parser.add_argument("--divisions", type=Path, default=DIVISIONS_PATH, help="divisions GeoJSON")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    layers = generate(args.seed, args.divisions)
    path = write(layers, args.out)
    print(summary(layers))
    print(f"seed {args.seed} → {path} ({path.stat().st_size / 1e6:.2f} MB) in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
