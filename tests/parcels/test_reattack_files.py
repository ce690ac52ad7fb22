"""Re-attack findings on file checks (issue 9): a CRS name that only ends in "CRS84" (a URL) and
GeoPackage generated columns (SQL that GDAL would run while reading rows) are refused before GDAL."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import geopandas as gpd
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from shapely.geometry import box

from parcels.exceptions import CRSError, SpatialInputError
from parcels.importers.safety import checked_vector_file, crs_name_allowed
from parcels.importers.vector import read_vector
from parcels.site_input import parse_site_geojson

SQUARE = box(113.905, 29.94, 113.906, 29.941)
OGC_NAMES = ["urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:OGC::CRS84", "OGC:CRS84", "CRS84", "crs84"]
NOT_CRS84 = ["http://127.0.0.1:8799/CRS84", "/etc/CRS84", "urn:ogc:def:crs:OGC:1.3:CRS:84x", "xCRS84", "CRS:84", "+proj=longlat CRS84"]


def site(name: str) -> dict:
    return {"type": "Feature", "crs": {"type": "name", "properties": {"name": name}}, "geometry": SQUARE.__geo_interface__}


@pytest.mark.parametrize("name", OGC_NAMES)
def test_the_exact_ogc_crs84_names_are_lon_lat(name):
    assert crs_name_allowed(name)
    assert parse_site_geojson(site(name)).srid == 4490


@pytest.mark.parametrize("name", NOT_CRS84)
def test_a_name_that_only_ends_in_crs84_is_refused(name, tmp_path):
    assert not crs_name_allowed(name)
    with pytest.raises(CRSError, match="unsupported coordinate reference system"):
        parse_site_geojson(site(name))
    path = tmp_path / "site.geojson"
    path.write_text(json.dumps(site(name)))
    with pytest.raises(SpatialInputError, match="unsupported crs member"), checked_vector_file(path):
        pass


@pytest.mark.django_db
def test_the_preview_refuses_a_url_crs(client_as):
    body = json.dumps(site(NOT_CRS84[0])).encode()
    response = client_as("applicant").post(reverse("api-site-preview"), {"file": SimpleUploadedFile("site.geojson", body)})
    assert response.status_code == 400
    assert "unsupported" in response.json()["detail"]


def gpkg(tmp_path: Path, statements: list[str]) -> Path:
    path = tmp_path / "zones.gpkg"
    gpd.GeoDataFrame({"DLBM": ["0101"]}, geometry=[SQUARE], crs="EPSG:4490").to_file(path, layer="zones", driver="GPKG")
    with sqlite3.connect(path) as db:
        for statement in statements:
            db.execute(statement)
    return path


GENERATED = [
    pytest.param(["ALTER TABLE zones ADD COLUMN x TEXT GENERATED ALWAYS AS (gdal_get_pixel_value('/v'||'sicurl/http://127.0.0.1:9/x.tif', "
                  "1, 'georef', 0, 0)) VIRTUAL"], "column x", id="virtual-gdal-function"),
    pytest.param(["CREATE TABLE other (a INTEGER, b INTEGER GENERATED ALWAYS AS (a * 2) STORED)"], "column b", id="stored-other-table"),
]


@pytest.mark.parametrize(("statements", "column"), GENERATED)
def test_gpkg_generated_columns_are_refused_before_gdal(tmp_path, statements, column):
    path = gpkg(tmp_path, statements)
    with pytest.raises(SpatialInputError, match=f"generated columns are refused \\({column}\\)"), checked_vector_file(path):
        pass
    with pytest.raises(SpatialInputError, match="generated columns"):
        read_vector(path, class_field="DLBM")


def test_a_plain_gpkg_still_reads(tmp_path):
    data = read_vector(gpkg(tmp_path, []), class_field="DLBM")
    assert list(data.class_codes) == ["0101"]
