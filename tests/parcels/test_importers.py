"""import_layer on real files of every supported format, CRS cases, validation and all-or-nothing."""

from __future__ import annotations

import json
import zipfile
from io import StringIO
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from shapely.geometry import LineString, Point, Polygon, box

from parcels.models import Layer, LayerVersion, Zone
from tests.geodesy import assert_area_close, geod_area_m2

pytestmark = pytest.mark.django_db

A = box(113.900, 29.960, 113.905, 29.965)
B = box(113.905, 29.960, 113.910, 29.965)


def survey(crs: str | None = "EPSG:4490") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"DLBM": ["0101", "0103"], "DLMC": ["水田", "旱地"], "BSM": [11, 12]}, geometry=[A, B], crs=crs)


def run(path: Path, *args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_layer", str(path), "--no-progress", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def zones(slug: str) -> list[Zone]:
    return list(Zone.objects.filter(layer_version__layer__slug=slug, layer_version__is_active=True).order_by("class_code"))


def write_shapefile_zip(frame: gpd.GeoDataFrame, folder: Path) -> Path:
    frame.to_file(folder / "dltb.shp", encoding="GBK")
    target = folder / "dltb.zip"
    with zipfile.ZipFile(target, "w") as z:
        for f in folder.glob("dltb.*"):
            if f.suffix != ".zip":
                z.write(f, f.name)
    return target


def write_topojson(folder: Path) -> Path:
    # Two squares sharing an arc, quantised-free TopoJSON written by hand.
    x0, x1, x2, y0, y1 = 113.900, 113.905, 113.910, 29.960, 29.965
    topo = {
        "type": "Topology",
        "objects": {"dltb": {"type": "GeometryCollection", "geometries": [
            {"type": "Polygon", "arcs": [[0, 1]], "properties": {"DLBM": "0101", "DLMC": "水田"}},
            {"type": "Polygon", "arcs": [[-2, 2]], "properties": {"DLBM": "0103", "DLMC": "旱地"}},
        ]}},
        "arcs": [
            [[x1, y0], [x0, y0], [x0, y1], [x1, y1]],
            [[x1, y1], [x1, y0]],
            [[x1, y1], [x2, y1], [x2, y0], [x1, y0]],
        ],
    }
    path = folder / "dltb.topojson"
    path.write_text(json.dumps(topo), encoding="utf-8")
    return path


@pytest.mark.parametrize("fmt", ["geojson", "shapefile-zip", "shapefile", "gpkg-4526", "kml", "csv-wkt", "topojson"])
def test_every_format_imports_with_computed_areas(tmp_path, fmt):
    frame = survey()
    args: list[str] = []
    if fmt == "geojson":
        path = tmp_path / "dltb.geojson"
        frame.to_file(path)
    elif fmt == "shapefile-zip":
        path = write_shapefile_zip(frame, tmp_path)
    elif fmt == "shapefile":
        frame.to_file(tmp_path / "dltb.shp", encoding="GBK")
        path = tmp_path / "dltb.shp"
    elif fmt == "gpkg-4526":
        path = tmp_path / "dltb.gpkg"
        frame.to_crs(4526).to_file(path)
    elif fmt == "kml":
        path = tmp_path / "dltb.kml"
        frame.to_file(path, driver="KML")
    elif fmt == "csv-wkt":
        path = tmp_path / "dltb.csv"
        pd.DataFrame({"WKT": [g.wkt for g in frame.geometry], "DLBM": frame.DLBM, "DLMC": frame.DLMC}).to_csv(path, index=False)
        args = ["--srid", "4490"]
    else:
        path = write_topojson(tmp_path)
        args = ["--srid", "4490"]
    out, _err = run(path, "--layer", "survey", *args)
    assert "2 of 2 features imported" in out
    got = zones("survey")
    assert [(z.class_code, z.class_name) for z in got] == [("0101", "水田"), ("0103", "旱地")]
    assert_area_close(got[0].area_m2, geod_area_m2(A))
    assert_area_close(got[1].area_m2, geod_area_m2(B))
    assert got[0].geom.srid == 4490


def test_attributes_other_than_the_class_are_kept(tmp_path):
    path = tmp_path / "dltb.geojson"
    survey().to_file(path)
    run(path, "--layer", "survey")
    assert zones("survey")[0].attributes == {"BSM": 11}


def test_lonlat_without_crs_is_taken_as_4490_with_a_warning(tmp_path):
    path = tmp_path / "nocrs.csv"
    pd.DataFrame({"WKT": [A.wkt], "DLBM": ["0101"]}).to_csv(path, index=False)
    out, err = run(path, "--layer", "survey")
    assert "EPSG:4490" in out
    assert "look like longitude/latitude" in err


@pytest.mark.parametrize(("swap", "fragment"), [(False, "EPSG:4526"), (True, "swapped")])
def test_projected_without_crs_is_an_error_naming_the_options(tmp_path, swap, fragment):
    projected = survey().to_crs(4526).geometry
    if swap:
        import shapely

        projected = projected.apply(lambda g: shapely.transform(g, lambda xy: xy[:, ::-1]))
    path = tmp_path / "proj.csv"
    pd.DataFrame({"WKT": [g.wkt for g in projected], "DLBM": ["0101", "0103"]}).to_csv(path, index=False)
    with pytest.raises(CommandError) as info:
        run(path, "--layer", "survey")
    assert "--srid" in str(info.value)
    assert fragment in str(info.value)
    assert LayerVersion.objects.count() == 0


def test_srid_option_transforms_projected_coordinates(tmp_path):
    path = tmp_path / "proj.csv"
    pd.DataFrame({"WKT": [g.wkt for g in survey().to_crs(4526).geometry], "DLBM": ["0101", "0103"]}).to_csv(path, index=False)
    run(path, "--layer", "survey", "--srid", "4526")
    got = zones("survey")
    assert_area_close(got[0].area_m2, geod_area_m2(A))
    assert LayerVersion.objects.get().source_srid == 4526


def bowtie() -> Polygon:
    return Polygon([(113.90, 29.96), (113.91, 29.97), (113.91, 29.96), (113.90, 29.97), (113.90, 29.96)])


def corner_loop() -> Polygon:
    """A 1 km square (in EPSG:4526 metres) whose closing edge crosses the bottom edge near a corner:
    invalid, but make_valid changes the area by about 1 m² in 1,000,000 (well under 0.1 %)."""
    from pyproj import Transformer

    t = Transformer.from_crs(4526, 4490, always_xy=True)
    x0, y0 = 38_492_000.0, 3_316_000.0
    ring = [(x0, y0), (x0 + 1000, y0), (x0 + 1000, y0 + 1000), (x0, y0 + 1000), (x0 + 2, y0 - 1), (x0, y0)]
    return Polygon([t.transform(x, y) for x, y in ring])


def test_invalid_feature_aborts_everything_and_names_the_feature(tmp_path):
    frame = gpd.GeoDataFrame({"DLBM": ["0101", "0102", "0103"]}, geometry=[A, bowtie(), B], crs="EPSG:4490")
    path = tmp_path / "bad.geojson"
    frame.to_file(path)
    with pytest.raises(CommandError) as info:
        run(path, "--layer", "survey")
    assert "feature 2" in str(info.value)
    assert "Self-intersection" in str(info.value)
    assert "nothing imported" in str(info.value)
    assert LayerVersion.objects.count() == 0
    assert Zone.objects.count() == 0


def test_skip_invalid_imports_the_rest_and_lists_every_skipped_feature(tmp_path):
    frame = gpd.GeoDataFrame(
        {"DLBM": ["0101", "0102", "0103", "0104", "0105"]},
        geometry=[A, bowtie(), B, LineString([(113.9, 29.9), (113.91, 29.91)]), Polygon([(113.9, 29.9), (113.91, 29.91), (113.92, 29.92), (113.9, 29.9)])],
        crs="EPSG:4490",
    )
    path = tmp_path / "mixed.geojson"
    frame.to_file(path)
    out, err = run(path, "--layer", "survey", "--skip-invalid")
    assert "2 of 5 features imported" in out
    assert "skipped feature 2: invalid" in err
    assert "skipped feature 4: not a polygon: LineString" in err
    assert "skipped feature 5: zero area" in err
    assert [z.class_code for z in zones("survey")] == ["0101", "0103"]


def test_small_self_intersection_is_repaired_and_counted(tmp_path):
    shape = corner_loop()
    assert not shape.is_valid
    path = tmp_path / "repair.geojson"
    gpd.GeoDataFrame({"DLBM": ["0101"]}, geometry=[shape], crs="EPSG:4490").to_file(path)
    out, err = run(path, "--layer", "survey")
    assert "1 of 1 features imported (1 repaired, 0 rejected)" in out
    assert "repaired (Self-intersection" in err
    zone = zones("survey")[0]
    assert zone.geom.valid
    assert zone.area_m2 == pytest.approx(1_000_000, rel=2e-3)


def test_missing_class_field_fails_before_reading_rows(tmp_path):
    path = tmp_path / "dltb.geojson"
    survey().to_file(path)
    with pytest.raises(CommandError, match="has no field TBLX; its fields are: DLBM, DLMC, BSM"):
        run(path, "--layer", "survey", "--class-field", "TBLX")
    assert not Layer.objects.filter(slug="survey").exists()


@pytest.mark.parametrize(("content", "fragment"), [(b"\x00\x01garbage\xff", "cannot be read"), (b'{"type": "FeatureCollection", "features": []}', "no features")])
def test_broken_files_are_refused(tmp_path, content, fragment):
    path = tmp_path / "broken.geojson"
    path.write_bytes(content)
    with pytest.raises(CommandError, match=fragment):
        run(path, "--layer", "survey")
    assert LayerVersion.objects.count() == 0


def test_each_import_is_a_new_version_and_exactly_one_is_active(tmp_path):
    path = tmp_path / "dltb.geojson"
    survey().to_file(path)
    run(path, "--layer", "survey")
    gpd.GeoDataFrame({"DLBM": ["0102"]}, geometry=[box(113.90, 29.96, 113.91, 29.97)], crs="EPSG:4490").to_file(path)
    out, _ = run(path, "--layer", "survey", "--rule", "prohibited")
    assert "survey v2" in out
    versions = list(LayerVersion.objects.filter(layer__slug="survey").order_by("version").values_list("version", "is_active", "feature_count"))
    assert versions == [(1, False, 2), (2, True, 1)]
    assert [z.class_code for z in zones("survey")] == ["0102"]
    assert Zone.objects.filter(layer_version__version=1).count() == 2  # the old version stays queryable
    assert Layer.objects.get(slug="survey").rule == "prohibited"
    with pytest.raises(IntegrityError), transaction.atomic():
        LayerVersion.objects.filter(layer__slug="survey").update(is_active=True)


def test_point_layer_is_refused(tmp_path):
    path = tmp_path / "points.geojson"
    gpd.GeoDataFrame({"DLBM": ["0101"]}, geometry=[Point(113.9, 29.9)], crs="EPSG:4490").to_file(path)
    with pytest.raises(CommandError, match="not a polygon: Point"):
        run(path, "--layer", "survey")


def test_overlap_command_prints_a_table_and_json(tmp_path):
    path = tmp_path / "dltb.geojson"
    survey().to_file(path)
    run(path, "--layer", "survey")
    site = tmp_path / "site.geojson"
    site.write_text(json.dumps({"type": "Polygon", "coordinates": [[[113.903, 29.961], [113.907, 29.961], [113.907, 29.964], [113.903, 29.964], [113.903, 29.961]]]}))
    out = StringIO()
    call_command("overlap", str(site), "--format", "json", stdout=out)
    report = json.loads(out.getvalue())
    classes = {c["code"]: c for c in report["layers"][0]["classes"]}
    assert_area_close(classes["0101"]["area_m2"], geod_area_m2(A.intersection(box(113.903, 29.961, 113.907, 29.964))))
    table = StringIO()
    call_command("overlap", str(site), stdout=table)
    assert "0103 旱地" in table.getvalue()
