"""The demo cases are made through the real workflow: every stage is present, and a second load
makes nothing."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from approvals.hall.models import Appointment, Callback, FollowUpCase, Rating, Receipt, ServiceEvent
from approvals.models import Application
from data.demo_cases import load_cases
from data.hall_demo_appointments import load_appointments_demo
from data.hall_demo_callbacks import load_callbacks_demo
from data.hall_demo_ratings import load_ratings_demo

pytestmark = pytest.mark.django_db


def test_demo_cases_cover_every_stage_and_load_once(users):
    made = load_cases(today=dt.date(2026, 12, 3))
    assert made == Application.objects.count()
    statuses = Counter(Application.objects.values_list("status", flat=True))
    assert statuses["approved"] >= 10
    assert statuses["rejected"] == 1
    assert statuses["submitted"] == 3
    assert statuses["returned"] == 1
    open_levels = Counter(Application.objects.filter(status="in_review").values_list("current_level", flat=True))
    assert open_levels == Counter({"county": 2, "city": 1, "province": 1, "nation": 1})
    # Every acceptance and return at the Jiayu window is a rateable service event.
    accepted = Application.objects.filter(accepted_at__isnull=False).count()
    assert ServiceEvent.objects.filter(kind="acceptance").count() == accepted
    assert ServiceEvent.objects.filter(kind="return").count() == 2
    assert set(ServiceEvent.objects.values_list("window__code", flat=True)) == {"jiayu-land"}
    # Each window action issued its receipt (a return notice for a return).
    assert Receipt.objects.count() == ServiceEvent.objects.filter(kind__in=["acceptance", "return"]).count()
    assert load_cases(today=dt.date(2026, 12, 3)) == 0


def test_the_public_side_demo_has_ratings_follow_ups_call_backs_and_appointments(users):
    load_cases()
    ratings = load_ratings_demo()
    assert ratings == Rating.objects.count() > 20
    assert FollowUpCase.objects.filter(state="closed").exists()
    assert FollowUpCase.objects.exclude(state="closed").exists()
    assert load_callbacks_demo() == Callback.objects.count() >= 1
    assert load_appointments_demo() > 0
    assert Appointment.objects.count() >= 5
    assert Appointment.objects.filter(slot__extended=True).exists()
    # A second load makes nothing.
    assert (load_ratings_demo(), load_callbacks_demo(), load_appointments_demo()) == (0, 0, 0)
