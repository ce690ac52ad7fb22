"""Working-day clocks of applications and review steps (README: "Clocks").

- The application's statutory and promised clocks start at window acceptance (期限自受理次日起算,
  see workdays.py). The promised limit is the kind's, or its green-channel limit.
- While the application is back with the applicant after acceptance (补正), the clock stands
  still: from the return until the window accepts the correction. The paused working days are
  added to both deadlines.
- Each review step has its own limit (the kind's route: that level's days, or green days),
  counted from the moment the level received it; a department task from its assignment.
- Due soon: open, not overdue, at most one working day left.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from approvals.models import Application, DepartmentTask, ReviewStep
from approvals.workdays import WorkdayCalendar

DUE_SOON_DAYS = Decimal(1)


@dataclass(frozen=True)
class Clock:
    """One deadline seen at moment `at` (now, or when the clock stopped). Limits and days are
    working days at half-day resolution; `due` is the deadline as a local time."""

    due: dt.datetime | None
    limit: Decimal | None
    used: Decimal
    running: bool
    at: dt.datetime
    paused: bool = False

    @property
    def left(self) -> Decimal | None:
        return None if self.limit is None else self.limit - self.used

    @property
    def overdue(self) -> bool:
        if self.paused:
            # the deadline moves at re-acceptance; meanwhile compare the days themselves
            return self.limit is not None and self.used > self.limit
        return self.due is not None and self.at > self.due

    @property
    def due_soon(self) -> bool:
        return self.running and not self.overdue and self.left is not None and self.left <= DUE_SOON_DAYS


def application_deadlines(*, cal: WorkdayCalendar, application: Application) -> tuple[dt.datetime | None, dt.datetime]:
    """(statutory, promised) deadlines from acceptance, moved by the working days paused so far.
    Precondition: the application has been accepted (accepted_at set)."""
    assert application.accepted_at is not None
    kind = application.kind
    paused = application.paused_days
    statutory = None
    if kind.statutory_days is not None:
        statutory = cal.add_working_days(application.accepted_at, kind.statutory_days + paused)
    promised = cal.add_working_days(application.accepted_at, kind.limit(green=application.green_channel) + paused)
    return statutory, promised


def _application_used(cal: WorkdayCalendar, application: Application, now: dt.datetime) -> Decimal:
    end = application.decided_at or now
    used = cal.working_days_between(application.accepted_at, end) - application.paused_days
    if application.paused_since is not None:
        used -= cal.working_days_between(application.paused_since, end)
    return max(used, Decimal(0))


def application_clocks(*, cal: WorkdayCalendar, application: Application, now: dt.datetime) -> dict[str, Clock] | None:
    """{"statutory": Clock, "promised": Clock}, or None before acceptance (no clock yet)."""
    if application.accepted_at is None:
        return None
    used = _application_used(cal, application, now)
    paused = application.paused_since is not None
    running = application.decided_at is None and not paused
    at = application.decided_at or now
    kind = application.kind
    return {
        "statutory": Clock(application.statutory_due, kind.statutory_days, used, running, at, paused),
        "promised": Clock(application.promised_due, kind.limit(green=application.green_channel), used, running, at, paused),
    }


def step_clock(*, cal: WorkdayCalendar, step: ReviewStep, limit: Decimal, now: dt.datetime) -> Clock:
    at = step.closed_at or now
    return Clock(step.due_at, limit, cal.working_days_between(step.opened_at, at), step.closed_at is None, at)


def task_clock(*, cal: WorkdayCalendar, task: DepartmentTask, now: dt.datetime) -> Clock:
    limit = cal.working_days_between(task.assigned_at, task.due_at)
    at = task.answered_at or now
    return Clock(task.due_at, limit, cal.working_days_between(task.assigned_at, at), task.answered_at is None, at)
