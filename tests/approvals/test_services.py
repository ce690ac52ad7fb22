"""Submission, overlap report, review decisions, audit trail and permissions, against real PostGIS."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.http import Http404

from approvals.choices import ApplicationStatus, EventAction
from approvals.exceptions import NotPermitted, StateConflict
from approvals.models import ApplicationEvent
from approvals.selectors import application_get, work_queue
from approvals.services import application_submit, step_decide, window_accept, window_return
from parcels.exceptions import SpatialInputError
from tests.factories import CHIBI_SITE, JIAYU_SITE, UserFactory, kind, open_step, site_box
from tests.factories import submit as submit_with_documents
from tests.geodesy import assert_area_close, geod_area_m2

pytestmark = pytest.mark.django_db


def submit(user, bbox=JIAYU_SITE, **kw):
    return application_submit(
        applicant=user, kind=kind(), title=kw.pop("title", "厂房扩建"), purpose="工业用地", site=site_box(*bbox), ip="10.0.0.7", **kw
    )


def test_submit_stores_parcels_report_and_events(users):
    from shapely.geometry import box

    app = submit(users["applicant"])
    assert app.status == ApplicationStatus.SUBMITTED
    assert app.division_id == "421221"
    assert app.current_level == "county"
    assert app.reference.startswith("421221-")
    assert_area_close(app.site_area_m2, geod_area_m2(box(*JIAYU_SITE)))
    assert app.parcels.count() == 1
    report = app.overlap_reports.get()
    assert {lv.layer.slug for lv in report.layer_versions.all()} == {"permanent-farmland", "eco-redline", "urban-boundary", "plan-zones", "landuse-survey"}
    assert len(report.result["layers"]) == 5
    assert [e.action for e in app.events.order_by("id")] == [EventAction.SUBMITTED, EventAction.OVERLAP_COMPUTED]
    assert app.events.first().ip_address == "10.0.0.7"


def test_references_are_sequential_per_county(users):
    a = submit(users["applicant"])
    b = submit(users["applicant"])
    assert int(b.reference[-6:]) == int(a.reference[-6:]) + 1


def test_site_outside_every_county_is_refused_and_nothing_is_written(users):
    from approvals.models import Application

    with pytest.raises(SpatialInputError, match="outside every county"):
        submit(users["applicant"], bbox=(116.0, 39.9, 116.01, 39.91))  # Beijing
    assert Application.objects.count() == 0


def test_site_partly_outside_the_served_counties_is_refused_and_nothing_is_written(users):
    from approvals.models import Application

    # the north of this box lies beyond Jiayu, in Wuhan (not served here)
    with pytest.raises(SpatialInputError, match="part of the site lies outside every county"):
        submit(users["applicant"], bbox=(113.87, 29.935, 113.975, 30.005))
    assert Application.objects.count() == 0


def test_site_in_chibi_goes_to_chibi(users):
    app = submit(users["applicant"], bbox=CHIBI_SITE)
    assert app.division_id == "421281"


def test_the_window_accepts_and_the_event_is_recorded(users):
    app = submit_with_documents(users["applicant"])
    assert list(work_queue(user=users["clerk_jiayu"])) == [app]
    accepted = window_accept(application=app, by=users["clerk_jiayu"], ip="10.0.0.9")
    assert accepted.status == ApplicationStatus.IN_REVIEW
    event = accepted.events.order_by("-id").first()
    assert (event.action, event.actor.username, event.from_status, event.to_status, event.ip_address) == (
        "window_accepted", "clerk_jiayu", "submitted", "in_review", "10.0.0.9"
    )
    assert list(work_queue(user=users["clerk_jiayu"])) == []
    assert list(work_queue(user=users["reviewer_jiayu"])) == [accepted]


def test_window_return_needs_reasons_and_records_them(users):
    app = submit_with_documents(users["applicant"])
    with pytest.raises(ValidationError):
        window_return(application=app, by=users["clerk_jiayu"], reasons=["  ", ""])
    returned = window_return(application=app, by=users["clerk_jiayu"], reasons=["界址点坐标有误", "缺少规划符合性说明"])
    assert returned.status == ApplicationStatus.RETURNED
    assert returned.events.get(action="window_returned").data["reasons"] == ["界址点坐标有误", "缺少规划符合性说明"]


def test_second_acceptance_is_a_conflict_not_a_double_transition(users):
    app = submit_with_documents(users["applicant"])
    window_accept(application=app, by=users["clerk_jiayu"])
    with pytest.raises(StateConflict):
        window_return(application=app, by=users["clerk_jiayu"], reasons=["late"])
    assert app.events.filter(action__in=["window_accepted", "window_returned"]).count() == 1
    assert app.steps.count() == 1


@pytest.mark.parametrize("username", ["reviewer_chibi", "reviewer_xianning", "applicant", "planner", "reviewer_jiayu", "dept_jiayu"])
def test_only_the_window_accepts_and_nothing_changes(users, username):
    app = submit_with_documents(users["applicant"])
    events = app.events.count()
    with pytest.raises(NotPermitted):
        window_accept(application=app, by=users[username])
    app.refresh_from_db()
    assert app.status == ApplicationStatus.SUBMITTED
    assert (app.events.count(), app.steps.count()) == (events, 0)


@pytest.mark.parametrize("username", ["reviewer_chibi", "reviewer_xianning", "applicant", "planner", "clerk_jiayu", "dept_jiayu"])
def test_only_the_level_reviewer_decides_and_nothing_changes(users, username):
    app = submit_with_documents(users["applicant"])
    window_accept(application=app, by=users["clerk_jiayu"])
    events = app.events.count()
    with pytest.raises(NotPermitted):
        step_decide(step=open_step(app), by=users[username], outcome="forwarded")
    app.refresh_from_db()
    assert (app.status, app.current_level, app.events.count(), open_step(app).state) == ("in_review", "county", events, "accepted")


@pytest.mark.parametrize(
    ("username", "visible"),
    [("applicant", True), ("clerk_jiayu", True), ("planner", True), ("reviewer_jiayu", True),
     ("reviewer_xianning", False), ("reviewer_chibi", False), ("reviewer_hubei", False), ("dept_jiayu", False)],
)
def test_visibility_by_role_and_jurisdiction(users, username, visible):
    """Accepted at Jiayu county: the city has not received it yet; no department has a task."""
    app = submit_with_documents(users["applicant"])
    window_accept(application=app, by=users["clerk_jiayu"])
    if visible:
        assert application_get(user=users[username], pk=app.pk) == app
    else:
        with pytest.raises(Http404):
            application_get(user=users[username], pk=app.pk)


def test_another_applicant_cannot_see_my_application(users):
    app = submit(users["applicant"])
    stranger = UserFactory(username="stranger")
    with pytest.raises(Http404):
        application_get(user=stranger, pk=app.pk)


def test_audit_rows_cannot_be_updated_or_deleted(users):
    app = submit(users["applicant"])
    event = app.events.first()
    for statement in (
        f"UPDATE approvals_applicationevent SET comment = 'forged' WHERE id = {event.pk}",
        f"DELETE FROM approvals_applicationevent WHERE id = {event.pk}",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert ApplicationEvent.objects.get(pk=event.pk).comment == ""


def test_report_lists_other_open_applications_on_the_same_land(users):
    first = submit(users["applicant"], title="第一个")
    second = submit(users["applicant"], title="第二个", bbox=(113.931, 29.956, 113.933, 29.958))
    others = second.overlap_reports.get().result["applications"]
    assert [o["reference"] for o in others] == [first.reference]
    from shapely.geometry import box

    assert_area_close(others[0]["overlap_m2"], geod_area_m2(box(*JIAYU_SITE).intersection(box(113.931, 29.956, 113.933, 29.958))))
    # a decided application no longer counts
    from tests.factories import kind as kind_of

    first.status, first.decided_at = ApplicationStatus.REJECTED, first.submitted_at
    first.save()
    assert kind_of().code == first.kind_id
    third = submit(users["applicant"], title="第三个")
    assert [o["reference"] for o in third.overlap_reports.get().result["applications"]] == [second.reference]


def test_rerun_after_a_layer_changes_shows_the_difference(users, onemap):
    import geopandas as gpd
    from shapely.geometry import box

    from approvals.selectors import latest_overlap_report, report_is_stale
    from approvals.services import overlap_report_rerun
    from parcels.services import layer_version_create

    app = submit(users["applicant"])
    first = latest_overlap_report(application=app)
    assert not report_is_stale(first)
    # the ecological red line gets a new version that covers the west half of the site
    west = box(JIAYU_SITE[0] - 0.01, JIAYU_SITE[1] - 0.01, (JIAYU_SITE[0] + JIAYU_SITE[2]) / 2, JIAYU_SITE[3] + 0.01)
    eco = onemap["eco-redline"].layer
    frame = gpd.GeoDataFrame({"class_code": ["STBHHX"], "class_name": ["生态保护红线"]}, geometry=[west], crs="EPSG:4490")
    layer_version_create(layer=eco, frame=frame, source_name="eco v2")
    assert report_is_stale(first)
    with pytest.raises(NotPermitted):
        overlap_report_rerun(application=app, by=users["applicant"])
    # the window re-runs it before acceptance (the county reviewer once it is at the county)
    second = overlap_report_rerun(application=app, by=users["clerk_jiayu"], ip="10.0.0.9")
    diff = second.result["diff"]
    assert diff["changed"] is True
    eco_change = next(c for c in diff["layers"] if c["layer"] == "eco-redline")
    assert (eco_change["version_before"], eco_change["version_after"]) == (1, 2)
    assert (eco_change["verdict_before"], eco_change["verdict_after"]) == ("ok", "conflict")
    expected = geod_area_m2(box(*JIAYU_SITE).intersection(west))
    assert_area_close(eco_change["classes"][0]["change_m2"], expected)
    assert not report_is_stale(second)
    assert app.events.filter(action="overlap_computed").count() == 2


def test_txt_parts_keep_declared_areas_and_the_report_compares_them(users):
    from approvals.services import SitePart
    from maps.forms import _txt_parts
    from tests.fixtures import TXT_DIR

    site, parts, _warnings = _txt_parts((TXT_DIR / "multi_parcel.txt").read_bytes(), "multi_parcel.txt")
    app = application_submit(applicant=users["applicant"], kind=kind(), title="报盘", purpose="工业", site=site, parts=parts)
    assert app.parcels.count() == len(parts) >= 2
    assert all(isinstance(p, SitePart) for p in parts)
    declared = app.overlap_reports.get().result["declared"]
    assert [d["number"] for d in declared] == list(range(1, len(parts) + 1))
    for d, parcel in zip(declared, app.parcels.order_by("number"), strict=True):
        assert d["computed_m2"] == round(parcel.area_m2, 2)
        assert d["declared_m2"] == round(parcel.declared_area_m2, 2)
