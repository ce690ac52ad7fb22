"""The review decision menu offers only outcomes the service accepts at that level: a station's head
forwards (no final approval), the route's last level approves or rejects (no forward)."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from approvals.services import step_accept, step_decide, window_accept
from data import demo
from maps.forms import DecisionForm
from tests.factories import JIAYU_SITE, open_step, submit

pytestmark = pytest.mark.django_db


def _outcomes(html: str) -> list[str]:
    select = re.search(r'<select name="outcome"[^>]*>(.*?)</select>', html, re.S)
    assert select is not None
    return re.findall(r'<option value="([a-z]+)"', select.group(1))


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_station_then_county_menus(users):
    demo.load_stations()
    demo.load_accounts()
    staff = {u.username: u for u in get_user_model().objects.all()}
    app = submit(staff["applicant"], code="rural_homestead", bbox=JIAYU_SITE, title="宅基地建房")
    app = window_accept(application=app, by=staff["clerk_yuyue"])
    station = _client(staff["reviewer_yuyue"]).get(f"/applications/{app.pk}/").content.decode()
    assert _outcomes(station) == ["forwarded", "rejected"]
    app = step_decide(step=open_step(app), by=staff["reviewer_yuyue"], outcome="forwarded", comment="同意上报")
    step_accept(step=open_step(app), by=staff["reviewer_jiayu"])
    county = _client(staff["reviewer_jiayu"]).get(f"/applications/{app.pk}/").content.decode()
    assert _outcomes(county) == ["approved", "rejected"]


def test_unbound_choice_keeps_every_outcome_for_parsing():
    assert [c[0] for c in DecisionForm().fields["outcome"].choices] == ["forwarded", "approved", "rejected"]
    assert DecisionForm({"outcome": "forwarded"}, last_level=True).is_valid() is False


def test_agent_is_told_why_it_cannot_accept(users):
    staff = {u.username: u for u in get_user_model().objects.all()}
    app = submit(staff["applicant"], code="registration", title="代办登记", agent=staff["clerk_jiayu"], agent_reason="elderly_frail")
    agent_page = _client(staff["clerk_jiayu"]).get(f"/applications/{app.pk}/").content.decode()
    other_page = _client(staff["clerk_jiayu2"]).get(f"/applications/{app.pk}/").content.decode()
    assert 'id="agent-four-eyes"' in agent_page
    assert 'id="window-accept"' not in agent_page
    assert 'id="agent-four-eyes"' not in other_page
    assert 'id="window-accept"' in other_page
