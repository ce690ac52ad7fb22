"""Who may act on notices (django-rules, loaded by autodiscovery like approvals/rules.py).

Publishing is a review act of the open step's level (approvals.review_step). Answering an
objection and seeing the objector's name and phone belong to the reviewers of the level that
published the notice (not the agent who carried the case: four eyes)."""

from __future__ import annotations

import rules

from approvals.choices import Role
from approvals.notices.models import Notice
from approvals.permissions import memberships


@rules.predicate
def is_notice_level_reviewer(user, notice: Notice) -> bool:
    return memberships(user, Role.REVIEWER).filter(division_id=notice.step.division_id).exists()


@rules.predicate
def is_notice_agent(user, notice: Notice) -> bool:
    agent = notice.application.agent_id
    return user.is_authenticated and agent is not None and agent == user.pk


rules.add_perm("notices.answer_objection", is_notice_level_reviewer & ~is_notice_agent)
rules.add_perm("notices.view_objector", is_notice_level_reviewer)
