"""Service events: one row per service the public receives at a window, the thing a rating rates.

Recorded by the workflow services in the same transaction as the action they stand for (window
acceptance and return in approvals.services.window), so a rolled-back action leaves no event.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from approvals.choices import Role
from approvals.hall.models import Officer, ServiceEvent, Window
from approvals.models import Application
from approvals.permissions import covers, memberships


def serving_window(*, by: AbstractBaseUser, application: Application | None = None) -> tuple[Window | None, Officer | None]:
    """The window and officer record of the member of staff serving: their own officer record when
    they have one, else the first open window of a division they clerk for that covers the
    application's division (a clerk not yet on a board still serves at a window)."""
    officer = Officer.objects.select_related("window").filter(user=by).first()
    if officer is not None:
        return officer.window, officer
    for membership in memberships(by, Role.CLERK).select_related("division"):
        if application is None or covers(membership.division, application.division):
            window = Window.objects.filter(division=membership.division, active=True).order_by("code").first()
            if window is not None:
                return window, None
    return None, None


def service_event_record(*, kind: str, by: AbstractBaseUser, application: Application | None = None) -> ServiceEvent | None:
    """Records a rateable service given by `by` (None when they serve at no window, e.g. a level
    reviewer returning a case: the public rates windows, not back offices)."""
    window, officer = serving_window(by=by, application=application)
    if window is None:
        return None
    event = ServiceEvent(window=window, officer=officer, application=application, kind=kind, at=timezone.now())
    event.full_clean()
    event.save()
    return event
