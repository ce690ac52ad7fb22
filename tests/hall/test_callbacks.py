"""Call-back surveys (万人评窗口): the reproducible draw per window, the masked numbers that only
the caller who takes a call sees, the record rules, and who may see or do what on the pages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from approvals.choices import Role
from approvals.exceptions import NotPermitted, StateConflict
from approvals.hall.choices import CallOutcome, ServiceKind
from approvals.hall.models import Callback, CallbackRound, ServiceEvent, Window
from approvals.hall.selectors.callbacks import callback_outcomes, mask_phone
from approvals.hall.services.callbacks import callback_record, callback_reveal_phone, callback_round_draw
from approvals.models import Application, Membership
from approvals.services import step_decide, window_accept
from parcels.models import Division
from tests.factories import UserFactory, open_step, submit

pytestmark = pytest.mark.django_db

PHONE = "13812345678"
MASKED = "138****5678"


def today() -> dt.date:
    return timezone.localdate()


def finished_fast(applicant, *, window: Window | None, decided: dt.date | None = None, phone: str = PHONE, status: str = "approved") -> Application:
    """A decided application without the workflow: its acceptance event written directly (the
    workflow path is tested once, in test_a_case_finished_through_the_workflow_is_drawn...)."""
    app = submit(applicant, documents=False)
    moment = timezone.make_aware(dt.datetime.combine(decided or today(), dt.time(10)))
    Application.objects.filter(pk=app.pk).update(status=status, decided_at=moment, contact_phone=phone)
    if window is not None:
        ServiceEvent.objects.create(window=window, application=app, kind=ServiceKind.ACCEPTANCE, at=moment - dt.timedelta(days=3))
    return Application.objects.get(pk=app.pk)


def people(n: int, prefix: str = "resident") -> list:
    return [UserFactory(username=f"{prefix}{i}") for i in range(n)]


@pytest.fixture
def windows(users) -> dict[str, Window]:
    return {w.code: w for w in Window.objects.all()}


@pytest.fixture
def second_caller(users):
    user = UserFactory(username="caller_two")
    Membership.objects.create(user=user, role=Role.CALLER, division_id="420000")
    return user


def client_for(user) -> Client:
    """A client for a user made in the test (client_as knows the demo accounts only)."""
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def hubei() -> Division:
    return Division.objects.get(code="420000")


def draw(users, **kw) -> CallbackRound:
    kw.setdefault("division", hubei())
    kw.setdefault("name", "test round")
    kw.setdefault("period_start", today() - dt.timedelta(days=30))
    kw.setdefault("period_end", today())
    kw.setdefault("by", users["caller_hubei"])
    return callback_round_draw(**kw)


def drawn_then_undone(users, **kw) -> list[int]:
    """The application ids a draw picks, the round rolled back (so it excludes nobody later)."""
    with transaction.atomic():
        round_ = draw(users, **kw)
        picked = sorted(round_.calls.values_list("application_id", flat=True))
        transaction.set_rollback(True)
    return picked


# --- the draw ---------------------------------------------------------------------------------

def test_a_case_finished_through_the_workflow_is_drawn_for_the_window_that_accepted_it(users, windows):
    app = submit(users["applicant"], code="registration")
    Application.objects.filter(pk=app.pk).update(contact_phone=PHONE)
    app = window_accept(application=app, by=users["clerk_jiayu"], ip="10.0.0.2")
    step_decide(step=open_step(app), by=users["reviewer_jiayu"], outcome="approved", comment="当场办结")
    round_ = draw(users, per_window=1, seed=7)
    [call] = round_.calls.all()
    assert (call.application_id, call.applicant_id, call.window.code, call.outcome) == (app.pk, users["applicant"].pk, "jiayu-land", "pending")
    assert round_.seed == 7
    assert round_.drawn_by == users["caller_hubei"]


def test_the_same_seed_draws_the_same_calls_and_other_seeds_usually_not(users, windows):
    for person in people(20):
        finished_fast(person, window=windows["jiayu-land"])
    first = drawn_then_undone(users, share=Decimal("0.25"), seed=12345)
    assert len(first) == 5
    assert drawn_then_undone(users, share=Decimal("0.25"), seed=12345) == first
    others = [drawn_then_undone(users, share=Decimal("0.25"), seed=s) for s in (1, 2, 3, 4)]
    assert any(o != first for o in others)


def test_a_seed_is_chosen_and_stored_when_none_is_given(users, windows):
    finished_fast(people(1)[0], window=windows["jiayu-land"])
    round_ = draw(users, per_window=1)
    assert 0 <= round_.seed < 2**63
    # the stored seed repeats the draw
    assert CallbackRound.objects.get(pk=round_.pk).seed == round_.seed


def test_share_rounds_up_per_window_and_each_window_with_cases_gets_at_least_one(users, windows):
    for person in people(7):
        finished_fast(person, window=windows["jiayu-land"])
    [lone] = people(1, "city")
    finished_fast(lone, window=windows["xianning-land"])
    round_ = draw(users, share=Decimal("0.2"), seed=3)
    per = {code: round_.calls.filter(window__code=code).count() for code in windows}
    assert per == {"jiayu-land": 2, "xianning-land": 1}  # ceil(0.2 × 7) = 2; ceil(0.2 × 1) = 1


def test_per_window_draws_that_many_or_all_there_are(users, windows):
    for person in people(7):
        finished_fast(person, window=windows["jiayu-land"])
    assert len(drawn_then_undone(users, per_window=3, seed=1)) == 3
    assert len(drawn_then_undone(users, per_window=100, seed=1)) == 7


def test_candidates_are_decided_cases_in_the_period_and_the_scope(users, windows):
    a, b, c, d = people(4)
    inside = finished_fast(a, window=windows["jiayu-land"])
    finished_fast(b, window=windows["jiayu-land"], decided=today() - dt.timedelta(days=60))  # before the period
    open_case = submit(c, documents=False)  # not decided
    rejected = finished_fast(d, window=windows["jiayu-land"], status="rejected")
    picked = drawn_then_undone(users, per_window=100, seed=1)
    assert picked == sorted([inside.pk, rejected.pk])
    assert open_case.pk not in picked
    # a scope that does not cover Jiayu draws nothing there
    chibi = drawn_then_undone(users, per_window=100, seed=1, division=Division.objects.get(code="421281"))
    assert chibi == []


def test_a_case_without_acceptance_event_falls_back_to_a_window_of_its_division(users, windows):
    app = finished_fast(people(1)[0], window=None)
    round_ = draw(users, per_window=5, seed=1)
    assert list(round_.calls.values_list("application_id", "window__code")) == [(app.pk, "jiayu-land")]


def test_no_applicant_twice_in_a_round_nor_again_in_an_overlapping_round(users, windows):
    repeat = people(1, "repeat")[0]
    for _i in range(3):
        finished_fast(repeat, window=windows["jiayu-land"])
    finished_fast(repeat, window=windows["xianning-land"])
    others = people(3)
    for person in others:
        finished_fast(person, window=windows["jiayu-land"])
    first = draw(users, per_window=100, seed=5, period_start=today() - dt.timedelta(days=10))
    applicants = list(first.calls.values_list("applicant_id", flat=True))
    assert sorted(applicants) == sorted({repeat.pk, *(p.pk for p in others)})
    # an overlapping period leaves out everyone called already
    newcomer = people(1, "new")[0]
    new_app = finished_fast(newcomer, window=windows["jiayu-land"])
    second = draw(users, per_window=100, seed=5, period_start=today() - dt.timedelta(days=2))
    assert list(second.calls.values_list("application_id", flat=True)) == [new_app.pk]
    # a period that does not overlap may call them again
    old = finished_fast(repeat, window=windows["jiayu-land"], decided=today() - dt.timedelta(days=40))
    third = draw(users, per_window=100, seed=5, period_start=today() - dt.timedelta(days=45), period_end=today() - dt.timedelta(days=35))
    assert list(third.calls.values_list("application_id", flat=True)) == [old.pk]
    # and the database refuses a second call of the same applicant in one round
    call = first.calls.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Callback.objects.create(round=first, application=call.application, applicant=call.applicant, window=call.window)


@pytest.mark.parametrize("who", ["applicant", "clerk_jiayu", "reviewer_jiayu", "planner", "dept_jiayu", "head_jiayu"])
def test_only_callers_and_administrators_draw(users, who):
    with pytest.raises(NotPermitted):
        draw(users, per_window=1, by=users[who])


def test_a_caller_draws_only_inside_their_area_and_an_administrator_anywhere(users):
    county_caller = UserFactory(username="caller_jiayu")
    Membership.objects.create(user=county_caller, role=Role.CALLER, division_id="421221")
    with pytest.raises(NotPermitted):
        draw(users, per_window=1, by=county_caller)  # Hubei is above Jiayu
    assert draw(users, per_window=1, by=county_caller, division=Division.objects.get(code="421221")).pk
    assert draw(users, per_window=1, by=users["admin"]).pk


@pytest.mark.parametrize("bad", [
    {"share": 0}, {"share": 2}, {"share": "x"}, {"share": "NaN"}, {"share": Decimal("-0.5")}, {"per_window": 0},
    {"per_window": -3}, {"per_window": "3"}, {"share": Decimal("0.5"), "per_window": 2}, {},
    {"per_window": 1, "period_start": dt.date(2026, 12, 2), "period_end": dt.date(2026, 12, 1)},
])
def test_bad_draw_input_is_a_validation_error_and_nothing_is_written(users, bad):
    with pytest.raises(ValidationError):
        draw(users, **bad)
    assert not CallbackRound.objects.exists()


# --- phones, reveal, record -------------------------------------------------------------------

def test_mask_phone():
    assert mask_phone(PHONE) == MASKED
    assert mask_phone(" 13912345678 ") == "139****5678"
    assert mask_phone("") == ""
    assert mask_phone("12345") == "****45"
    assert "1234" not in mask_phone("1234")


@pytest.fixture
def call(users, windows) -> Callback:
    finished_fast(people(1)[0], window=windows["jiayu-land"])
    return draw(users, per_window=1, seed=1).calls.get()


def test_the_first_caller_to_reveal_takes_the_call_and_only_they_get_the_number(users, call, second_caller):
    assert callback_reveal_phone(call=call, by=users["caller_hubei"], ip="10.9.0.1") == PHONE
    call.refresh_from_db()
    assert call.caller == users["caller_hubei"]
    assert call.phone_revealed_at is not None
    with pytest.raises(NotPermitted):
        callback_reveal_phone(call=call, by=second_caller)
    # the reveal is in the call's history, with who did it and why
    event = call.history.order_by("pgh_id").last()
    assert event.pgh_context.metadata["action"] == "callback_phone_revealed"
    assert event.pgh_context.metadata["user"] == users["caller_hubei"].pk
    # the same caller may reveal it again (each time recorded)
    assert callback_reveal_phone(call=call, by=users["caller_hubei"]) == PHONE


@pytest.mark.parametrize("who", ["applicant", "clerk_jiayu", "head_jiayu", "reviewer_hubei", "planner", "dept_jiayu", "admin"])
def test_no_one_but_a_caller_reveals_a_number(users, call, who):
    with pytest.raises(NotPermitted):
        callback_reveal_phone(call=call, by=users[who])


def test_record_rules(users, call, second_caller):
    caller = users["caller_hubei"]
    with pytest.raises(StateConflict):  # not taken yet
        callback_record(call=call, by=caller, outcome=CallOutcome.NO_ANSWER)
    callback_reveal_phone(call=call, by=caller)
    with pytest.raises(NotPermitted):
        callback_record(call=call, by=second_caller, outcome=CallOutcome.NO_ANSWER)
    with pytest.raises(NotPermitted):
        callback_record(call=call, by=users["clerk_jiayu"], outcome=CallOutcome.NO_ANSWER)
    for bad in ({"outcome": CallOutcome.REACHED}, {"outcome": CallOutcome.REACHED, "stars": 6}, {"outcome": CallOutcome.REACHED, "stars": 0},
                {"outcome": CallOutcome.NO_ANSWER, "stars": 4}, {"outcome": CallOutcome.PENDING}, {"outcome": "bogus"},
                {"outcome": CallOutcome.REACHED, "stars": 4, "suggestions": "长" * 2001}):
        with pytest.raises(ValidationError):
            callback_record(call=call, by=caller, **bad)
    done = callback_record(call=call, by=caller, outcome=CallOutcome.REACHED, stars=4, suggestions="  希望窗口多设座椅 ", follow_up=True)
    assert (done.outcome, done.stars, done.suggestions, done.follow_up) == ("reached", 4, "希望窗口多设座椅", True)
    assert done.called_at is not None
    with pytest.raises(StateConflict):
        callback_record(call=call, by=caller, outcome=CallOutcome.NO_ANSWER)


def test_callback_outcomes_summary(users, windows):
    for person in people(4):
        finished_fast(person, window=windows["jiayu-land"])
    round_ = draw(users, per_window=10, seed=2)
    caller = users["caller_hubei"]
    calls = list(round_.calls.all())
    for call, (outcome, stars, follow) in zip(calls, [("reached", 5, False), ("reached", 2, True), ("no_answer", None, False)], strict=False):
        callback_reveal_phone(call=call, by=caller)
        callback_record(call=call, by=caller, outcome=outcome, stars=stars, follow_up=follow)
    summary = callback_outcomes(division=Division.objects.get(code="421221"), since=today())
    assert summary.by_outcome == {"pending": 1, "reached": 2, "no_answer": 1, "refused": 0}
    assert (summary.total, summary.mean_stars, summary.follow_ups, summary.satisfied) == (4, 3.5, 1, 1)
    # Chibi has no window with calls
    assert callback_outcomes(division=Division.objects.get(code="421281"), since=today()).total == 0


# --- pages ----------------------------------------------------------------------------------

def url_round(call: Callback) -> str:
    return reverse("hall-callback-round", args=[call.round_id])


def url_reveal(call: Callback) -> str:
    return reverse("hall-callback-reveal", args=[call.round_id, call.pk])


def url_record(call: Callback) -> str:
    return reverse("hall-callback-record", args=[call.round_id, call.pk])


def test_caller_draws_reveals_and_records_through_the_pages(users, windows, client_as, second_caller):
    finished_fast(people(1)[0], window=windows["jiayu-land"])
    client = client_as("caller_hubei")
    page = client.get(reverse("hall-callbacks"))
    assert page.status_code == 200
    assert b"draw-form" in page.content
    response = client.post(reverse("hall-callbacks"), {"draw-division": "420000", "draw-name": "", "draw-period_start": str(today() - dt.timedelta(days=5)),
                                                       "draw-period_end": str(today()), "draw-per_window": "2", "draw-seed": "99"})
    assert response.status_code == 302
    call = Callback.objects.get()
    assert call.round.seed == 99
    page = client.get(url_round(call)).content.decode()
    assert MASKED in page
    assert PHONE not in page
    assert client.post(url_reveal(call)).status_code == 302
    page = client.get(url_round(call)).content.decode()
    assert PHONE in page
    # the other caller still sees it masked, and may neither reveal nor record it
    other = client_for(second_caller)
    page = other.get(url_round(call)).content.decode()
    assert MASKED in page
    assert PHONE not in page
    assert "Taken by another surveyor" in page
    assert other.post(url_reveal(call)).status_code == 403
    assert other.post(url_record(call), {"outcome": "no_answer"}).status_code == 403
    response = client.post(url_record(call), {"outcome": "reached", "stars": "5", "suggestions": "很好", "follow_up": "on"})
    assert response.status_code == 302
    call.refresh_from_db()
    assert (call.outcome, call.stars, call.follow_up) == ("reached", 5, True)
    assert client.post(url_record(call), {"outcome": "no_answer"}).status_code == 409
    # the window's head sees the result without any number
    results = client_as("head_jiayu").get(reverse("hall-callback-results")).content.decode()
    assert "很好" in results
    assert call.application.reference in results
    assert PHONE not in results
    assert MASKED not in results
    assert "138" not in results


@pytest.mark.parametrize("who", ["applicant", "clerk_jiayu", "reviewer_jiayu", "planner", "dept_jiayu", "head_jiayu"])
def test_staff_without_the_caller_role_are_refused_every_caller_page(users, call, client_as, who):
    client = client_as(who)
    assert client.get(reverse("hall-callbacks")).status_code == 403
    assert client.post(reverse("hall-callbacks"), {"draw-division": "420000"}).status_code == 403
    assert client.get(url_round(call)).status_code == 403
    assert client.post(url_reveal(call)).status_code == 404
    assert client.post(url_record(call), {"outcome": "no_answer"}).status_code == 404
    assert PHONE not in client.get(url_round(call)).content.decode()


@pytest.mark.parametrize("who", ["applicant", "clerk_jiayu", "reviewer_jiayu", "planner", "dept_jiayu", "caller_hubei", "caller_two"])
def test_results_are_for_window_heads_only(users, client_as, second_caller, who):
    client = client_for(second_caller) if who == "caller_two" else client_as(who)
    assert client.get(reverse("hall-callback-results")).status_code == 403
    assert client_as("head_jiayu").get(reverse("hall-callback-results")).status_code == 200
    assert client_as("clerk_xianning").get(reverse("hall-callback-results")).status_code == 200


def test_anonymous_is_sent_to_log_in_everywhere(client, call):
    for url, method in [(reverse("hall-callbacks"), "get"), (reverse("hall-callbacks"), "post"), (url_round(call), "get"),
                        (url_reveal(call), "post"), (url_record(call), "post"), (reverse("hall-callback-results"), "get")]:
        response = getattr(client, method)(url)
        assert (response.status_code, "/accounts/login/" in response.get("Location", "")) == (302, True), url
    call.refresh_from_db()
    assert call.caller is None


def test_an_administrator_sees_rounds_but_takes_no_calls(users, call, client_as):
    client = client_as("admin")
    assert client.get(url_round(call)).status_code == 200
    assert client.post(url_reveal(call)).status_code == 403
    assert client.post(url_record(call), {"outcome": "no_answer"}).status_code == 403


@pytest.mark.parametrize("data", [
    {"draw-share": "x"}, {"draw-share": "0"}, {"draw-share": "2"}, {"draw-share": "0.12345"}, {"draw-per_window": "0"},
    {"draw-per_window": "abc"}, {"draw-share": "0.5", "draw-per_window": "3"}, {},
    {"draw-per_window": "1", "draw-seed": "-1"}, {"draw-per_window": "1", "draw-seed": str(2**64)},
    {"draw-per_window": "1", "draw-period_start": "2026-12-02", "draw-period_end": "2026-11-01"},
    {"draw-per_window": "1", "draw-period_start": "not a date"}, {"draw-per_window": "1", "draw-division": "999999"},
    {"draw-per_window": "1", "draw-name": "x" * 500},
])
def test_hostile_draw_form_input_is_a_400(users, client_as, data):
    form = {"draw-division": "420000", "draw-period_start": "2026-11-01", "draw-period_end": "2026-11-30", **data}
    response = client_as("caller_hubei").post(reverse("hall-callbacks"), form)
    assert response.status_code == 400
    assert not CallbackRound.objects.exists()


def test_hostile_record_input_is_4xx_never_500(users, windows, client_as):
    for person in people(2):
        finished_fast(person, window=windows["jiayu-land"])
    round_ = draw(users, per_window=2, seed=1)
    call, other_call = round_.calls.all()
    other_round = draw(users, per_window=1, seed=1, period_start=today() - dt.timedelta(days=400), period_end=today() - dt.timedelta(days=300))
    client = client_as("caller_hubei")
    client.post(url_reveal(call))
    for data in ({"outcome": "reached"}, {"outcome": "reached", "stars": "9"}, {"outcome": "bogus"}, {"outcome": "pending"},
                 {"outcome": "no_answer", "stars": "3"}, {"outcome": "reached", "stars": "4", "suggestions": "字" * 5000},
                 {"outcome": "reached", "stars": "x"}, {}):
        response = client.post(url_record(call), data)
        assert response.status_code == 400, data
    # another round's call through this round's address, and unknown ids
    assert client.post(reverse("hall-callback-record", args=[other_round.pk, call.pk]), {"outcome": "no_answer"}).status_code == 404
    assert client.post(reverse("hall-callback-reveal", args=[other_round.pk, other_call.pk])).status_code == 404
    assert client.get(reverse("hall-callback-round", args=[999999])).status_code == 404
    assert client.post(reverse("hall-callback-reveal", args=[round_.pk, 999999])).status_code == 404
    assert client.get(url_reveal(call)).status_code == 405
    call.refresh_from_db()
    assert call.outcome == "pending"
    # a hostile suggestion is shown as text
    assert client.post(url_record(call), {"outcome": "reached", "stars": "3", "suggestions": "<script>alert(1)</script>"}).status_code == 302
    page = client.get(url_round(call)).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


def test_demo_round_over_the_last_three_months(users, windows):
    from data.hall_demo_callbacks import DEMO_SEED, load_callbacks_demo

    day = dt.date(2026, 12, 3)
    assert load_callbacks_demo(today=day) == 0  # nothing finished in the last three months: no round
    for i, person in enumerate(people(9)):
        finished_fast(person, window=windows["jiayu-land"], decided=dt.date(2026, 9 + i % 3, 3 + i), phone=f"1390000000{i}")
    finished_fast(people(1, "december")[0], window=windows["jiayu-land"], decided=day)
    finished_fast(people(1, "august")[0], window=windows["jiayu-land"], decided=dt.date(2026, 8, 31))
    assert load_callbacks_demo(today=day) == 8  # 8 per window of the 9 finished Sep–Nov
    round_ = CallbackRound.objects.get(seed=DEMO_SEED)
    assert (round_.period_start, round_.period_end) == (dt.date(2026, 9, 1), dt.date(2026, 11, 30))
    outcomes = list(round_.calls.order_by("id").values_list("outcome", "stars", "follow_up"))
    assert outcomes == [("reached", 5, False), ("no_answer", None, False), ("reached", 2, True), ("reached", 4, False)] + [("pending", None, False)] * 4
    assert load_callbacks_demo(today=day) == 0  # idempotent


@pytest.mark.parametrize(("who", "surveys", "results"), [
    ("caller_hubei", True, False), ("head_jiayu", False, True), ("clerk_xianning", False, True), ("clerk_jiayu", False, False),
    ("applicant", False, False), ("planner", False, False), ("admin", True, False),
])
def test_hall_home_links_by_role(users, client_as, who, surveys, results):
    home = client_as(who).get(reverse("hall-home")).content.decode()
    assert ('id="hall-callbacks-link"' in home) is surveys
    assert ('id="hall-callback-results-link"' in home) is results
    assert 'id="hall-rankings-link"' in home
