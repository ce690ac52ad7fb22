"""Call-back surveys in the browser: the provincial surveyor reveals a number and records the call;
the public rankings page (no login) shows its chart and table, also on a phone."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from approvals.hall.choices import ServiceKind
from approvals.hall.models import Rating, ServiceEvent, Window
from approvals.hall.services.callbacks import callback_round_draw
from approvals.models import Application
from data.demo import DEMO_PASSWORD
from parcels.models import Division
from tests.e2e.conftest import login
from tests.factories import UserFactory, submit

pytestmark = pytest.mark.browser

PHONE = "13812345678"


def test_caller_reveals_a_number_and_records_the_call(page: Page, users):
    window = Window.objects.get(code="jiayu-land")
    person = UserFactory(username="resident_e2e")
    app = submit(person, documents=False)
    Application.objects.filter(pk=app.pk).update(status="approved", decided_at=timezone.now(), contact_phone=PHONE)
    ServiceEvent.objects.create(window=window, application=app, kind=ServiceKind.ACCEPTANCE, at=timezone.now())
    today = timezone.localdate()
    round_ = callback_round_draw(division=Division.objects.get(code="420000"), name="E2E round", period_start=today - dt.timedelta(days=7),
                                 period_end=today, per_window=1, seed=20261201, by=users["caller_hubei"])
    call = round_.calls.get()

    login(page, "caller_hubei", DEMO_PASSWORD)
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": page.url}])
    page.goto("/hall/")
    page.click("#hall-callbacks-link")
    page.click("a:has-text('E2E round')")
    row = page.locator(f"#call-{call.pk}")
    expect(row.locator(".phone-masked")).to_have_text("138****5678")
    with page.expect_navigation():
        row.locator("button.reveal").click()
    row = page.locator(f"#call-{call.pk}")
    expect(row.locator(".phone-full")).to_have_text(PHONE)
    row.locator("select[name=outcome]").select_option("reached")
    row.locator("select[name=stars]").select_option("5")
    row.locator("textarea[name=suggestions]").fill("窗口服务很好，希望增加停车位")
    with page.expect_navigation():
        row.locator(".record-form button[type=submit]").click()
    row = page.locator(f"#call-{call.pk}")
    expect(row.locator(".outcome")).to_have_text("Reached")
    expect(row.locator(".stars")).to_have_text("5 ★")
    expect(page.locator(".messages")).to_contain_text("Call recorded.")


def test_public_rankings_show_the_chart_and_the_table_on_a_phone(page: Page, users, live_server):
    window = Window.objects.get(code="jiayu-land")
    for stars in (5, 4, 3, 2, 5, 5):
        event = ServiceEvent.objects.create(window=window, kind=ServiceKind.CONSULTATION, at=timezone.now())
        Rating.objects.create(event=event, stars=stars, tag_set="2026.1", channel="kiosk", at=timezone.now())
    page.set_viewport_size({"width": 390, "height": 844})
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page.goto("/hall/")
    page.click("#hall-rankings-link")
    expect(page.locator("#rankings-chart svg")).to_be_visible()
    expect(page.locator("#rankings-chart figcaption")).to_have_text("Windows by combined satisfaction")
    first = page.locator("#ranking-windows tbody tr").first
    expect(first).to_contain_text("Jiayu County land approval window")
    expect(first).to_contain_text("83.3 %")
    expect(page.locator("#export-xlsx")).to_be_visible()
    # nothing sticks out sideways on the phone (tables scroll inside their own box)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.select_option("#id_period", "year")
    page.click("#period-form button[type=submit]")
    expect(page.locator("#ranking-windows")).to_be_visible()
