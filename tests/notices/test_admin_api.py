"""The rule is the administrator's (add, change, refuse out-of-range days); notices and objections
are read-only in the admin; the JSON API's final approval gets the same hold (409) as the page."""

from __future__ import annotations

import json

import pytest
import time_machine
from django.urls import reverse

from approvals.notices.models import Notice, NoticeRule, Objection
from approvals.notices.services import notice_publish, objection_lodge
from tests.notices.helpers import PUBLISHED, homestead_at_last_level, last_reviewer


def test_admin_adds_and_edits_a_rule(client, users):
    client.force_login(users["admin"])
    add = reverse("admin:notices_noticerule_add")
    assert client.post(add, {"kind": "rural_homestead", "days": "31", "active": "on"}).status_code == 200  # refused: 1–30
    assert NoticeRule.objects.count() == 0
    assert client.post(add, {"kind": "rural_homestead", "days": "5", "active": "on"}).status_code == 302
    change = reverse("admin:notices_noticerule_change", args=["rural_homestead"])
    assert client.post(change, {"kind": "rural_homestead", "days": "10", "active": "on"}).status_code == 302
    assert NoticeRule.objects.get().days == 10


def test_notices_and_objections_are_read_only_in_the_admin(client, users):
    NoticeRule.objects.create(kind_id="rural_homestead", days=5)
    app = homestead_at_last_level(users)
    with time_machine.travel(PUBLISHED, tick=False):
        notice = notice_publish(application=app, by=last_reviewer(app))
        objection = objection_lodge(notice=notice, text="异议")
    client.force_login(users["admin"])
    assert client.get(reverse("admin:notices_notice_changelist")).status_code == 200
    assert client.get(reverse("admin:notices_objection_change", args=[objection.pk])).status_code == 200
    assert client.post(reverse("admin:notices_notice_delete", args=[notice.pk]), {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:notices_objection_add")).status_code == 403
    assert (Notice.objects.count(), Objection.objects.count()) == (1, 1)


def test_api_final_approval_is_held(client_as, users):
    NoticeRule.objects.create(kind_id="rural_homestead", days=5)
    app = homestead_at_last_level(users)
    reviewer = last_reviewer(app)
    client = client_as(reviewer.username) if reviewer.username in users else None
    if client is None:
        pytest.skip("the last level's reviewer is not a demo account")
    response = client.post(f"/api/applications/{app.pk}/actions/", json.dumps({"action": "decide", "outcome": "approved", "comment": "同意"}),
                           content_type="application/json")
    assert response.status_code == 409
    assert "needs a public notice before final approval" in response.content.decode()
