"""The upload preview reads a site file as the submission would (TXT, GeoJSON, zipped Shapefile,
KML), and pins errors to the map: the self-intersection point, an open ring's two ends."""

from __future__ import annotations

import io
import json
import zipfile

import geopandas as gpd
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from shapely.geometry import box

from tests.factories import JIAYU_SITE
from tests.geodesy import assert_area_close, geod_area_m2

pytestmark = pytest.mark.django_db


@pytest.fixture
def applicant(client, users):
    client.force_login(users["applicant"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def preview(client, name: str, data: bytes):
    return client.post(reverse("api-site-preview"), {"file": SimpleUploadedFile(name, data)})


def zipped_shapefile(tmp_path, crs: str) -> bytes:
    frame = gpd.GeoDataFrame({"name": ["地块1"]}, geometry=[box(*JIAYU_SITE)], crs="EPSG:4490").to_crs(crs)
    frame.to_file(tmp_path / "site.shp", encoding="utf-8")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for part in tmp_path.glob("site.*"):
            z.write(part, part.name)
    return out.getvalue()


@pytest.mark.parametrize("crs", ["EPSG:4490", "EPSG:4526"])
def test_zipped_shapefile_in_any_declared_crs(applicant, tmp_path, crs):
    response = preview(applicant, "site.zip", zipped_shapefile(tmp_path, crs))
    assert response.status_code == 200, response.json()
    assert_area_close(response.json()["area_m2"], geod_area_m2(box(*JIAYU_SITE)))
    assert response.json()["site"]["type"] == "MultiPolygon"


def test_kml(applicant, tmp_path):
    gpd.GeoDataFrame({"Name": ["site"]}, geometry=[box(*JIAYU_SITE)], crs="EPSG:4326").to_file(tmp_path / "site.kml", driver="KML")
    response = preview(applicant, "site.kml", (tmp_path / "site.kml").read_bytes())
    assert response.status_code == 200, response.json()
    assert_area_close(response.json()["area_m2"], geod_area_m2(box(*JIAYU_SITE)))


def test_txt_keeps_its_parcels(applicant, fixtures_dir):
    response = preview(applicant, "multi.txt", (fixtures_dir / "txt" / "multi_parcel.txt").read_bytes())
    assert response.status_code == 200
    assert len(response.json()["parts"]) >= 2


def test_self_intersection_is_pinned(applicant):
    bowtie = {"type": "Polygon", "coordinates": [[[113.93, 29.95], [113.94, 29.96], [113.94, 29.95], [113.93, 29.96], [113.93, 29.95]]]}
    response = preview(applicant, "bowtie.geojson", json.dumps(bowtie).encode())
    assert response.status_code == 400
    body = response.json()
    assert "Self-intersection" in body["detail"]
    assert body["points"] == [[pytest.approx(113.935), pytest.approx(29.955)]]


def test_open_ring_pins_both_ends(applicant):
    open_ring = {"type": "Polygon", "coordinates": [[[113.93, 29.95], [113.94, 29.95], [113.94, 29.96], [113.93, 29.96]]]}
    response = preview(applicant, "open.geojson", json.dumps(open_ring).encode())
    assert response.status_code == 400
    assert "ring is not closed" in response.json()["detail"]
    assert response.json()["points"] == [[113.93, 29.95], [113.93, 29.96]]


def test_broken_zip_is_a_clear_400(applicant):
    response = preview(applicant, "site.zip", b"PK\x03\x04 not really a zip")
    assert response.status_code == 400
    assert "site.zip" in response.json()["detail"]
