"""Appointments (预约服务): applicants book a place at a window; the window's clerks see their day,
mark who came and link the visit to the application made at it. Thin: parse → one service."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from approvals.hall.choices import AppointmentState
from approvals.hall.models import Appointment, Slot
from approvals.hall.selectors import appointments as selectors
from approvals.hall.services import appointments as services
from approvals.hall.views.common import refused, run
from approvals.models import ApplicationKind
from approvals.permissions import visible_applications
from onemap.http import client_ip

# How far ahead the applicant's day picker and the clerk's date field reach.
DAYS_AHEAD = services.MAX_DAYS_AHEAD





def _parse_day(raw: str | None, *, default: dt.date) -> dt.date:
    """A yyyy-mm-dd date from the query string within a year of today; ValueError otherwise."""
    if not raw:
        return default
    if len(raw) != 10:
        raise ValueError(raw)
    day = dt.date.fromisoformat(raw)
    today = services.local_today()
    if abs((day - today).days) > 366:
        raise ValueError(raw)
    return day


def _int(raw: str | None) -> int | None:
    if raw is None or not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        return None
    return int(raw)


@login_required
@require_GET
def appointments_page(request: HttpRequest) -> HttpResponse:
    """Choose a window and a day, see the free places of each slot, book; one's own bookings."""
    windows = list(selectors.open_windows())
    code = request.GET.get("window", "")
    window = next((w for w in windows if w.code == code), None) if code else (windows[0] if windows else None)
    if code and window is None:
        return refused(request, status=404, message=_("No open window has this code."))
    today = services.local_today()
    days = selectors.bookable_days(window=window, from_day=today) if window else []
    try:
        day = _parse_day(request.GET.get("date"), default=days[0] if days else today)
    except ValueError:
        return refused(request, status=400, message=_("The date must be a day in the form 2026-12-31, within a year from today."))
    now = dt.datetime.now(tz=services.TZ)
    slots = [(s, services.slot_starts_at(s) > now) for s in selectors.slots_for(window=window, day=day)] if window else []
    return render(request, "hall/appointments.html", {
        "windows": windows, "window": window, "days": days, "day": day, "slots": slots,
        "kinds": ApplicationKind.objects.filter(active=True),
        "staff": services.is_staff_member(request.user),
        "mine": selectors.appointments_of(applicant=request.user)[:50],
        "held": set(selectors.appointments_of(applicant=request.user).filter(state=AppointmentState.BOOKED, slot__date=day)
                    .values_list("slot_id", flat=True)),
        "now": now, "BOOKED": AppointmentState.BOOKED,
    })


@login_required
@require_POST
def appointment_book(request: HttpRequest) -> HttpResponse:
    slot_id, window_code = _int(request.POST.get("slot")), request.POST.get("window", "")
    slot = Slot.objects.select_related("window").filter(pk=slot_id, window__code=window_code).first() if slot_id else None
    if slot is None:
        return refused(request, status=400, message=_("Choose one of the window's slots."))
    kind = None
    if request.POST.get("kind"):
        kind = ApplicationKind.objects.filter(pk=request.POST["kind"][:32]).first()
        if kind is None:
            return refused(request, status=400, message=_("Unknown kind of application."))
    note = request.POST.get("note", "")
    result: dict = {}

    def book() -> None:
        result["appointment"] = services.appointment_book(slot=slot, applicant=request.user, kind=kind, note=note, ip=client_ip(request))

    if (answer := run(request, book)) is not None:
        return answer
    messages.success(request, _("Booked: %(window)s, %(day)s %(start)s–%(end)s.") % {
        "window": slot.window.label, "day": slot.date.isoformat(), "start": slot.start.strftime("%H:%M"), "end": slot.end.strftime("%H:%M")})
    return redirect(f"{reverse('hall-appointments')}?window={slot.window.code}&date={slot.date.isoformat()}")


def _appointment(pk: int) -> Appointment | None:
    return Appointment.objects.select_related("slot__window__division").filter(pk=pk).first()


@login_required
@require_POST
def appointment_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = _appointment(pk)
    # another person's booking answers like a missing one: ids are not a way to learn who booked
    if appointment is None or appointment.applicant_id != request.user.pk:
        return refused(request, status=404, message=_("No such appointment of yours."))
    answer = run(request, lambda: services.appointment_cancel(appointment=appointment, by=request.user, ip=client_ip(request)))
    if answer is not None:
        return answer
    messages.success(request, _("Appointment cancelled; the place is free for others."))
    return redirect("hall-appointments")


@login_required
@require_GET
def appointments_day(request: HttpRequest) -> HttpResponse:
    """The clerk's day: the appointments at their window(s), with state buttons and a link field."""
    windows = selectors.clerk_windows(request.user)
    if not windows:
        return refused(request, status=403, message=_("The day's appointments are for the window's clerks."))
    code = request.GET.get("window", "")
    if code:
        chosen = [w for w in windows if w.code == code]
        if not chosen:
            return refused(request, status=403, message=_("You are not a clerk of this window."))
    else:
        chosen = windows
    try:
        day = _parse_day(request.GET.get("date"), default=services.local_today())
    except ValueError:
        return refused(request, status=400, message=_("The date must be a day in the form 2026-12-31, within a year from today."))
    return render(request, "hall/appointments_day.html", {
        "windows": windows, "window_code": code, "day": day,
        "previous": day - dt.timedelta(days=1), "next": day + dt.timedelta(days=1),
        "appointments": selectors.day_appointments(windows=chosen, day=day),
        "States": AppointmentState,
    })


def _clerk_act(request: HttpRequest, pk: int, act, *, done: str) -> HttpResponse:
    """One clerk action on appointment `pk`: 404 unknown, 403 not a clerk of its window, else `act`
    (refusals mapped by views.common.run) and back to that day's list."""
    appointment = _appointment(pk)
    if appointment is None:
        return refused(request, status=404, message=_("No such appointment."))
    if not services.is_window_clerk_of(request.user, appointment.slot.window):
        return refused(request, status=403, message=_("You are not a clerk of this window."))
    if (answer := run(request, lambda: act(appointment))) is not None:
        return answer
    messages.success(request, done)
    return redirect(f"{reverse('hall-appointments-day')}?date={appointment.slot.date.isoformat()}")


@login_required
@require_POST
def appointment_mark(request: HttpRequest, pk: int) -> HttpResponse:
    state = request.POST.get("state", "")
    return _clerk_act(request, pk, lambda a: services.appointment_mark(appointment=a, by=request.user, state=state, ip=client_ip(request)),
                      done=_("Appointment marked."))


@login_required
@require_POST
def appointment_link(request: HttpRequest, pk: int) -> HttpResponse:
    reference = request.POST.get("reference", "").strip()[:32]

    def link(appointment: Appointment) -> None:
        application = visible_applications(request.user).filter(reference=reference).first() if reference else None
        if application is None:
            raise ValidationError(_("No application you can see has this reference."))
        services.appointment_link(appointment=appointment, application=application, by=request.user, ip=client_ip(request))

    return _clerk_act(request, pk, link, done=_("Appointment linked to %(reference)s.") % {"reference": reference})


urlpatterns = [
    path("hall/appointments/", appointments_page, name="hall-appointments"),
    path("hall/appointments/book/", appointment_book, name="hall-appointment-book"),
    path("hall/appointments/<int:pk>/cancel/", appointment_cancel, name="hall-appointment-cancel"),
    path("hall/appointments/day/", appointments_day, name="hall-appointments-day"),
    path("hall/appointments/<int:pk>/mark/", appointment_mark, name="hall-appointment-mark"),
    path("hall/appointments/<int:pk>/link/", appointment_link, name="hall-appointment-link"),
]
