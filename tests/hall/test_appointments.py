"""Appointments (预约服务): slots on working days with extended hours, capacity under concurrency,
cancel / mark / link rules, and each page's denials and hostile inputs."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connections, transaction
from django.db.models import F
from django.test import Client

from approvals.exceptions import NotPermitted, StateConflict
from approvals.hall.choices import AppointmentState
from approvals.hall.models import Appointment, Slot, Window
from approvals.hall.services.appointments import (
    DEFAULT_SCHEDULE,
    EXTENDED_SCHEDULE,
    appointment_book,
    appointment_cancel,
    appointment_link,
    appointment_mark,
    local_today,
    slots_open,
)
from approvals.models import CalendarOverride
from approvals.workdays import WorkdayCalendar
from data import demo
from tests.factories import MembershipFactory, UserFactory, submit


@pytest.fixture
def hall(divisions):
    """The demo accounts and windows (no layers: appointments do not need them)."""
    demo.load_accounts()
    return {u.username: u for u in get_user_model().objects.all()}


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _next_workday(after: dt.date, weekday: int | None = None) -> dt.date:
    cal = WorkdayCalendar()
    day = after + dt.timedelta(days=1)
    while not cal.is_workday(day) or (weekday is not None and day.weekday() != weekday):
        day += dt.timedelta(days=1)
    return day


def _future_slot(window_code: str = "jiayu-land", capacity: int = 3) -> Slot:
    window = Window.objects.get(code=window_code)
    day = _next_workday(local_today())
    slots_open(window=window, start=day, days=1)
    slot = Slot.objects.filter(window=window, date=day, extended=False).order_by("start").first()
    if capacity != slot.capacity:
        Slot.objects.filter(pk=slot.pk).update(capacity=capacity)
        slot.refresh_from_db()
    return slot


def _past_slot(window_code: str = "jiayu-land") -> Slot:
    """A slot that started an hour ago or earlier (created directly, as the demo does)."""
    window = Window.objects.get(code=window_code)
    return Slot.objects.create(window=window, date=local_today() - dt.timedelta(days=1), start=dt.time(9), end=dt.time(10), capacity=3)


def _applicant(name: str):
    return UserFactory(username=name)


# --- slots -----------------------------------------------------------------------------------

def test_slots_only_on_working_days_incl_holiday_and_makeup(hall):
    window = Window.objects.get(code="jiayu-land")
    # 2026-09-28 (Mon) … 2026-10-11 (Sun): National Day 10-01..10-07 off, Saturday 10-10 a make-up working day.
    created = slots_open(window=window, start=dt.date(2026, 9, 28), days=14)
    days = sorted({s.date for s in created})
    assert days == [dt.date(2026, 9, 28), dt.date(2026, 9, 29), dt.date(2026, 9, 30),
                    dt.date(2026, 10, 8), dt.date(2026, 10, 9), dt.date(2026, 10, 10)]
    # an administrator's override makes Monday 10-12 a holiday: not opened on a fresh run
    CalendarOverride.objects.create(date=dt.date(2026, 10, 12), is_workday=False, note="test")
    again = slots_open(window=window, start=dt.date(2026, 9, 28), days=15)
    assert again == []  # existing slots skipped, 10-12 overridden to a holiday


def test_extended_slots_only_on_the_windows_extended_day(hall):
    jiayu, xianning = Window.objects.get(code="jiayu-land"), Window.objects.get(code="xianning-land")
    slots_open(window=jiayu, start=dt.date(2026, 9, 28), days=3)  # Mon, Tue, Wed
    slots_open(window=xianning, start=dt.date(2026, 9, 28), days=3)
    extended = Slot.objects.filter(extended=True)
    assert {(s.window.code, s.date) for s in extended} == {("jiayu-land", dt.date(2026, 9, 30))}  # Jiayu on Wednesday
    assert sorted(s.start for s in extended) == [spec.start for spec in EXTENDED_SCHEDULE]
    assert Slot.objects.filter(window=jiayu, date=dt.date(2026, 9, 28)).count() == len(DEFAULT_SCHEDULE)
    assert all(s.end > s.start for s in Slot.objects.all())


def test_slots_open_command_and_bad_days(hall):
    call_command("slots_open", "--days", "7")
    assert Slot.objects.filter(window__code="jiayu-land").exists()
    assert Slot.objects.filter(window__code="xianning-land").exists()
    count = Slot.objects.count()
    call_command("slots_open", "--days", "7")
    assert Slot.objects.count() == count
    with pytest.raises(ValidationError):
        slots_open(window=Window.objects.first(), start=local_today(), days=0)
    with pytest.raises(ValidationError):
        slots_open(window=Window.objects.first(), start=local_today(), days=10_000)


def test_slot_open_by_other_division_clerk_refused(hall):
    chibi = UserFactory(username="clerk_chibi")
    MembershipFactory(user=chibi, role="clerk", division_id="421281")
    with pytest.raises(NotPermitted):
        slots_open(window=Window.objects.get(code="jiayu-land"), start=local_today(), days=3, by=chibi)


# --- booking ---------------------------------------------------------------------------------

def test_book_until_full_then_conflict(hall):
    slot = _future_slot(capacity=2)
    appointment_book(slot=slot, applicant=hall["applicant"], note="宅基地")
    appointment_book(slot=slot, applicant=_applicant("villager2"))
    with pytest.raises(StateConflict, match="full"):
        appointment_book(slot=slot, applicant=_applicant("villager3"))
    slot.refresh_from_db()
    assert slot.booked == slot.capacity == 2
    # the backstop: the database refuses an overbooked counter whoever writes it
    with pytest.raises(IntegrityError), transaction.atomic():
        Slot.objects.filter(pk=slot.pk).update(booked=F("booked") + 1)


def test_one_booking_per_applicant_and_slot(hall):
    slot = _future_slot()
    appointment_book(slot=slot, applicant=hall["applicant"])
    with pytest.raises(StateConflict, match="already"):
        appointment_book(slot=slot, applicant=hall["applicant"])
    slot.refresh_from_db()
    assert slot.booked == 1


def test_staff_cannot_book_and_past_slot_refused(hall):
    slot = _future_slot()
    for staff in ("clerk_jiayu", "reviewer_jiayu", "planner", "caller_hubei", "admin"):
        with pytest.raises(NotPermitted):
            appointment_book(slot=slot, applicant=hall[staff])
    with pytest.raises(StateConflict, match="started"):
        appointment_book(slot=_past_slot(), applicant=hall["applicant"])


def test_huge_note_is_a_validation_error_and_nothing_is_booked(hall):
    slot = _future_slot()
    with pytest.raises(ValidationError):
        appointment_book(slot=slot, applicant=hall["applicant"], note="长" * 201)
    slot.refresh_from_db()
    assert slot.booked == 0
    assert not Appointment.objects.exists()


def test_cancel_frees_the_place(hall):
    slot = _future_slot(capacity=1)
    appointment = appointment_book(slot=slot, applicant=hall["applicant"])
    with pytest.raises(StateConflict):
        appointment_book(slot=slot, applicant=_applicant("villager2"))
    with pytest.raises(NotPermitted):
        appointment_cancel(appointment=appointment, by=_applicant("villager2"))
    appointment_cancel(appointment=appointment, by=hall["applicant"])
    slot.refresh_from_db()
    assert slot.booked == 0
    assert Appointment.objects.get(pk=appointment.pk).state == AppointmentState.CANCELLED
    with pytest.raises(StateConflict):
        appointment_cancel(appointment=appointment, by=hall["applicant"])
    appointment_book(slot=slot, applicant=_applicant("villager2"))  # the freed place
    # and the canceller may book again (the one-per-slot rule counts active bookings only)
    Slot.objects.filter(pk=slot.pk).update(capacity=2)
    appointment_book(slot=slot, applicant=hall["applicant"])


def _booked_in_past(applicant) -> Appointment:
    slot = _past_slot()
    Slot.objects.filter(pk=slot.pk).update(booked=1)
    return Appointment.objects.create(slot=slot, applicant=applicant)


def test_mark_rules(hall):
    future = appointment_book(slot=_future_slot(), applicant=hall["applicant"])
    with pytest.raises(StateConflict, match="not started"):
        appointment_mark(appointment=future, by=hall["clerk_jiayu"], state=AppointmentState.NO_SHOW)
    with pytest.raises(StateConflict, match="later day"):
        appointment_mark(appointment=future, by=hall["clerk_jiayu"], state=AppointmentState.ATTENDED)
    with pytest.raises(ValidationError):
        appointment_mark(appointment=future, by=hall["clerk_jiayu"], state=AppointmentState.CANCELLED)
    past = _booked_in_past(hall["applicant"])
    with pytest.raises(NotPermitted):
        appointment_mark(appointment=past, by=hall["applicant"], state=AppointmentState.NO_SHOW)
    chibi = UserFactory(username="clerk_chibi")
    MembershipFactory(user=chibi, role="clerk", division_id="421281")
    with pytest.raises(NotPermitted):  # Xianning's window clerk covers Jiayu, the Chibi clerk does not
        appointment_mark(appointment=past, by=chibi, state=AppointmentState.NO_SHOW)
    assert appointment_mark(appointment=past, by=hall["clerk_jiayu"], state=AppointmentState.NO_SHOW).state == AppointmentState.NO_SHOW
    assert appointment_mark(appointment=past, by=hall["clerk_xianning"], state=AppointmentState.ATTENDED).state == AppointmentState.ATTENDED
    cancelled = appointment_book(slot=_future_slot(), applicant=_applicant("villager4"))
    appointment_cancel(appointment=cancelled, by=cancelled.applicant)
    with pytest.raises(StateConflict):
        appointment_mark(appointment=cancelled, by=hall["clerk_jiayu"], state=AppointmentState.ATTENDED)


def test_link_requires_the_same_applicant(users):
    appointment = _booked_in_past(users["applicant"])
    own = submit(users["applicant"], documents=False)
    other = submit(_applicant("villager5"), documents=False, title="别人的")
    with pytest.raises(ValidationError):
        appointment_link(appointment=appointment, application=other, by=users["clerk_jiayu"])
    with pytest.raises(NotPermitted):
        appointment_link(appointment=appointment, application=own, by=users["applicant"])
    linked = appointment_link(appointment=appointment, application=own, by=users["clerk_jiayu"])
    assert linked.application_id == own.pk
    # the audit trail carries who linked it
    assert appointment.history.order_by("-pgh_id").first().pgh_context.metadata["action"] == "appointment_link"


# --- concurrency -----------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_two_bookings_of_the_last_place_exactly_one_wins(divisions):
    demo.load_accounts()
    slot = _future_slot(capacity=1)
    people = [_applicant("racer1"), _applicant("racer2")]
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def book(user) -> None:
        try:
            barrier.wait(timeout=10)
            appointment_book(slot=slot, applicant=user)
            outcomes[user.username] = "booked"
        except StateConflict as exc:
            outcomes[user.username] = f"conflict: {exc}"
        finally:
            connections.close_all()

    threads = [threading.Thread(target=book, args=(u,)) for u in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(v.split(":")[0] for v in outcomes.values()) == ["booked", "conflict"], outcomes
    slot.refresh_from_db()
    assert slot.booked == slot.capacity == 1
    assert Appointment.objects.filter(slot=slot, state=AppointmentState.BOOKED).count() == 1


# --- pages -----------------------------------------------------------------------------------

PAGES = [("get", "/hall/appointments/"), ("post", "/hall/appointments/book/"), ("get", "/hall/appointments/day/"),
         ("post", "/hall/appointments/1/cancel/"), ("post", "/hall/appointments/1/mark/"), ("post", "/hall/appointments/1/link/")]


@pytest.mark.parametrize(("method", "url"), PAGES)
def test_anonymous_is_sent_to_login(db, method, url):
    response = getattr(Client(), method)(url)
    assert response.status_code == 302
    assert "/login" in response["Location"]


def test_applicant_books_sees_and_cancels_on_the_page(hall):
    slot = _future_slot()
    client = _client(hall["applicant"])
    page = client.get("/hall/appointments/", {"window": "jiayu-land", "date": slot.date.isoformat()})
    assert page.status_code == 200
    assert f'id="slot-{slot.pk}"' in page.content.decode()
    response = client.post("/hall/appointments/book/", {"window": "jiayu-land", "slot": slot.pk, "kind": "rural_homestead", "note": "<b>x</b>"})
    assert response.status_code == 302
    appointment = Appointment.objects.get(slot=slot)
    assert appointment.kind_id == "rural_homestead"
    page = client.get("/hall/appointments/").content.decode()
    assert f'id="appointment-{appointment.pk}"' in page
    assert "Booked" in page
    assert client.post(f"/hall/appointments/{appointment.pk}/cancel/").status_code == 302
    assert Appointment.objects.get(pk=appointment.pk).state == AppointmentState.CANCELLED


def test_extended_slots_are_marked_on_the_page(hall):
    day = _next_workday(local_today(), weekday=2)
    slots_open(window=Window.objects.get(code="jiayu-land"), start=day, days=1)
    page = _client(hall["applicant"]).get("/hall/appointments/", {"window": "jiayu-land", "date": day.isoformat()}).content.decode()
    assert page.count("slot-extended") == len(EXTENDED_SCHEDULE)


def test_staff_cannot_book_on_the_page(hall):
    slot = _future_slot()
    for name in ("clerk_jiayu", "reviewer_jiayu", "planner", "caller_hubei", "dept_jiayu"):
        client = _client(hall[name])
        assert client.get("/hall/appointments/").status_code == 200
        assert client.post("/hall/appointments/book/", {"window": "jiayu-land", "slot": slot.pk}).status_code == 403
    assert not Appointment.objects.exists()


def test_applicant_and_other_roles_cannot_see_the_day_page(hall):
    for name in ("applicant", "reviewer_jiayu", "planner", "caller_hubei", "dept_jiayu"):
        assert _client(hall[name]).get("/hall/appointments/day/").status_code == 403


def test_clerk_day_page_and_other_division_clerk(hall):
    appointment = _booked_in_past(hall["applicant"])
    hall["applicant"].first_name = "<script>alert(1)</script>"
    hall["applicant"].save()
    clerk = _client(hall["clerk_jiayu"])
    page = clerk.get("/hall/appointments/day/", {"date": appointment.slot.date.isoformat()})
    assert page.status_code == 200
    body = page.content.decode()
    assert f'id="appointment-{appointment.pk}"' in body
    assert "<script>alert(1)" not in body
    assert clerk.get("/hall/appointments/day/", {"window": "xianning-land"}).status_code == 403  # a county clerk, a city window
    chibi = UserFactory(username="clerk_chibi")
    MembershipFactory(user=chibi, role="clerk", division_id="421281")
    other = _client(chibi)
    assert other.get("/hall/appointments/day/").status_code == 403  # no window in Chibi
    assert other.post(f"/hall/appointments/{appointment.pk}/mark/", {"state": "no_show"}).status_code == 403
    assert other.post(f"/hall/appointments/{appointment.pk}/link/", {"reference": "x"}).status_code == 403
    assert _client(hall["applicant"]).post(f"/hall/appointments/{appointment.pk}/mark/", {"state": "attended"}).status_code == 403
    assert clerk.post(f"/hall/appointments/{appointment.pk}/mark/", {"state": "no_show"}).status_code == 302
    assert Appointment.objects.get(pk=appointment.pk).state == AppointmentState.NO_SHOW


def test_link_on_the_page(users, client_as):
    appointment = _booked_in_past(users["applicant"])
    own = submit(users["applicant"], documents=False)
    other = submit(_applicant("villager6"), documents=False)
    clerk = client_as("clerk_jiayu")
    assert clerk.post(f"/hall/appointments/{appointment.pk}/link/", {"reference": other.reference}).status_code == 400
    assert clerk.post(f"/hall/appointments/{appointment.pk}/link/", {"reference": "no-such"}).status_code == 400
    assert clerk.post(f"/hall/appointments/{appointment.pk}/link/", {"reference": own.reference}).status_code == 302
    assert Appointment.objects.get(pk=appointment.pk).application_id == own.pk


def test_hostile_inputs_are_4xx(hall):
    slot = _future_slot()
    other_window_slot = _future_slot("xianning-land")
    client = _client(hall["applicant"])
    bad_posts = [
        {"window": "jiayu-land", "slot": other_window_slot.pk},  # a slot of another window
        {"window": "jiayu-land", "slot": "1 OR 1=1"},
        {"window": "jiayu-land", "slot": "9" * 40},
        {"window": "jiayu-land", "slot": "١٢"},  # non-ASCII digits
        {"window": "jiayu-land"},
        {"window": "jiayu-land", "slot": slot.pk, "kind": "no-such-kind"},
        {"window": "jiayu-land", "slot": slot.pk, "note": "长" * 5000},
    ]
    for data in bad_posts:
        response = client.post("/hall/appointments/book/", data)
        assert response.status_code == 400, (data, response.status_code)
    past = _past_slot()
    assert client.post("/hall/appointments/book/", {"window": "jiayu-land", "slot": past.pk}).status_code == 409
    for query in ({"date": "2026-13-45"}, {"date": "yesterday"}, {"date": "9999-01-01"}, {"date": "2026-1-1"},
                  {"date": "\x00"}, {"window": "nope"}, {"window": "<script>"}):
        response = client.get("/hall/appointments/", query)
        assert 400 <= response.status_code < 500, (query, response.status_code)
    clerk = _client(hall["clerk_jiayu"])
    for query in ({"date": "2026-02-30"}, {"date": "x" * 3000}, {"window": "' OR 1=1"}):
        response = clerk.get("/hall/appointments/day/", query)
        assert 400 <= response.status_code < 500, (query, response.status_code)
    appointment = appointment_book(slot=slot, applicant=hall["applicant"])
    assert clerk.post(f"/hall/appointments/{appointment.pk}/mark/", {"state": "cancelled"}).status_code == 400
    assert clerk.post(f"/hall/appointments/{appointment.pk}/mark/", {"state": "x" * 500}).status_code == 400
    assert clerk.post(f"/hall/appointments/{appointment.pk}/link/", {"reference": "' OR 1=1 --"}).status_code == 400
    assert clerk.post("/hall/appointments/999999/mark/", {"state": "attended"}).status_code == 404
    # another applicant's booking: not theirs to cancel, and not told whose it is
    stranger = _client(_applicant("stranger"))
    assert stranger.post(f"/hall/appointments/{appointment.pk}/cancel/").status_code == 404
    assert stranger.get("/hall/appointments/book/").status_code == 405


def test_demo_appointments_idempotent(hall):
    from data.hall_demo_appointments import load_appointments_demo

    assert load_appointments_demo() > 0
    assert load_appointments_demo() == 0
    mine = Appointment.objects.filter(applicant=hall["applicant"])
    assert mine.count() == 5
    assert mine.filter(slot__extended=True).count() == 1
    assert mine.get(state=AppointmentState.NO_SHOW).slot.date < local_today()
    assert Slot.objects.filter(window__code="xianning-land", date__gt=local_today()).exists()
    assert all(s.booked <= s.capacity for s in Slot.objects.all())


def test_an_applicant_holds_at_most_a_few_places_at_once(hall):
    from approvals.hall.services.appointments import MAX_OPEN_APPOINTMENTS

    person = _applicant("holder")
    window = Window.objects.get(code="jiayu-land")
    slots_open(window=window, start=_next_workday(local_today()), days=3)
    free = list(Slot.objects.filter(window=window, date__gt=local_today()).order_by("date", "start")[:MAX_OPEN_APPOINTMENTS + 1])
    for slot in free[:MAX_OPEN_APPOINTMENTS]:
        appointment_book(slot=slot, applicant=person)
    with pytest.raises(StateConflict):
        appointment_book(slot=free[-1], applicant=person)
    assert Appointment.objects.filter(applicant=person, state="booked").count() == MAX_OPEN_APPOINTMENTS
    free[-1].refresh_from_db()
    assert free[-1].booked == 0
