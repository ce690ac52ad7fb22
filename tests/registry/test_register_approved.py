"""Registering an approved case (issue 11): a rural homestead approved at the county is registered
by the county's window clerk on its own page, so the certificate's lineage starts at the approved
case: its site becomes the parcel as submitted, the case stays approved, the lineage shows the
application, its approval (with the decision PDF), the registration and the certificate.
Refusals per role, a second registration, other kinds and states; hostile input."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import unquote

import pytest
from django.core.exceptions import ValidationError
from shapely.geometry import box

from approvals.exceptions import NotPermitted, StateConflict
from approvals.hall.models import ServiceEvent
from approvals.issued.models import IssuedDocument
from approvals.registry.models import Certificate, ParcelChange, Right
from approvals.registry.selectors import parcel_lineage, registration_minutes
from approvals.registry.services.registration import approved_register, registration_register
from approvals.services import step_decide, window_accept
from parcels.geo import site_areas
from parcels.models import Parcel
from tests.factories import open_step, site_box, submit
from tests.geodesy import geod_area_m2
from tests.issued.helpers import ink_share, page_png, pdf_text
from tests.registry.conftest import ONE_HOLDER, holders, state_terms

pytestmark = pytest.mark.django_db

# An empty corner near the county seat (inside TEST_BOX), checked free of registered parcels.
HOMESTEAD_SITE = (113.905, 29.945, 113.9054, 29.9454)
HOMESTEAD = {"right_type": "宅基地使用权", "land_use": "0702"}
STAFF_DENIED = ["applicant", "reviewer_jiayu", "clerk_xianning", "reviewer_chibi", "planner", "dept_jiayu", "admin", "caller_hubei"]


@pytest.fixture
def homestead(users, areas):
    """A factory: a rural homestead received at the Jiayu window (no stations loaded: its route is
    the county alone) and, unless `decide` is None, decided there by reviewer_jiayu."""

    def make(decide: str | None = "approved", bbox=HOMESTEAD_SITE):
        assert not Parcel.objects.filter(geom__intersects=site_box(*bbox), status="registered").exists()
        app = submit(users["applicant"], code="rural_homestead", bbox=bbox, title="宅基地建房")
        app = window_accept(application=app, by=users["clerk_jiayu"], ip="10.0.0.2")
        if decide is None:
            return app
        return step_decide(step=open_step(app), by=users["reviewer_jiayu"], outcome=decide,
                           comment="同意" if decide == "approved" else "占用基本农田", ip="10.1.0.2")

    return make


def _steps(app) -> list[tuple]:
    return list(app.steps.order_by("number").values_list("level", "state", "outcome", "closed_at", "closed_by"))


def test_approved_homestead_registered_and_certified(users, homestead):
    app = homestead()
    steps_before, decided_at = _steps(app), app.decided_at
    certificate = approved_register(application=app, by=users["clerk_jiayu"], ip="10.0.0.9",
                                    holders=holders(("张三", "420000199001011234", "0.5"), ("李四", "420000199202021234", "0.5")),
                                    **HOMESTEAD)
    app.refresh_from_db()
    right, parcel = certificate.right, certificate.right.parcel
    # the case's own geometry, not a redrawn one; the area to the m²
    assert parcel.geom.equals_exact(app.site, 0)
    expected = geod_area_m2(box(*HOMESTEAD_SITE))
    assert round(parcel.area_m2) == round(expected)
    assert round(right.area_m2) == round(site_areas(app.site).ellipsoidal_m2)
    assert round(parcel.area_m2) == round(app.site_area_m2)
    assert (right.right_type, right.land_use, right.term_start, right.term_end) == ("宅基地使用权", "0702", None, None)
    assert parcel.code.startswith("421221001")
    assert parcel.code[12:14] == "JC"
    assert [(h.name, h.share) for h in right.holders.all()] == [("张三", Decimal("0.500000")), ("李四", Decimal("0.500000"))]
    # the case stays approved: same steps, same decision moment, one approval event
    assert (app.status, app.decided_at) == ("approved", decided_at)
    assert _steps(app) == steps_before
    assert app.events.filter(action="approved").count() == 1
    change = ParcelChange.objects.get(application=app)
    assert (change.kind, list(change.outputs.all()), list(change.inputs.all())) == ("registration", [parcel], [])
    assert change.data["certificate"] == certificate.number
    assert ServiceEvent.objects.filter(application=app, kind="certificate").count() == 1
    assert certificate.status == "issued"
    assert certificate.number.startswith("鄂(")
    # the certificate's PDF, through the existing hook: real text, page 1 drawn
    paper = IssuedDocument.objects.get(kind="certificate", certificate_id=certificate.pk)
    data = paper.file.read()
    compact = "".join(pdf_text(data).split())
    assert parcel.code in compact
    assert "宅基地使用权" in compact
    assert ink_share(page_png(data)) > 0.01


def test_the_dashboard_minutes_count_registration_cases_only(users, homestead, accepted):
    approved_register(application=homestead(), by=users["clerk_jiayu"], holders=holders(*ONE_HOLDER), **HOMESTEAD)
    assert registration_minutes(user=users["clerk_jiayu"]) == []
    registration_register(application=accepted(), by=users["clerk_jiayu"], holders=holders(*ONE_HOLDER), **state_terms())
    assert [r.count for r in registration_minutes(user=users["clerk_jiayu"])] == [1]


def test_lineage_starts_at_the_approved_case(users, homestead, client_as):
    app = homestead()
    certificate = approved_register(application=app, by=users["clerk_jiayu"], holders=holders(*ONE_HOLDER), **HOMESTEAD)
    parcel = certificate.right.parcel
    decision = IssuedDocument.objects.get(application=app, kind="decision")
    lineage = parcel_lineage(parcel=parcel, user=users["clerk_jiayu"])
    assert [e.label for e in lineage.timeline] == ["Application submitted", "Accepted at the window", "Final approval",
                                                   "First registration", "Certificate issued"]
    approval = lineage.timeline[2]
    assert (approval.detail, approval.application_id, approval.at) == (app.reference, app.pk, app.steps.get().closed_at)
    assert approval.document_url == f"/documents/{decision.pk}.pdf"
    assert parcel_lineage(parcel=parcel).timeline[2].document_url == ""
    page = client_as("clerk_jiayu").get(f"/registry/parcels/{parcel.code}/")
    text = page.content.decode()
    assert page.status_code == 200
    timeline = text.split('id="lineage-timeline"')[1]
    assert timeline.index("Application submitted") < timeline.index("Final approval") < timeline.index("First registration") \
        < timeline.index("Certificate issued")
    assert f"/documents/{decision.pk}.pdf" in timeline
    assert f"/applications/{app.pk}/" in timeline
    assert certificate.number in timeline
    # the decision link downloads the real decision
    pdf = client_as("clerk_jiayu").get(f"/documents/{decision.pk}.pdf")
    assert pdf.status_code == 200
    assert b"".join(pdf.streaming_content if pdf.streaming else [pdf.content]).startswith(b"%PDF-")


def test_clerk_registers_through_the_case_page(users, homestead, client_as):
    app = homestead()
    client = client_as("clerk_jiayu")
    detail = client.get(f"/applications/{app.pk}/").content.decode()
    assert f"/registry/applications/{app.pk}/register/" in detail
    form = client.get(f"/registry/applications/{app.pk}/register/")
    text = form.content.decode()
    assert form.status_code == 200
    assert 'id="register-approved"' in text
    # the homestead's right type and use are proposed
    assert '<option value="宅基地使用权" selected>' in text
    assert '<option value="0702" selected>' in text
    response = client.post(f"/registry/applications/{app.pk}/register/", _form())
    assert response.status_code == 302
    certificate = Certificate.objects.get()
    assert unquote(response["Location"]) == f"/registry/certificates/{certificate.number}/"
    assert certificate.right.application == app
    detail = client.get(f"/applications/{app.pk}/").content.decode()
    assert certificate.number in detail
    assert "/register/" not in detail
    # a second try through the page: 409, nothing more written
    again = client.post(f"/registry/applications/{app.pk}/register/", _form())
    assert again.status_code == 409
    assert "already registered" in again.content.decode()
    assert Right.objects.count() == 1


def test_not_twice(users, homestead):
    app = homestead()
    approved_register(application=app, by=users["clerk_jiayu"], holders=holders(*ONE_HOLDER), **HOMESTEAD)
    with pytest.raises(StateConflict, match="already registered"):
        approved_register(application=app, by=users["clerk_jiayu"], holders=holders(*ONE_HOLDER), **HOMESTEAD)
    assert (Right.objects.count(), Certificate.objects.count(), ParcelChange.objects.filter(application=app).count()) == (1, 1, 1)


def test_only_approved_cases(users, homestead):
    open_case = homestead(decide=None)
    with pytest.raises(StateConflict, match="not approved"):
        approved_register(application=open_case, by=users["clerk_jiayu"], holders=holders(*ONE_HOLDER), **HOMESTEAD)
    rejected = homestead(decide="rejected", bbox=(113.906, 29.946, 113.9064, 29.9464))
    with pytest.raises(StateConflict, match="not approved"):
        approved_register(application=rejected, by=users["clerk_jiayu"], holders=holders(*ONE_HOLDER), **HOMESTEAD)
    assert not Right.objects.exists()


def test_only_homestead_and_construction_kinds(users, accepted):
    # a registration case approved by a reviewer (not registered): not this service's kind
    app = accepted()
    app = step_decide(step=open_step(app), by=users["reviewer_jiayu"], outcome="approved", comment="同意", ip="10.1.0.2")
    with pytest.raises(StateConflict, match="Only an approved rural homestead or construction land case"):
        approved_register(application=app, by=users["clerk_jiayu"], holders=holders(*ONE_HOLDER), **state_terms())
    assert not Right.objects.exists()


def test_a_homestead_is_registered_as_a_homestead_right(users, homestead):
    app = homestead()
    with pytest.raises(ValidationError, match="registered as: Homestead use right"):
        approved_register(application=app, by=users["clerk_jiayu"], holders=holders(*ONE_HOLDER), **state_terms())
    assert not Right.objects.exists()


@pytest.mark.parametrize("who", STAFF_DENIED)
def test_only_the_county_clerk_registers(users, homestead, client_as, who):
    app = homestead()
    with pytest.raises(NotPermitted):
        approved_register(application=app, by=users[who], holders=holders(*ONE_HOLDER), **HOMESTEAD)
    client = client_as(who)
    assert client.get(f"/registry/applications/{app.pk}/register/").status_code in (403, 404)
    assert client.post(f"/registry/applications/{app.pk}/register/", _form()).status_code in (403, 404)
    assert f"/registry/applications/{app.pk}/register/" not in client.get(f"/applications/{app.pk}/").content.decode()
    assert not Right.objects.exists()


def test_received_at_a_town_station_decided_at_the_county_registered(users, areas):
    """The issue's case: received at 鱼岳镇国土所, forwarded by its head, decided at the county,
    registered by the county's clerk (not the station's), certified; lineage from the certificate."""
    from django.contrib.auth import get_user_model

    from approvals.services import step_accept, step_presign
    from data import demo

    demo.load_stations()
    demo.load_accounts()
    staff = {u.username: u for u in get_user_model().objects.all()}
    app = submit(staff["applicant"], code="rural_homestead", bbox=(113.930, 29.955, 113.932, 29.957), title="宅基地建房")
    assert app.division_id == "421221100"
    app = window_accept(application=app, by=staff["clerk_yuyue"])
    app = step_decide(step=open_step(app), by=staff["reviewer_yuyue"], outcome="forwarded", comment="已现场踏勘，同意上报")
    county = open_step(app)
    step_presign(step=county, by=staff["reviewer_jiayu"])
    step_accept(step=county, by=staff["reviewer_jiayu"])
    app = step_decide(step=open_step(app), by=staff["reviewer_jiayu"], outcome="approved", comment="同意")
    assert app.status == "approved"
    # the station's clerk received it but does not register in the county's name
    with pytest.raises(NotPermitted):
        approved_register(application=app, by=staff["clerk_yuyue"], holders=holders(*ONE_HOLDER), **HOMESTEAD)
    overlapping = [p for p in Parcel.objects.filter(status="registered", geom__intersects=app.site)]
    certificate = approved_register(application=app, by=staff["clerk_jiayu"], holders=holders(*ONE_HOLDER), replaces=overlapping,
                                    **HOMESTEAD)
    assert certificate.right.parcel.geom.equals_exact(app.site, 0)
    assert certificate.number.startswith("鄂(")
    labels = [e.label for e in parcel_lineage(parcel=certificate.right.parcel).timeline]
    assert labels[:5] == ["Application submitted", "Accepted at the window", "Final approval", "First registration", "Certificate issued"]


def _form(**over) -> dict:
    data = {"right_type": "宅基地使用权", "land_use": "0702", "term_start": "", "term_end": "", "replaces": "",
            "holder-TOTAL_FORMS": "3", "holder-INITIAL_FORMS": "0", "holder-MIN_NUM_FORMS": "0", "holder-MAX_NUM_FORMS": "50",
            "holder-0-name": "王五", "holder-0-id_type": "resident_id", "holder-0-id_number": "420000198001011111", "holder-0-share": "1",
            "holder-1-id_type": "resident_id", "holder-2-id_type": "resident_id"}
    data.update(over)
    return data


@pytest.mark.parametrize("over", [
    {"holder-0-share": "0.5"},
    {"holder-0-share": "abc"},
    {"holder-0-name": "王" * 5000},
    {"holder-0-name": "王\x00五"},
    {"holder-0-id_number": ""},
    {"right_type": "国有建设用地使用权", "term_start": "2026-01-01", "term_end": "2096-01-01"},
    {"right_type": "freehold"},
    {"land_use": "9999"},
    {"term_start": "2026-01-01", "term_end": "2096-01-01"},
    {"term_start": "not a date"},
    {"replaces": "421221001001GB99999"},
    {"replaces": "<script>alert(1)</script>"},
    {"holder-TOTAL_FORMS": "100000"},
])
def test_register_approved_hostile_input(users, homestead, client_as, over):
    app = homestead()
    response = client_as("clerk_jiayu").post(f"/registry/applications/{app.pk}/register/", _form(**over))
    assert response.status_code == 400
    assert "<script>alert(1)</script>" not in response.content.decode()
    assert not Right.objects.exists()
    app.refresh_from_db()
    assert app.status == "approved"
