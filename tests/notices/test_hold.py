"""The public notice holds final approval: until it has run its working days, while an objection is
unanswered, and (for a kind with a rule) until one was published. Rejection is never held. The
notice's working days move every deadline by exactly that many working days."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import DatabaseError, transaction

from approvals.choices import ApplicationStatus, EventAction, StepOutcome
from approvals.exceptions import NotPermitted, StateConflict
from approvals.notices.models import Notice, NoticeRule, Objection, ObjectionAnswer
from approvals.notices.services import notice_publish, objection_answer, objection_lodge
from approvals.services import step_decide
from approvals.services.common import route_step
from approvals.workdays import TZ
from tests.factories import open_step
from tests.notices.helpers import ACCEPTED, NOTICE_DAYS, NOTICE_ENDS, PUBLISHED, homestead_at_last_level, last_reviewer


@pytest.fixture
def rule(db):
    return NoticeRule.objects.create(kind_id="rural_homestead", days=NOTICE_DAYS)


def _approve(app, reviewer, when):
    with time_machine.travel(when, tick=False):
        return step_decide(step=open_step(app), by=reviewer, outcome=StepOutcome.APPROVED, comment="同意", ip="10.0.0.3")


def _publish(app, reviewer, when=PUBLISHED) -> Notice:
    with time_machine.travel(when, tick=False):
        return notice_publish(application=app, by=reviewer, ip="10.0.0.3")


def test_no_notice_no_final_approval(rule, users):
    app = homestead_at_last_level(users)
    with pytest.raises(StateConflict, match="needs a public notice before final approval"):
        _approve(app, last_reviewer(app), PUBLISHED)


def test_kind_without_rule_is_not_held(users):
    app = homestead_at_last_level(users)
    assert _approve(app, last_reviewer(app), PUBLISHED).status == ApplicationStatus.APPROVED


def test_running_notice_holds_until_its_end(rule, users):
    app = homestead_at_last_level(users)
    reviewer = last_reviewer(app)
    notice = _publish(app, reviewer)
    assert notice.ends_at == NOTICE_ENDS
    assert notice.number == f"GS{app.reference}-1"
    with pytest.raises(StateConflict, match="runs until 2026-11-11 17:30"):
        _approve(app, reviewer, NOTICE_ENDS - dt.timedelta(minutes=1))
    assert _status(app) == ApplicationStatus.IN_REVIEW
    assert _approve(app, reviewer, NOTICE_ENDS).status == ApplicationStatus.APPROVED


def _status(app) -> str:
    app.refresh_from_db()
    return app.status


def test_rejection_is_never_held(rule, users):
    app = homestead_at_last_level(users)
    reviewer = last_reviewer(app)
    _publish(app, reviewer)
    with time_machine.travel(PUBLISHED + dt.timedelta(hours=1), tick=False):
        done = step_decide(step=open_step(app), by=reviewer, outcome=StepOutcome.REJECTED, comment="占用永久基本农田", ip="10.0.0.3")
    assert done.status == ApplicationStatus.REJECTED


def test_open_objection_holds_until_answered(rule, users):
    app = homestead_at_last_level(users)
    reviewer = last_reviewer(app)
    notice = _publish(app, reviewer)
    with time_machine.travel(PUBLISHED + dt.timedelta(days=1), tick=False):
        objection = objection_lodge(notice=notice, name="李四", phone="139 0715 2222", text="北侧界址与我家宅基地重叠约两米。")
    assert objection.reference.startswith("YY")
    assert len(objection.reference) == 10
    assert objection.phone == "13907152222"
    after_end = NOTICE_ENDS + dt.timedelta(days=1)
    with pytest.raises(StateConflict, match=r"Objections to the public notice are unanswered \(1\)"):
        _approve(app, reviewer, after_end)
    with time_machine.travel(after_end, tick=False):
        answer = objection_answer(objection=objection, by=reviewer, text="经现场复核，界址无误，已向异议人说明。", ip="10.0.0.3")
    assert (answer.answered_by, answer.ip_address) == (reviewer, "10.0.0.3")
    assert _approve(app, reviewer, after_end).status == ApplicationStatus.APPROVED


def test_objection_after_the_end_is_refused(rule, users):
    app = homestead_at_last_level(users)
    notice = _publish(app, last_reviewer(app))
    with time_machine.travel(NOTICE_ENDS, tick=False), pytest.raises(StateConflict, match="has ended"):
        objection_lodge(notice=notice, text="迟到的异议")
    assert Objection.objects.count() == 0


def test_answer_once_and_only_by_the_level(rule, users):
    app = homestead_at_last_level(users)
    reviewer = last_reviewer(app)
    notice = _publish(app, reviewer)
    with time_machine.travel(PUBLISHED, tick=False):
        objection = objection_lodge(notice=notice, text="异议")
    for name in ("applicant", "clerk_jiayu", "reviewer_chibi", "planner", "reviewer_xianning"):
        with pytest.raises(NotPermitted):
            objection_answer(objection=objection, by=users[name], text="答复")
    objection_answer(objection=objection, by=reviewer, text="答复")
    with pytest.raises(StateConflict, match="already been answered"):
        objection_answer(objection=objection, by=reviewer, text="再次答复")
    assert ObjectionAnswer.objects.count() == 1


def test_publish_refused_twice_below_last_level_and_by_others(rule, users):
    app = homestead_at_last_level(users)
    reviewer = last_reviewer(app)
    for name in ("applicant", "clerk_jiayu", "reviewer_chibi", "planner"):
        with pytest.raises(NotPermitted):
            _publish(app, users[name])
    _publish(app, reviewer)
    with pytest.raises(StateConflict, match="already been published"):
        _publish(app, reviewer)


def test_objections_and_answers_are_append_only(rule, users):
    app = homestead_at_last_level(users)
    reviewer = last_reviewer(app)
    notice = _publish(app, reviewer)
    with time_machine.travel(PUBLISHED, tick=False):
        objection = objection_lodge(notice=notice, text="异议原文")
    answer = objection_answer(objection=objection, by=reviewer, text="答复原文")
    for qs, change in ((Objection.objects.filter(pk=objection.pk), {"text": "改写"}), (ObjectionAnswer.objects.filter(pk=answer.pk), {"text": "改写"}),
                       (Notice.objects.filter(pk=notice.pk), {"days": 1})):
        with pytest.raises(DatabaseError), transaction.atomic():
            qs.update(**change)
        with pytest.raises(DatabaseError), transaction.atomic():
            qs.delete()
    objection.refresh_from_db()
    assert objection.text == "异议原文"


def test_deadlines_move_by_the_notice_working_days(rule, users):
    app = homestead_at_last_level(users)
    reviewer = last_reviewer(app)
    step = open_step(app)
    assert app.accepted_at == ACCEPTED
    # before: promised 3.5 working days from Mon 2 Nov 10:00 → noon Fri 6 Nov; statutory 20 → close of Mon 30 Nov
    assert app.promised_due == dt.datetime(2026, 11, 6, 12, 0, tzinfo=TZ)
    assert app.statutory_due == dt.datetime(2026, 11, 30, 17, 30, tzinfo=TZ)
    _publish(app, reviewer)
    app.refresh_from_db()
    step.refresh_from_db()
    # after: 8.5 → noon Fri 13 Nov; 25 → close of Mon 7 Dec (Dec 1, 2, 3, 4, 7)
    assert app.promised_due == dt.datetime(2026, 11, 13, 12, 0, tzinfo=TZ)
    assert app.statutory_due == dt.datetime(2026, 12, 7, 17, 30, tzinfo=TZ)
    assert app.paused_days == Decimal(NOTICE_DAYS)
    # the step was received at acceptance (same moment): its route limit + 5 working days
    limit = route_step(app, step.level).limit(green=False)
    expected_step = {Decimal("3.5"): dt.datetime(2026, 11, 13, 12, 0, tzinfo=TZ), Decimal("2.5"): dt.datetime(2026, 11, 12, 12, 0, tzinfo=TZ)}
    assert step.due_at == expected_step[limit]
    event = app.events.filter(action=EventAction.MODIFIED).latest("at")
    assert event.data["notice_days"] == NOTICE_DAYS
    moved = {k: (dt.datetime.fromisoformat(v["before"]), dt.datetime.fromisoformat(v["after"])) for k, v in event.data["changed"].items()}
    assert moved["promised_due"] == (dt.datetime(2026, 11, 6, 12, 0, tzinfo=TZ), dt.datetime(2026, 11, 13, 12, 0, tzinfo=TZ))
    assert moved["statutory_due"] == (dt.datetime(2026, 11, 30, 17, 30, tzinfo=TZ), dt.datetime(2026, 12, 7, 17, 30, tzinfo=TZ))
