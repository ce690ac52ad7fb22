"""Agent service (代办 / 上门服务): a window clerk submits for an applicant; the timeline names both,
documents collected on a home visit are flagged, and the agent cannot also check or review the case."""

from __future__ import annotations

import json
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from approvals.choices import AgentReason, ApplicationStatus, EventAction
from approvals.exceptions import NotPermitted
from approvals.hall.phones import phone_clean
from approvals.hall.services.agent import LIGHT_PREFIX, applicant_for_agent
from approvals.models import Application, ApplicationDocument
from approvals.services import document_add, step_accept, window_accept
from tests.factories import CHIBI_SITE, JIAYU_SITE, MembershipFactory, UserFactory, open_step, pdf, site_box, submit


def _agent_submit(users, *, applicant=None, agent="clerk_jiayu2", reason=AgentReason.ELDERLY_FRAIL, **kw):
    return submit(applicant or users["applicant"], agent=users[agent] if isinstance(agent, str) else agent, agent_reason=reason,
                  documents=False, **kw)


def _site_json(bbox=JIAYU_SITE) -> str:
    return site_box(*bbox).geojson


def test_agent_submit_records_agent_and_reason(users):
    app = _agent_submit(users, contact_phone="138 1234 5678")
    assert app.applicant == users["applicant"]
    assert app.agent == users["clerk_jiayu2"]
    assert app.agent_reason == AgentReason.ELDERLY_FRAIL
    assert app.contact_phone == "13812345678"
    event = app.events.get(action=EventAction.SUBMITTED)
    assert event.actor == users["clerk_jiayu2"]
    assert event.data == {"agent": "clerk_jiayu2", "agent_name": "张敏", "for": "applicant", "reason": "elderly_frail"}
    # the field history carries who did it
    assert app.history.first().pgh_context.metadata["user"] == users["clerk_jiayu2"].pk


def test_agent_needs_a_reason_and_a_covering_clerk(users):
    with pytest.raises(ValidationError):
        _agent_submit(users, reason="")
    with pytest.raises(ValidationError):
        _agent_submit(users, reason="because")
    chibi = UserFactory(username="clerk_chibi")
    MembershipFactory(user=chibi, role="clerk", division_id="421281")
    with pytest.raises(NotPermitted):
        _agent_submit(users, agent=chibi)  # a Jiayu site, a Chibi clerk
    assert _agent_submit(users, agent=chibi, bbox=CHIBI_SITE).agent == chibi
    for not_a_clerk in ("reviewer_jiayu", "planner", "applicant"):
        with pytest.raises(NotPermitted):
            _agent_submit(users, agent=not_a_clerk)
    # the city window covers the counties below it
    assert _agent_submit(users, agent="clerk_xianning").agent == users["clerk_xianning"]
    assert Application.objects.filter(agent=chibi).count() == 1


def test_the_agent_cannot_accept_or_review_but_another_clerk_can(users, client_as):
    reviewer_and_clerk = UserFactory(username="clerk_and_reviewer")
    MembershipFactory(user=reviewer_and_clerk, role="clerk", division_id="421221")
    MembershipFactory(user=reviewer_and_clerk, role="reviewer", division_id="421221")
    app = _agent_submit(users, agent=reviewer_and_clerk)
    for requirement in app.kind.required_documents.all():
        document_add(application=app, requirement=requirement, upload=pdf(), by=reviewer_and_clerk)
    with pytest.raises(NotPermitted):
        window_accept(application=app, by=reviewer_and_clerk)
    page = client_as("clerk_jiayu").get(f"/applications/{app.pk}/")
    assert 'id="window-accept"' in page.content.decode()
    window_accept(application=app, by=users["clerk_jiayu"])
    with pytest.raises(NotPermitted):
        step_accept(step=open_step(app), by=reviewer_and_clerk)
    app.refresh_from_db()
    assert app.status == ApplicationStatus.IN_REVIEW


def test_agent_cannot_window_accept_on_the_page(users, client_as):
    app = _agent_submit(users)
    for requirement in app.kind.required_documents.all():
        document_add(application=app, requirement=requirement, upload=pdf(), by=users["clerk_jiayu2"])
    agent = client_as("clerk_jiayu2")
    page = agent.get(f"/applications/{app.pk}/").content.decode()
    assert 'id="window-accept"' not in page
    assert agent.post(f"/applications/{app.pk}/act/", {"action": "window_accept"}).status_code == 403
    assert client_as("clerk_jiayu").post(f"/applications/{app.pk}/act/", {"action": "window_accept"}).status_code == 302


def test_home_visit_documents_are_flagged(users, client_as):
    app = _agent_submit(users)
    requirement = app.kind.required_documents.first()
    by_agent = document_add(application=app, requirement=requirement, upload=pdf(), by=users["clerk_jiayu2"])
    by_applicant = document_add(application=app, requirement=requirement, upload=pdf(), by=users["applicant"])
    assert by_agent.collected_on_visit is True
    assert by_applicant.collected_on_visit is False
    with pytest.raises(NotPermitted):  # another clerk is not the agent: the window does not upload for people
        document_add(application=app, requirement=requirement, upload=pdf(), by=users["clerk_jiayu"])
    page = client_as("applicant").get(f"/applications/{app.pk}/").content.decode()
    assert "Collected on a home visit" in page
    # the agent uploads through the page too
    response = client_as("clerk_jiayu2").post(f"/applications/{app.pk}/act/", {"action": "document", "requirement": requirement.pk,
                                                                             "file": pdf("上门.pdf")})
    assert response.status_code == 302
    assert ApplicationDocument.objects.filter(application=app, collected_on_visit=True).count() == 2


def test_timeline_shows_the_agent(users, client_as):
    app = _agent_submit(users)
    for name in ("applicant", "clerk_jiayu"):
        page = client_as(name).get(f"/applications/{app.pk}/").content.decode()
        assert "submitted by agent 张敏 for applicant" in page


def test_light_applicant_account(users):
    user = applicant_for_agent(by=users["clerk_jiayu2"], name="王大爷", phone="0715-6321234")
    assert user.username.startswith(LIGHT_PREFIX)
    assert not user.has_usable_password()
    assert user.first_name == "王大爷"
    assert user.memberships.get().role == "applicant"
    app = _agent_submit(users, applicant=user, reason=AgentReason.MIGRANT_WORKER, contact_phone="0715-6321234")
    assert app.applicant == user
    assert applicant_for_agent(by=users["clerk_jiayu2"], username="applicant") == users["applicant"]


def test_applicant_for_agent_refusals(users):
    with pytest.raises(NotPermitted):
        applicant_for_agent(by=users["applicant"], name="某人", phone="13812345678")
    with pytest.raises(NotPermitted):
        applicant_for_agent(by=users["reviewer_jiayu"], username="applicant")
    for kwargs in ({"username": "clerk_jiayu"}, {"username": "no-such-user"}, {"username": "admin"}, {"username": "clerk_jiayu2"},
                   {}, {"name": "某人"}, {"name": "某人", "phone": "12345"}, {"name": "长" * 31, "phone": "13812345678"},
                   {"name": "a\nb", "phone": "13812345678"}):
        with pytest.raises(ValidationError):
            applicant_for_agent(by=users["clerk_jiayu2"], **kwargs)
    assert not get_user_model().objects.filter(username__startswith=LIGHT_PREFIX).exists()


@pytest.mark.parametrize(("raw", "clean"), [("13812345678", "13812345678"), ("+86 138-1234-5678", "13812345678"),
                                            ("0715-6321234", "0715-6321234"), ("027 87654321", "027-87654321"), ("", "")])
def test_phone_clean(raw, clean):
    assert phone_clean(raw) == clean


@pytest.mark.parametrize("raw", ["12345", "23812345678", "<script>", "0715-123", "1" * 200, "138123456789", "phone"])
def test_phone_clean_refuses(raw):
    with pytest.raises(ValidationError):
        phone_clean(raw)


# --- the new-application page ----------------------------------------------------------------

def _form(**extra) -> dict:
    return {"title": "代办厂房", "kind": "construction_land", "purpose": "工业用地", "site_geojson": _site_json(),
            "submission_token": str(uuid.uuid4()), **extra}


def test_on_behalf_fieldset_is_for_clerks_only(client_as):
    assert 'id="on-behalf"' in client_as("clerk_jiayu2").get("/applications/new/").content.decode()
    for name in ("applicant", "reviewer_jiayu", "planner"):
        page = client_as(name).get("/applications/new/").content.decode()
        assert 'id="on-behalf"' not in page
        assert 'name="contact_phone"' in page


def test_clerk_submits_for_an_existing_applicant_on_the_page(users, client_as):
    response = client_as("clerk_jiayu2").post("/applications/new/", _form(on_behalf_username="applicant", agent_reason="remote_village",
                                                                           contact_phone="13900001111"))
    assert response.status_code == 302
    app = Application.objects.get(title="代办厂房")
    assert (app.applicant, app.agent, app.agent_reason, app.contact_phone) == (users["applicant"], users["clerk_jiayu2"], "remote_village", "13900001111")


def test_clerk_creates_a_light_applicant_on_the_page_once(users, client_as):
    data = _form(on_behalf_name="李奶奶", on_behalf_phone="13700002222", agent_reason="elderly_frail")
    clerk = client_as("clerk_jiayu2")
    assert clerk.post("/applications/new/", data).status_code == 302
    assert clerk.post("/applications/new/", data).status_code == 302  # the same form again: no second account, no second case
    app = Application.objects.get(title="代办厂房")
    assert app.applicant.first_name == "李奶奶"
    assert app.contact_phone == "13700002222"
    assert get_user_model().objects.filter(username__startswith=LIGHT_PREFIX).count() == 1


def test_applicant_posting_agent_fields_is_ignored(users, client_as):
    response = client_as("applicant").post("/applications/new/", _form(on_behalf_username="planner", agent_reason="other"))
    assert response.status_code == 302
    app = Application.objects.get(title="代办厂房")
    assert app.applicant == users["applicant"]
    assert app.agent is None


def test_other_county_clerk_cannot_act_as_agent_on_the_page(users, client_as):
    chibi = UserFactory(username="clerk_chibi")
    MembershipFactory(user=chibi, role="clerk", division_id="421281")
    users["clerk_chibi"] = chibi
    response = client_as("clerk_chibi").post("/applications/new/", _form(on_behalf_username="applicant", agent_reason="other"))
    assert response.status_code == 400
    assert "jurisdiction covers the site" in response.content.decode()
    assert not Application.objects.exists()


@pytest.mark.parametrize("extra", [
    {"on_behalf_username": "applicant"},  # no reason
    {"on_behalf_username": "applicant", "agent_reason": "bogus"},
    {"on_behalf_username": "applicant", "on_behalf_name": "某人", "agent_reason": "other"},
    {"on_behalf_name": "某人", "agent_reason": "other"},  # no phone
    {"on_behalf_name": "某人", "on_behalf_phone": "<script>alert(1)</script>", "agent_reason": "other"},
    {"on_behalf_name": "长" * 500, "on_behalf_phone": "13812345678", "agent_reason": "other"},
    {"on_behalf_username": "clerk_jiayu", "agent_reason": "other"},  # staff cannot be represented
    {"on_behalf_username": "x" * 5000, "agent_reason": "other"},
    {"agent_reason": "other"},
    {"contact_phone": "not a phone"},
    {"contact_phone": json.dumps({"a": 1})},
])
def test_hostile_agent_inputs_are_400(users, client_as, extra):
    response = client_as("clerk_jiayu2").post("/applications/new/", _form(**extra))
    assert response.status_code == 400
    assert "<script>alert(1)" not in response.content.decode()
    assert not Application.objects.exists()
    assert not get_user_model().objects.filter(username__startswith=LIGHT_PREFIX).exists()


def test_the_agent_corrects_a_returned_case(users, client_as):
    from approvals.services import application_resubmit, window_return

    light = applicant_for_agent(by=users["clerk_jiayu2"], name="赵大妈", phone="13600003333")
    app = _agent_submit(users, applicant=light)
    window_return(application=app, by=users["clerk_jiayu"], reasons=["缺少身份证复印件"])
    page = client_as("clerk_jiayu2").get(f"/applications/{app.pk}/").content.decode()
    assert 'id="applicant-actions"' in page
    with pytest.raises(NotPermitted):  # another clerk does not correct other people's cases
        application_resubmit(application=app, by=users["clerk_jiayu"], title="改")
    application_resubmit(application=app, by=users["clerk_jiayu2"], title="补正后")
    app.refresh_from_db()
    assert (app.status, app.title, app.applicant) == (ApplicationStatus.SUBMITTED, "补正后", light)


@pytest.mark.parametrize(("username", "sees"), [
    # reviewer_xianning: the case has not reached the city, so the page is 404 to them
    ("applicant", True), ("clerk_jiayu", True), ("reviewer_jiayu", True), ("reviewer_xianning", False),
    ("planner", False), ("dept_jiayu", False), ("caller_hubei", False), ("reviewer_chibi", False),
])
def test_contact_phone_only_to_the_applicant_and_staff_acting_on_the_land(users, client_as, username, sees):
    app = window_accept(application=submit(users["applicant"], contact_phone="13912345678"), by=users["clerk_jiayu"])
    response = client_as(username).get(f"/applications/{app.pk}/")
    assert response.status_code in (200, 404)
    assert (b"13912345678" in response.content) is sees
