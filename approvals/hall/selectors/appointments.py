"""Reads of appointments: a window's slots with free places, an applicant's bookings, a clerk's day."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import F, QuerySet

from approvals.choices import Role
from approvals.hall.models import Appointment, Slot, Window
from approvals.permissions import covers, memberships


def open_windows() -> QuerySet[Window]:
    return Window.objects.filter(active=True).select_related("division").order_by("division__code", "code")


def slots_for(*, window: Window, day: dt.date) -> QuerySet[Slot]:
    """The window's slots on `day`, each with `free` places."""
    return Slot.objects.filter(window=window, date=day).annotate(free=F("capacity") - F("booked")).order_by("start")


def bookable_days(*, window: Window, from_day: dt.date, limit: int = 31) -> list[dt.date]:
    """Days from `from_day` on which the window has slots (the day picker's choices)."""
    return list(Slot.objects.filter(window=window, date__gte=from_day).order_by("date").values_list("date", flat=True).distinct()[:limit])


def appointments_of(*, applicant: AbstractBaseUser) -> QuerySet[Appointment]:
    """The applicant's bookings, latest slot first."""
    return (Appointment.objects.filter(applicant=applicant).select_related("slot__window__division", "kind", "application")
            .order_by("-slot__date", "-slot__start", "-id"))


def clerk_windows(user: AbstractBaseUser) -> list[Window]:
    """The open windows of the divisions the user clerks for (a city clerk covers the counties below)."""
    divisions = [m.division for m in memberships(user, Role.CLERK)]
    return [w for w in open_windows() if any(covers(d, w.division) for d in divisions)]


def day_appointments(*, windows: list[Window], day: dt.date) -> QuerySet[Appointment]:
    """The appointments at `windows` on `day` (cancelled ones last), for the window's day list."""
    return (Appointment.objects.filter(slot__window__in=windows, slot__date=day)
            .select_related("slot__window", "applicant", "kind", "application")
            .order_by("slot__window__code", "slot__start", "state", "id"))


