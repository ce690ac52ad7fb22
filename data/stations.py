"""Synthetic township land stations (乡镇国土所) of Jiayu County for the demo.

    python -m data.stations            # rewrites data/divisions/jiayu_stations.geojson

Each town of the demo generator (data/generate.py, ``TOWNS``) gets the area nearer to its centre
than to any other town's: a Voronoi partition of the town centres, drawn in the county's 3°
Gauss–Krüger zone (EPSG:4526, metres, so "nearer" is in metres), carried to EPSG:4490 vertex by
vertex (the cells still share their edges exactly) and clipped there to the real county polygon of
``xianning_divisions.geojson``. The stations therefore cover the county exactly, without overlaps.
The boundaries are invented; the real towns' borders are not these.

This module has no Django imports: the platform loads its output with the ordinary division
loader (parcels.services.division_load, via data.demo.load_stations).
"""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Polygon

from data.generate import COUNTY_CODE, METRIC_CRS, STORAGE_CRS, _load_geography

DIVISIONS_DIR = Path(__file__).resolve().parent / "divisions"
DIVISIONS_FILE = DIVISIONS_DIR / "xianning_divisions.geojson"
STATIONS_FILE = DIVISIONS_DIR / "jiayu_stations.geojson"

# Town (as in data.generate.TOWNS) → station code (county + 3 digits, 1xx = a town in the
# 统计用区划代码 pattern; illustrative, not checked against the official list), names.
STATIONS = {
    "鱼岳镇": ("421221100", "鱼岳镇国土所", "Yuyue land station"),
    "官桥镇": ("421221102", "官桥镇国土所", "Guanqiao land station"),
    "簰洲湾镇": ("421221103", "簰洲湾镇国土所", "Paizhouwan land station"),
    "潘家湾镇": ("421221105", "潘家湾镇国土所", "Panjiawan land station"),
}


def _polygons(geom: shapely.Geometry) -> list[Polygon]:
    """Polygonal parts of an overlay result (slivers of lower dimension dropped)."""
    if isinstance(geom, Polygon):
        return [geom]
    return [g for part in getattr(geom, "geoms", []) for g in _polygons(part)]


def _onto_county_vertices(piece: Polygon, vertices: np.ndarray, rim: shapely.Geometry) -> Polygon:
    """`piece` with each point where a cell edge meets the county border moved to the nearest
    vertex of that border. A point inserted in the middle of a border edge would bend that edge as
    PostGIS and the Gauss–Krüger zone measure it (geodesics, not degree-straight lines): on the
    long, generalised Yangtze edges that alone made the stations' union 270 m² smaller than the
    county. With the stations' borders following the county's own vertices, their union is the
    county polygon, edge for edge."""
    known = {tuple(v) for v in vertices}

    def ring(coords) -> list[tuple[float, float]]:
        out: list[tuple[float, float]] = []
        for x, y in coords:
            if (x, y) not in known and rim.distance(shapely.Point(x, y)) < 1e-9:
                x, y = vertices[np.argmin((vertices[:, 0] - x) ** 2 + (vertices[:, 1] - y) ** 2)]
            if not out or out[-1] != (x, y):
                out.append((float(x), float(y)))
        return out

    return Polygon(ring(piece.exterior.coords), [ring(r.coords) for r in piece.interiors])


def station_frame() -> gpd.GeoDataFrame:
    """The stations as a divisions frame (code, name, name_en, level, parent_code; EPSG:4490)."""
    geo = _load_geography(DIVISIONS_FILE)
    divisions = gpd.read_file(DIVISIONS_FILE)
    county = divisions[divisions["code"] == COUNTY_CODE].geometry.iloc[0]  # degrees, as the platform stores it
    centres = shapely.MultiPoint([xy for _town, xy in geo.towns])
    minx, miny, maxx, maxy = geo.county.bounds
    frame = shapely.box(minx - 50_000, miny - 50_000, maxx + 50_000, maxy + 50_000)
    cells = list(shapely.voronoi_polygons(centres, extend_to=frame).geoms)
    to_storage = Transformer.from_crs(METRIC_CRS, STORAGE_CRS, always_xy=True)
    rim = county.boundary
    vertices = shapely.get_coordinates(rim)
    rows = []
    for town, xy in geo.towns:
        cell = next(c for c in cells if c.contains(shapely.Point(xy)))
        lon, lat = to_storage.transform(*cell.exterior.coords.xy)
        piece = shapely.make_valid(Polygon(zip(lon, lat, strict=True))).intersection(county)
        code, name, name_en = STATIONS[town.name]
        rows.append({"code": code, "name": name, "name_en": name_en, "level": "station", "parent_code": COUNTY_CODE,
                     "geometry": MultiPolygon([_onto_county_vertices(p, vertices, rim) for p in _polygons(piece)])})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=STORAGE_CRS).sort_values("code").reset_index(drop=True)


def main() -> int:
    frame = station_frame()
    STATIONS_FILE.unlink(missing_ok=True)
    frame.to_file(STATIONS_FILE, driver="GeoJSON", COORDINATE_PRECISION=9)
    print(f"{STATIONS_FILE}: {len(frame)} stations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
