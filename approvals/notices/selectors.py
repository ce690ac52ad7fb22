"""Reads of public notices: the decision hold (asked by approvals.services.review.step_decide), the
public list and page, and the staff panel on the application page."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import rules
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from approvals.choices import ApplicationStatus, StepState
from approvals.models import Application, ReviewStep
from approvals.notices.models import Notice, NoticeRule, Objection
from approvals.services.common import route
from approvals.workdays import TZ

# What a notice number can look like (GS + case reference + -n); anything else is not looked up.
NUMBER_RE = re.compile(r"GS[0-9A-Za-z-]{1,60}")


def rule_for(application: Application) -> NoticeRule | None:
    """The kind's active notice rule, or None when the kind needs no notice."""
    return NoticeRule.objects.filter(kind_id=application.kind_id, active=True).first()


def is_running(notice: Notice, now: dt.datetime) -> bool:
    """Running: published, not yet ended, and the case still undecided (a rejection ends it early)."""
    return notice.published_at <= now < notice.ends_at and notice.application.status == ApplicationStatus.IN_REVIEW


def open_objections(application: Application) -> QuerySet[Objection]:
    return Objection.objects.filter(notice__application=application, answer__isnull=True)


def decision_hold(*, application: Application, now: dt.datetime) -> str | None:
    """Why final approval must wait, or None. Holds while a notice runs, while any objection to any
    of the application's notices is unanswered, and, for a kind with a notice rule, until a
    notice has run to its end."""
    latest = application.notices.order_by("-published_at", "-id").first()
    if latest is not None and now < latest.ends_at:
        end = timezone.localtime(latest.ends_at, TZ)
        return _("The public notice %(number)s runs until %(end)s: final approval waits until it has ended.") % {
            "number": latest.number, "end": end.strftime("%Y-%m-%d %H:%M")}
    waiting = open_objections(application).count()
    if waiting:
        return _("Objections to the public notice are unanswered (%(count)d): answer each one before final approval.") % {"count": waiting}
    if latest is None and rule_for(application) is not None:
        return _("This kind of application needs a public notice before final approval: publish it first.")
    return None


def running_notices(*, now: dt.datetime | None = None) -> QuerySet[Notice]:
    now = now or timezone.now()
    return (Notice.objects.filter(published_at__lte=now, ends_at__gt=now, application__status=ApplicationStatus.IN_REVIEW)
            .select_related("application").order_by("ends_at", "id"))


def notice_public(*, number: str) -> Notice:
    """A notice by its number, for the public page; 404 for anything else (no hint)."""
    if not NUMBER_RE.fullmatch(number):
        raise Http404("No such notice")
    try:
        return Notice.objects.select_related("application").get(number=number)
    except Notice.DoesNotExist as exc:
        raise Http404("No such notice") from exc


@dataclass
class NoticePanel:
    """What the application page shows about notices, for one user."""

    notices: list[Notice]
    objections: dict[int, list[Objection]] = field(default_factory=dict)
    running: Notice | None = None
    can_publish: bool = False
    rule: NoticeRule | None = None
    hold: str | None = None
    see_objections: bool = False
    # notice ids whose objectors' names and phones, and answer forms, this user gets
    level_reviewer_of: set[int] = field(default_factory=set)


def notice_panel(*, user: AbstractBaseUser | AnonymousUser, application: Application, now: dt.datetime | None = None) -> NoticePanel | None:
    """The notice panel for someone who may see the application (the page checked that), or None
    when there is nothing to show (no notice, no rule)."""
    now = now or timezone.now()
    rule = rule_for(application)
    notices = list(application.notices.select_related("step", "step__division", "application").order_by("-published_at", "-id"))
    if not notices and rule is None:
        return None
    panel = NoticePanel(notices=notices, rule=rule)
    panel.running = next((n for n in notices if is_running(n, now)), None)
    step = application.steps.filter(closed_at__isnull=True).select_related("division").first()
    if step is not None and application.status == ApplicationStatus.IN_REVIEW and route(application)[-1].level == step.level:
        # the hold matters where final approval is given: at the route's last level
        panel.hold = decision_hold(application=application, now=now)
    # Objection texts are for the staff acting on the land; names and phones for the level's reviewers.
    panel.see_objections = rules.has_perm("approvals.view_right_holders", user, application)
    for notice in notices:
        if rules.has_perm("notices.view_objector", user, notice):
            panel.level_reviewer_of.add(notice.pk)
            panel.see_objections = True
    if panel.see_objections:
        for objection in Objection.objects.filter(notice__in=notices).select_related("answer", "answer__answered_by").order_by("lodged_at", "id"):
            panel.objections.setdefault(objection.notice_id, []).append(objection)
    panel.can_publish = bool(rule and step and can_publish_at(step=step, user=user) and not step.notices.exists())
    return panel


def can_publish_at(*, step: ReviewStep, user: AbstractBaseUser | AnonymousUser) -> bool:
    if step.state != StepState.ACCEPTED or not rules.has_perm("approvals.review_step", user, step):
        return False
    return route(step.application)[-1].level == step.level
