"""Tests of the synthetic Jiayu one-map generator (data/generate.py). No database.

Geometry is stored in EPSG:4490 (lon/lat); every metric check reprojects to EPSG:4526
(CGCS2000 3° Gauss–Krüger zone 38, metres), as the generator itself works there.
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pytest
import shapely

from data import generate as gen

METRIC = gen.METRIC_CRS
ZONE_LAYERS = ("landuse_survey", "permanent_farmland", "eco_redline", "urban_boundary", "plan_zones")
ALLOWED_CODES: dict[str, set[str]] = {
    "landuse_survey": set(gen.LANDUSE_CLASSES),
    "permanent_farmland": {"YJJBNT"},
    "eco_redline": {"STBHHX"},
    "urban_boundary": {"CZKFBJ"},
    "plan_zones": {"010", "020", "030", "040"},
}
PARCEL_CODE = re.compile(r"^421221\d{3}\d{3}(GB|JC)\d{5}$")


@pytest.fixture(scope="module")
def layers() -> dict[str, gpd.GeoDataFrame]:
    return gen.generate(progress=False)


@pytest.fixture(scope="module")
def metric(layers) -> dict[str, gpd.GeoDataFrame]:
    return {name: gdf.to_crs(METRIC) for name, gdf in layers.items()}


@pytest.fixture(scope="module")
def county() -> shapely.Geometry:
    """Jiayu County (421221) from the committed divisions file, EPSG:4526."""
    divisions = gpd.read_file(gen.DIVISIONS_PATH)
    return divisions[divisions["code"] == gen.COUNTY_CODE].to_crs(METRIC).geometry.iloc[0]


def _overlap_m2(a: np.ndarray, b: np.ndarray | None = None) -> float:
    """Total area (CRS units²) where geometries of ``a`` overlap each other, or overlap ``b``."""
    if b is None:
        left, right = shapely.STRtree(a).query(a, predicate="overlaps")
        keep = left < right
        left, right, b = left[keep], right[keep], a
    else:
        right, left = shapely.STRtree(a).query(b, predicate="intersects")
    if len(left) == 0:
        return 0.0
    return float(shapely.area(shapely.intersection(a[left], b[right])).sum())


def test_layer_names_and_crs(layers):
    assert tuple(layers) == gen.LAYER_NAMES
    for gdf in layers.values():
        assert gdf.crs.to_epsg() == 4490


@pytest.mark.parametrize("name", gen.LAYER_NAMES)
def test_geometries_valid_non_empty_and_inside_county(name, layers, metric, county):
    geoms = layers[name].geometry.values
    assert len(geoms) > 0
    assert shapely.is_valid(geoms).all()
    assert not shapely.is_empty(geoms).any()
    allowed = {"MultiPolygon"} if name in ZONE_LAYERS else {"Polygon", "MultiPolygon"}
    assert set(layers[name].geom_type) <= allowed
    # 1 m tolerance in metres: the boundary itself passes through two reprojections
    inside = shapely.within(metric[name].geometry.values, county.buffer(1.0))
    assert inside.all(), f"{(~inside).sum()} features of {name} leave the county"
    assert (metric[name].area >= gen.MIN_AREA_M2).all()


@pytest.mark.parametrize("name", ZONE_LAYERS)
def test_zone_columns_and_class_codes(name, layers):
    gdf = layers[name]
    assert list(gdf.columns) == ["class_code", "class_name", "geometry"]
    assert set(gdf["class_code"]) <= ALLOWED_CODES[name]
    names = {**gen.LANDUSE_CLASSES, **gen.PLAN_ZONE_CLASSES,
             **dict([gen.FARMLAND_CLASS, gen.ECO_REDLINE_CLASS, gen.URBAN_BOUNDARY_CLASS])}
    assert (gdf["class_name"] == gdf["class_code"].map(names)).all()


def test_feature_counts(layers, metric):
    assert 3000 <= len(layers["landuse_survey"]) <= 5000
    assert 100 <= len(layers["permanent_farmland"]) <= 500
    assert 5 <= len(layers["eco_redline"]) <= 12
    assert 3 <= len(layers["urban_boundary"]) <= 4
    assert 300 <= len(layers["plan_zones"]) <= 600
    assert 200 <= len(layers["parcels"]) <= 400
    urban_km2 = sorted(metric["urban_boundary"].area / 1e6)
    assert 15 <= urban_km2[-1] <= 25  # the county seat
    assert all(1 <= a <= 6 for a in urban_km2[:-1])


@pytest.mark.parametrize("name", ["landuse_survey", "plan_zones"])
def test_tessellates_the_county(name, metric, county):
    geoms = metric[name].geometry.values
    assert shapely.area(geoms).sum() == pytest.approx(county.area, rel=1e-3)
    assert _overlap_m2(geoms) < 1.0


@pytest.mark.parametrize("name", ["permanent_farmland", "eco_redline", "urban_boundary", "parcels"])
def test_features_do_not_overlap_each_other(name, metric):
    assert _overlap_m2(metric[name].geometry.values) < 1.0


def test_survey_mix_is_plausible(metric):
    survey = metric["landuse_survey"]
    area = survey.area.groupby(survey["class_code"].str[:2]).sum()
    assert area.idxmax() == "01"  # cultivated land dominates the plains
    assert set(survey["class_code"]) == set(gen.LANDUSE_CLASSES)  # every class occurs
    # forest lies to the south of the farmland
    north = survey.geometry.centroid.y
    assert north[survey["class_code"].str[:2] == "03"].median() < north[survey["class_code"].str[:2] == "01"].median()
    # towns are built up
    urban = metric["urban_boundary"].union_all()
    built = survey[survey["class_code"].isin(["05H1", "0601", "0701", "08H2"])]
    assert built.intersection(urban).area.sum() > 0.5 * built.area.sum()


def test_three_lines_do_not_conflict(metric):
    urban = metric["urban_boundary"].geometry.values
    redline = metric["eco_redline"].geometry.values
    farmland = metric["permanent_farmland"].geometry.values
    assert _overlap_m2(urban, redline) < 1.0
    assert _overlap_m2(urban, farmland) < 1.0
    assert _overlap_m2(redline, farmland) < 1.0


def test_farmland_lies_on_cultivated_land(metric):
    survey = metric["landuse_survey"]
    cultivated = survey[survey["class_code"].isin(gen.CULTIVATED_CLASSES)].union_all()
    farmland = metric["permanent_farmland"].union_all()
    assert farmland.difference(cultivated).area < 1.0
    assert 0.4 < farmland.area / cultivated.area < 0.8


def test_plan_zone_rule(metric):
    zones = metric["plan_zones"]
    urban = metric["urban_boundary"].union_all()
    redline = metric["eco_redline"].union_all()
    allowed = zones[zones["class_code"] == "010"].union_all()
    prohibited = zones[zones["class_code"] == "040"].union_all()
    assert allowed.symmetric_difference(urban).area < 1.0
    assert prohibited.symmetric_difference(redline).area < 1.0
    assert {"020", "030"} <= set(zones["class_code"])


def test_parcels(layers, metric):
    parcels = layers["parcels"]
    assert list(parcels.columns) == ["code", "right_holder", "right_type", "land_class", "geometry"]
    assert parcels["code"].str.len().eq(19).all()
    assert parcels["code"].map(lambda c: bool(PARCEL_CODE.match(c))).all()
    assert re.fullmatch(gen.PARCEL_CODE_REGEX, parcels["code"].iloc[0])
    assert parcels["code"].is_unique
    feature = parcels["code"].str[12:14]
    assert (parcels["right_type"] == feature.map(gen.RIGHT_TYPES)).all()
    assert ((feature == "JC") == (parcels["land_class"] == "0702")).all()
    assert set(parcels["land_class"]) <= set(gen.PARCEL_LAND_CLASSES)
    assert set(feature) == {"GB", "JC"}  # state-owned construction land and collective homesteads
    assert parcels["land_class"].nunique() >= 4
    assert parcels["right_holder"].str.len().ge(2).all()
    # inside the county seat's urban boundary, sides 30–150 m
    urban = metric["urban_boundary"].union_all().buffer(1.0)
    assert shapely.within(metric["parcels"].geometry.values, urban).all()
    sides = np.concatenate([np.hypot(*np.diff(shapely.get_coordinates(g), axis=0).T)
                            for g in metric["parcels"].geometry.values])
    assert sides.min() >= 30
    assert sides.max() <= 150


def _assert_identical(a: dict[str, gpd.GeoDataFrame], b: dict[str, gpd.GeoDataFrame]) -> None:
    assert list(a) == list(b)
    for name in a:
        assert a[name].drop(columns="geometry").equals(b[name].drop(columns="geometry")), name
        assert list(shapely.to_wkb(a[name].geometry.values)) == list(shapely.to_wkb(b[name].geometry.values)), name


def test_same_seed_same_output_different_seed_different(layers):
    _assert_identical(layers, gen.generate(gen.DEFAULT_SEED, progress=False))
    other = gen.generate(gen.DEFAULT_SEED + 1, progress=False)
    for name in gen.LAYER_NAMES:
        same_size = len(other[name]) == len(layers[name])
        assert not (same_size and other[name].geometry.geom_equals_exact(layers[name].geometry, 0.0).all()), name


def test_write_is_byte_reproducible(layers, tmp_path):
    first = gen.write(layers, tmp_path / "a.gpkg")
    second = gen.write(layers, tmp_path / "b.gpkg")
    assert first.read_bytes() == second.read_bytes()
    assert gpd.list_layers(first)["name"].tolist() == list(gen.LAYER_NAMES)


def test_committed_gpkg_is_up_to_date(layers):
    """data/demo/jiayu_onemap.gpkg must equal generate(); if not, run `python -m data.generate`."""
    assert gen.DEFAULT_OUT.exists(), "run `python -m data.generate` to create the demo GeoPackage"
    for name in gen.LAYER_NAMES:
        stored = gpd.read_file(gen.DEFAULT_OUT, layer=name)
        fresh = layers[name]
        assert len(stored) == len(fresh), f"{name}: regenerate with `python -m data.generate`"
        assert stored.crs.to_epsg() == 4490
        assert stored.drop(columns="geometry").equals(fresh.drop(columns="geometry")), name
        assert stored.geometry.geom_equals_exact(fresh.geometry, tolerance=1e-9).all(), name
