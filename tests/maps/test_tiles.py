"""Vector tiles: 404 and nothing cached for a version that does not exist, the cache keyed by the
layer version's primary key (files at the tile's path), anonymous access only to public layers,
and the anonymous home page still showing the public layers. Real PostGIS, real files."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from django.urls import reverse

from parcels.models import Layer, LayerVersion, Zone

pytestmark = pytest.mark.django_db

PUBLIC = ("permanent-farmland", "eco-redline", "urban-boundary", "plan-zones")


def _tile_xy(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def _url(slug: str, version: int, z: int = 15, lon: float = 113.93, lat: float = 29.956) -> str:
    x, y = _tile_xy(lon, lat, z)
    return reverse("layer-tile", kwargs={"slug": slug, "version": version, "z": z, "x": x, "y": y})


def _cached_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


@pytest.fixture
def tile_dir(settings, tmp_path) -> Path:
    settings.TILE_CACHE_DIR = tmp_path / "tiles"
    return settings.TILE_CACHE_DIR


def test_a_version_that_does_not_exist_is_404_and_nothing_is_cached(client, onemap, demo_frames, tile_dir):
    from parcels.services import layer_version_create

    farmland = Layer.objects.get(slug="permanent-farmland")
    assert farmland.public
    # asked for before v2 exists: 404, not an empty tile cached for a week
    early = client.get(_url("permanent-farmland", 2, z=13))
    assert early.status_code == 404
    assert early["Cache-Control"] == "no-store"
    # hostile: many fake versions, unknown layers, out-of-range numbers, tiles off the grid
    hostile = [_url("permanent-farmland", v, z=13) for v in range(3, 203)]
    hostile += [_url("no-such-layer", 1), _url("permanent-farmland", 2**31), _url("permanent-farmland", 10**30),
                reverse("layer-tile", kwargs={"slug": "permanent-farmland", "version": 1, "z": 3, "x": 8, "y": 0}),
                reverse("layer-tile", kwargs={"slug": "permanent-farmland", "version": 1, "z": 19, "x": 0, "y": 0}),
                reverse("layer-tile", kwargs={"slug": "permanent-farmland", "version": 1, "z": 10**12, "x": 0, "y": 0})]
    assert {client.get(u).status_code for u in hostile} == {404}
    assert _cached_files(tile_dir) == []
    # once v2 is imported, the same URL serves its zones (keyed by the new version's primary key)
    v2 = layer_version_create(layer=farmland, frame=demo_frames["permanent_farmland"], source_name="test:v2")
    assert v2.version == 2
    fresh = client.get(_url("permanent-farmland", 2, z=13))
    assert fresh.status_code == 200
    assert fresh["X-Tile-Cache"] == "miss"
    assert b"zones" in fresh.content
    x, y = _tile_xy(113.93, 29.956, 13)
    path = tile_dir / str(v2.pk) / "13" / str(x) / f"{y}.pbf"
    assert path.read_bytes() == fresh.content
    assert _cached_files(tile_dir) == [path]  # written atomically: no temporary file left behind
    again = client.get(_url("permanent-farmland", 2, z=13))
    assert (again["X-Tile-Cache"], again.content) == ("hit", fresh.content)
    assert again["Cache-Control"] == "public, max-age=604800, immutable"


def test_the_cache_is_keyed_by_the_version_primary_key_not_its_number(client_as, onemap, tile_dir):
    """A layer deleted and recreated with the same slug restarts at v1: its tiles must not be the old v1's."""
    client = client_as("applicant")
    survey_v1 = LayerVersion.objects.get(layer__slug="landuse-survey", version=1)
    first = client.get(_url("landuse-survey", 1))
    assert first.status_code == 200
    assert (tile_dir / str(survey_v1.pk)).is_dir()
    assert [p.name for p in tile_dir.iterdir()] == [str(survey_v1.pk)]
    # an empty tile (below the survey's minimum zoom) is answered 204 and not stored
    assert client.get(_url("landuse-survey", 1, z=12)).status_code == 204
    assert len(_cached_files(tile_dir)) == 1


def test_anonymous_visitors_get_public_layers_only(client, client_as, onemap, tile_dir):
    assert set(Layer.objects.filter(public=True).values_list("slug", flat=True)) == set(PUBLIC)
    survey = _url("landuse-survey", 1)
    assert client.get(survey).status_code == 404
    assert _cached_files(tile_dir) == []
    assert client.get(_url("plan-zones", 1, z=13)).status_code in (200, 204)
    for username in ("applicant", "clerk_jiayu", "reviewer_chibi", "planner", "admin"):
        response = client_as(username).get(survey)
        assert response.status_code == 200, username
        assert response["Cache-Control"].startswith("private")
    # the same rule on the other anonymous map endpoints
    assert {lay["slug"] for lay in client.get(reverse("api-layer-list")).json()} == set(PUBLIC)
    assert len(client_as("applicant").get(reverse("api-layer-list")).json()) == 5
    box = {"in_bbox": "113.92,29.95,113.94,29.96", "zoom": "15"}
    assert client.get(reverse("api-layer-geojson", args=["landuse-survey"]), box).status_code == 404
    assert client.get(reverse("api-layer-geojson", args=["permanent-farmland"]), box).status_code == 200
    assert client_as("applicant").get(reverse("api-layer-geojson", args=["landuse-survey"]), box).status_code == 200
    survey_zone = Zone.objects.filter(layer_version__layer__slug="landuse-survey").first()
    farmland_zone = Zone.objects.filter(layer_version__layer__slug="permanent-farmland").first()
    assert client.get(reverse("api-zone-detail", args=[survey_zone.pk])).status_code == 404
    assert client.get(reverse("api-zone-detail", args=[farmland_zone.pk])).status_code == 200
    assert client_as("planner").get(reverse("api-zone-detail", args=[survey_zone.pk])).status_code == 200


def test_the_anonymous_home_page_shows_the_public_layers(client, client_as, onemap):
    html = client.get(reverse("home")).content.decode()
    for slug in PUBLIC:
        assert f"/tiles/{slug}/v1/" in html, slug
    assert "/tiles/landuse-survey/" not in html
    assert "Land-use survey" not in html  # nor in the table beside the map
    staff = client_as("planner").get(reverse("home")).content.decode()
    assert "/tiles/landuse-survey/v1/" in staff


def test_the_administrator_publishes_a_layer_in_the_admin(client_as, onemap, client):
    admin = client_as("admin")
    page = admin.get(reverse("admin:parcels_layer_changelist")).content.decode()
    assert "public" in page
    survey = Layer.objects.get(slug="landuse-survey")
    change = admin.get(reverse("admin:parcels_layer_change", args=[survey.pk])).content.decode()
    assert 'name="public"' in change
    survey.public = True
    survey.save(update_fields=["public"])
    assert client.get(_url("landuse-survey", 1)).status_code == 200
