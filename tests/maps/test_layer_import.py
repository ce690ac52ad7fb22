"""The administrators' layer upload page: a new version, a refusal that changes nothing, permissions."""

from __future__ import annotations

import io
import json
import zipfile

import geopandas as gpd
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from shapely.geometry import Polygon, box

from parcels.models import LayerVersion, Zone
from tests.geodesy import assert_area_close, geod_area_m2

pytestmark = pytest.mark.django_db

SQUARE = box(113.90, 29.96, 113.905, 29.965)


def geojson_upload(name: str, geoms, codes) -> SimpleUploadedFile:
    frame = gpd.GeoDataFrame({"DLBM": codes, "DLMC": ["地类"] * len(codes)}, geometry=geoms, crs="EPSG:4490")
    return SimpleUploadedFile(name, frame.to_json().encode(), content_type="application/geo+json")


def zipped_shapefile(tmp_path) -> SimpleUploadedFile:
    gpd.GeoDataFrame({"DLBM": ["0101"]}, geometry=[SQUARE], crs="EPSG:4490").to_file(tmp_path / "dltb.shp", encoding="GBK")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for f in tmp_path.glob("dltb.*"):
            z.write(f, f.name)
    return SimpleUploadedFile("三调.zip", buffer.getvalue(), content_type="application/zip")


@pytest.fixture
def admin_client(client, users):
    client.force_login(users["admin"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_admin_uploads_a_new_layer_version(admin_client):
    response = admin_client.post(
        reverse("layer-import"),
        {"file": geojson_upload("dltb.geojson", [SQUARE], ["0101"]), "layer": "survey-2026", "name": "三调 2026", "kind": "landuse_survey", "rule": "info"},
    )
    assert response.status_code == 200
    assert "1 of 1 features imported" in response.content.decode()
    version = LayerVersion.objects.get(layer__slug="survey-2026")
    assert (version.version, version.is_active, version.source_name, version.imported_by.username) == (1, True, "dltb.geojson", "admin")
    assert_area_close(Zone.objects.get(layer_version=version).area_m2, geod_area_m2(SQUARE))


def test_zipped_shapefile_upload(admin_client, tmp_path):
    response = admin_client.post(reverse("layer-import"), {"file": zipped_shapefile(tmp_path), "layer": "survey-zip", "kind": "other", "rule": "info"})
    assert response.status_code == 200
    assert LayerVersion.objects.get(layer__slug="survey-zip").source_name == "三调.zip"


def test_bad_file_is_refused_with_its_name_and_nothing_changes(admin_client):
    bowtie = Polygon([(113.90, 29.96), (113.91, 29.97), (113.91, 29.96), (113.90, 29.97)])
    before = LayerVersion.objects.count()
    response = admin_client.post(
        reverse("layer-import"),
        {"file": geojson_upload("bad.geojson", [SQUARE, bowtie], ["0101", "0102"]), "layer": "permanent-farmland", "kind": "farmland", "rule": "prohibited"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "bad.geojson" in html
    assert "feature 2" in html
    assert LayerVersion.objects.count() == before
    assert LayerVersion.objects.get(layer__slug="permanent-farmland", is_active=True).version == 1


def test_garbage_upload_is_a_400(admin_client):
    upload = SimpleUploadedFile("x.geojson", b"\x00\xffnot json", content_type="application/geo+json")
    response = admin_client.post(reverse("layer-import"), {"file": upload, "layer": "x", "kind": "other", "rule": "info"})
    assert response.status_code == 400
    assert "x.geojson" in response.content.decode()


@pytest.mark.parametrize("username", ["applicant", "reviewer_jiayu", "planner"])
def test_only_administrators_may_import(client, users, username):
    client.force_login(users[username])
    response = client.post(reverse("layer-import"), {"file": geojson_upload("a.geojson", [SQUARE], ["0101"]), "layer": "x", "kind": "other", "rule": "info"})
    assert response.status_code == 403
    assert not LayerVersion.objects.filter(layer__slug="x").exists()


def test_txt_upload_on_the_application_form_keeps_parcels_and_warnings(client, users):
    from approvals.models import Application
    from tests.fixtures import TXT_DIR

    client.force_login(users["applicant"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    upload = SimpleUploadedFile("swapped_xy.txt", (TXT_DIR / "swapped_xy.txt").read_bytes(), content_type="text/plain")
    response = client.post(reverse("application-new"), {"title": "报盘", "kind": "construction_land", "purpose": "工业", "site_file": upload}, follow=True)
    assert response.status_code == 200
    app = Application.objects.get()
    assert app.parcels.count() >= 1
    assert "read the other way round" in response.content.decode()  # the axis-swap warning reaches the user
    assert json.loads(json.dumps(app.overlap_reports.get().result["declared"]))
