"""Site caps (parcels/limits.py) and the statement timeout (settings.ONEMAP_STATEMENT_TIMEOUT).

The two huge sites of the attack report come back as a quick 400 naming the limit, on the overlap
API, the planner's overlap query and submission, with nothing written. A statement held longer
than the timeout is cancelled by PostgreSQL and answered with a 503 that says so."""

from __future__ import annotations

import json
import math

import psycopg2
import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from approvals.models import Application, ApplicationParcel, OverlapReport
from approvals.services import application_submit
from parcels.limits import SiteTooLarge, check_site_size
from tests.factories import kind, site_box

pytestmark = pytest.mark.django_db

# Near the Jiayu county seat (inside the test layers' box)
WEST, SOUTH = 113.905, 29.94


def squares(n_side: int = 140, size: float = 0.00008, step: float = 0.00012) -> dict:
    """The attack's MultiPolygon: n_side² small disjoint squares (19,600 by default, ~1.7 km across)."""
    polygons = []
    for i in range(n_side):
        for j in range(n_side):
            x, y = round(WEST + i * step, 6), round(SOUTH + j * step, 6)
            x2, y2 = round(x + size, 6), round(y + size, 6)
            polygons.append([[[x, y], [x2, y], [x2, y2], [x, y2], [x, y]]])
    return {"type": "MultiPolygon", "coordinates": polygons}


def circle(n: int = 120_000, radius_deg: float = 0.002) -> dict:
    """The attack's circle: one ring of `n` vertices (~200 m radius)."""
    cx, cy = 113.92, 29.97
    ring = [[round(cx + radius_deg * math.cos(2 * math.pi * k / n), 7), round(cy + radius_deg * math.sin(2 * math.pi * k / n), 7)]
            for k in range(n)]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def big_box() -> dict:
    """~13.5 km × 11.1 km ≈ 150 km²: five vertices and one part, but above the 100 km² area limit."""
    return json.loads(site_box(113.86, 29.90, 114.00, 30.00)[0].geojson)


HUGE = [
    pytest.param(squares, "site has 19,600 parts; the limit is 500", id="19600-squares"),
    pytest.param(circle, "site has 120,001 vertices; the limit is 20,000", id="120000-vertex-circle"),
    pytest.param(big_box, "the limit is 100,000,000 m² (100.00 km²)", id="150-km2-box"),
]


@pytest.mark.parametrize(("make", "message"), HUGE)
def test_overlap_api_refuses_a_huge_site_naming_the_limit(client_as, make, message):
    response = client_as("applicant").post(reverse("api-overlap"), make(), content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert message in body["detail"]
    assert body["limit"] in {"parts", "vertices", "area_m2"}
    assert body["value"] > body["maximum"]


@pytest.mark.parametrize(("make", "message"), HUGE)
def test_planner_overlap_refuses_a_huge_site_naming_the_limit(client_as, make, message):
    response = client_as("planner").post(reverse("planner-overlap"), {"site_geojson": json.dumps(make())})
    assert response.status_code == 400
    assert message in response.content.decode()


@pytest.mark.parametrize(("make", "message"), HUGE)
def test_submission_refuses_a_huge_site_and_writes_nothing(client_as, make, message):
    response = client_as("applicant").post(reverse("application-new"), {
        "title": "大厂", "kind": "construction_land", "purpose": "工业用地", "site_geojson": json.dumps(make())})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert (Application.objects.count(), ApplicationParcel.objects.count(), OverlapReport.objects.count()) == (0, 0, 0)


def test_the_service_itself_refuses_a_huge_site(users):
    from django.contrib.gis.geos import GEOSGeometry, MultiPolygon

    polygon = GEOSGeometry(json.dumps(circle()))
    polygon.srid = 4490
    site = MultiPolygon(polygon, srid=4490)
    with pytest.raises(SiteTooLarge) as refused:
        application_submit(applicant=users["applicant"], kind=kind(), title="圆", purpose="工业用地", site=site)
    assert (refused.value.limit, refused.value.value, refused.value.maximum) == ("vertices", 120_001, 20_000)
    assert Application.objects.count() == 0


def test_limits_come_from_settings_and_a_site_at_the_limit_passes(settings, onemap):
    site = site_box(113.93, 29.955, 113.932, 29.957)  # 1 part, 5 vertices, ~4.3e4 m²
    settings.ONEMAP_MAX_SITE_PARTS, settings.ONEMAP_MAX_SITE_VERTICES = 1, 5
    settings.ONEMAP_MAX_SITE_AREA_M2 = 50_000
    check_site_size(site=site)
    settings.ONEMAP_MAX_SITE_AREA_M2 = 40_000
    with pytest.raises(SiteTooLarge, match=r"site area is 4\d,\d{3} m² \(0\.04 km²\); the limit is 40,000 m² \(0\.04 km²\)"):
        check_site_size(site=site)
    settings.ONEMAP_MAX_SITE_AREA_M2, settings.ONEMAP_MAX_SITE_VERTICES = 50_000, 4
    with pytest.raises(SiteTooLarge, match="site has 5 vertices; the limit is 4"):
        check_site_size(site=site)


def test_a_real_site_still_goes_through(client_as):
    response = client_as("applicant").post(reverse("api-overlap"), json.loads(site_box(113.91, 29.965, 113.93, 29.975)[0].geojson),
                                           content_type="application/json")
    assert response.status_code == 200
    assert response.json()["site"]["area_m2"] > 1_000_000  # ~2 km² passes


def test_anonymous_gets_no_overlap(client, onemap):
    assert client.post(reverse("api-overlap"), big_box(), content_type="application/json").status_code == 403


# --- statement timeout ---------------------------------------------------------------------------


def test_every_connection_has_the_configured_statement_timeout(settings, db):
    if not settings.ONEMAP_STATEMENT_TIMEOUT:
        pytest.skip("ONEMAP_STATEMENT_TIMEOUT=0 in this environment")
    assert f"statement_timeout={int(settings.ONEMAP_STATEMENT_TIMEOUT * 1000)}" in settings.DATABASES["default"]["OPTIONS"]["options"]
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == f"{settings.ONEMAP_STATEMENT_TIMEOUT:g}s"


@pytest.fixture
def zones_locked(transactional_db):
    """Another session holds an exclusive lock on the zones table, so any query of it waits: a
    statement that runs longer than the timeout, deterministically (lock waits count toward it)."""
    cfg = connection.settings_dict
    other = psycopg2.connect(host=cfg["HOST"], port=cfg["PORT"], user=cfg["USER"], password=cfg["PASSWORD"] or None, dbname=cfg["NAME"])
    with other.cursor() as cursor:
        cursor.execute("LOCK TABLE parcels_zone IN ACCESS EXCLUSIVE MODE")
    yield
    other.rollback()
    other.close()


@pytest.fixture
def short_timeout(transactional_db):
    """The configured 30 s would make the test take 30 s: the same mechanism with a shorter bound,
    reset to the configured one before the test database is flushed."""
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = '300ms'")
    yield
    with connection.cursor() as cursor:
        cursor.execute("RESET statement_timeout")


@pytest.mark.django_db(transaction=True)
def test_a_statement_over_the_timeout_is_cancelled_and_answered_with_503(request, users, zones_locked, caplog):
    client = Client(raise_request_exception=False)
    client.force_login(users["applicant"])
    client.cookies["django_language"] = "en"
    request.getfixturevalue("short_timeout")
    site = json.loads(site_box(113.93, 29.955, 113.932, 29.957)[0].geojson)
    api = client.post(reverse("api-overlap"), site, content_type="application/json")
    assert api.status_code == 503
    assert "took longer than the database allows one request" in api.json()["detail"]
    assert api["Retry-After"] == "60"
    page = client.post(reverse("application-new"), {"title": "厂房", "kind": "construction_land", "purpose": "工业用地",
                                                    "site_geojson": json.dumps(site)})
    assert page.status_code == 503
    assert "nothing was saved" in page.content.decode()
    # the submission's transaction rolled back: no application, parcel, report or event half-written
    assert (Application.objects.count(), ApplicationParcel.objects.count(), OverlapReport.objects.count()) == (0, 0, 0)
    assert any("statement timeout" in r.getMessage() for r in caplog.records)
    assert not any(r.exc_info for r in caplog.records)  # logged as a warning, no traceback


@pytest.mark.django_db(transaction=True)
def test_imports_lift_the_timeout_for_their_own_transaction(divisions, demo_frames, short_timeout):
    """A parcel import waits 1 s on a lock, longer than the 300 ms bound, and still completes:
    imports are long by nature (parcels.limits.lift_statement_timeout). Afterwards the bound is back."""
    import threading

    from parcels.models import Parcel
    from parcels.services import parcel_load

    cfg = connection.settings_dict
    other = psycopg2.connect(host=cfg["HOST"], port=cfg["PORT"], user=cfg["USER"], password=cfg["PASSWORD"] or None, dbname=cfg["NAME"])
    with other.cursor() as cursor:
        cursor.execute("LOCK TABLE parcels_parcel IN ACCESS EXCLUSIVE MODE")
    release = threading.Timer(1.0, other.rollback)
    release.start()
    try:
        assert parcel_load(frame=demo_frames["parcels"].head(3), source="test:parcels") == 3
    finally:
        release.join()
        other.close()
    assert Parcel.objects.count() == 3
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "300ms"


def test_lift_refuses_to_run_outside_a_transaction(transactional_db):
    from parcels.limits import lift_statement_timeout

    with pytest.raises(RuntimeError, match=r"inside transaction\.atomic"):
        lift_statement_timeout()


def test_manage_py_commands_connect_without_the_timeout_and_servers_with_it(settings):
    """Operator jobs (migrate, load_demo, import_layer, …) are not requests: no statement timeout."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    shown = subprocess.run([sys.executable, "manage.py", "diffsettings", "--all"], cwd=root, capture_output=True, text=True, check=True).stdout
    [databases] = [line for line in shown.splitlines() if line.startswith("DATABASES")]
    assert "jit=off" in databases
    assert "statement_timeout" not in databases
    served = subprocess.run([sys.executable, "-c", "import sys; sys.argv = ['gunicorn']; import onemap.settings as s; "
                             "print(s.DATABASES['default']['OPTIONS']['options'])"], cwd=root, capture_output=True, text=True, check=True).stdout
    if settings.ONEMAP_STATEMENT_TIMEOUT:
        assert f"-c statement_timeout={int(settings.ONEMAP_STATEMENT_TIMEOUT * 1000)}" in served


# --- hostile shapes of the counted GeoJSON: refused with a 400, never a 500 ----------------------

@pytest.mark.parametrize("geometry", [
    {"type": "MultiPolygon", "coordinates": [5, "x", None, [[1]], [["a"]]]},
    {"type": "MultiPolygon", "coordinates": [[[[113.92, 29.97]] * 3]] * 501},
    {"type": "Polygon", "coordinates": [[[113.92, 29.97]] * 20_001]},
    {"type": "Polygon", "coordinates": "x" * 1000},
    {"type": "GeometryCollection", "geometries": [{"type": "Polygon", "coordinates": [[[0, 0]] * 30_000]}]},
    {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "MultiPolygon", "coordinates": {"a": 1}}}]},
])
def test_malformed_or_padded_geometries_get_a_400(client_as, geometry):
    response = client_as("applicant").post(reverse("api-overlap"), geometry, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"]


def test_resubmission_with_a_huge_site_is_refused_and_changes_nothing(users):
    from django.contrib.gis.geos import GEOSGeometry, MultiPolygon

    from approvals.services import application_resubmit, window_return
    from tests.factories import submit

    app = submit(users["applicant"])
    window_return(application=app, by=users["clerk_jiayu"], reasons=["请补正"])
    app.refresh_from_db()
    polygon = GEOSGeometry(json.dumps(circle()))
    polygon.srid = 4490
    with pytest.raises(SiteTooLarge, match="vertices; the limit is 20,000"):
        application_resubmit(application=app, by=users["applicant"], site=MultiPolygon(polygon, srid=4490))
    app.refresh_from_db()
    assert (app.status, app.revision, app.overlap_reports.count()) == ("returned", 1, 1)


# --- the same sites as boundary-point TXT files (counted on their lines before parsing) -----------

def boundary_txt(n_parcels: int, points_per_parcel: int = 4) -> bytes:
    """A 报盘 TXT (CGCS2000 3° zone 38, metres) with `n_parcels` small parcels near Jiayu."""
    header = ("[属性描述]\n格式版本号=1.01版本\n坐标系=2000国家大地坐标系\n几度分带=3\n投影类型=高斯克吕格\n计量单位=米\n带号=38\n"
              "精度=0.001\n转换参数=,,,,,,\n[地块坐标]\n")
    lines = [header]
    side = math.isqrt(n_parcels) + 1
    for k in range(n_parcels):
        x0, y0 = 38490000 + (k // side) * 15, 3316500 + (k % side) * 15
        lines.append(f"{points_per_parcel + 1},0.01,{k + 1},地块{k + 1},面,H49G058012,工业用地,0601,@\n")
        ring = [(y0 + 5 * math.sin(2 * math.pi * m / points_per_parcel), x0 + 5 * math.cos(2 * math.pi * m / points_per_parcel))
                for m in range(points_per_parcel)]
        for m, (y, x) in enumerate([*ring, ring[0]]):
            lines.append(f"J{m % points_per_parcel + 1},1,{y:.3f},{x:.3f}\n")
    return "".join(lines).encode("utf-8")


@pytest.mark.parametrize(("data", "message"), [
    pytest.param(lambda: boundary_txt(19_600), "site has 19,600 parts; the limit is 500", id="txt-19600-parcels"),
    pytest.param(lambda: boundary_txt(1, 120_000), "site has 120,001 vertices; the limit is 20,000", id="txt-120000-points"),
])
def test_boundary_txt_uploads_are_refused_before_parsing(client_as, data, message):
    from django.core.files.uploadedfile import SimpleUploadedFile

    body = data()
    preview = client_as("applicant").post(reverse("api-site-preview"), {"file": SimpleUploadedFile("site.txt", body)})
    assert preview.status_code == 400
    assert message in preview.json()["detail"]
    planner = client_as("planner").post(reverse("planner-overlap"), {"site_file": SimpleUploadedFile("site.txt", body)})
    assert planner.status_code == 400
    assert message in planner.content.decode()
    new = client_as("applicant").post(reverse("application-new"), {"title": "大厂", "kind": "construction_land", "purpose": "工业用地",
                                                                    "site_file": SimpleUploadedFile("site.txt", body)})
    assert new.status_code == 400
    assert message in new.content.decode()
    assert Application.objects.count() == 0


def test_a_real_boundary_txt_still_goes_through(client_as, fixtures_dir):
    from django.core.files.uploadedfile import SimpleUploadedFile

    body = (fixtures_dir / "txt" / "area_m2.txt").read_bytes()
    response = client_as("applicant").post(reverse("api-site-preview"), {"file": SimpleUploadedFile("area_m2.txt", body)})
    assert response.status_code == 200, response.content
    small = boundary_txt(400, 40)  # 400 parcels of 40 points: inside both limits
    response = client_as("applicant").post(reverse("api-site-preview"), {"file": SimpleUploadedFile("many.txt", small)})
    assert response.status_code == 200, response.content[:300]
