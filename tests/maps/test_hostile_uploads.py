"""Hostile files through the web (issue 9, items 1 and 6): the applicant's preview and new-application
upload, and the administrators' layer import. Each is a 4xx with a clear message, writes nothing,
does not echo the server file it names, and sends no request (a counting server on 127.0.0.1)."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from shapely.geometry import box

from tests.parcels.test_hostile_files import HOSTILE, SECRET, CountingServer, hostile_files

pytestmark = pytest.mark.django_db

SITE_CASES = [c for c in HOSTILE if not c.startswith(("gpkg", "csv", "not-a-gpkg"))]  # the site upload takes .geojson .zip .kml .txt


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    running = CountingServer()
    yield running
    running.close()


@pytest.fixture
def secret(tmp_path):
    path = tmp_path / "secret_key"
    path.write_text(f"a,b\n{SECRET},1\n")
    return str(path)


def _quiet(client):
    client.raise_request_exception = False  # a 500 fails the assertion on its status, with the case named
    return client


def test_applicant_preview_and_new_application_refuse_every_hostile_site_file(client_as, tmp_path, server, secret):
    from approvals.models import Application

    client = _quiet(client_as("applicant"))
    files = hostile_files(tmp_path, server.url, secret)
    wrong = []
    for case in SITE_CASES:
        name, content = files[case]
        preview = client.post(reverse("api-site-preview"), {"file": SimpleUploadedFile(name, content)})
        if preview.status_code != 400 or not preview.json().get("detail") or SECRET in preview.content.decode():
            wrong.append(f"preview {case}: {preview.status_code}")
        form = client.post(reverse("application-new"), {"title": "t", "kind": "construction_land", "purpose": "p",
                                                         "site_file": SimpleUploadedFile(name, content)})
        if form.status_code != 400 or not form.context["form"].errors or SECRET in form.content.decode():
            wrong.append(f"form {case}: {form.status_code}")
    assert wrong == []
    assert Application.objects.count() == 0
    assert server.hits == []


def test_refusal_message_names_the_reason(client_as, tmp_path, server, secret):
    client = client_as("applicant")
    files = hostile_files(tmp_path, server.url, secret)
    body = client.post(reverse("api-site-preview"), {"file": SimpleUploadedFile("site.kml", files["vrt-as-kml-csv-source"][1])}).json()
    assert body["detail"] == "site.kml: refers to another file or to a URL (GDAL VRT, /vsi path or linked source); such files are refused"
    body = client.post(reverse("api-site-preview"), {"file": SimpleUploadedFile("site.zip", files["vrt-in-zip"][1])}).json()
    assert "contains x.vrt; a zipped Shapefile may hold only .shp .shx .dbf .prj .cpg" in body["detail"]
    body = client.post(reverse("api-site-preview"), {"file": SimpleUploadedFile("site.gpkg", b"x")}).json()
    assert "unsupported file type" in body["detail"]


def test_admin_layer_import_refuses_every_hostile_file_and_writes_nothing(client_as, tmp_path, server, secret):
    from parcels.models import LayerVersion

    client = _quiet(client_as("admin"))
    files = hostile_files(tmp_path, server.url, secret)
    wrong = []
    for case in [*HOSTILE, "vrt-extension"]:
        name, content = files[case] if case in files else ("layer.vrt", files["vrt-as-kml-csv-source"][1])
        response = client.post(reverse("layer-import"), {"file": SimpleUploadedFile(name, content), "layer": "hostile", "kind": "other", "rule": "info"})
        if response.status_code != 400 or not response.context["form"].errors.get("file") or SECRET in response.content.decode():
            wrong.append(f"{case}: {response.status_code}")
    assert wrong == []
    assert not LayerVersion.objects.filter(layer__slug="hostile").exists()
    assert server.hits == []


SQUARE = box(113.90, 29.96, 113.905, 29.965)


@pytest.mark.parametrize(
    ("frame", "fragment"),
    [
        (gpd.GeoDataFrame({"DLBM": ["0101"]}, geometry=[box(12_680_000, 3_495_000, 12_680_500, 3_495_500)]), "--srid"),  # Web Mercator, no crs
        (gpd.GeoDataFrame({"DLBM": ["0101"]}, geometry=[box(29.96, 113.90, 29.965, 113.905)]), "axes are swapped"),
        (gpd.GeoDataFrame({"DLBM": ["X" * 17]}, geometry=[SQUARE]), "class code longer than 16 characters"),
        (gpd.GeoDataFrame({"DLBM": ["0101"], "DLMC": ["名" * 65]}, geometry=[SQUARE]), "class name longer than 64 characters"),
    ],
    ids=["web-mercator", "swapped-lat-lon", "long-class-code", "long-class-name"],
)
def test_admin_layer_import_bad_coordinates_and_long_codes_are_a_400(client_as, frame, fragment):
    from parcels.models import LayerVersion

    client = _quiet(client_as("admin"))
    upload = SimpleUploadedFile("survey.geojson", frame.to_json().encode())  # no crs member
    assert "crs" not in json.loads(upload.read())
    upload.seek(0)
    response = client.post(reverse("layer-import"), {"file": upload, "layer": "survey-x", "kind": "other", "rule": "info"})
    assert response.status_code == 400
    assert fragment in " ".join(response.context["form"].errors["file"])
    assert not LayerVersion.objects.filter(layer__slug="survey-x").exists()
