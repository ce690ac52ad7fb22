"""Fast, deterministic generator of large synthetic "one map" layers for benchmarks.

``data/generate.py`` builds a small, carefully shaped demo one-map of Jiayu County
(嘉鱼县, 421221). This module is its brute-force sibling: it tessellates the *real*
county polygon into as many polygons as a benchmark needs (10,000 … 1,000,000+) in a
couple of minutes, so spatial queries, imports and map tiles can be measured at the
sizes a real county's third land survey (三调) reaches.

Five layers share ``total`` features (GeoPackage layer name, share):

- ``bench_survey``   60 %  土地利用现状 (GB/T 21010 second-level codes 0101, 0301, 0701 …)
- ``bench_plan``     20 %  土地利用总体规划建设用地管制区 (010/020/030/040)
- ``bench_farmland`` 10 %  永久基本农田 and the rest of the county (YJJBNT, YBGD …)
- ``bench_eco``       5 %  生态保护红线 and the rest (STBHHX, YBSTKJ, FSTKJ)
- ``bench_urban``     5 %  城镇开发边界 zones and the rest (JZJSQ, TXFZQ, TBYTQ, KFBJW)

Every layer is a coverage of the county (no gaps, no overlaps) made of Voronoi
cells of seeded points: uniform over the county (modulated by a smooth noise field)
plus normal clusters around the county seat (鱼岳镇, 113.92 E 29.97 N) and three
towns, so the seat is covered by cells tens of metres across and the countryside by
cells a few hundred metres across. Cells are computed in a stretched frame (fields
are elongated), clipped to the county, and every edge shared by two cells gets 0–3
extra vertices displaced sideways by a hash of the edge's end points, so both
neighbours bend it identically and the result stays an exact coverage with
realistic vertex counts (median 13). Columns: ``class_code``, ``class_name``,
``geometry`` (MultiPolygon, EPSG:4490). All geometry work happens in EPSG:4526
(CGCS2000 3° Gauss–Krüger zone 38, metres) relative to a local origin, with
vertices on a 1 mm grid; the transform to EPSG:4490 is the last step.

The only randomness is ``numpy.random.default_rng([seed, …])`` and integer hashes
of the seed, so a seed always gives the same features in the same order.

Run from the repository root::

    python -m tests.bench.synthetic --total 1000000 --out .local/bench/jiayu_1m.gpkg [--seed 7] [--format gpkg|fgb] [--check]
"""

from __future__ import annotations

import argparse
import functools
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from pyproj import Geod, Transformer
from shapely.geometry import Point, Polygon, box
from shapely.ops import nearest_points
from tqdm import tqdm

# --------------------------------------------------------------------------- constants
from parcels.codes import LAND_CLASSES, PLAN_ZONE_NAMES

REPO_ROOT = Path(__file__).resolve().parents[2]
DIVISIONS_PATH = REPO_ROOT / "data" / "divisions" / "xianning_divisions.geojson"
DEFAULT_OUT = REPO_ROOT / ".local" / "bench" / "jiayu_1m.gpkg"
COUNTY_CODE = "421221"
STORAGE_CRS = "EPSG:4490"  # CGCS2000 lon/lat degrees (the platform's storage SRID)
METRIC_CRS = "EPSG:4526"  # CGCS2000 3° Gauss–Krüger zone 38 with zone prefix, metres
DEFAULT_SEED = 7
GPKG_TIMESTAMP = "2026-01-01T00:00:00.000Z"  # every layer's last_change, for reproducible files

#: Layer name -> share of ``total``. The last layer takes the rounding remainder.
LAYER_SHARES: dict[str, float] = {
    "bench_survey": 0.60,
    "bench_plan": 0.20,
    "bench_farmland": 0.10,
    "bench_eco": 0.05,
    "bench_urban": 0.05,
}

#: GB/T 21010-2017 (三调) second-level classes used by ``bench_survey``.
SURVEY_CLASSES: dict[str, str] = LAND_CLASSES
PLAN_CLASSES: dict[str, str] = PLAN_ZONE_NAMES
FARMLAND_CLASSES: dict[str, str] = {
    "YJJBNT": "永久基本农田",
    "JBNTCBQ": "永久基本农田储备区",
    "YBGD": "一般耕地",
    "FGDQY": "非耕地区域",
}
ECO_CLASSES: dict[str, str] = {"STBHHX": "生态保护红线", "YBSTKJ": "一般生态空间", "FSTKJ": "非生态空间"}
URBAN_CLASSES: dict[str, str] = {
    "JZJSQ": "城镇集中建设区",
    "TXFZQ": "城镇弹性发展区",
    "TBYTQ": "特别用途区",
    "KFBJW": "城镇开发边界外",
}


@dataclass(frozen=True)
class Cluster:
    """A normal cluster of seed points (a town): denser points, smaller polygons.

    ``lon``/``lat`` are EPSG:4490 degrees (moved to the nearest point 2 km inside the
    county when they fall closer to its edge), ``share`` the fraction of every layer's
    points drawn from it, ``sigma_m`` the standard deviation in metres and
    ``urban_m`` the radius (metres) of its built-up core for class assignment
    (0: the cluster adds density only).
    """

    name: str
    lon: float
    lat: float
    share: float
    sigma_m: float
    urban_m: float


CLUSTERS: tuple[Cluster, ...] = (
    Cluster("鱼岳镇 (county seat), core", 113.92, 29.97, 0.10, 1800.0, 3000.0),
    Cluster("鱼岳镇 (county seat), outskirts", 113.92, 29.97, 0.15, 5000.0, 0.0),
    Cluster("潘家湾镇", 113.76, 29.90, 0.035, 1700.0, 1300.0),
    Cluster("簰洲湾镇", 113.95, 30.22, 0.03, 1500.0, 1200.0),
    Cluster("官桥镇", 114.03, 29.90, 0.03, 1500.0, 1100.0),
)
BACKGROUND_SHARE = 1.0 - sum(c.share for c in CLUSTERS)  # uniform-ish over the county
BACKGROUND_CONTRAST = 1.6  # background density varies by exp(±1.6) with a smooth noise field

MM = 1000.0  # grid: vertices are rounded to 1 mm (in EPSG:4526) before any comparison
JITTER_AMPLITUDE = 0.07  # max sideways displacement of an inserted vertex, fraction of edge length
MIN_JITTER_EDGE_MM = 500  # edges shorter than 0.5 m are left straight
#: number of vertices inserted into a shared edge, indexed by 5 bits of its hash:
#: P(0) = 6/32, P(1) = 16/32, P(2) = 8/32, P(3) = 2/32 (mean 1.19 -> median 13 vertices per polygon)
_K_TABLE = np.array([0] * 6 + [1] * 16 + [2] * 8 + [3] * 2, dtype=np.int64)
_K_MAX = 3

_GEOD = Geod(ellps="GRS80")  # CGCS2000 uses the GRS80 ellipsoid parameters (a, 1/f)


# --------------------------------------------------------------------------- geography


@dataclass(frozen=True)
class _Frame:
    """The county in a local metric frame: EPSG:4526 minus ``origin``."""

    county: shapely.Geometry  # local metres, prepared
    origin: tuple[float, float]  # EPSG:4526 easting/northing of the local (0, 0)
    area_m2: float  # Gauss–Krüger planar area of the county
    centres: tuple[tuple[float, float], ...]  # local metres, one per CLUSTERS entry


@functools.lru_cache(maxsize=2)
def _frame(divisions_path: Path = DIVISIONS_PATH) -> _Frame:
    divisions = gpd.read_file(divisions_path, engine="pyogrio")
    if divisions.crs is None:
        divisions = divisions.set_crs(STORAGE_CRS)
    rows = divisions[divisions["code"] == COUNTY_CODE]
    if rows.empty:
        raise ValueError(f"division {COUNTY_CODE} not found in {divisions_path}")
    county = shapely.make_valid(rows.to_crs(METRIC_CRS).geometry.iloc[0])
    parts = [p for p in shapely.get_parts(county) if p.geom_type == "Polygon" and p.area > 1.0]
    county = shapely.union_all(parts)
    c = county.centroid
    origin = (round(c.x, -3), round(c.y, -3))
    county = shapely.transform(county, lambda xy: xy - np.asarray(origin))
    shapely.prepare(county)
    to_metric = Transformer.from_crs(STORAGE_CRS, METRIC_CRS, always_xy=True)
    inner = county.buffer(-2000.0)
    centres = []
    for cl in CLUSTERS:
        x, y = to_metric.transform(cl.lon, cl.lat)
        p = Point(x - origin[0], y - origin[1])
        if not inner.contains(p):
            p = nearest_points(inner, p)[0]
        centres.append((p.x, p.y))
    return _Frame(county, origin, float(county.area), tuple(centres))


class _Noise:
    """Smooth random field (sum of plane waves) on the local plane, values in [-1, 1]."""

    def __init__(self, rng: np.random.Generator, wavelengths_m: tuple[float, float], n_waves: int = 12) -> None:
        angle = rng.uniform(0.0, 2 * math.pi, n_waves)
        wavelength = rng.uniform(*wavelengths_m, n_waves)
        self.k = np.stack([np.cos(angle), np.sin(angle)]) * (2 * math.pi / wavelength)
        self.phase = rng.uniform(0.0, 2 * math.pi, n_waves)
        self.norm = math.sqrt(n_waves / 2.0)

    def __call__(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        out = np.zeros(np.broadcast(x, y).shape)
        for kx, ky, ph in zip(self.k[0], self.k[1], self.phase, strict=True):
            out += np.cos(x * kx + y * ky + ph)
        return np.clip(out / self.norm, -1.0, 1.0)


@dataclass(frozen=True)
class _Fields:
    """Seeded smooth fields shared by all layers: point density and class tendencies."""

    density: _Noise  # modulates the background point density
    hills: _Noise  # > 0: hilly (forest, red line), < 0: plains (paddy, farmland)
    wet: _Noise  # high: ponds, lakes, wetlands


@functools.lru_cache(maxsize=8)
def _fields(seed: int) -> _Fields:
    return _Fields(
        density=_Noise(np.random.default_rng([seed, 1]), (3000.0, 15000.0)),
        hills=_Noise(np.random.default_rng([seed, 2]), (6000.0, 25000.0)),
        wet=_Noise(np.random.default_rng([seed, 3]), (2000.0, 9000.0)),
    )


def layer_sizes(total: int) -> dict[str, int]:
    """Number of features per layer for ``total`` features overall (shares of LAYER_SHARES)."""
    names = list(LAYER_SHARES)
    sizes = {name: round(total * LAYER_SHARES[name]) for name in names[:-1]}
    sizes[names[-1]] = total - sum(sizes.values())
    return sizes


# --------------------------------------------------------------------------- points


def _sample_points(rng: np.random.Generator, frame: _Frame, fields: _Fields, n: int) -> np.ndarray:
    """``n`` seed points (local metres, shape (n, 2)) inside the county."""
    county = frame.county
    minx, miny, maxx, maxy = county.bounds
    counts = [round(cl.share * n) for cl in CLUSTERS]
    n_bg = n - sum(counts)
    chunks: list[np.ndarray] = []
    got = 0
    while got < n_bg:  # background: uniform, thinned by the density field
        batch = max(4096, 12 * (n_bg - got))
        xy = np.column_stack([rng.uniform(minx, maxx, batch), rng.uniform(miny, maxy, batch)])
        accept = rng.uniform(0.0, 1.0, batch) < np.exp(BACKGROUND_CONTRAST * (fields.density(xy[:, 0], xy[:, 1]) - 1.0))
        xy = xy[accept]
        xy = xy[shapely.contains_xy(county, xy[:, 0], xy[:, 1])]
        chunks.append(xy[: n_bg - got])
        got += len(chunks[-1])
    for cl, centre, m in zip(CLUSTERS, frame.centres, counts, strict=True):
        got = 0
        while got < m:  # a normal cluster, truncated to the county
            batch = max(1024, 2 * (m - got))
            xy = rng.normal(0.0, cl.sigma_m, (batch, 2)) + np.asarray(centre)
            xy = xy[shapely.contains_xy(county, xy[:, 0], xy[:, 1])]
            chunks.append(xy[: m - got])
            got += len(chunks[-1])
    pts = np.concatenate(chunks)
    # Store features roughly in spatial order (1 km row strips, west to east), like real data.
    order = np.lexsort((pts[:, 0], np.floor(pts[:, 1] / 1000.0)))
    return pts[order]


def _intensity(seed: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Expected share of a layer's points per m² at local (x, y) (times n: points per m²)."""
    frame, fields = _frame(), _fields(seed)
    norms = _intensity_norms(seed)
    out = BACKGROUND_SHARE * np.exp(BACKGROUND_CONTRAST * (fields.density(x, y) - 1.0)) / norms[0]
    for cl, (cx, cy), z in zip(CLUSTERS, frame.centres, norms[1:], strict=True):
        d2 = (x - cx) ** 2 + (y - cy) ** 2
        out = out + cl.share * np.exp(-d2 / (2 * cl.sigma_m**2)) / (2 * math.pi * cl.sigma_m**2) / z
    inside = shapely.contains_xy(frame.county, x, y)
    return np.where(inside, out, 0.0)


@functools.lru_cache(maxsize=8)
def _intensity_norms(seed: int) -> tuple[float, ...]:
    """Integrals over the county (100 m grid) of the unnormalised background and cluster densities."""
    frame, fields = _frame(), _fields(seed)
    step = 100.0
    minx, miny, maxx, maxy = frame.county.bounds
    gx, gy = np.meshgrid(np.arange(minx + step / 2, maxx, step), np.arange(miny + step / 2, maxy, step))
    gx, gy = gx.ravel(), gy.ravel()
    inside = shapely.contains_xy(frame.county, gx, gy)
    gx, gy = gx[inside], gy[inside]
    cell = step * step
    norms = [float(np.exp(BACKGROUND_CONTRAST * (fields.density(gx, gy) - 1.0)).sum() * cell)]
    for cl, (cx, cy) in zip(CLUSTERS, frame.centres, strict=True):
        pdf = np.exp(-((gx - cx) ** 2 + (gy - cy) ** 2) / (2 * cl.sigma_m**2)) / (2 * math.pi * cl.sigma_m**2)
        norms.append(float(pdf.sum() * cell))  # mass of the normal inside the county
    return tuple(norms)


def densest_point(seed: int = DEFAULT_SEED) -> tuple[float, float]:
    """(lon, lat) EPSG:4490 of the densest part of every layer (smallest polygons).

    The maximum of the expected point density, searched on a 25 m grid around each
    cluster centre; it does not depend on ``total`` (all layers share the density).
    """
    frame = _frame()
    best, best_xy = -1.0, (0.0, 0.0)
    for cl, (cx, cy) in zip(CLUSTERS, frame.centres, strict=True):
        r = 2.0 * cl.sigma_m
        gx, gy = np.meshgrid(np.arange(cx - r, cx + r, 25.0), np.arange(cy - r, cy + r, 25.0))
        val = _intensity(seed, gx.ravel(), gy.ravel())
        i = int(np.argmax(val))
        if val[i] > best:
            best, best_xy = float(val[i]), (float(gx.ravel()[i]), float(gy.ravel()[i]))
    to_geo = Transformer.from_crs(METRIC_CRS, STORAGE_CRS, always_xy=True)
    lon, lat = to_geo.transform(best_xy[0] + frame.origin[0], best_xy[1] + frame.origin[1])
    return round(float(lon), 6), round(float(lat), 6)


def expected_cell_area_m2(n: int, lonlat: tuple[float, float], seed: int = DEFAULT_SEED) -> float:
    """Expected mean polygon area (m²) near ``lonlat`` in a layer of ``n`` polygons."""
    frame = _frame()
    to_metric = Transformer.from_crs(STORAGE_CRS, METRIC_CRS, always_xy=True)
    x, y = to_metric.transform(*lonlat)
    val = _intensity(seed, np.array([x - frame.origin[0]]), np.array([y - frame.origin[1]]))
    return float(1.0 / (n * val[0]))


# --------------------------------------------------------------------------- classes


def _urbanness(frame: _Frame, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """0 (countryside) … 1 (town centre), from the distance to the nearest town core."""
    u = np.zeros_like(x)
    for cl, (cx, cy) in zip(CLUSTERS, frame.centres, strict=True):
        if cl.urban_m > 0:
            u = np.maximum(u, np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / cl.urban_m**2))
    return u


def _draw(rng: np.random.Generator, codes: list[str], weights: np.ndarray) -> np.ndarray:
    """One code per row of ``weights`` (n, k), drawn with probability proportional to the row."""
    cdf = np.cumsum(weights, axis=1)
    r = rng.uniform(0.0, 1.0, len(weights)) * cdf[:, -1]
    idx = (cdf < r[:, None]).sum(axis=1)
    return np.asarray(codes, dtype=object)[np.minimum(idx, len(codes) - 1)]


def _weights(table: dict[str, dict[str, float]], codes: list[str]) -> np.ndarray:
    """Setting -> code -> weight as an array (settings in table order, codes in ``codes`` order)."""
    return np.array([[row.get(c, 0.0) for c in codes] for row in table.values()])


_SURVEY_SETTINGS: dict[str, dict[str, float]] = {
    "urban": {"0701": 40, "05H1": 14, "0601": 12, "08H2": 6, "1003": 6, "0702": 4, "1104": 2, "0101": 2, "0103": 2, "1202": 1, "1006": 1},
    "plains": {
        "0101": 40,
        "0102": 6,
        "0103": 10,
        "0702": 8,
        "1006": 4,
        "1107": 4,
        "1104": 8,
        "0201": 2,
        "0307": 2,
        "1202": 2,
        "0404": 1,
        "1101": 1,
        "1003": 1,
    },
    "hills": {"0301": 35, "0305": 12, "0307": 8, "0103": 10, "0201": 6, "0204": 3, "0404": 5, "0702": 3, "0602": 1, "1006": 2},
    "wet": {"1104": 20, "1102": 15, "1101": 5, "1106": 6, "0101": 15, "1107": 4, "0404": 2},
}


def _classify(name: str, rng: np.random.Generator, frame: _Frame, fields: _Fields, pts: np.ndarray) -> tuple[np.ndarray, dict[str, str]]:
    """Class codes for the cells of ``pts`` (local metres) of layer ``name``, and the code->name map."""
    x, y = pts[:, 0], pts[:, 1]
    u = _urbanness(frame, x, y)
    hill = np.clip((fields.hills(x, y) + 0.1) / 0.7, 0.0, 1.0)
    wet = np.clip((fields.wet(x, y) - 0.35) / 0.45, 0.0, 1.0) * (1.0 - hill)
    plain = 1.0 - hill - wet
    rural = 1.0 - u
    if name == "bench_survey":
        codes = list(SURVEY_CLASSES)
        w = np.column_stack([u, rural * plain, rural * hill, rural * wet]) @ _weights(_SURVEY_SETTINGS, codes)
        return _draw(rng, codes, w), SURVEY_CLASSES
    if name == "bench_plan":
        w = np.column_stack([8 * u**2, 4 * u * rural + 0.15, 3 * rural, 4 * hill * rural + 2 * wet])
        return _draw(rng, list(PLAN_CLASSES), w), PLAN_CLASSES
    if name == "bench_farmland":
        w = np.column_stack([6 * plain * rural, 0.6 * plain * rural, 2 * (plain + 0.3) * rural, 1.5 * hill + 3 * u + 2 * wet + 0.3])
        return _draw(rng, list(FARMLAND_CLASSES), w), FARMLAND_CLASSES
    if name == "bench_eco":
        w = np.column_stack([5 * hill**2 + 4 * wet**2, 2 * hill + 1.5 * wet + 0.3, 3 * (1 - hill) * (1 - wet) + 2 * u])
        return _draw(rng, list(ECO_CLASSES), w), ECO_CLASSES
    if name == "bench_urban":
        w = np.column_stack([10 * u**2, 3 * u * rural, 1.5 * u * rural, 4 * rural**3 + 0.02])
        return _draw(rng, list(URBAN_CLASSES), w), URBAN_CLASSES
    raise ValueError(f"unknown layer {name!r}")


# --------------------------------------------------------------------------- tessellation

_U64 = np.uint64


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, elementwise on a uint64 array (wrap-around intended)."""
    x = x + _U64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> _U64(27))) * _U64(0x94D049BB133111EB)
    return x ^ (x >> _U64(31))


def _unit(h: np.ndarray, salt: int) -> np.ndarray:
    """Uniform [0, 1) floats derived from hashes ``h`` and an integer ``salt``."""
    return (_mix(h ^ _U64(salt)) >> _U64(11)).astype(np.float64) * (1.0 / 2**53)


def _voronoi_cells(rng: np.random.Generator, pts: np.ndarray) -> np.ndarray:
    """Voronoi cells (local metres) of ``pts`` in input order, in a randomly stretched frame."""
    theta = rng.uniform(0.0, math.pi)
    k = rng.uniform(1.2, 1.7)  # cells come out elongated k:1 along theta, like fields
    c, s = math.cos(theta), math.sin(theta)
    uv = np.column_stack([(pts[:, 0] * c + pts[:, 1] * s) / k, -pts[:, 0] * s + pts[:, 1] * c])
    lo, hi = uv.min(axis=0) - 50_000.0, uv.max(axis=0) + 50_000.0
    vor = shapely.voronoi_polygons(shapely.multipoints(uv), extend_to=box(*lo, *hi), ordered=True)
    cells = shapely.get_parts(vor)
    if len(cells) != len(pts):
        raise RuntimeError(f"voronoi returned {len(cells)} cells for {len(pts)} points (duplicate points?)")

    def inverse(a: np.ndarray) -> np.ndarray:
        u, v = a[:, 0] * k, a[:, 1]
        return np.column_stack([u * c - v * s, u * s + v * c])

    return shapely.transform(cells, inverse)


def _clip(cells: np.ndarray, county: shapely.Geometry) -> np.ndarray:
    """Cells clipped to the county (only those crossing its boundary are overlaid)."""
    inside = shapely.contains(county, cells)
    out = cells.copy()
    edge = np.flatnonzero(~inside)
    out[edge] = shapely.intersection(cells[edge], county)
    return out


@dataclass
class _Rings:
    """Polygons as ragged integer arrays (local millimetres)."""

    xy: np.ndarray  # (n_coords, 2) int64, rings closed
    ring: np.ndarray  # ring index of each coordinate
    part_of_ring: np.ndarray  # part (polygon) index of each ring; the first ring of a part is its shell
    feature_of_part: np.ndarray  # feature index of each part


def _to_rings(geoms: np.ndarray) -> _Rings:
    """Ragged mm-grid arrays of the polygonal parts of ``geoms``, degenerate pieces dropped."""
    parts, feat = shapely.get_parts(geoms, return_index=True)
    keep = (shapely.get_type_id(parts) == 3) & (shapely.area(parts) > 0.0)
    parts, feat = parts[keep], feat[keep]
    rings, part_of_ring = shapely.get_rings(parts, return_index=True)
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    q = np.rint(xy * MM).astype(np.int64)
    # Rounding can make a vertex coincide with its predecessor: drop the repeat.
    rep = np.zeros(len(q), dtype=bool)
    rep[1:] = (ring[1:] == ring[:-1]) & (q[1:] == q[:-1]).all(axis=1)
    q, ring = q[~rep], ring[~rep]
    ring_len = np.bincount(ring, minlength=len(rings))
    shell = np.ones(len(rings), dtype=bool)
    shell[1:] = part_of_ring[1:] != part_of_ring[:-1]
    bad_part = np.zeros(len(parts), dtype=bool)
    bad_part[part_of_ring[(ring_len < 4) & shell]] = True
    keep_ring = (ring_len >= 4) & ~bad_part[part_of_ring]
    keep_part = ~bad_part
    new_ring = np.cumsum(keep_ring) - 1
    new_part = np.cumsum(keep_part) - 1
    kx = keep_ring[ring]
    return _Rings(q[kx], new_ring[ring[kx]], new_part[part_of_ring[keep_ring]], feat[keep_part])


def _jitter(r: _Rings, seed: int, progress: Callable[[str], None]) -> tuple[_Rings, int]:
    """Insert 0–3 displaced vertices into every edge shared by two cells.

    An edge is identified by a hash of its two end points (mm integers, in canonical
    order), and the inserted vertices are computed from that hash along the edge in
    canonical direction, so both cells sharing the edge get exactly the same
    vertices and the coverage stays exact. Edges used once (the county boundary,
    edges whose ends rounded differently) stay straight. A polygon that the
    displacement makes invalid (sharp corners) gets all its edges straightened
    again, in both of their cells; this repeats until everything is valid. Returns
    the new rings and the number of edges straightened that way.
    """
    n = len(r.xy)
    last = np.ones(n, dtype=bool)
    last[:-1] = r.ring[1:] != r.ring[:-1]
    start = np.flatnonzero(~last)
    a, b = r.xy[start], r.xy[start + 1]
    swap = (a[:, 0] > b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] > b[:, 1]))
    c0 = np.where(swap[:, None], b, a)
    c1 = np.where(swap[:, None], a, b)
    h = _mix(np.full(len(start), seed, dtype=np.uint64))
    for col in (c0[:, 0], c0[:, 1], c1[:, 0], c1[:, 1]):
        h = _mix(h ^ np.ascontiguousarray(col).view(np.uint64))
    _uniq, edge_id, uses = np.unique(h, return_inverse=True, return_counts=True)
    d = (c1 - c0).astype(np.float64)
    length = np.hypot(d[:, 0], d[:, 1])
    k_base = np.where((uses[edge_id] == 2) & (length >= MIN_JITTER_EDGE_MM), _K_TABLE[((h >> _U64(59)) & _U64(31)).astype(np.int64)], 0)
    # Candidate vertices, computed once in canonical direction.
    j = np.arange(_K_MAX, dtype=np.float64)[None, :]
    kk = np.maximum(k_base, 1).astype(np.float64)[:, None]
    ut = np.column_stack([_unit(h, 101 + i) for i in range(_K_MAX)])
    uo = np.column_stack([_unit(h, 201 + i) for i in range(_K_MAX)])
    t = (j + 1 + (ut - 0.5) * 0.5) / (kk + 1)
    off = JITTER_AMPLITUDE * (2 * uo - 1)
    cand = np.empty((len(start), _K_MAX, 2), dtype=np.int64)
    cand[:, :, 0] = np.rint(c0[:, 0:1] + t * d[:, 0:1] - off * d[:, 1:2])
    cand[:, :, 1] = np.rint(c0[:, 1:2] + t * d[:, 1:2] + off * d[:, 0:1])
    part_of_seg = r.part_of_ring[r.ring[start]]
    straight = np.zeros(len(_uniq), dtype=bool)
    check = np.ones(len(r.feature_of_part), dtype=bool)  # parts to validate
    n_straightened = 0
    for _attempt in range(8):
        k = np.where(straight[edge_id], 0, k_base)
        out = _insert(r, start, swap, k, cand)
        sub, part_ids = _subset(out, check) if not check.all() else (out, np.arange(len(check)))
        bad_sub = ~shapely.is_valid(_polygons(sub, 1.0 / MM, (0.0, 0.0)))
        if not bad_sub.any():
            return out, n_straightened
        bad = np.zeros(len(check), dtype=bool)
        bad[part_ids[bad_sub]] = True
        progress(f"straighten {int(bad.sum())}")
        newly = np.unique(edge_id[bad[part_of_seg] & (k > 0)])
        if len(newly) == 0:
            break  # invalid without any displacement: a rounding artefact, repaired by the caller
        straight[newly] = True
        n_straightened += len(newly)
        # Only the parts that own a newly straightened edge change: validate just those next time.
        changed = np.zeros(len(_uniq), dtype=bool)
        changed[newly] = True
        check = np.zeros(len(check), dtype=bool)
        check[part_of_seg[changed[edge_id]]] = True
    return out, n_straightened


def _subset(r: _Rings, part_mask: np.ndarray) -> tuple[_Rings, np.ndarray]:
    """The parts selected by ``part_mask``, renumbered, and their original part indices."""
    ring_mask = part_mask[r.part_of_ring]
    coord_mask = ring_mask[r.ring]
    new_ring = np.cumsum(ring_mask) - 1
    new_part = np.cumsum(part_mask) - 1
    sub = _Rings(r.xy[coord_mask], new_ring[r.ring[coord_mask]], new_part[r.part_of_ring[ring_mask]], r.feature_of_part[part_mask])
    return sub, np.flatnonzero(part_mask)


def _insert(r: _Rings, start: np.ndarray, swap: np.ndarray, k: np.ndarray, cand: np.ndarray) -> _Rings:
    """Rings with ``k[s]`` vertices of ``cand[s]`` inserted after coordinate ``start[s]``."""
    emit = np.ones(len(r.xy), dtype=np.int64)
    emit[start] += k
    pos = np.cumsum(emit) - emit  # where each original coordinate goes
    out = np.empty((int(emit.sum()), 2), dtype=np.int64)
    out[pos] = r.xy
    seg = np.repeat(np.arange(len(start)), k)
    first = np.cumsum(k) - k
    jj = np.arange(len(seg)) - np.repeat(first, k)
    src = np.where(swap[seg], k[seg] - 1 - jj, jj)  # reversed edges take the vertices backwards
    out[pos[start[seg]] + 1 + jj] = cand[seg, src]
    return _Rings(out, np.repeat(r.ring, emit), r.part_of_ring, r.feature_of_part)


def _polygons(
    r: _Rings, scale: float, offset: tuple[float, float], transform: Callable[[np.ndarray], np.ndarray] | None = None
) -> np.ndarray:
    """Polygons (one per part) from ragged rings; coordinates = xy * scale + offset, then ``transform``."""
    xy = r.xy * scale + np.asarray(offset)
    if transform is not None:
        xy = transform(xy)
    rings = shapely.linearrings(xy, indices=r.ring)
    return shapely.polygons(rings, indices=r.part_of_ring)


def _repair(polys: np.ndarray) -> np.ndarray:
    """make_valid for the (very rare) polygons that 1 mm rounding left invalid; keeps the polygonal part."""
    bad = np.flatnonzero(~shapely.is_valid(polys))
    for i in bad:
        fixed = [p for p in shapely.get_parts(shapely.make_valid(polys[i])) if p.geom_type == "Polygon"]
        polys[i] = max(fixed, key=lambda p: p.area) if fixed else shapely.Polygon()
    return polys


# --------------------------------------------------------------------------- layers


def _make_layer(name: str, n: int, seed: int, index: int, progress: bool) -> tuple[gpd.GeoDataFrame, dict]:
    frame = _frame()
    fields = _fields(seed)
    rng = np.random.default_rng([seed, 100 + index])
    stats: dict = {"layer": name}
    t0 = time.perf_counter()
    steps = ("points", "voronoi", "clip", "classes", "jitter", "EPSG:4490")
    with tqdm(
        total=len(steps),
        desc=f"{name} ({n:,})",
        unit="step",
        disable=not progress,
        leave=True,
        bar_format="{desc}: {n_fmt}/{total_fmt} {bar} {elapsed} {postfix}",
    ) as bar:

        def step(label: str) -> None:
            bar.set_postfix_str(label)

        step("points")
        pts = _sample_points(rng, frame, fields, n)
        bar.update()
        step("voronoi")
        cells = _voronoi_cells(rng, pts)
        bar.update()
        step("clip")
        cells = _clip(cells, frame.county)
        bar.update()
        step("classes")
        codes, names = _classify(name, rng, frame, fields, pts)
        bar.update()
        step("jitter")
        rings = _to_rings(cells)
        del cells
        rings, stats["straightened"] = _jitter(rings, seed * 1_000_003 + index, step)
        bar.update()
        step("EPSG:4490")
        to_geo = Transformer.from_crs(METRIC_CRS, STORAGE_CRS, always_xy=True)

        def to_lonlat(xy: np.ndarray) -> np.ndarray:
            return np.column_stack(to_geo.transform(xy[:, 0], xy[:, 1]))

        polys = _repair(_polygons(rings, 1.0 / MM, frame.origin, to_lonlat))
        nonempty = ~shapely.is_empty(polys)
        feat = rings.feature_of_part[nonempty]
        present = np.unique(feat)  # features that kept at least one polygon (all, in practice)
        geoms = shapely.multipolygons(polys[nonempty], indices=np.searchsorted(present, feat))
        bar.update()
        step("done")
    n_rings = np.bincount(rings.ring, minlength=0)  # coordinates per ring (closing one included)
    verts = np.bincount(rings.feature_of_part[rings.part_of_ring], weights=n_rings - 1, minlength=n)[present]
    stats.update(
        features=len(present),
        dropped=n - len(present),
        median_vertices=float(np.median(verts)),
        mean_vertices=float(verts.mean()),
        min_vertices=int(verts.min()),
        max_vertices=int(verts.max()),
        p05_vertices=float(np.percentile(verts, 5)),
        p95_vertices=float(np.percentile(verts, 95)),
        seconds=time.perf_counter() - t0,
    )
    codes = codes[present]
    gdf = gpd.GeoDataFrame(
        {"class_code": codes.astype(str), "class_name": [names[c] for c in codes]},
        geometry=gpd.GeoSeries(geoms, crs=STORAGE_CRS),
        crs=STORAGE_CRS,
    )
    return gdf, stats


def generate_bench_layers(
    total: int, *, seed: int = DEFAULT_SEED, progress: bool = True, stats: list[dict] | None = None
) -> dict[str, gpd.GeoDataFrame]:
    """Five coverages of Jiayu County with ``total`` polygons between them (see LAYER_SHARES).

    Returns layer name -> GeoDataFrame (``class_code``, ``class_name``, MultiPolygon
    ``geometry`` in EPSG:4490). Deterministic for a given ``seed``. When ``stats`` is a
    list, one dict per layer (features, vertex statistics, seconds) is appended to it.
    """
    if total < 100:
        raise ValueError("total must be at least 100")
    layers: dict[str, gpd.GeoDataFrame] = {}
    for index, (name, n) in enumerate(layer_sizes(total).items()):
        gdf, st = _make_layer(name, n, seed, index, progress)
        layers[name] = gdf
        if stats is not None:
            stats.append(st)
    return layers


def write_bench_layers(layers: dict[str, gpd.GeoDataFrame], path: str | Path, *, fmt: str = "gpkg") -> Path:
    """Write ``layers`` with pyogrio and return where they went.

    ``fmt="gpkg"``: one GeoPackage at ``path`` (replaced if it exists), one layer per
    name, with spatial indexes. ``fmt="fgb"``: FlatGeobuf is single-layer, so ``path``
    without its suffix becomes a directory holding ``<layer>.fgb`` files (with
    spatial indexes); the directory is returned.
    """
    path = Path(path)
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": GPKG_TIMESTAMP, "OGR_SQLITE_SYNCHRONOUS": "OFF"})
    try:
        if fmt == "gpkg":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.unlink(missing_ok=True)
            for name, gdf in layers.items():
                gdf.to_file(path, layer=name, driver="GPKG", engine="pyogrio", SPATIAL_INDEX="YES")
            return path
        if fmt == "fgb":
            out_dir = path.with_suffix("") if path.suffix else path
            out_dir.mkdir(parents=True, exist_ok=True)
            for name, gdf in layers.items():
                target = out_dir / f"{name}.fgb"
                target.unlink(missing_ok=True)
                gdf.to_file(target, driver="FlatGeobuf", engine="pyogrio", SPATIAL_INDEX="YES")
            return out_dir
        raise ValueError(f"unknown format {fmt!r} (gpkg or fgb)")
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous, "OGR_SQLITE_SYNCHRONOUS": None})


# --------------------------------------------------------------------------- sites


def site_polygon(area_ha: float, center: tuple[float, float], *, seed: int = DEFAULT_SEED, n_vertices: int = 14) -> Polygon:
    """An irregular, roughly convex polygon (EPSG:4490) of ``area_ha`` hectares centred on ``center``.

    ``center`` is (lon, lat). The shape is drawn in an azimuthal equidistant frame
    around the centre (its planar centroid is the centre) and scaled until its
    ellipsoidal area (pyproj.Geod, GRS80 = CGCS2000 ellipsoid) matches within 1e-9.
    The shape depends on ``seed`` and ``area_ha`` only.
    """
    if area_ha <= 0:
        raise ValueError("area_ha must be positive")
    lon0, lat0 = center
    rng = np.random.default_rng([seed, round(area_ha * 1000)])
    step = 2 * math.pi / n_vertices
    theta = np.arange(n_vertices) * step + rng.uniform(-0.3, 0.3, n_vertices) * step + rng.uniform(0, 2 * math.pi)
    r = (
        1.0
        + 0.15 * np.cos(2 * theta + rng.uniform(0, 2 * math.pi))
        + 0.05 * np.cos(3 * theta + rng.uniform(0, 2 * math.pi))
        + rng.uniform(-0.05, 0.05, n_vertices)
    )
    shape = Polygon(np.column_stack([r * np.cos(theta), r * np.sin(theta)]))
    c = shape.centroid
    xy = np.asarray(shape.exterior.coords)[:-1] - [c.x, c.y]
    to_geo = Transformer.from_crs(f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +ellps=GRS80 +units=m +no_defs", STORAGE_CRS, always_xy=True)
    target = area_ha * 10_000.0
    scale = math.sqrt(target / shape.area)
    for _ in range(10):
        lon, lat = to_geo.transform(xy[:, 0] * scale, xy[:, 1] * scale)
        area = abs(_GEOD.polygon_area_perimeter(lon, lat)[0])
        if abs(area / target - 1.0) < 1e-9:
            break
        scale *= math.sqrt(target / area)
    return Polygon(np.column_stack([lon, lat]))


def geodesic_area_ha(geom: shapely.Geometry) -> float:
    """Ellipsoidal area (GRS80/CGCS2000) of an EPSG:4490 polygon, hectares."""
    return abs(_GEOD.geometry_area_perimeter(geom)[0]) / 10_000.0


# --------------------------------------------------------------------------- checks


def check_layer(gdf: gpd.GeoDataFrame, *, overlaps: bool = True) -> dict:
    """Coverage checks of one layer: validity, area vs the county, overlaps and matching edges.

    Areas are Gauss–Krüger planar (EPSG:4526). ``overlaps`` runs a pairwise STRtree
    check (intersection area of every pair of polygons whose interiors overlap) and
    ``shapely.coverage_is_valid``; both are slow for very large layers.
    """
    frame = _frame()
    metric = shapely.transform(
        gdf.geometry.values,
        lambda xy: np.column_stack(Transformer.from_crs(STORAGE_CRS, METRIC_CRS, always_xy=True).transform(xy[:, 0], xy[:, 1])),
    )
    out: dict = {
        "features": len(gdf),
        "invalid_4490": int((~shapely.is_valid(gdf.geometry.values)).sum()),
        "invalid_4526": int((~shapely.is_valid(metric)).sum()),
        "empty": int(shapely.is_empty(metric).sum()),
    }
    area = float(shapely.area(metric).sum())
    out["area_sum_km2"] = area / 1e6
    out["county_km2"] = frame.area_m2 / 1e6
    out["area_rel_diff"] = area / frame.area_m2 - 1.0
    if overlaps:
        tree = shapely.STRtree(metric)
        i, j = tree.query(metric, predicate="overlaps")
        keep = i < j
        inter = shapely.area(shapely.intersection(metric[i[keep]], metric[j[keep]])) if keep.any() else np.zeros(0)
        out["overlapping_pairs"] = int(keep.sum())
        out["overlap_m2"] = float(inter.sum())
        out["overlap_rel"] = float(inter.sum()) / frame.area_m2
        out["max_overlap_m2"] = float(inter.max()) if len(inter) else 0.0
        out["coverage_is_valid"] = bool(shapely.coverage_is_valid(metric))
    return out


# --------------------------------------------------------------------------- CLI


def _fmt_table(rows: list[dict], total_s: float) -> str:
    head = f"{'layer':<16}{'features':>11}{'median v':>10}{'mean v':>9}{'p05–p95 v':>12}{'min–max v':>11}{'seconds':>9}"
    lines = [head, "-" * len(head)]
    for r in rows:
        p595 = f"{r['p05_vertices']:.0f}–{r['p95_vertices']:.0f}"
        minmax = f"{r['min_vertices']}–{r['max_vertices']}"
        lines.append(
            f"{r['layer']:<16}{r['features']:>11,}{r['median_vertices']:>10.0f}{r['mean_vertices']:>9.1f}"
            f"{p595:>12}{minmax:>11}{r['seconds']:>9.1f}"
        )
    lines.append("-" * len(head))
    lines.append(f"{'total':<16}{sum(r['features'] for r in rows):>11,}{'':>42}{total_s:>9.1f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.synthetic", description=__doc__.split("\n\n")[0])
    parser.add_argument("--total", type=int, default=1_000_000, help="polygons over all five layers (default 1,000,000)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"GeoPackage to write (default {DEFAULT_OUT})")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--format",
        choices=("gpkg", "fgb"),
        default="gpkg",
        help="gpkg: the GeoPackage only; fgb: also FlatGeobuf files in <out without suffix>/",
    )
    parser.add_argument("--check", action="store_true", help="verify validity and coverage of every layer (slow)")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    rows: list[dict] = []
    layers = generate_bench_layers(args.total, seed=args.seed, progress=not args.no_progress, stats=rows)
    t_gen = time.perf_counter() - t0
    print(_fmt_table(rows, t_gen))
    lon, lat = densest_point(args.seed)
    print(
        f"densest point: lon {lon:.6f}, lat {lat:.6f}; expected mean polygon area there: "
        + ", ".join(f"{name} {expected_cell_area_m2(len(g), (lon, lat), args.seed):,.0f} m²" for name, g in layers.items())
    )
    straightened = sum(r["straightened"] for r in rows)
    dropped = sum(r["dropped"] for r in rows)
    if straightened or dropped:
        print(f"edges straightened to keep polygons valid: {straightened:,}; empty features dropped: {dropped}")
    t1 = time.perf_counter()
    written = [write_bench_layers(layers, args.out, fmt="gpkg")]
    if args.format == "fgb":
        written.append(write_bench_layers(layers, args.out, fmt="fgb"))
    t_write = time.perf_counter() - t1
    for p in written:
        size = p.stat().st_size if p.is_file() else sum(f.stat().st_size for f in p.iterdir())
        print(f"wrote {p} ({size / 2**20:,.1f} MiB)")
    print(f"generate {t_gen:.1f} s + write {t_write:.1f} s = {time.perf_counter() - t0:.1f} s total")
    if args.check:
        ok = True
        for name, gdf in layers.items():
            t = time.perf_counter()
            res = check_layer(gdf)
            print(f"check {name}: {res} ({time.perf_counter() - t:.1f} s)")
            ok &= res["invalid_4490"] == 0 and res["invalid_4526"] == 0 and abs(res["area_rel_diff"]) < 1e-3 and res["overlap_rel"] < 1e-6
        if not ok:
            print("CHECK FAILED", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
