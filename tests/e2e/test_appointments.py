"""Booking a visit on a phone (390×844): choose the window and the day, book an extended-hours time,
see it under "my appointments", cancel it; the clerk's day page on a phone too. No sideways scroll."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import Browser, expect

from approvals.hall.models import Appointment, Window
from approvals.hall.services.appointments import appointment_book, extended_weekday, local_today, slots_open
from approvals.workdays import WorkdayCalendar
from data import demo
from data.demo import DEMO_PASSWORD
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_mobile import PHONE, no_sideways_scroll

pytestmark = pytest.mark.browser


def _extended_day(window: Window) -> dt.date:
    cal, day = WorkdayCalendar(), local_today() + dt.timedelta(days=1)
    while not (cal.is_workday(day) and day.weekday() == extended_weekday(window)):
        day += dt.timedelta(days=1)
    return day


def _phone_page(browser: Browser, live_server, offsite: list[str], username: str):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="en-US",
                                  base_url=live_server.url)
    context.route(re.compile(r"^(?!" + re.escape(live_server.url) + r"|data:|blob:).*"),
                  lambda route: (offsite.append(route.request.url), route.abort()))
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    return context, page, errors


def test_book_and_cancel_on_a_phone(browser: Browser, live_server, divisions):
    demo.load_accounts()
    window = Window.objects.get(code="jiayu-land")
    day = _extended_day(window)
    slots_open(window=window, start=day, days=1)
    offsite: list[str] = []
    context, page, errors = _phone_page(browser, live_server, offsite, "applicant")
    try:
        page.goto(f"/hall/appointments/?window=jiayu-land&date={day.isoformat()}")
        extended = page.locator("tr.slot-extended").first
        expect(extended).to_be_visible()
        no_sideways_scroll(page)
        extended.locator("summary").tap()
        extended.locator("input[name=note]").fill("下班后来办")
        extended.locator("button.book-slot").tap()
        expect(page.locator(".messages .success")).to_be_visible()
        booked = Appointment.objects.get(applicant__username="applicant")
        assert booked.slot.extended
        expect(page.locator(f"#appointment-{booked.pk}")).to_contain_text("Booked")
        no_sideways_scroll(page)
        page.screenshot(path=str(ARTIFACTS / "mobile_appointments.png"), full_page=True)
        page.locator(f"#appointment-{booked.pk} button.cancel-appointment").tap()
        expect(page.locator(f"#appointment-{booked.pk}")).to_contain_text("Cancelled")
    finally:
        context.close()
    assert offsite == []
    assert errors == []


def test_clerk_day_on_a_phone(browser: Browser, live_server, divisions):
    demo.load_accounts()
    window = Window.objects.get(code="jiayu-land")
    day = _extended_day(window)
    slots_open(window=window, start=day, days=1)
    from django.contrib.auth import get_user_model

    appointment = appointment_book(slot=window.slots.filter(date=day).first(), applicant=get_user_model().objects.get(username="applicant"))
    offsite: list[str] = []
    context, page, errors = _phone_page(browser, live_server, offsite, "clerk_jiayu")
    try:
        page.goto(f"/hall/appointments/day/?date={day.isoformat()}")
        expect(page.locator(f"#appointment-{appointment.pk}")).to_be_visible()
        no_sideways_scroll(page)
        page.screenshot(path=str(ARTIFACTS / "mobile_appointments_day.png"), full_page=True)
    finally:
        context.close()
    assert offsite == []
    assert errors == []
