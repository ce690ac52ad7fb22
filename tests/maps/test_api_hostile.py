"""Hostile requests found by the attacker re-test (issue 9) that were still 500s: a multipart body
on the JSON site endpoints, NUL and other non-slugs in `?layers=`, and line separators inside a
layer attribute (U+2028 breaks str.splitlines())."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
from django.urls import reverse
from shapely.geometry import box

from parcels.choices import LayerKind, LayerRule
from parcels.models import Layer, Zone
from parcels.services import layer_version_create
from tests.factories import JIAYU_SITE

pytestmark = pytest.mark.django_db

SITE = {"type": "Polygon", "coordinates": [[list(p) for p in box(*JIAYU_SITE).exterior.coords]]}


@pytest.mark.parametrize("url_name", ["api-site-check", "api-overlap"])
@pytest.mark.parametrize("role", ["applicant", "clerk_jiayu", "planner"])
def test_a_multipart_body_on_the_json_site_endpoints_is_a_4xx(users, url_name, role):
    """With CSRF enforced (as in production) the middleware reads the multipart body for the token
    first; reading request.body afterwards raised RawPostDataException, a 500."""
    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(users[role])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    token = "a" * 32  # an unmasked CSRF secret is accepted when the cookie carries the same one
    client.cookies[settings.CSRF_COOKIE_NAME] = token
    response = client.post(reverse(url_name), {"file": SimpleUploadedFile("a.geojson", b"{}")}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code in (400, 415), response.content[:300]
    assert response.json()["detail"]


@pytest.mark.parametrize("layers", ["\x00", "farm\x00land", "../eco", "a b", "<script>", "x" * 65, "eco-redline,\x00"])
def test_overlap_layers_must_be_slugs(client_as, layers):
    response = client_as("applicant").post(
        reverse("api-overlap") + "?" + "layers=" + layers.replace("\x00", "%00").replace(" ", "%20").replace("<", "%3C").replace(">", "%3E"),
        json.dumps(SITE), content_type="application/json",
    )
    assert response.status_code == 400
    # a NUL is refused before the view, in the API's JSON error shape (onemap.middleware.NulCharacterMiddleware)
    assert ("NUL character" if "\x00" in layers else "slugs") in response.json()["detail"]


def test_overlap_layers_filter_still_works(client_as):
    response = client_as("applicant").post(reverse("api-overlap") + "?layers=eco-redline,urban-boundary", json.dumps(SITE),
                                           content_type="application/json")
    assert response.status_code == 200
    assert sorted(layer["layer"] for layer in response.json()["layers"]) == ["eco-redline", "urban-boundary"]


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\u0085", "\r", "\x0b", "\x1c"])
def test_line_separators_inside_attributes_are_imported_as_they_are(db, separator):
    layer = Layer.objects.create(slug="notes", name="备注", kind=LayerKind.OTHER, rule=LayerRule.INFO)
    frame = gpd.GeoDataFrame(
        {"class_code": ["X1", "X2"], "class_name": ["甲", "乙"], "note": [f"a{separator}b", "plain"]},
        geometry=[box(113.93, 29.95, 113.931, 29.951), box(113.932, 29.95, 113.933, 29.951)], crs="EPSG:4490",
    )
    version = layer_version_create(layer=layer, frame=frame, source_name="test:separators")
    notes = dict(Zone.objects.filter(layer_version=version).values_list("class_code", "attributes__note"))
    assert notes == {"X1": f"a{separator}b", "X2": "plain"}
