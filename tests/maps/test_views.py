"""Pages and API through Django's test client against real PostGIS: status codes, numbers, denials."""

from __future__ import annotations

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from shapely.geometry import box

from approvals.models import Application, ApplicationEvent
from tests.factories import JIAYU_SITE, pdf, site_box
from tests.factories import submit as submit_with_documents
from tests.geodesy import assert_area_close, geod_area_m2

pytestmark = pytest.mark.django_db

SITE_FC = {
    "type": "FeatureCollection",
    "features": [{"type": "Feature", "properties": {}, "geometry": json.loads(site_box(*JIAYU_SITE)[0].geojson)}],
}
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["'](?:https?:)?//(?!testserver)""", re.IGNORECASE)


def submit(users):
    return submit_with_documents(users["applicant"], title="厂房")


@pytest.mark.parametrize("url_name", ["home", "login"])
def test_public_pages_render_without_external_assets(client, onemap, url_name):
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    html = response.content.decode()
    assert not EXTERNAL.search(html), EXTERNAL.search(html)
    if url_name == "home":
        assert "/static/vendor/leaflet/leaflet.js" in html
        assert "cdn" not in html.lower()


def test_pages_are_chinese_by_default_and_english_on_request(client, onemap):
    # Chinese first, even for a browser that prefers English
    html = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "国土资源审批“一张图”" in html
    assert '<html lang="zh-hans">' in html
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "One map for land approval" in client.get(reverse("home")).content.decode()
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert "国土资源审批“一张图”" in client.get(reverse("home")).content.decode()


def test_new_application_page_has_draw_control_and_local_assets(client_as):
    html = client_as("applicant").get(reverse("application-new")).content.decode()
    assert "OneMap.siteDraw" in html
    assert "/static/vendor/leaflet-draw/leaflet.draw.js" in html
    assert not EXTERNAL.search(html)


def test_site_check_api_returns_ellipsoidal_area(client_as):
    response = client_as("applicant").post(reverse("api-site-check"), SITE_FC, content_type="application/json")
    assert response.status_code == 200
    body = response.json()
    expected = geod_area_m2(box(*JIAYU_SITE))
    assert_area_close(body["area_m2"], expected)
    assert body["area_mu"] == pytest.approx(expected * 15 / 10000, rel=1e-4)
    assert body["gk_epsg"] == 4526
    assert body["parts"] == 1


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"type": "Point", "coordinates": [113.9, 29.9]}, "Polygon"),
        ({"type": "Polygon", "coordinates": [[[113.9, 29.9], [113.91, 29.9], [113.91, 29.91]]]}, "fewer than 4"),
        ({"type": "Polygon", "coordinates": [[[29.9, 113.9], [29.9, 113.91], [29.91, 113.91], [29.91, 113.9], [29.9, 113.9]]]}, "swapped"),
    ],
)
def test_site_check_rejects_bad_geometry_with_400(client_as, payload, fragment):
    response = client_as("applicant").post(reverse("api-site-check"), payload, content_type="application/json")
    assert response.status_code == 400
    assert fragment in response.json()["detail"]


def test_api_requires_login(client, onemap):
    assert client.post(reverse("api-overlap"), SITE_FC, content_type="application/json").status_code == 403


def test_overlap_api_report_shape(client_as):
    response = client_as("planner").post(reverse("api-overlap") + "?pieces=1", SITE_FC, content_type="application/json")
    assert response.status_code == 200
    body = response.json()
    assert set(body["site"]) >= {"area_m2", "area_ha", "area_mu", "gk_area_m2", "gk_epsg"}
    assert [lr["layer"] for lr in body["layers"]] == ["permanent-farmland", "eco-redline", "urban-boundary", "plan-zones", "landuse-survey"]
    for lr in body["layers"]:
        assert set(lr) >= {"layer", "version", "rule", "verdict", "classes"}
        for c in lr["classes"]:
            assert set(c) == {"code", "name", "area_m2", "area_ha", "area_mu", "percent", "count"}
    survey = next(lr for lr in body["layers"] if lr["layer"] == "landuse-survey")
    # the survey tessellates the county: its classes cover the whole site
    assert_area_close(sum(c["area_m2"] for c in survey["classes"]), body["site"]["area_m2"])
    assert body["pieces"]["type"] == "FeatureCollection"


def test_submit_through_the_form_then_the_window_and_the_county(client_as, users):
    client = client_as("applicant")
    response = client.post(
        reverse("application-new"),
        {"title": "仓储用房", "kind": "construction_land", "purpose": "物流仓储", "site_geojson": json.dumps(SITE_FC)},
    )
    app = Application.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("application-detail", args=[app.pk])
    # documents through the page; a file that is not a PDF by content is refused
    act = reverse("application-act", args=[app.pk])
    fake = SimpleUploadedFile("申请表.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    requirements = list(app.kind.required_documents.all())
    response = client.post(act, {"action": "document", "requirement": requirements[0].pk, "file": fake})
    assert response.status_code == 400
    assert "申请表.pdf: not a PDF, PNG or JPEG file" in response.content.decode()
    assert app.documents.count() == 0
    for r in requirements:
        assert client.post(act, {"action": "document", "requirement": r.pk, "file": pdf(f"{r.code}.pdf")}).status_code == 302
    assert app.documents.count() == 4
    clerk = client_as("clerk_jiayu")
    page = clerk.get(reverse("application-detail", args=[app.pk])).content.decode()
    assert 'id="window-accept"' in page
    assert "check-fail" not in page
    assert clerk.post(act, {"action": "window_accept"}).status_code == 302
    # a second acceptance is refused with 409 and changes nothing
    assert clerk.post(act, {"action": "window_accept"}).status_code == 409
    assert ApplicationEvent.objects.filter(application=app, action="window_accepted").count() == 1
    reviewer = client_as("reviewer_jiayu")
    page = reviewer.get(reverse("application-detail", args=[app.pk])).content.decode()
    assert "overlap-row" in page
    assert 'id="decide-button"' in page
    assert 'id="assign-departments"' in page
    assert reviewer.post(act, {"action": "decide", "outcome": "rejected", "comment": ""}).status_code == 400
    assert reviewer.post(act, {"action": "decide", "outcome": "forwarded", "comment": "同意"}).status_code == 302
    app.refresh_from_db()
    assert (app.status, app.current_level) == ("in_review", "city")
    queue = client_as("reviewer_xianning").get(reverse("application-list")).content.decode()
    assert app.reference in queue
    assert 'id="work-queue"' in queue
    assert reviewer.get(reverse("application-print", args=[app.pk])).status_code == 200


def test_returned_application_is_corrected_through_the_page(client_as, users):
    app = submit(users)
    client_as("clerk_jiayu").post(reverse("application-act", args=[app.pk]), {"action": "window_return", "reasons": "缺少附图\n坐标有误"})
    app.refresh_from_db()
    assert app.status == "returned"
    applicant = client_as("applicant")
    inbox = applicant.get(reverse("inbox")).content.decode()
    assert "缺少附图" in inbox
    assert "坐标有误" in inbox
    response = applicant.post(reverse("application-resubmit", args=[app.pk]), {"title": "厂房（补正）", "purpose": "工业"})
    assert response.status_code == 302
    app.refresh_from_db()
    assert (app.status, app.title, app.revision) == ("submitted", "厂房（补正）", 2)
    applicant.post(reverse("inbox"))
    assert not applicant.get(reverse("inbox")).context["inbox_unread"]


def test_form_without_site_is_400_and_writes_nothing(client_as):
    response = client_as("applicant").post(reverse("application-new"), {"title": "x", "kind": "construction_land", "purpose": "y"})
    assert response.status_code == 400
    assert Application.objects.count() == 0


def test_oversize_upload_is_refused(client_as, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.ONEMAP_MAX_UPLOAD_BYTES = 100
    upload = SimpleUploadedFile("big.geojson", json.dumps(SITE_FC).encode(), content_type="application/geo+json")
    response = client_as("applicant").post(reverse("application-new"), {"title": "x", "kind": "construction_land", "purpose": "y", "site_file": upload})
    assert response.status_code == 400
    assert "big.geojson" in response.content.decode()
    assert Application.objects.count() == 0


def test_uploaded_geojson_file_is_used(client_as):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("site.geojson", json.dumps(SITE_FC).encode(), content_type="application/geo+json")
    response = client_as("applicant").post(reverse("application-new"), {"title": "x", "kind": "construction_land", "purpose": "y", "site_file": upload})
    assert response.status_code == 302
    assert_area_close(Application.objects.get().site_area_m2, geod_area_m2(box(*JIAYU_SITE)))


@pytest.mark.parametrize(
    ("username", "action", "status"),
    [
        ("reviewer_chibi", "window_accept", 404), ("reviewer_hubei", "window_accept", 404), ("stranger", "window_accept", 404),
        ("planner", "window_accept", 403), ("applicant", "window_accept", 403), ("reviewer_jiayu", "window_accept", 404),
        ("applicant", "decide", 409), ("planner", "window_return", 403),
    ],
)
def test_action_denials_change_nothing(client_as, users, username, action, status):
    from tests.factories import UserFactory

    users["stranger"] = UserFactory(username="stranger")
    app = submit(users)
    events = app.events.count()
    response = client_as(username).post(reverse("application-act", args=[app.pk]), {"action": action, "outcome": "forwarded", "reasons": "x"})
    assert response.status_code == status
    app.refresh_from_db()
    assert (app.status, app.events.count()) == ("submitted", events)


@pytest.mark.parametrize(("username", "status"), [("reviewer_chibi", 404), ("reviewer_xianning", 404), ("dept_jiayu", 404), ("planner", 403), ("applicant", 403), ("clerk_jiayu", 403)])
def test_level_decision_denials_change_nothing(client_as, users, username, status):
    from approvals.services import window_accept

    app = submit(users)
    window_accept(application=app, by=users["clerk_jiayu"])
    response = client_as(username).post(reverse("application-act", args=[app.pk]), {"action": "decide", "outcome": "forwarded"})
    assert response.status_code == status
    app.refresh_from_db()
    assert (app.status, app.current_level, app.steps.get().state) == ("in_review", "county", "accepted")


def test_other_county_cannot_view(client_as, users):
    app = submit(users)
    assert client_as("reviewer_chibi").get(reverse("application-detail", args=[app.pk])).status_code == 404


def test_planner_page_is_for_planners(client_as):
    assert client_as("applicant").get(reverse("planner-overlap")).status_code == 403
    assert client_as("planner").get(reverse("planner-overlap")).status_code == 200


def test_planner_query_returns_report_without_creating_an_application(client_as):
    response = client_as("planner").post(reverse("planner-overlap"), {"site_geojson": json.dumps(SITE_FC)})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="overlap-row') >= 5
    assert Application.objects.count() == 0


def test_layer_geojson_is_bbox_limited_and_simplified(client_as):
    client = client_as("planner")  # the survey is not public (anonymous access: tests/maps/test_tiles.py)
    url = reverse("api-layer-geojson", args=["landuse-survey"])
    near = client.get(url, {"in_bbox": "113.92,29.95,113.93,29.96", "zoom": 15}).json()
    assert 0 < len(near["features"]) < 200
    assert client.get(url, {"in_bbox": "113.92,29.95,113.93,29.96", "zoom": 10}).json()["features"] == []  # below min_zoom
    assert client.get(url, {"in_bbox": "bad"}).status_code == 400
    assert client.get(url, {"in_bbox": "100,20,120,40", "zoom": 15}).status_code == 400


def test_collectstatic_with_the_production_manifest_storage(tmp_path, settings):
    """`make run` collects static files into a hashed manifest; every reference must resolve."""
    from django.core.management import call_command

    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}
    call_command("collectstatic", interactive=False, verbosity=0)
    manifest = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    assert {"vendor/leaflet/leaflet.js", "vendor/leaflet-draw/leaflet.draw.js", "maps/js/onemap-map.js"} <= set(manifest)


def _tile_xy(lon: float, lat: float, z: int) -> tuple[int, int]:
    import math

    n = 2**z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def test_vector_tiles_per_version_are_cached_and_immutable(client_as, settings, tmp_path):
    settings.TILE_CACHE_DIR = tmp_path
    client = client_as("applicant")  # the survey is not public (anonymous access: tests/maps/test_tiles.py)
    x, y = _tile_xy(113.93, 29.956, 15)
    url = reverse("layer-tile", kwargs={"slug": "landuse-survey", "version": 1, "z": 15, "x": x, "y": y})
    first = client.get(url)
    assert first.status_code == 200
    assert first["Content-Type"] == "application/vnd.mapbox-vector-tile"
    assert "immutable" in first["Cache-Control"]
    assert first["X-Tile-Cache"] == "miss"
    assert b"zones" in first.content  # the MVT layer name
    assert b"class_code" in first.content
    second = client.get(url)
    assert second["X-Tile-Cache"] == "hit"
    assert second.content == first.content
    # below the survey's minimum zoom (13) the tile is empty; a missing version is 404 (test_tiles.py)
    x12, y12 = _tile_xy(113.93, 29.956, 12)
    assert client.get(reverse("layer-tile", kwargs={"slug": "landuse-survey", "version": 1, "z": 12, "x": x12, "y": y12})).status_code == 204
    assert client.get(reverse("layer-tile", kwargs={"slug": "landuse-survey", "version": 9, "z": 15, "x": x, "y": y})).status_code == 404
    assert client.get(reverse("layer-tile", kwargs={"slug": "landuse-survey", "version": 1, "z": 3, "x": 99, "y": 0})).status_code == 404


def test_reviewer_page_stays_small_whatever_the_overlaps(client_as, users):
    """The pieces come from their own URL (and layers as tiles), so the page's HTML does not grow
    with the zones a site meets. A 9 km × 6.7 km site: its pieces alone weigh more than the limit."""
    from approvals.services import window_accept
    from tests.factories import submit as submit_box

    app = submit_box(users["applicant"], bbox=(113.88, 29.935, 113.975, 29.995), title="大片区")
    window_accept(application=app, by=users["clerk_jiayu"])
    pieces = app.overlap_reports.get().pieces
    assert len(json.dumps(pieces)) > 300_000
    reviewer = client_as("reviewer_jiayu")
    html = reviewer.get(reverse("application-detail", args=[app.pk])).content
    assert len(html) < 300_000, len(html)
    served = reviewer.get(reverse("application-pieces", args=[app.pk]))
    assert served["Content-Type"] == "application/geo+json"
    assert len(served.json()["features"]) == len(pieces["features"])
    assert len(served.content) > 300_000  # the weight went to the separate request
    assert client_as("reviewer_chibi").get(reverse("application-pieces", args=[app.pk])).status_code == 404


def test_reviewer_sees_applications_nearby_with_distances(client_as, users):
    from pyproj import Geod

    from approvals.services import window_accept
    from tests.factories import submit as submit_box

    here = submit_box(users["applicant"], title="本项目")
    # 0.005° further east (~480 m at 29.95° N), same latitudes
    east = (JIAYU_SITE[2] + 0.005, JIAYU_SITE[1], JIAYU_SITE[2] + 0.007, JIAYU_SITE[3])
    neighbour = submit_box(users["applicant"], title="邻近项目", bbox=east)
    far = submit_box(users["applicant"], title="远处项目", bbox=(113.95, 29.98, 113.952, 29.982))
    for app in (here, neighbour, far):
        window_accept(application=app, by=users["clerk_jiayu"])
    response = client_as("reviewer_jiayu").get(reverse("application-detail", args=[here.pk]))
    nearby = response.context["nearby"]
    assert [a.reference for a in nearby] == [neighbour.reference]
    _az, _back, metres = Geod(ellps="GRS80").inv(JIAYU_SITE[2], JIAYU_SITE[3], east[0], JIAYU_SITE[3])
    assert nearby[0].distance_m.m == pytest.approx(metres, rel=0.01)
    # the applicant's own view does not list others
    assert client_as("applicant").get(reverse("application-detail", args=[here.pk])).context["nearby"] == []


def test_home_has_a_table_alternative_to_the_map(client, onemap, demo_frames):
    response = client.get(reverse("home"))
    summaries = response.context["summaries"]
    farmland = next(s for s in summaries if s["layer"].slug == "permanent-farmland")
    frame = demo_frames["permanent_farmland"]
    assert sum(c["count"] for c in farmland["classes"]) == len(frame)
    assert 'id="layer-table"' in response.content.decode()


def test_queue_queries_do_not_grow_with_its_rows(client_as, users):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from approvals.services import window_accept
    from tests.factories import submit as submit_box

    reviewer = client_as("reviewer_jiayu")

    def queries_for_queue() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert reviewer.get(reverse("application-list")).status_code == 200
        return len(ctx.captured_queries)

    window_accept(application=submit_box(users["applicant"], title="一"), by=users["clerk_jiayu"])
    # The session's first request stores the staff flag and idle clock (onemap/middleware.py);
    # that one-off cost is not what this test measures.
    queries_for_queue()
    one = queries_for_queue()
    for title in ("二", "三", "四"):
        window_accept(application=submit_box(users["applicant"], title=title), by=users["clerk_jiayu"])
    assert queries_for_queue() == one
