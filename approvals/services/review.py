"""Upward submission (逐级上报): what a receiving level does with the step at its division.

Transitions of a step (one per level the application passes through):
  pending  --presign-->  presigned  --accept--> accepted  --decide--> closed (forwarded | approved | rejected)
  pending/presigned  --accept--> accepted
  any open state  --return--> closed (returned_down: re-opened at the level below, accepted;
                                      returned_applicant: at the first level, back to the applicant)
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from approvals.choices import (
    ApplicationStatus,
    EventAction,
    NotificationKind,
    Role,
    StepOutcome,
    StepState,
    TaskRole,
)
from approvals.clocks import application_deadlines
from approvals.exceptions import DataCheckFailed, StateConflict
from approvals.models import Application, ReviewStep
from approvals.permissions import require
from approvals.services.common import history, locked, notify, record, route, route_step, users_with
from approvals.services.window import clean_reasons, data_check, failures, step_open
from approvals.workdays import WorkdayCalendar

DECISIONS = {
    StepOutcome.FORWARDED: EventAction.FORWARDED,
    StepOutcome.APPROVED: EventAction.APPROVED,
    StepOutcome.REJECTED: EventAction.REJECTED,
}


def _locked_step(step: ReviewStep, by: AbstractBaseUser, states: tuple[str, ...]) -> tuple[Application, ReviewStep]:
    """Locks the application, then checks the step is still its open step in one of `states`."""
    require(by, "approvals.review_step", step)
    app = locked(step.application)
    current = ReviewStep.objects.select_related("division").get(pk=step.pk)
    if current.closed_at is not None or current.state not in states:
        raise StateConflict(
            _("This step is already %(state)s; your action was not applied.") % {"state": current.get_state_display()}
        )
    return app, current


@transaction.atomic
def step_presign(*, step: ReviewStep, by: AbstractBaseUser, ip: str | None = None) -> ReviewStep:
    """Pre-sign (预签收): the level confirms receipt before its data check; the step's clock runs on."""
    with history(by=by, ip=ip, action=EventAction.PRESIGNED):
        app, step = _locked_step(step, by, (StepState.PENDING,))
        step.state = StepState.PRESIGNED
        step.presigned_at = timezone.now()
        step.full_clean()
        step.save()
        record(application=app, by=by, action=EventAction.PRESIGNED, ip=ip, before=app.status, data={"level": step.level, "step": step.number})
        return step


@transaction.atomic
def step_accept(*, step: ReviewStep, by: AbstractBaseUser, ip: str | None = None) -> ReviewStep:
    """Accept at this level (接收): the level's data check must pass (else return it down)."""
    with history(by=by, ip=ip, action=EventAction.ACCEPTED):
        app, step = _locked_step(step, by, (StepState.PENDING, StepState.PRESIGNED))
        failed = failures(data_check(application=app, division=step.division))
        if failed:
            raise DataCheckFailed(failed)
        step.state = StepState.ACCEPTED
        step.accepted_at = timezone.now()
        step.full_clean()
        step.save()
        record(application=app, by=by, action=EventAction.ACCEPTED, ip=ip, before=app.status, data={"level": step.level, "step": step.number})
        return step


# Fields a receiving level may correct (recorded with before/after; the site stays the applicant's).
MODIFIABLE_FIELDS = ("title", "purpose", "green_channel")


@transaction.atomic
def step_modify(*, step: ReviewStep, by: AbstractBaseUser, changes: dict, ip: str | None = None) -> Application:
    """The reviewing level corrects the application's fields (修改); every change is recorded."""
    unknown = set(changes) - set(MODIFIABLE_FIELDS)
    if unknown:
        raise ValidationError(_("These fields cannot be modified: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    with history(by=by, ip=ip, action=EventAction.MODIFIED):
        app, step = _locked_step(step, by, (StepState.PRESIGNED, StepState.ACCEPTED))
        changed = {}
        for field, value in changes.items():
            if getattr(app, field) != value:
                changed[field] = {"before": getattr(app, field), "after": value}
                setattr(app, field, value)
        if not changed:
            return app
        if "green_channel" in changed:
            # the green channel has its own (shorter) limits: move the deadlines with it
            cal = WorkdayCalendar()
            app.statutory_due, app.promised_due = application_deadlines(cal=cal, application=app)
            step.due_at = cal.add_working_days(step.opened_at, route_step(app, step.level).limit(green=app.green_channel))
            step.full_clean()
            step.save()
            changed["promised_due"] = {"after": app.promised_due.isoformat()}
        app.full_clean()
        app.save()
        record(application=app, by=by, action=EventAction.MODIFIED, ip=ip, before=app.status,
               data={"level": step.level, "step": step.number, "changed": changed})
        return app


@transaction.atomic
def step_return(*, step: ReviewStep, by: AbstractBaseUser, reasons: list[str], ip: str | None = None) -> Application:
    """Return (退返) with itemised reasons: to the level below, which takes it back into its own review;
    from the first level, to the applicant for correction (the clock pauses)."""
    kept = clean_reasons(reasons)
    with history(by=by, ip=ip, action=EventAction.RETURNED_DOWN):
        app, step = _locked_step(step, by, (StepState.PENDING, StepState.PRESIGNED, StepState.ACCEPTED))
        now = timezone.now()
        levels = [r.level for r in route(app)]
        below = levels[levels.index(step.level) - 1] if levels.index(step.level) > 0 else None
        step.state = StepState.CLOSED
        step.closed_at, step.closed_by = now, by
        step.outcome = StepOutcome.RETURNED_DOWN if below else StepOutcome.RETURNED_APPLICANT
        step.comment = "\n".join(kept)
        step.full_clean()
        step.save()
        before = app.status
        if below:
            lower = step_open(application=app, level=below, state=StepState.ACCEPTED, now=now, cal=WorkdayCalendar())
            app.current_level = below
            app.full_clean()
            app.save()
            record(application=app, by=by, action=EventAction.RETURNED_DOWN, ip=ip, before=before, comment=step.comment,
                   data={"level": step.level, "to_level": below, "reasons": kept})
            notify(users=users_with(role=Role.REVIEWER, division=lower.division), application=app, kind=NotificationKind.RETURNED,
                   data={"level": step.level, "reasons": kept})
        else:
            app.status = ApplicationStatus.RETURNED
            app.paused_since = now
            app.full_clean()
            app.save()
            record(application=app, by=by, action=EventAction.RETURNED, ip=ip, before=before, comment=step.comment,
                   data={"level": step.level, "reasons": kept})
            notify(users=[app.applicant], application=app, kind=NotificationKind.RETURNED, data={"reasons": kept})
        return app


def _departments_gate(step: ReviewStep, now) -> list[str]:
    """Departments whose opinion is still awaited and not yet past due (the level must wait for
    them). Past-due unanswered tasks are flagged escalated here, and the level may go on."""
    waiting = []
    for task in step.tasks.select_related("department").select_for_update(of=("self",)):
        if task.answered_at is not None:
            continue
        if task.due_at < now:
            if not task.escalated:
                task.escalated = True
                task.full_clean()
                task.save()
            continue
        waiting.append(task.department.label)
    return waiting


@transaction.atomic
def step_decide(*, step: ReviewStep, by: AbstractBaseUser, outcome: str, comment: str = "", ip: str | None = None) -> Application:
    """End this level's review: approve and forward to the next level of the route, give final
    approval (only the route's last level), or reject (a comment saying why is required). Waits
    until every department has answered or is past due (escalated)."""
    if outcome not in DECISIONS:
        raise ValidationError(_("Unknown decision."), code="bad_outcome")
    if outcome == StepOutcome.REJECTED and not comment.strip():
        raise ValidationError(_("A rejection needs a comment saying why."), code="comment_required")
    with history(by=by, ip=ip, action=DECISIONS[outcome]):
        app, step = _locked_step(step, by, (StepState.ACCEPTED,))
        now = timezone.now()
        waiting = _departments_gate(step, now)
        if waiting:
            raise StateConflict(_("Waiting for the opinions of: %(departments)s.") % {"departments": ", ".join(waiting)})
        lead = step.tasks.filter(role=TaskRole.LEAD).first()
        levels = [r.level for r in route(app)]
        above = levels[levels.index(step.level) + 1] if levels.index(step.level) + 1 < len(levels) else None
        if outcome == StepOutcome.FORWARDED and above is None:
            raise StateConflict(_("This is the last level of the route: give final approval or reject."))
        if outcome == StepOutcome.APPROVED and above is not None:
            raise StateConflict(_("Final approval belongs to the last level of the route; approve and forward instead."))
        if outcome == StepOutcome.APPROVED:
            # Public notice (approvals/notices): approval waits for the notice and every objection's
            # answer; a rejection does not (it grants nothing the public could object to).
            from approvals.notices.selectors import decision_hold  # the notices app imports the services

            if hold := decision_hold(application=app, now=now):
                raise StateConflict(hold)
        step.state = StepState.CLOSED
        step.closed_at, step.closed_by, step.outcome, step.comment = now, by, outcome, comment
        step.full_clean()
        step.save()
        before = app.status
        data = {"level": step.level, "step": step.number,
                "escalated": list(step.tasks.filter(escalated=True).values_list("department__name", flat=True)),
                "lead_opinion": lead.opinion if lead else ""}
        if outcome == StepOutcome.FORWARDED:
            nxt = step_open(application=app, level=above, state=StepState.PENDING, now=now, cal=WorkdayCalendar())
            app.current_level = above
            data["to_level"] = above
            recipients, kind = users_with(role=Role.REVIEWER, division=nxt.division), NotificationKind.NEW_TASK
        else:
            app.status = ApplicationStatus.APPROVED if outcome == StepOutcome.APPROVED else ApplicationStatus.REJECTED
            app.decided_at = now
            recipients, kind = [app.applicant], NotificationKind.DECIDED
        app.full_clean()
        app.save()
        record(application=app, by=by, action=DECISIONS[outcome], ip=ip, before=before, comment=comment, data=data)
        if outcome != StepOutcome.FORWARDED:
            # The decision paper (审批决定书, approvals.issued), in this transaction: no decision without it.
            from approvals.issued.services import decision_issue

            decision_issue(application=app, by=by)
        notify(users=recipients, application=app, kind=kind, data={"level": step.level, "outcome": outcome})
        return app
