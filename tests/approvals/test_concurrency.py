"""Two reviewers deciding the same application at the same moment, in real concurrent transactions:
exactly one decision is applied, the other gets a clear conflict, and one event is recorded."""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from approvals.exceptions import StateConflict
from approvals.services import application_approve, application_return, application_submit
from tests.factories import JIAYU_SITE, MembershipFactory, UserFactory, site_box

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_simultaneous_decisions_exactly_one_wins(users):
    second_reviewer = UserFactory(username="reviewer_jiayu_2")
    MembershipFactory(user=second_reviewer, role="reviewer", division_id="421221")
    app = application_submit(applicant=users["applicant"], kind="construction_land", title="并发", purpose="测试", site=site_box(*JIAYU_SITE))

    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def decide(name: str, action) -> None:
        try:
            barrier.wait(timeout=10)
            action()
            outcomes[name] = "applied"
        except StateConflict as exc:
            outcomes[name] = f"conflict: {exc}"
        finally:
            connections.close_all()  # each thread has its own connection; close it here

    threads = [
        threading.Thread(target=decide, args=("approve", lambda: application_approve(application=app, by=users["reviewer_jiayu"], comment="同意"))),
        threading.Thread(target=decide, args=("return", lambda: application_return(application=app, by=second_reviewer, comment="退回补正"))),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert sorted(v.split(":")[0] for v in outcomes.values()) == ["applied", "conflict"], outcomes
    app.refresh_from_db()
    winner = next(k for k, v in outcomes.items() if v == "applied")
    assert app.status == {"approve": "approved", "return": "returned"}[winner]
    assert app.events.filter(action__in=["approved", "returned"]).count() == 1
    loser_message = next(v for v in outcomes.values() if v.startswith("conflict"))
    # worker threads run in the default language (zh-hans)
    assert "您的操作未执行" in loser_message
