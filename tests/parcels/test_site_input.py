"""Parsing drawn/uploaded sites: every bad input gives a precise SpatialInputError."""

from __future__ import annotations

import json

import pytest

from parcels.exceptions import CRSError, InvalidGeometryError, SpatialInputError
from parcels.site_input import parse_site_geojson

SQUARE = [[113.90, 29.96], [113.91, 29.96], [113.91, 29.97], [113.90, 29.97], [113.90, 29.96]]


def polygon(*rings):
    return {"type": "Polygon", "coordinates": list(rings)}


def test_polygon_geometry_becomes_multipolygon_4490():
    site = parse_site_geojson(json.dumps(polygon(SQUARE)))
    assert site.geom_type == "MultiPolygon"
    assert site.srid == 4490
    assert len(site) == 1


def test_feature_collection_keeps_each_polygon_as_a_part():
    other = [[x + 0.02, y] for x, y in SQUARE]
    fc = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": polygon(SQUARE)}, {"type": "Feature", "properties": {}, "geometry": polygon(other)}]}
    assert len(parse_site_geojson(fc)) == 2


def test_projected_crs_is_transformed_to_lonlat():
    # EPSG:4526 (CGCS2000 3° GK zone 38, zone-prefixed easting): a 100 m square near the seat.
    x0, y0 = 38_492_000.0, 3_316_000.0
    ring = [[x0, y0], [x0 + 100, y0], [x0 + 100, y0 + 100], [x0, y0 + 100], [x0, y0]]
    doc = {"type": "Polygon", "coordinates": [ring], "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4526"}}}
    site = parse_site_geojson(doc)
    lon, lat = site.centroid.coords
    assert 113.8 < lon < 114.0
    assert 29.9 < lat < 30.1


@pytest.mark.parametrize(
    ("doc", "error", "fragment"),
    [
        ("{not json", SpatialInputError, "line 1"),
        (json.dumps({"foo": 1}), SpatialInputError, "not a GeoJSON object"),
        (json.dumps({"type": "Point", "coordinates": [113.9, 29.9]}), InvalidGeometryError, "not Point"),
        (json.dumps(polygon(SQUARE[:-1])), InvalidGeometryError, "ring 1"),
        (json.dumps(polygon([[113.90, 29.96], [113.91, 29.97], [113.91, 29.96], [113.90, 29.97], [113.90, 29.96]])), InvalidGeometryError, "Self-intersection"),
        (json.dumps(polygon([[y, x] for x, y in SQUARE])), CRSError, "swapped"),
        (json.dumps(polygon([[x * 1000, y * 1000] for x, y in SQUARE])), CRSError, "not longitude/latitude"),
        (json.dumps(polygon([[x - 100, y] for x, y in SQUARE])), CRSError, "outside China"),
        (json.dumps({"type": "FeatureCollection", "features": []}), InvalidGeometryError, "no features"),
        (json.dumps({**polygon(SQUARE), "crs": {"type": "name", "properties": {"name": "/etc/passwd"}}}), CRSError, "use an EPSG code"),
        (json.dumps({**polygon(SQUARE), "crs": {"type": "name", "properties": {"name": "EPSG:999999"}}}), CRSError, "unknown EPSG"),
    ],
    ids=["bad-json", "not-geojson", "point", "open-ring", "bow-tie", "swapped-axes", "projected-no-crs", "outside-china", "empty", "hostile-crs", "unknown-epsg"],
)
def test_bad_input_is_refused_with_a_precise_message(doc, error, fragment):
    with pytest.raises(error) as info:
        parse_site_geojson(doc, source="site.geojson")
    assert fragment in str(info.value)
    assert str(info.value).startswith("site.geojson")


def test_overlapping_parts_are_refused():
    shifted = [[x + 0.005, y] for x, y in SQUARE]
    doc = {"type": "MultiPolygon", "coordinates": [[SQUARE], [shifted]]}
    with pytest.raises(InvalidGeometryError, match="overlap"):
        parse_site_geojson(doc)


def test_messages_are_chinese_in_zh_hans():
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(InvalidGeometryError) as info:
        parse_site_geojson(json.dumps(polygon(SQUARE[:-1])), source="site.geojson")
    assert "第 1 个环" in str(info.value)
    assert "环未闭合" in str(info.value)
