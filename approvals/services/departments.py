"""Parallel approval (并联审批): one lead department and cooperating departments of the reviewing
level, each with its own due date; the lead's answer is the consolidated opinion."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from approvals.choices import EventAction, NotificationKind, Role, StepState, TaskRole
from approvals.exceptions import StateConflict
from approvals.models import Department, DepartmentTask, ReviewStep
from approvals.permissions import require
from approvals.services.common import history, locked, notify, record, users_with
from approvals.services.review import _locked_step
from approvals.workdays import WorkdayCalendar


@transaction.atomic
def tasks_assign(*, step: ReviewStep, by: AbstractBaseUser, lead: Department, cooperating: list[Department],
                 days: Decimal, lead_days: Decimal | None = None, ip: str | None = None) -> list[DepartmentTask]:
    """The level reviewer hands the accepted step to departments of the same division: the
    cooperating ones due in `days` working days, the lead in `lead_days` (default: `days` + 1, so it
    has a day to consolidate). One assignment per step."""
    if lead in cooperating:
        raise ValidationError(_("The lead department cannot also be a cooperating one."), code="lead_cooperating")
    lead_days = days + 1 if lead_days is None else lead_days
    if lead_days < days:
        raise ValidationError(_("The lead department's limit cannot end before the cooperating departments'."), code="lead_days")
    with history(by=by, ip=ip, action=EventAction.TASKS_ASSIGNED):
        app, step = _locked_step(step, by, (StepState.ACCEPTED,))
        for department in (lead, *cooperating):
            if department.division_id != step.division_id:
                raise ValidationError(_("%(department)s is not a department of %(division)s.")
                                      % {"department": department.label, "division": step.division.name}, code="other_division")
        if step.tasks.exists():
            raise StateConflict(_("Departments are already assigned at this level."))
        now = timezone.now()
        cal = WorkdayCalendar()
        tasks = []
        for department, role, limit in [(lead, TaskRole.LEAD, lead_days), *[(d, TaskRole.COOPERATING, days) for d in cooperating]]:
            task = DepartmentTask(step=step, department=department, role=role, assigned_at=now, assigned_by=by,
                                  due_at=cal.add_working_days(now, limit))
            task.full_clean()
            task.save()
            tasks.append(task)
            notify(users=users_with(role=Role.DEPARTMENT_REVIEWER, department_id=department.pk), application=app,
                   kind=NotificationKind.NEW_TASK, data={"level": step.level, "department": department.name, "role": role})
        record(application=app, by=by, action=EventAction.TASKS_ASSIGNED, ip=ip, before=app.status,
               data={"level": step.level, "lead": lead.name, "cooperating": [d.name for d in cooperating],
                     "days": str(days), "lead_days": str(lead_days)})
        return tasks


@transaction.atomic
def task_answer(*, task: DepartmentTask, by: AbstractBaseUser, opinion: str, agrees: bool, ip: str | None = None) -> DepartmentTask:
    """A department gives its opinion. The lead's is the consolidation: it can be given once every
    cooperating department has answered or is past due (then flagged escalated)."""
    require(by, "approvals.answer_task", task)
    if not opinion.strip():
        raise ValidationError(_("An opinion cannot be empty."), code="opinion_required")
    action = EventAction.CONSOLIDATED if task.role == TaskRole.LEAD else EventAction.OPINION
    with history(by=by, ip=ip, action=action):
        app = locked(task.step.application)
        task = DepartmentTask.objects.select_related("step", "department").get(pk=task.pk)
        if task.step.closed_at is not None or task.answered_at is not None:
            raise StateConflict(_("This opinion is no longer awaited; your action was not applied."))
        now = timezone.now()
        if task.role == TaskRole.LEAD:
            waiting = []
            for other in task.step.tasks.filter(role=TaskRole.COOPERATING, answered_at__isnull=True).select_related("department"):
                if other.due_at < now:
                    other.escalated = True
                    other.full_clean()
                    other.save()
                else:
                    waiting.append(other.department.label)
            if waiting:
                raise StateConflict(_("Waiting for the opinions of: %(departments)s.") % {"departments": ", ".join(waiting)})
        task.opinion, task.agrees, task.answered_at, task.answered_by = opinion.strip(), agrees, now, by
        task.full_clean()
        task.save()
        record(application=app, by=by, action=action, ip=ip, before=app.status, comment=task.opinion,
               data={"level": task.step.level, "department": task.department.name, "agrees": agrees})
        recipients = (users_with(role=Role.REVIEWER, division=task.step.division) if task.role == TaskRole.LEAD
                      else [m for t in task.step.tasks.filter(role=TaskRole.LEAD)
                            for m in users_with(role=Role.DEPARTMENT_REVIEWER, department_id=t.department_id)])
        notify(users=recipients, application=app, kind=NotificationKind.NEW_TASK,
               data={"level": task.step.level, "department": task.department.name, "opinion": True})
        return task
