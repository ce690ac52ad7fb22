"""Two reviewers deciding the same application at the same moment, in real concurrent transactions:
exactly one decision is applied, the other gets a clear conflict, and one event is recorded."""

from __future__ import annotations

import threading

import pytest
from django.db import connections
from django.utils import translation

from approvals.exceptions import StateConflict
from approvals.services import step_decide, step_return, window_accept
from tests.factories import MembershipFactory, UserFactory, open_step, submit

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_simultaneous_decisions_exactly_one_wins(users):
    second_reviewer = UserFactory(username="reviewer_jiayu_2")
    MembershipFactory(user=second_reviewer, role="reviewer", division_id="421221")
    app = submit(users["applicant"], title="并发")
    window_accept(application=app, by=users["clerk_jiayu"])
    step = open_step(app)

    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def decide(name: str, action) -> None:
        try:
            barrier.wait(timeout=10)
            with translation.override("zh-hans"):  # each thread sets its own language
                action()
            outcomes[name] = "applied"
        except StateConflict as exc:
            outcomes[name] = f"conflict: {exc}"
        finally:
            connections.close_all()  # each thread has its own connection; close it here

    threads = [
        threading.Thread(target=decide, args=("approve", lambda: step_decide(step=step, by=users["reviewer_jiayu"], outcome="forwarded", comment="同意"))),
        threading.Thread(target=decide, args=("return", lambda: step_return(step=step, by=second_reviewer, reasons=["退回补正"]))),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert sorted(v.split(":")[0] for v in outcomes.values()) == ["applied", "conflict"], outcomes
    app.refresh_from_db()
    winner = next(k for k, v in outcomes.items() if v == "applied")
    assert (app.status, app.current_level) == {"approve": ("in_review", "city"), "return": ("returned", "county")}[winner]
    assert app.events.filter(action__in=["forwarded", "returned"]).count() == 1
    assert app.steps.count() == (2 if winner == "approve" else 1)
    loser_message = next(v for v in outcomes.values() if v.startswith("conflict"))
    assert "您的操作未执行" in loser_message
