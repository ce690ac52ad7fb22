"""Stored areas (import) and report areas (PostGIS geography) against pyproj.Geod, and the tile zoom rule."""

from __future__ import annotations

import numpy as np
import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Transformer
from shapely.geometry import Polygon

from parcels.geo import ellipsoidal_areas
from parcels.tiling import DETAIL_ZOOM, zone_min_zoom
from tests.geodesy import GEOD, geod_area_m2

TO_LONLAT = Transformer.from_crs(4526, 4490, always_xy=True)


@st.composite
def survey_polygons(draw) -> Polygon:
    """Random valid star-shaped polygons 5 m – 3 km across, somewhere in Jiayu (built in EPSG:4526)."""
    cx = draw(st.floats(38_470_000, 38_520_000))
    cy = draw(st.floats(3_290_000, 3_340_000))
    radius = draw(st.floats(5, 3000))
    n = draw(st.integers(3, 24))
    jitter = draw(st.lists(st.floats(0.4, 1.0), min_size=n, max_size=n))
    angles = np.sort(np.array(draw(st.lists(st.floats(0, 2 * np.pi), min_size=n, max_size=n, unique=True))))
    xs = cx + radius * np.array(jitter) * np.cos(angles)
    ys = cy + radius * np.array(jitter) * np.sin(angles)
    lon, lat = TO_LONLAT.transform(xs, ys)
    poly = Polygon(zip(lon, lat, strict=True))
    if not poly.is_valid or poly.area == 0:
        poly = poly.convex_hull
    return poly


@settings(max_examples=60, deadline=None)
@given(survey_polygons())
def test_import_areas_agree_with_geodesic_areas(poly):
    """parcels.geo.ellipsoidal_areas (equal-area projection) vs pyproj.Geod to 0.01 % (and to 1e-5)."""
    expected = geod_area_m2(poly)
    got = ellipsoidal_areas(np.array([poly], dtype=object))[0]
    assert got == pytest.approx(expected, rel=1e-5, abs=0.01)


@pytest.mark.django_db
@settings(max_examples=40, deadline=None)
@given(survey_polygons())
def test_postgis_geography_area_agrees_with_pyproj_geod(poly):
    with connection.cursor() as cursor:
        cursor.execute("SELECT ST_Area(ST_GeomFromText(%s, 4490)::geography, true)", [poly.wkt])
        got = cursor.fetchone()[0]
    assert got == pytest.approx(abs(GEOD.geometry_area_perimeter(poly)[0]), rel=1e-4, abs=0.01)


@pytest.mark.django_db
def test_stored_zone_areas_match_postgis_geography(onemap):
    """Every demo zone's stored (import-time) area vs PostGIS's geography area, recomputed now."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT area_m2, ST_Area(geom::geography, true) FROM parcels_zone")
        rows = np.array(cursor.fetchall())
    assert len(rows) > 1000
    relative = np.abs(rows[:, 0] - rows[:, 1]) / rows[:, 1]
    assert relative.max() < 1e-5
    assert np.abs(rows[:, 0] - rows[:, 1]).max() < 10  # m², on zones up to ~10 km²


@pytest.mark.parametrize(
    ("area_m2", "expected"),
    [(2e11, 0), (6_600.0, 12), (1_650.0, 13), (412.0, 14), (410.0, DETAIL_ZOOM), (1.0, DETAIL_ZOOM)],
)
def test_zone_min_zoom_is_the_first_zoom_with_six_pixels(area_m2, expected):
    # at 30° N a display pixel is 156543 m × cos 30° / 2^z wide; six square pixels is the threshold:
    # 6573 m² at z12, 1643 m² at z13, 411 m² at z14
    assert zone_min_zoom(np.array([area_m2]), np.array([30.0]))[0] == expected


def test_min_zoom_is_monotonic_in_area():
    areas = np.logspace(0, 9, 200)
    zooms = zone_min_zoom(areas, np.full(200, 30.0))
    assert np.all(np.diff(zooms) <= 0)
