"""The in-app inbox: due-soon and overdue notices (run by the `notify_due` command) and reading."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from approvals.choices import NotificationKind, Role
from approvals.clocks import step_clock, task_clock
from approvals.models import DepartmentTask, Notification, ReviewStep
from approvals.services.common import notify, route_step, users_with
from approvals.workdays import WorkdayCalendar


@transaction.atomic
def notify_due(*, now=None) -> int:
    """Sends one due-soon notice (≤ 1 working day left) and one overdue notice per open step and
    unanswered task to the people who hold it. Idempotent: run it as often as you like."""
    now = now or timezone.now()
    cal = WorkdayCalendar()
    sent = 0
    for step in ReviewStep.objects.filter(closed_at__isnull=True).select_related("application__kind", "application__division", "division"):
        spec = route_step(step.application, step.level)
        clock = step_clock(cal=cal, step=step, limit=spec.limit(green=step.application.green_channel), now=now)
        kind = NotificationKind.OVERDUE if clock.overdue else NotificationKind.DUE_SOON if clock.due_soon else None
        if kind:
            sent += notify(users=users_with(role=Role.REVIEWER, division=step.division), application=step.application,
                           kind=kind, data={"level": step.level, "due": step.due_at.isoformat()},
                           dedupe_key=f"{kind}:step:{step.pk}")
    for task in DepartmentTask.objects.filter(answered_at__isnull=True, step__closed_at__isnull=True).select_related("step__application", "department"):
        clock = task_clock(cal=cal, task=task, now=now)
        kind = NotificationKind.OVERDUE if clock.overdue else NotificationKind.DUE_SOON if clock.due_soon else None
        if kind:
            sent += notify(users=users_with(role=Role.DEPARTMENT_REVIEWER, department_id=task.department_id),
                           application=task.step.application, kind=kind,
                           data={"level": task.step.level, "department": task.department.name, "due": task.due_at.isoformat()},
                           dedupe_key=f"{kind}:task:{task.pk}")
    return sent


@transaction.atomic
def notifications_mark_read(*, user: AbstractBaseUser, ids: list[int] | None = None) -> int:
    """Marks the user's notifications read (all unread ones when `ids` is None); others' are untouched."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())
