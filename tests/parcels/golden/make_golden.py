"""Regenerates the golden overlap results in this folder, independently of PostGIS.

    .venv/bin/python -m tests.parcels.golden.make_golden

For each site in SITES: read the demo GeoPackage (data/demo/jiayu_onemap.gpkg) with geopandas,
intersect every zone of every layer with the site in shapely (GEOS, lon/lat, EPSG:4490), take the
ellipsoidal area of each piece with pyproj.Geod on the GRS80 ellipsoid, and sum per layer and class
code. The site's own area is computed the same way. Numbers are rounded to 0.01 m².
test_golden.py runs OneMap's overlap analysis (PostGIS) on the same sites and compares.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import shapely
from pyproj import Geod
from shapely.geometry import MultiPolygon, Polygon, mapping, shape

HERE = Path(__file__).parent
GPKG = HERE.parents[2] / "data" / "demo" / "jiayu_onemap.gpkg"
LAYERS = {
    "permanent-farmland": "permanent_farmland",
    "eco-redline": "eco_redline",
    "urban-boundary": "urban_boundary",
    "plan-zones": "plan_zones",
    "landuse-survey": "landuse_survey",
}
SITES = {
    # across the county seat's urban edge: urban boundary, farmland, several survey classes
    "seat_edge": Polygon([(113.905, 29.945), (113.935, 29.947), (113.938, 29.962), (113.910, 29.965), (113.905, 29.945)]),
    # countryside south-west of the seat
    "countryside": Polygon([(113.87, 29.935), (113.885, 29.935), (113.885, 29.945), (113.87, 29.945), (113.87, 29.935)]),
    # two parcels, one with a hole
    "two_parcels": MultiPolygon(
        [
            Polygon([(113.925, 29.975), (113.935, 29.975), (113.935, 29.982), (113.925, 29.982)], [[(113.928, 29.977), (113.931, 29.977), (113.931, 29.979), (113.928, 29.979)]]),
            Polygon([(113.94, 29.99), (113.95, 29.99), (113.95, 29.995), (113.94, 29.995)]),
        ]
    ),
}
GEOD = Geod(ellps="GRS80")


def area(geom) -> float:
    if geom.is_empty:
        return 0.0
    polys = [g for g in getattr(geom, "geoms", [geom]) if g.geom_type in ("Polygon", "MultiPolygon")]
    # pyproj sums signed ring areas: exteriors counter-clockwise, holes clockwise
    return sum(abs(GEOD.geometry_area_perimeter(shapely.orient_polygons(p))[0]) for p in polys)


def golden(site) -> dict:
    layers = {}
    for slug, gpkg_layer in LAYERS.items():
        frame = gpd.read_file(GPKG, layer=gpkg_layer, bbox=site.bounds)
        classes: dict[str, dict] = {}
        for code, geom in zip(frame["class_code"], frame.geometry, strict=True):
            if not geom.intersects(site):
                continue
            piece = area(geom.intersection(site))
            if piece <= 0.01:
                continue
            entry = classes.setdefault(code, {"area_m2": 0.0, "count": 0})
            entry["area_m2"] += piece
            entry["count"] += 1
        layers[slug] = {code: {"area_m2": round(v["area_m2"], 2), "count": v["count"]} for code, v in sorted(classes.items())}
    return {"site": mapping(site), "site_area_m2": round(area(site), 2), "layers": layers}


def main() -> None:
    for name, site in SITES.items():
        (HERE / f"{name}.json").write_text(json.dumps(golden(site), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {name}.json")


def load(name: str) -> dict:
    data = json.loads((HERE / f"{name}.json").read_text(encoding="utf-8"))
    data["site"] = shape(data["site"])
    return data


if __name__ == "__main__":
    main()
