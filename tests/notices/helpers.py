"""Shared set-up of the notice tests: a rural homestead case pushed to the last level of its route
at a fixed moment, and the kind's notice rule."""

from __future__ import annotations

import datetime as dt

import time_machine

from approvals.choices import Role, StepOutcome, StepState
from approvals.models import Application, Membership
from approvals.services import step_accept, step_decide, window_accept
from approvals.services.common import route
from approvals.workdays import TZ
from tests.factories import UserFactory, open_step, submit

# Monday 2 November 2026, 10:00 in Shanghai: acceptance (no holiday in the weeks that follow).
ACCEPTED = dt.datetime(2026, 11, 2, 10, 0, tzinfo=TZ)
# Wednesday 4 November 2026, 09:00: the notice is published.
PUBLISHED = dt.datetime(2026, 11, 4, 9, 0, tzinfo=TZ)
NOTICE_DAYS = 5
# Five working days after Wednesday 4 Nov: Thu 5, Fri 6, Mon 9, Tue 10, Wed 11 → the close of Wed 11 Nov.
NOTICE_ENDS = dt.datetime(2026, 11, 11, 17, 30, tzinfo=TZ)


def reviewer_at(division_id: str):
    """A reviewer of exactly that division (the demo's, else a new one)."""
    member = Membership.objects.filter(role=Role.REVIEWER, division_id=division_id, user__is_active=True).select_related("user").first()
    if member is not None:
        return member.user
    user = UserFactory(username=f"reviewer_{division_id}")
    Membership.objects.create(user=user, role=Role.REVIEWER, division_id=division_id)
    return user


def clerk_for(app: Application, users):
    """The county window clerk, or (where another level's window receives the kind) one of the
    application's own division."""
    import rules

    if rules.has_perm("approvals.window_check", users["clerk_jiayu"], app):
        return users["clerk_jiayu"]
    user = UserFactory(username=f"clerk_{app.division_id}")
    Membership.objects.get_or_create(user=user, role=Role.CLERK, division_id=app.division_id)
    return user


def homestead_at_last_level(users, *, title: str = "宅基地翻建", when: dt.datetime = ACCEPTED) -> Application:
    """A rural homestead case accepted at the window at `when` and, at the same moment, forwarded up
    to the last level of its route (whatever levels the route has), accepted there."""
    with time_machine.travel(when, tick=False):
        app = submit(users["applicant"], code="rural_homestead", title=title, contact_phone="13800001111")
        window_accept(application=app, by=clerk_for(app, users), ip="10.0.0.2")
        last = route(app)[-1].level
        while True:
            step = open_step(app)
            reviewer = reviewer_at(step.division_id)
            if step.state != StepState.ACCEPTED:
                step_accept(step=step, by=reviewer, ip="10.0.0.3")
            if step.level == last:
                break
            step_decide(step=step, by=reviewer, outcome=StepOutcome.FORWARDED, comment="同意", ip="10.0.0.3")
    return Application.objects.get(pk=app.pk)


def last_reviewer(app: Application):
    return reviewer_at(open_step(app).division_id)
