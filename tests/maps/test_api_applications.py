"""The applications API: GeoJSON list, detail with clocks, and workflow actions under the same
rules as the pages (404 not visible, 403 not allowed, 409 wrong state; nothing written)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from approvals.models import Department
from approvals.services import window_accept
from tests.factories import submit

pytestmark = pytest.mark.django_db


def post(client: Client, app, **data):
    return client.post(reverse("api-application-action", args=[app.pk]), data, content_type="application/json")


def test_list_is_geojson_of_visible_applications_only(client_as, users):
    app = submit(users["applicant"])
    body = client_as("applicant").get(reverse("api-application-list")).json()
    assert body["type"] == "FeatureCollection"
    [feature] = body["features"]
    assert (feature["properties"]["reference"], feature["geometry"]["type"]) == (app.reference, "MultiPolygon")
    assert client_as("reviewer_chibi").get(reverse("api-application-list")).json()["features"] == []
    queue = client_as("clerk_jiayu").get(reverse("api-application-list"), {"queue": "1"}).json()
    assert [f["properties"]["reference"] for f in queue["features"]] == [app.reference]


def test_county_round_through_the_api(client_as, users):
    app = submit(users["applicant"])
    assert post(client_as("clerk_jiayu"), app, action="window_accept").status_code == 200
    reviewer = client_as("reviewer_jiayu")
    lead = Department.objects.get(division_id="421221", name="耕地保护股")
    coop = Department.objects.get(division_id="421221", name="国土空间规划股")
    response = post(reviewer, app, action="assign", lead=lead.pk, cooperating=[coop.pk], days="1.5")
    assert response.status_code == 200, response.json()
    tasks = response.json()["steps"][0]["tasks"]
    assert sorted((t["department"], t["role"]) for t in tasks) == [("国土空间规划股", "cooperating"), ("耕地保护股", "lead")]
    # the lead cannot consolidate before the cooperating department answers: 409, nothing written
    lead_task = next(t for t in tasks if t["role"] == "lead")
    coop_task = next(t for t in tasks if t["role"] == "cooperating")
    assert post(client_as("dept_jiayu"), app, action="opinion", task=lead_task["id"], agrees=True, opinion="同意").status_code == 409
    # another department cannot answer for it: 403
    assert post(client_as("dept_jiayu"), app, action="opinion", task=coop_task["id"], agrees=True, opinion="代答").status_code == 403
    assert post(client_as("dept_jiayu_plan"), app, action="opinion", task=coop_task["id"], agrees=False, opinion="规划不符").status_code == 200
    assert post(client_as("dept_jiayu"), app, action="opinion", task=lead_task["id"], agrees=False, opinion="建议退回").status_code == 200
    response = post(reviewer, app, action="return", reasons="规划不符\n请调整用地范围")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["steps"][0]["outcome"], "paused" in body["flags"]) == ("returned", "returned_applicant", True)
    detail = client_as("applicant").get(reverse("api-application-detail", args=[app.pk])).json()
    assert detail["clocks"]["promised"]["limit"] == "20.0"
    assert detail["clocks"]["promised"]["running"] is False


@pytest.mark.parametrize(
    ("username", "action", "status"),
    [
        ("reviewer_chibi", "decide", 404), ("reviewer_hubei", "decide", 404), ("applicant", "decide", 403),
        ("clerk_jiayu", "decide", 403), ("planner", "presign", 403), ("dept_jiayu", "decide", 404),
        ("reviewer_jiayu", "window_accept", 403), ("reviewer_jiayu", "nonsense", 400),
    ],
)
def test_action_denials_change_nothing(client_as, users, username, action, status):
    app = submit(users["applicant"])
    window_accept(application=app, by=users["clerk_jiayu"])
    events = app.events.count()
    response = post(client_as(username), app, action=action, outcome="forwarded")
    assert response.status_code == status
    app.refresh_from_db()
    assert (app.status, app.current_level, app.events.count(), app.steps.get().state) == ("in_review", "county", events, "accepted")


def test_anonymous_gets_nothing(client, users):
    app = submit(users["applicant"])
    assert client.get(reverse("api-application-list")).status_code == 403
    assert client.get(reverse("api-application-detail", args=[app.pk])).status_code == 403


def test_parcels_for_picking_hide_right_holders_and_bound_the_box(client_as, onemap):
    client = client_as("applicant")
    body = client.get(reverse("api-parcel-list"), {"in_bbox": "113.91,29.965,113.93,29.975"}).json()
    assert body["type"] == "FeatureCollection"
    assert body["features"]
    assert set(body["features"][0]["properties"]) == {"code", "land_class", "area_m2"}
    assert client.get(reverse("api-parcel-list"), {"in_bbox": "113,29,114,30"}).status_code == 400
    assert client.get(reverse("api-parcel-list")).status_code == 400
    assert Client().get(reverse("api-parcel-list"), {"in_bbox": "113.92,29.95,113.94,29.96"}).status_code == 403


def test_zone_attributes_for_the_map_popup(client, onemap):
    from parcels.models import Zone

    zone = Zone.objects.filter(layer_version__layer__slug="landuse-survey").exclude(attributes={}).first() or Zone.objects.first()
    body = client.get(reverse("api-zone-detail", args=[zone.pk])).json()
    assert (body["class_code"], body["layer"], body["attributes"]) == (zone.class_code, zone.layer_version.layer.slug, zone.attributes)
    assert body["area_m2"] == pytest.approx(zone.area_m2, abs=0.01)
    assert client.get(reverse("api-zone-detail", args=[10**9])).status_code == 404
