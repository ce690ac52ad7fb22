"""Workflow actions need a real role and jurisdiction: Django's superuser shortcut (every
`has_perm` is True) must not let the administrator accept, review, decide or answer for a
division. The administrator still sees everything and keeps the admin, which is audited."""

from __future__ import annotations

import pytest
from django.urls import reverse

from approvals.exceptions import NotPermitted
from approvals.models import ApplicationEvent, Membership
from approvals.services import step_presign, task_answer, tasks_assign, window_accept
from tests.factories import department, open_step, submit

pytestmark = pytest.mark.django_db


def api(client, app, **data):
    return client.post(reverse("api-application-action", args=[app.pk]), data, content_type="application/json")


def test_superuser_without_the_clerk_role_cannot_accept_at_the_window(users, client_as):
    admin = users["admin"]
    assert admin.is_superuser
    app = submit(users["applicant"])
    events = ApplicationEvent.objects.count()
    with pytest.raises(NotPermitted):
        window_accept(application=app, by=admin)
    # the page: no accept button, and the action itself is 403
    client = client_as("admin")
    page = client.get(reverse("application-detail", args=[app.pk]))
    assert page.status_code == 200  # the administrator still sees every application
    assert 'id="window-accept"' not in page.content.decode()
    assert client.post(reverse("application-act", args=[app.pk]), {"action": "window_accept"}).status_code == 403
    assert client.post(reverse("application-act", args=[app.pk]), {"action": "window_return", "reasons": "x"}).status_code == 403
    # the API: 403 as well
    assert api(client, app, action="window_accept").status_code == 403
    app.refresh_from_db()
    assert app.status == "submitted"
    assert ApplicationEvent.objects.count() == events


def test_superuser_cannot_act_at_a_level_or_answer_for_a_department(users, client_as):
    admin = users["admin"]
    app = submit(users["applicant"])
    window_accept(application=app, by=users["clerk_jiayu"])
    step = open_step(app)
    with pytest.raises(NotPermitted):
        step_presign(step=step, by=admin)
    client = client_as("admin")
    for data in ({"action": "presign"}, {"action": "accept"}, {"action": "decide", "outcome": "forwarded", "comment": "x"},
                 {"action": "return", "reasons": "x"}, {"action": "modify", "title": "改名", "purpose": "x"}):
        assert api(client, app, **data).status_code == 403, data
        assert client.post(reverse("application-act", args=[app.pk]), data).status_code == 403, data
    lead = department("421221", "耕地保护股")
    tasks_assign(step=step, by=users["reviewer_jiayu"], lead=lead, cooperating=[], days=2)
    task = step.tasks.get()
    with pytest.raises(NotPermitted):
        task_answer(task=task, by=admin, opinion="代答", agrees=True)
    assert api(client, app, action="opinion", task=task.pk, agrees=True, opinion="代答").status_code == 403
    task.refresh_from_db()
    assert not task.answered
    # the reviewer's page shows the level's actions; the administrator's does not
    assert 'name="action" value="presign"' not in client.get(reverse("application-detail", args=[app.pk])).content.decode()


def test_superuser_with_a_real_membership_acts_and_keeps_the_admin(users, client_as):
    admin = users["admin"]
    app = submit(users["applicant"])
    # the admin remains the superuser's tool (its changes are recorded by pghistory)
    client = client_as("admin")
    assert client.get(reverse("admin:approvals_application_change", args=[app.pk])).status_code == 200
    # a real clerk membership in the right jurisdiction is what the action needs
    Membership.objects.create(user=admin, role="clerk", division_id="421221")
    assert api(client, app, action="window_accept").status_code == 200
    app.refresh_from_db()
    assert app.status == "in_review"
