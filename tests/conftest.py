"""Shared fixtures: real PostGIS (pytest-django test database), real files, demo accounts.

Spatial fixtures load real data through the same services production uses. Layers are clipped
to a box around the test sites so each test loads in well under a second.
"""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import box

# Playwright's sync API keeps an event loop in the main thread; Django's ORM guard would then
# refuse the test's own (synchronous) database calls. The tests never run the ORM concurrently.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from django.db.backends.signals import connection_created

from data import demo
from onemap import dbroles

# Transactional tests empty every table with TRUNCATE; the audit tables' guard (approvals 0005)
# refuses that unless the owner opts in, which the test process does on each connection it opens.
connection_created.connect(dbroles.allow_audit_truncate, dispatch_uid="tests.allow_audit_truncate")

# lon/lat box (4490) around the Jiayu county seat used by the spatial tests: 113.86–113.98 E, 29.93–30.01 N
TEST_BOX = (113.86, 29.93, 113.98, 30.01)


@pytest.fixture(autouse=True)
def _plain_static_storage(settings) -> None:
    """Tests serve static files from the finders; the manifest is a `collectstatic` artefact."""
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    """PBKDF2's deliberate slowness (≈0.5 s per password) is not what these tests measure."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _english_messages():
    """Assertions read English messages; pages choose their language per request (zh-hans default)."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture(scope="session")
def demo_frames() -> dict[str, gpd.GeoDataFrame]:
    """The demo GeoPackage layers clipped to TEST_BOX (features intersecting it, kept whole)."""
    frames = {}
    for spec in demo.DEMO_LAYERS:
        frame = gpd.read_file(demo.DEMO_GPKG, layer=spec.gpkg_layer, bbox=TEST_BOX)
        frames[spec.gpkg_layer] = frame[frame.intersects(box(*TEST_BOX))].reset_index(drop=True)
    frames["parcels"] = gpd.read_file(demo.DEMO_GPKG, layer="parcels", bbox=TEST_BOX)
    return frames


@pytest.fixture
def divisions(db) -> None:
    demo.load_divisions()


@pytest.fixture
def onemap(divisions, demo_frames) -> dict[str, object]:
    """Divisions, the five demo layers (clipped to TEST_BOX), parcels and the demo accounts."""
    from parcels.models import Layer
    from parcels.services import layer_version_create, parcel_load

    versions = {}
    for spec in demo.DEMO_LAYERS:
        layer = Layer.objects.create(
            slug=spec.slug, name=spec.name, name_en=spec.name_en, kind=spec.kind, rule=spec.rule,
            color=spec.color, sort_order=spec.sort_order, min_zoom=spec.min_zoom, public=spec.public,
        )
        versions[spec.slug] = layer_version_create(layer=layer, frame=demo_frames[spec.gpkg_layer], source_name=f"test:{spec.gpkg_layer}")
    parcel_load(frame=demo_frames["parcels"], source="test:parcels")
    demo.load_accounts()
    return versions


@pytest.fixture
def users(onemap) -> dict[str, object]:
    from django.contrib.auth import get_user_model

    return {u.username: u for u in get_user_model().objects.all()}


@pytest.fixture
def fixtures_dir() -> Path:
    return Path(__file__).parent / "fixtures"


@pytest.fixture
def client_as(users):
    """A fresh test client logged in as a demo user, reading English pages (one per call, so a
    test can hold several users' clients at once)."""
    from django.conf import settings
    from django.test import Client

    def login(username: str) -> Client:
        client = Client()
        client.force_login(users[username])
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return login

