"""Demo appointments (预约服务): slots for the next 10 working days at both demo windows, and a few
bookings by the demo `applicant` — one in extended hours (延时服务), one past visit marked as a
no-show and one past visit attended. Deterministic (the same slots are chosen on every run, counted
from today) and idempotent: a second run creates nothing. Needs the demo accounts and windows."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from approvals.hall.choices import AppointmentState
from approvals.hall.models import Appointment, Slot, Window
from approvals.hall.services.appointments import appointment_book, extended_weekday, local_today, slots_open
from approvals.models import ApplicationKind
from approvals.workdays import WorkdayCalendar

DEMO_WINDOW_CODES = ("jiayu-land", "xianning-land")
WORKING_DAYS = 10


def _working_days(cal: WorkdayCalendar, after: dt.date, count: int, step: int = 1) -> list[dt.date]:
    """`count` working days after (step 1) or before (step -1) `after`, nearest first."""
    days, day = [], after
    while len(days) < count:
        day += dt.timedelta(days=step)
        if cal.is_workday(day):
            days.append(day)
    return days


def _book(*, window: Window, day: dt.date, start: dt.time, applicant, kind: ApplicationKind | None, note: str) -> int:
    slot = Slot.objects.filter(window=window, date=day, start=start).first()
    if slot is None or Appointment.objects.filter(slot=slot, applicant=applicant).exists():
        return 0
    appointment_book(slot=slot, applicant=applicant, kind=kind, note=note)
    return 1


def _past(*, window: Window, day: dt.date, start: dt.time, end: dt.time, applicant, state: str, kind, note: str) -> int:
    """A visit in the past (slots are never opened backwards, so it is made directly)."""
    slot, _created = Slot.objects.get_or_create(window=window, date=day, start=start, defaults={"end": end, "capacity": 3})
    if Appointment.objects.filter(slot=slot, applicant=applicant).exists():
        return 0
    Slot.objects.filter(pk=slot.pk).update(booked=F("booked") + 1)
    Appointment.objects.create(slot=slot, applicant=applicant, kind=kind, note=note, state=state, changed_at=timezone.now())
    return 1


@transaction.atomic
def load_appointments_demo() -> int:
    """Opens the slots and makes the demo bookings; returns the number of slots and bookings created."""
    cal = WorkdayCalendar()
    today = local_today()
    upcoming = _working_days(cal, today, WORKING_DAYS)
    windows = {w.code: w for w in Window.objects.filter(code__in=DEMO_WINDOW_CODES)}
    created = 0
    for code in DEMO_WINDOW_CODES:
        created += len(slots_open(window=windows[code], start=upcoming[0], days=(upcoming[-1] - upcoming[0]).days + 1))
    applicant = get_user_model().objects.get(username="applicant")
    homestead = ApplicationKind.objects.filter(code="rural_homestead").first()
    construction = ApplicationKind.objects.filter(code="construction_land").first()
    jiayu, xianning = windows["jiayu-land"], windows["xianning-land"]
    created += _book(window=jiayu, day=upcoming[0], start=dt.time(9, 0), applicant=applicant, kind=homestead,
                     note="宅基地申请，带齐身份证和户口簿")
    extended_day = next((d for d in upcoming if d.weekday() == extended_weekday(jiayu)), None)
    if extended_day is not None:
        created += _book(window=jiayu, day=extended_day, start=dt.time(17, 30), applicant=applicant, kind=construction,
                         note="下班后办理（延时服务）")
    created += _book(window=xianning, day=upcoming[2], start=dt.time(14, 30), applicant=applicant, kind=construction,
                     note="跨县用地咨询")
    before = _working_days(cal, today, 2, step=-1)
    created += _past(window=jiayu, day=before[0], start=dt.time(10, 0), end=dt.time(11, 0), applicant=applicant,
                     state=AppointmentState.NO_SHOW, kind=homestead, note="")
    created += _past(window=jiayu, day=before[1], start=dt.time(15, 30), end=dt.time(16, 30), applicant=applicant,
                     state=AppointmentState.ATTENDED, kind=construction, note="补交材料")
    return created
