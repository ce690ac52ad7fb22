"""Overlap analysis against real PostGIS, checked against shapely + pyproj computed in the test."""

from __future__ import annotations

import geopandas as gpd
import pytest
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from shapely.geometry import Polygon, box, shape

from parcels.models import Layer, Zone
from parcels.overlap import overlap_analyse
from parcels.services import layer_version_create
from tests.geodesy import assert_area_close, geod_area_m2, overlap_m2

pytestmark = pytest.mark.django_db


def frame(rows: list[tuple[str, str, Polygon]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"class_code": [r[0] for r in rows], "class_name": [r[1] for r in rows]},
        geometry=[r[2] for r in rows],
        crs="EPSG:4490",
    )


def to_site(shape: Polygon) -> MultiPolygon:
    geom = GEOSGeometry(memoryview(shape.wkb), srid=4490)
    return MultiPolygon(geom, srid=4490) if geom.geom_type == "Polygon" else geom


@pytest.fixture
def synthetic_layers(db):
    """Two small layers with known geometry near the Jiayu seat (lon/lat degrees)."""
    farmland = Layer.objects.create(slug="farm", name="永久基本农田", rule="prohibited", color="#d4b106")
    urban = Layer.objects.create(slug="urban", name="城镇开发边界", rule="must_be_inside", color="#fa541c", sort_order=200)
    a = box(113.900, 29.960, 113.905, 29.965)
    b = box(113.905, 29.960, 113.910, 29.965)
    c = box(113.900, 29.965, 113.910, 29.970)
    layer_version_create(layer=farmland, frame=frame([("0101", "水田", a), ("0103", "旱地", b), ("0101", "水田", c)]), source_name="synthetic")
    layer_version_create(layer=urban, frame=frame([("CZKFBJ", "城镇开发边界", box(113.895, 29.955, 113.907, 29.975))]), source_name="synthetic")
    return {"a": a, "b": b, "c": c, "urban": box(113.895, 29.955, 113.907, 29.975)}


def test_per_layer_and_class_areas_match_independent_computation(synthetic_layers):
    site_shape = box(113.903, 29.962, 113.909, 29.968)
    result = overlap_analyse(site=to_site(site_shape))
    report = result.report
    site_m2 = geod_area_m2(site_shape)
    assert_area_close(report["site"]["area_m2"], site_m2)
    assert report["site"]["gk_epsg"] == 4526
    # GK planar area differs from the ellipsoidal one by the scale error near the central meridian (< 0.1 %).
    assert report["site"]["gk_area_m2"] == pytest.approx(site_m2, rel=1e-3)

    farm = next(lr for lr in report["layers"] if lr["layer"] == "farm")
    classes = {c["code"]: c for c in farm["classes"]}
    assert set(classes) == {"0101", "0103"}
    assert classes["0101"]["count"] == 2
    assert classes["0103"]["count"] == 1
    assert_area_close(classes["0101"]["area_m2"], overlap_m2(site_shape, [synthetic_layers["a"], synthetic_layers["c"]]))
    assert_area_close(classes["0103"]["area_m2"], overlap_m2(site_shape, [synthetic_layers["b"]]))
    assert classes["0103"]["area_mu"] == pytest.approx(classes["0103"]["area_m2"] * 15 / 10000, abs=1e-3)
    assert classes["0103"]["percent"] == pytest.approx(100 * classes["0103"]["area_m2"] / report["site"]["area_m2"], abs=1e-3)
    assert farm["verdict"] == "conflict"
    assert "farm" in report["conflicts"]

    urban = next(lr for lr in report["layers"] if lr["layer"] == "urban")
    inside = overlap_m2(site_shape, [synthetic_layers["urban"]])
    assert_area_close(urban["overlap_m2"], inside)
    assert urban["verdict"] == "conflict"
    assert_area_close(urban["verdict_area_m2"], site_m2 - inside)


def test_site_inside_urban_boundary_and_off_farmland_is_compliant(synthetic_layers):
    site_shape = box(113.896, 29.956, 113.899, 29.959)
    report = overlap_analyse(site=to_site(site_shape)).report
    verdicts = {lr["layer"]: lr["verdict"] for lr in report["layers"]}
    assert verdicts == {"farm": "ok", "urban": "ok"}
    assert report["conflicts"] == []
    farm = next(lr for lr in report["layers"] if lr["layer"] == "farm")
    assert farm["classes"] == []
    assert farm["overlap_m2"] == 0


def test_touching_only_is_not_an_overlap(synthetic_layers):
    # Shares the edge lon=113.910 with zone b: intersects, but no area.
    site_shape = box(113.910, 29.960, 113.915, 29.963)
    farm = next(lr for lr in overlap_analyse(site=to_site(site_shape)).report["layers"] if lr["layer"] == "farm")
    assert farm["verdict"] == "ok"
    assert farm["classes"] == []


def test_report_uses_only_the_active_version_and_records_it(synthetic_layers):
    farmland = Layer.objects.get(slug="farm")
    v2 = layer_version_create(layer=farmland, frame=frame([("0102", "水浇地", box(113.90, 29.96, 113.91, 29.97))]), source_name="synthetic v2")
    site_shape = box(113.903, 29.962, 113.909, 29.968)
    result = overlap_analyse(site=to_site(site_shape), layers=["farm"])
    farm = result.report["layers"][0]
    assert farm["version"] == 2
    assert [c["code"] for c in farm["classes"]] == ["0102"]
    assert_area_close(farm["classes"][0]["area_m2"], geod_area_m2(site_shape))
    assert result.layer_version_ids == [v2.pk]
    # version 1 is still stored and queryable
    assert Zone.objects.filter(layer_version__layer=farmland, layer_version__version=1).count() == 3


def test_pieces_are_the_intersections(synthetic_layers):
    site_shape = box(113.903, 29.962, 113.909, 29.968)
    result = overlap_analyse(site=to_site(site_shape), layers=["farm"])
    pieces = {f["properties"]["class_code"]: f for f in result.pieces["features"]}
    expected = site_shape.intersection(synthetic_layers["b"])
    assert shape(pieces["0103"]["geometry"]).symmetric_difference(expected).area < 1e-12
    assert pieces["0103"]["properties"]["rule"] == "prohibited"


def test_demo_layers_against_independent_overlay(onemap, demo_frames):
    """A site across the seat's urban edge, checked class by class against geopandas/shapely/pyproj."""
    site_shape = Polygon([(113.905, 29.945), (113.935, 29.947), (113.938, 29.962), (113.910, 29.965), (113.905, 29.945)])
    report = overlap_analyse(site=to_site(site_shape)).report
    assert_area_close(report["site"]["area_m2"], geod_area_m2(site_shape))
    by_slug = {lr["layer"]: lr for lr in report["layers"]}
    from data.demo import DEMO_LAYERS

    checked = 0
    for spec in DEMO_LAYERS:
        zones = demo_frames[spec.gpkg_layer]
        hits = zones[zones.intersects(site_shape)]
        for code, group in hits.groupby("class_code"):
            expected = overlap_m2(site_shape, group.geometry)
            if expected <= 0.01:
                continue
            got = next(c for c in by_slug[spec.slug]["classes"] if c["code"] == code)
            assert_area_close(got["area_m2"], expected)
            checked += 1
    assert checked >= 5, "the test site should meet several layers and classes"
