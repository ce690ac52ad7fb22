"""One-window acceptance (一窗受理): the clerk's data check, acceptance and itemised returns."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from approvals.choices import ApplicationStatus, EventAction, NotificationKind, Role, StepState
from approvals.clocks import application_deadlines
from approvals.exceptions import DataCheckFailed, StateConflict
from approvals.hall.choices import ReceiptKind, ServiceKind
from approvals.hall.services.events import service_event_record
from approvals.hall.services.receipts import receipt_issue
from approvals.models import Application, ReviewStep
from approvals.permissions import require
from approvals.services.common import division_at, history, locked, notify, record, route, users_with
from approvals.workdays import WorkdayCalendar
from parcels.models import Division


@dataclass(frozen=True)
class CheckItem:
    """One line of a data check: what was checked, whether it passed, and the detail."""

    code: str
    label: str
    ok: bool
    detail: str = ""


def data_check(*, application: Application, division: Division | None = None) -> list[CheckItem]:
    """The data check of an application, as the window (or the receiving level's `division`) runs it:
    each required document present, the site a valid geometry inside the jurisdiction, an overlap
    report present. Reads only."""
    items: list[CheckItem] = []
    have = set(application.documents.values_list("requirement_id", flat=True))
    for requirement in application.kind.required_documents.all():
        items.append(CheckItem(f"document:{requirement.code}", _("Document: %(name)s") % {"name": requirement.label},
                               requirement.pk in have, "" if requirement.pk in have else _("missing")))
    site = application.site
    items.append(CheckItem("geometry", _("Site geometry is valid"), site.valid, "" if site.valid else site.valid_reason))
    where = division or application.division
    inside = where.boundary is None or where.boundary.covers(site)
    items.append(CheckItem("jurisdiction", _("Site lies inside %(division)s") % {"division": where.name}, inside,
                           "" if inside else _("part of the site is outside this jurisdiction")))
    has_report = application.overlap_reports.exists()
    items.append(CheckItem("overlap", _("Overlap report present"), has_report, "" if has_report else _("missing")))
    return items


def failures(items: list[CheckItem]) -> list[CheckItem]:
    return [i for i in items if not i.ok]


@transaction.atomic
def window_accept(*, application: Application, by: AbstractBaseUser, ip: str | None = None) -> Application:
    """The window accepts (受理): the data check must pass. Starts the clocks (or resumes them after
    a correction) and sends the application into its first level's review."""
    require(by, "approvals.window_check", application)
    with history(by=by, ip=ip, action=EventAction.WINDOW_ACCEPTED):
        app = locked(application)
        if app.status != ApplicationStatus.SUBMITTED:
            raise StateConflict(_("This application is not waiting at the window; your action was not applied."))
        failed = failures(data_check(application=app))
        if failed:
            raise DataCheckFailed(failed)
        now = timezone.now()
        cal = WorkdayCalendar()
        resumed = app.paused_since is not None
        if app.accepted_at is None:
            app.accepted_at = now
        else:
            app.paused_days += cal.working_days_between(app.paused_since, now) if resumed else 0
            app.paused_since = None
        first = route(app)[0]
        app.status = ApplicationStatus.IN_REVIEW
        app.current_level = first.level
        app.statutory_due, app.promised_due = application_deadlines(cal=cal, application=app)
        app.full_clean()
        app.save()
        step = step_open(application=app, level=first.level, state=StepState.ACCEPTED, now=now, cal=cal)
        record(application=app, by=by, action=EventAction.WINDOW_ACCEPTED, ip=ip, before=ApplicationStatus.SUBMITTED,
               data={"level": first.level, "step": step.number, "resumed": resumed, "paused_days": str(app.paused_days)})
        notify(users=users_with(role=Role.REVIEWER, division=step.division), application=app, kind=NotificationKind.NEW_TASK,
               data={"level": step.level, "step": step.number})
        event = service_event_record(kind=ServiceKind.ACCEPTANCE, by=by, application=app)
        receipt_issue(application=app, event=event, by=by, kind=ReceiptKind.ACCEPTANCE)
        return app


def step_open(*, application: Application, level: str, state: str, now, cal: WorkdayCalendar) -> ReviewStep:
    """Opens the application's next step at `level` (the division of that level above the site's),
    due after the route's limit for that level (green-channel limit when flagged)."""
    spec = next(r for r in route(application) if r.level == level)
    number = (application.steps.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    step = ReviewStep(
        application=application,
        number=number,
        level=level,
        division=division_at(application.division, level),
        state=state,
        opened_at=now,
        due_at=cal.add_working_days(now, spec.limit(green=application.green_channel)),
        accepted_at=now if state == StepState.ACCEPTED else None,
    )
    step.full_clean()
    step.save()
    return step


def clean_reasons(reasons: list[str]) -> list[str]:
    kept = [r.strip() for r in reasons if r.strip()]
    if not kept:
        raise ValidationError(_("A return needs at least one reason."), code="reasons_required")
    return kept


@transaction.atomic
def window_return(*, application: Application, by: AbstractBaseUser, reasons: list[str], ip: str | None = None) -> Application:
    """The window returns the application to the applicant with itemised reasons (one per line).
    Before acceptance no clock runs; after a correction the clock stays paused."""
    require(by, "approvals.window_check", application)
    kept = clean_reasons(reasons)
    with history(by=by, ip=ip, action=EventAction.WINDOW_RETURNED):
        app = locked(application)
        if app.status != ApplicationStatus.SUBMITTED:
            raise StateConflict(_("This application is not waiting at the window; your action was not applied."))
        app.status = ApplicationStatus.RETURNED
        app.full_clean()
        app.save()
        record(application=app, by=by, action=EventAction.WINDOW_RETURNED, ip=ip, before=ApplicationStatus.SUBMITTED,
               comment="\n".join(kept), data={"reasons": kept})
        notify(users=[app.applicant], application=app, kind=NotificationKind.RETURNED, data={"reasons": kept})
        event = service_event_record(kind=ServiceKind.RETURN, by=by, application=app)
        receipt_issue(application=app, event=event, by=by, kind=ReceiptKind.RETURN)
        return app
