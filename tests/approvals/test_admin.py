"""Kinds are data: an administrator edits a kind's limits and route in the admin, and the next
acceptance uses them. Applications and steps are read-only there (the workflow writes them)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from approvals.models import ApplicationKind
from approvals.services import window_accept
from tests.factories import open_step, submit

pytestmark = pytest.mark.django_db


def test_admin_edits_a_kinds_limits_and_acceptance_uses_them(client, users):
    client.force_login(users["admin"])
    assert client.get(reverse("admin:approvals_applicationkind_changelist")).status_code == 200
    kind = ApplicationKind.objects.get(code="rural_homestead")
    url = reverse("admin:approvals_applicationkind_change", args=[kind.pk])
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {k: ("" if v is None else v) for k, v in form.initial.items()}
    data.update({"name": kind.name, "name_en": kind.name_en, "statutory_days": "20", "promised_days": "5", "green_promised_days": "2", "active": "on", "sort_order": "20"})
    for prefix, inline in (("route", kind.route.all()), ("required_documents", kind.required_documents.all())):
        data.update({f"{prefix}-TOTAL_FORMS": str(len(inline)), f"{prefix}-INITIAL_FORMS": str(len(inline)), f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"})
        for i, obj in enumerate(inline):
            data[f"{prefix}-{i}-id"] = obj.pk
            data[f"{prefix}-{i}-kind"] = kind.pk
            if prefix == "route":
                # The station's step gets no days: a site outside every station starts at the county,
                # which then also has the station's days (docs/domain.md, "Levels and routing").
                days, green = ("0", "0") if obj.level == "station" else ("5", "2")
                data.update({f"{prefix}-{i}-order": obj.order, f"{prefix}-{i}-level": obj.level, f"{prefix}-{i}-days": days, f"{prefix}-{i}-green_days": green})
            else:
                data.update({f"{prefix}-{i}-code": obj.code, f"{prefix}-{i}-name": obj.name, f"{prefix}-{i}-name_en": obj.name_en})
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    kind.refresh_from_db()
    assert (kind.promised_days, kind.route.get(level="county").days) == (Decimal("5"), Decimal("5"))
    app = submit(users["applicant"], code="rural_homestead")
    app = window_accept(application=app, by=users["clerk_jiayu"])
    [step] = app.steps.all()
    from approvals.workdays import WorkdayCalendar

    assert step.due_at == WorkdayCalendar().add_working_days(step.opened_at, 5)
    assert open_step(app) == step


def test_admin_refuses_a_promise_beyond_the_statute(client, users):
    client.force_login(users["admin"])
    kind = ApplicationKind.objects.get(code="construction_land")
    kind.promised_days = Decimal("50")
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        kind.full_clean()


def test_applications_are_read_only_in_the_admin(client, users):
    app = submit(users["applicant"])
    client.force_login(users["admin"])
    assert client.get(reverse("admin:approvals_application_change", args=[app.pk])).status_code == 200
    assert client.post(reverse("admin:approvals_application_delete", args=[app.pk]), {"post": "yes"}).status_code == 403


def test_notify_due_command_runs(users, capsys):
    call_command("notify_due")
    assert "notices sent: 0" in capsys.readouterr().out


def test_steps_and_their_department_tasks_are_read_only_in_the_admin(client, users):
    from approvals.services import tasks_assign
    from tests.factories import department

    app = submit(users["applicant"])
    window_accept(application=app, by=users["clerk_jiayu"])
    step = open_step(app)
    tasks_assign(step=step, by=users["reviewer_jiayu"], lead=department("421221", "耕地保护股"), cooperating=[], days=Decimal("2"))
    client.force_login(users["admin"])
    page = client.get(reverse("admin:approvals_reviewstep_change", args=[step.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "耕地保护股" in html
    assert 'name="tasks-0-opinion"' not in html  # shown, not editable
    assert client.post(reverse("admin:approvals_reviewstep_delete", args=[step.pk]), {"post": "yes"}).status_code == 403


@pytest.mark.parametrize("model", ["approvals_reviewstep", "registry_certificate", "registry_parcelchange", "registry_right",
                                   "registry_cadastralarea", "notices_notice", "notices_objection"])
def test_read_only_admins_list_but_refuse_adding(client, users, model):
    """One ReadOnlyAdmin (approvals/admin.py) serves the workflow, the register and the notices."""
    client.force_login(users["admin"])
    assert client.get(reverse(f"admin:{model}_changelist")).status_code == 200
    assert client.get(reverse(f"admin:{model}_add")).status_code == 403
