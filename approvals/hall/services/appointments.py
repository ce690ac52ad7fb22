"""Appointments (预约服务, with extended hours 延时服务): opening slots on working days, booking a
place, cancelling it, the window's record of who came, and linking a visit to its application.

The capacity rule is enforced where the place is taken: one conditional UPDATE increments the
slot's counter only while it is below capacity (two people booking the last place at once: one
row updated, one not), and the check constraint `slot_not_overbooked` is the database's backstop.
"""

from __future__ import annotations

import datetime as dt
from contextlib import nullcontext
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from approvals.choices import Role
from approvals.exceptions import NotPermitted, StateConflict
from approvals.hall.choices import AppointmentState
from approvals.hall.models import Appointment, Slot, Window
from approvals.models import Application, ApplicationKind, Membership
from approvals.permissions import allowed, covers, memberships
from approvals.services.common import history
from approvals.workdays import TZ, WorkdayCalendar


@dataclass(frozen=True)
class SlotSpec:
    start: dt.time
    end: dt.time
    capacity: int = 3
    extended: bool = False


# The default day at a window: three morning and three afternoon hours.
DEFAULT_SCHEDULE = (
    SlotSpec(dt.time(9, 0), dt.time(10, 0)),
    SlotSpec(dt.time(10, 0), dt.time(11, 0)),
    SlotSpec(dt.time(11, 0), dt.time(12, 0)),
    SlotSpec(dt.time(14, 30), dt.time(15, 30)),
    SlotSpec(dt.time(15, 30), dt.time(16, 30)),
    SlotSpec(dt.time(16, 30), dt.time(17, 30)),
)
# Extended hours (延时服务) after the close, on the window's extended day only.
EXTENDED_SCHEDULE = (
    SlotSpec(dt.time(17, 30), dt.time(18, 30), extended=True),
    SlotSpec(dt.time(18, 30), dt.time(19, 0), extended=True),
)
# Window.extended_hours is free text for people ("周三延时至 19:00"); the weekday the extended
# slots are opened on is kept here (Monday = 0), per window code, Wednesday for any other window.
EXTENDED_WEEKDAY = {"jiayu-land": 2, "xianning-land": 3}
DEFAULT_EXTENDED_WEEKDAY = 2
# Slots are opened at most this far ahead (the command's --days and the service's `days`).
MAX_DAYS_AHEAD = 90
# Places one applicant may hold at once (booked, not yet due): without a cap one account could
# take a place in every slot of every window for three months.
MAX_OPEN_APPOINTMENTS = 5


def extended_weekday(window: Window) -> int:
    return EXTENDED_WEEKDAY.get(window.code, DEFAULT_EXTENDED_WEEKDAY)


def slot_starts_at(slot: Slot) -> dt.datetime:
    """The slot's start as an aware datetime (the windows keep Beijing time)."""
    return dt.datetime.combine(slot.date, slot.start, tzinfo=TZ)


def local_today() -> dt.date:
    return timezone.now().astimezone(TZ).date()


def is_staff_member(user: AbstractBaseUser) -> bool:
    """Anyone holding a role beyond applicant (or a Django staff/superuser flag)."""
    return bool(user.is_staff or user.is_superuser
                or Membership.objects.filter(user=user).exclude(role=Role.APPLICANT).exists())


def is_window_clerk_of(user: AbstractBaseUser, window: Window) -> bool:
    """A clerk of the window's division or of a division above it."""
    return any(covers(m.division, window.division) for m in memberships(user, Role.CLERK))


@transaction.atomic
def slots_open(*, window: Window, start: dt.date, days: int, by: AbstractBaseUser | None = None) -> list[Slot]:
    """Creates the default schedule's slots at `window` on each working day from `start` for
    `days` calendar days (holidays and weekends skipped, 调休 make-up days included), with the
    extended-hours slots on the window's extended weekday. Slots that exist are left as they are.
    Returns the slots created."""
    if not 1 <= days <= MAX_DAYS_AHEAD:
        raise ValidationError(_("Slots are opened from 1 to %(max)d days ahead.") % {"max": MAX_DAYS_AHEAD}, code="days")
    if by is not None and not is_window_clerk_of(by, window):
        raise NotPermitted(_("Only a clerk of this window's division can open its slots."))
    cal = WorkdayCalendar()
    existing = set(Slot.objects.filter(window=window, date__gte=start, date__lt=start + dt.timedelta(days=days))
                   .values_list("date", "start"))
    created = []
    with history(by=by, ip=None, action="slots_open") if by is not None else nullcontext():
        for offset in range(days):
            day = start + dt.timedelta(days=offset)
            if not cal.is_workday(day):
                continue
            specs = DEFAULT_SCHEDULE + (EXTENDED_SCHEDULE if day.weekday() == extended_weekday(window) else ())
            for spec in specs:
                if (day, spec.start) in existing:
                    continue
                slot = Slot(window=window, date=day, start=spec.start, end=spec.end, capacity=spec.capacity, extended=spec.extended)
                slot.full_clean()
                slot.save()
                created.append(slot)
    return created


@transaction.atomic
def appointment_book(*, slot: Slot, applicant: AbstractBaseUser, kind: ApplicationKind | None = None, note: str = "",
                     ip: str | None = None) -> Appointment:
    """Books one place in `slot` for `applicant` (an applicant, not staff booking for themselves).
    StateConflict when the slot is full, has started or the applicant holds a place in it already."""
    if not applicant.is_authenticated or is_staff_member(applicant):
        raise NotPermitted(_("Appointments are booked by applicants; staff serve them."))
    slot = Slot.objects.select_related("window").get(pk=slot.pk)
    if not slot.window.active:
        raise StateConflict(_("This window is closed and takes no appointments."))
    if slot_starts_at(slot) <= timezone.now():
        raise StateConflict(_("This slot has already started; choose a later one."))
    if kind is not None and not kind.active:
        raise ValidationError(_("Applications of this kind are not accepted at present."), code="kind")
    if Appointment.objects.filter(slot=slot, applicant=applicant, state=AppointmentState.BOOKED).exists():
        raise StateConflict(_("You have already booked this slot."))
    # The applicant's row is locked so that two bookings at once cannot both pass the cap.
    get_user_model().objects.select_for_update().filter(pk=applicant.pk).exists()
    held = Appointment.objects.filter(applicant=applicant, state=AppointmentState.BOOKED, slot__date__gte=timezone.localdate()).count()
    if held >= MAX_OPEN_APPOINTMENTS:
        raise StateConflict(_("You already hold %(n)s appointments; cancel one or wait until it has passed.") % {"n": held})
    appointment = Appointment(slot=slot, applicant=applicant, kind=kind, note=note.strip(), state=AppointmentState.BOOKED)
    appointment.full_clean(validate_constraints=False)  # the one-per-slot rule is the query above and the unique index below
    with history(by=applicant, ip=ip, action="appointment_book"):
        taken = Slot.objects.filter(pk=slot.pk, booked__lt=F("capacity")).update(booked=F("booked") + 1)
        if not taken:
            raise StateConflict(_("This slot is full; choose another one."))
        try:
            with transaction.atomic():
                appointment.save()
        except IntegrityError as exc:  # the same applicant booking the same slot twice at once
            raise StateConflict(_("You have already booked this slot.")) from exc
    return appointment


def _locked(appointment: Appointment) -> Appointment:
    return Appointment.objects.select_for_update().select_related("slot__window__division").get(pk=appointment.pk)


@transaction.atomic
def appointment_cancel(*, appointment: Appointment, by: AbstractBaseUser, ip: str | None = None) -> Appointment:
    """The applicant cancels before the slot starts; the place is free again."""
    appt = _locked(appointment)
    if appt.applicant_id != by.pk:
        raise NotPermitted(_("Only the person who booked can cancel this appointment."))
    if appt.state != AppointmentState.BOOKED:
        raise StateConflict(_("This appointment is no longer booked."))
    if slot_starts_at(appt.slot) <= timezone.now():
        raise StateConflict(_("The slot has started; it can no longer be cancelled."))
    with history(by=by, ip=ip, action="appointment_cancel"):
        Slot.objects.filter(pk=appt.slot_id, booked__gt=0).update(booked=F("booked") - 1)
        appt.state = AppointmentState.CANCELLED
        appt.changed_at = timezone.now()
        appt.full_clean(validate_constraints=False)
        appt.save()
    return appt


MARKABLE = (AppointmentState.ATTENDED, AppointmentState.NO_SHOW)


@transaction.atomic
def appointment_mark(*, appointment: Appointment, by: AbstractBaseUser, state: str, ip: str | None = None) -> Appointment:
    """The window records that the applicant came (attended: from the slot's day on) or did not
    (no_show: only once the slot has started). A booked appointment is marked once; a mark can be
    corrected between attended and no-show by the window."""
    if state not in MARKABLE:
        raise ValidationError(_("An appointment is marked attended or did not come."), code="state")
    appt = _locked(appointment)
    if not is_window_clerk_of(by, appt.slot.window):
        raise NotPermitted(_("Only a clerk of this window's division can mark its appointments."))
    if appt.state == AppointmentState.CANCELLED:
        raise StateConflict(_("This appointment was cancelled."))
    now = timezone.now()
    if state == AppointmentState.NO_SHOW and slot_starts_at(appt.slot) > now:
        raise StateConflict(_("The slot has not started yet: nobody can have missed it."))
    if state == AppointmentState.ATTENDED and appt.slot.date > local_today():
        raise StateConflict(_("The appointment is on a later day."))
    with history(by=by, ip=ip, action=f"appointment_{state}"):
        appt.state = state
        appt.changed_at = now
        appt.full_clean(validate_constraints=False)
        appt.save()
    return appt


@transaction.atomic
def appointment_link(*, appointment: Appointment, application: Application, by: AbstractBaseUser, ip: str | None = None) -> Appointment:
    """The window links the visit to the application made at it (the same applicant's)."""
    appt = _locked(appointment)
    if not is_window_clerk_of(by, appt.slot.window) or not allowed(by, "approvals.view_application", application):
        raise NotPermitted(_("Only a clerk of this window's division can link its appointments."))
    if appt.state == AppointmentState.CANCELLED:
        raise StateConflict(_("This appointment was cancelled."))
    if application.applicant_id != appt.applicant_id:
        raise ValidationError(_("That application is another applicant's."), code="applicant")
    with history(by=by, ip=ip, action="appointment_link"):
        appt.application = application
        appt.changed_at = timezone.now()
        appt.full_clean(validate_constraints=False)
        appt.save()
    return appt
