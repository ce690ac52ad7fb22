"""Right holders (names of people and companies) are personal data: only the window clerks and level
reviewers whose jurisdiction covers the land see them. Applicants, planners, department reviewers,
staff of another county and the administrator (who has the audited admin) see parcel codes, land
classes and areas only — on every path: the overlap API, the application page, its print view and
pieces, the planner's overlap query, the planner's exports and the applications API."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from approvals.choices import Role
from approvals.models import Department
from approvals.services import window_accept
from parcels.models import Parcel
from tests.factories import MembershipFactory, UserFactory, site_box, submit

pytestmark = pytest.mark.django_db

# ~1.9 km × 1.1 km near the Jiayu county seat, inside the site caps, full of registered parcels
BOX = (113.91, 29.965, 113.93, 29.975)


def _box_geojson(bbox: tuple[float, float, float, float]) -> dict:
    return {"type": "Feature", "properties": {}, "geometry": json.loads(site_box(*bbox)[0].geojson)}


def _holders_touching(bbox: tuple[float, float, float, float]) -> set[str]:
    return set(Parcel.objects.registered().touching(site_box(*bbox)).values_list("right_holder", flat=True))


def _leaks(text: str, holders: set[str]) -> set[str]:
    return {h for h in holders if h in text}


@pytest.fixture
def clerk_chibi(users) -> Client:
    """A window clerk of another county (Chibi, 421281): the demo has only its reviewer."""
    user = UserFactory(username="clerk_chibi")
    MembershipFactory(user=user, role=Role.CLERK, division_id="421281")
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client


def _client(client_as, clerk_chibi, username: str) -> Client:
    return clerk_chibi if username == "clerk_chibi" else client_as(username)


@pytest.fixture
def parcel_site(onemap) -> tuple[float, float, float, float]:
    """A ~100 m box around a registered parcel in Jiayu, so the application touches parcels."""
    parcel = Parcel.objects.registered().touching(site_box(*BOX)).order_by("code").first()
    point = parcel.geom.point_on_surface
    return (point.x - 0.0005, point.y - 0.0005, point.x + 0.0005, point.y + 0.0005)


# --- the overlap API -------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("username", "sees"),
    [
        ("applicant", False), ("planner", False), ("dept_jiayu", False), ("admin", False),
        ("reviewer_chibi", False), ("clerk_chibi", False),
        ("clerk_jiayu", True), ("reviewer_jiayu", True), ("reviewer_xianning", True), ("clerk_xianning", True),
    ],
)
def test_overlap_api_gives_right_holders_only_to_staff_of_that_county(client_as, clerk_chibi, username, sees):
    holders = _holders_touching(BOX)
    assert len(holders) >= 5  # the box really covers other people's parcels
    response = _client(client_as, clerk_chibi, username).post(reverse("api-overlap"), _box_geojson(BOX), content_type="application/json")
    assert response.status_code == 200, response.content
    parcels = response.json()["parcels"]
    assert parcels
    assert all({"code", "land_class", "overlap_m2"} <= set(p) for p in parcels)
    if sees:
        by_code = dict(Parcel.objects.filter(code__in=[p["code"] for p in parcels]).values_list("code", "right_holder"))
        assert all(p["right_holder"] == by_code[p["code"]] and p["right_type"] for p in parcels)
    else:
        assert not any({"right_holder", "right_type"} & set(p) for p in parcels)
        assert _leaks(response.content.decode(), holders) == set()


def test_overlap_api_hides_holders_of_parcels_outside_the_clerks_county(clerk_chibi, client_as):
    """A Chibi clerk sees names in Chibi only; the same request from Jiayu's clerk sees Jiayu's."""
    body = clerk_chibi.post(reverse("api-overlap"), _box_geojson(BOX), content_type="application/json").json()
    assert body["parcels"]
    assert all(p["division"] == "421221" and "right_holder" not in p for p in body["parcels"])


# --- the application page, print view and pieces ---------------------------------------------

@pytest.mark.parametrize(
    ("username", "status", "sees"),
    [
        ("applicant", 200, False), ("planner", 200, False), ("reviewer_chibi", 404, False), ("clerk_chibi", 404, False),
        ("dept_jiayu", 404, False), ("admin", 200, False),
        ("clerk_jiayu", 200, True), ("reviewer_jiayu", 200, True), ("clerk_xianning", 200, True),
    ],
)
def test_application_pages_show_right_holders_only_to_staff_acting_on_that_land(client_as, clerk_chibi, users, parcel_site,
                                                                                 username, status, sees):
    app = submit(users["applicant"], bbox=parcel_site)
    window_accept(application=app, by=users["clerk_jiayu"])  # now at the county reviewer's step
    report = app.overlap_reports.get()
    holders = {p["right_holder"] for p in report.result["parcels"]}
    codes = {p["code"] for p in report.result["parcels"]}
    assert holders
    assert codes
    client = _client(client_as, clerk_chibi, username)
    for name in ("application-detail", "application-print"):
        response = client.get(reverse(name, args=[app.pk]))
        assert response.status_code == status, (name, response.status_code)
        if status != 200:
            continue
        html = response.content.decode()
        assert codes <= {c for c in codes if c in html}, name  # codes, classes and areas stay for everyone
        assert (_leaks(html, holders) == holders) if sees else (_leaks(html, holders) == set()), (name, _leaks(html, holders))
        assert ("Right holder" in html) is sees
    pieces = client.get(reverse("application-pieces", args=[app.pk]))
    assert pieces.status_code == status
    if status == 200:
        assert _leaks(pieces.content.decode(), holders) == set()


def test_applicants_own_page_lists_parcel_codes_classes_and_areas(client_as, users, parcel_site):
    app = submit(users["applicant"], bbox=parcel_site)
    html = client_as("applicant").get(reverse("application-detail", args=[app.pk])).content.decode()
    [first, *_rest] = app.overlap_reports.get().result["parcels"]
    assert first["code"] in html
    assert first["land_class"] in html
    assert "Right type" not in html
    assert first["right_type"] not in html


# --- the planner's overlap query and exports; the applications API ---------------------------

def test_planner_overlap_query_shows_no_right_holders(client_as):
    holders = _holders_touching(BOX)
    response = client_as("planner").post(reverse("planner-overlap"), {"site_geojson": json.dumps(_box_geojson(BOX))})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Registered parcels touched" in html
    assert _leaks(html, holders) == set()


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "geojson"])
def test_planner_exports_and_applications_api_carry_no_right_holders(client_as, users, parcel_site, fmt):
    app = submit(users["applicant"], bbox=parcel_site)
    holders = {p["right_holder"] for p in app.overlap_reports.get().result["parcels"]}
    export = client_as("planner").get(reverse("planner-applications"), {"format": fmt, "division": "421221"})
    assert export.status_code == 200
    assert app.reference.encode() in export.content or fmt == "xlsx"
    assert not any(h.encode() in export.content for h in holders)
    for username in ("applicant", "clerk_jiayu", "planner"):
        client = client_as(username)
        for url in (reverse("api-application-list"), reverse("api-application-detail", args=[app.pk])):
            body = client.get(url).content.decode()
            assert _leaks(body, holders) == set(), (username, url)


def test_a_department_with_a_task_sees_the_application_but_not_its_right_holders(client_as, users, parcel_site):
    """Department reviewers give opinions on land classes and plans, not owners: page yes, names no."""
    app = submit(users["applicant"], bbox=parcel_site)
    window_accept(application=app, by=users["clerk_jiayu"])
    reviewer = client_as("reviewer_jiayu")
    lead = Department.objects.get(division_id="421221", name="耕地保护股")
    response = reviewer.post(reverse("api-application-action", args=[app.pk]), {"action": "assign", "lead": lead.pk, "days": "1.5"},
                             content_type="application/json")
    assert response.status_code == 200, response.content
    holders = {p["right_holder"] for p in app.overlap_reports.get().result["parcels"]}
    for name in ("application-detail", "application-print"):
        response = client_as("dept_jiayu").get(reverse(name, args=[app.pk]))
        assert response.status_code == 200
        assert _leaks(response.content.decode(), holders) == set()
