"""Writes of public notices: publish (with the clock rule), lodge an objection, answer it.

Clock rule (README "Clocks", docs/public-side.md): the notice period (公示期) is not counted in the
approval time limits. At publication the notice's working days are added to the application's
`paused_days`, so its statutory and promised deadlines move by exactly that many working days
(recomputed from acceptance, like a pause for correction), and the open step is due its route
limit plus the notice days after it was received. The move is on the timeline (a *modified*
event with each deadline before and after) and in the field history.
"""

from __future__ import annotations

import secrets
import unicodedata

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from approvals.choices import ApplicationStatus, EventAction, StepState
from approvals.clocks import application_deadlines
from approvals.exceptions import StateConflict
from approvals.hall.phones import phone_clean
from approvals.models import Application, ReviewStep
from approvals.notices.models import ANSWER_MAX, NAME_MAX, TEXT_MAX, Notice, Objection, ObjectionAnswer
from approvals.notices.selectors import can_publish_at, is_running, rule_for
from approvals.permissions import require
from approvals.services.common import history, locked, record, route_step
from approvals.workdays import WorkdayCalendar
from parcels.models import Division

# Objection references: no 0/O/1/I/L, so they can be read out on the phone.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
REFERENCE_LENGTH = 8


def _town(application: Application) -> Division | None:
    """The division below the county whose boundary holds the site (township, when they exist)."""
    point = application.site.point_on_surface
    return (Division.objects.filter(parent_id=application.division_id, boundary__intersects=point)
            .exclude(pk=application.division_id).order_by("code").first())


def _content(application: Application) -> dict:
    """What the notice says (frozen): no applicant, no title (titles often carry names), no phone."""
    county = application.division
    town = _town(application)
    return {
        "reference": application.reference,
        "kind": application.kind.name, "kind_en": application.kind.name_en,
        "county": county.name, "county_en": county.name_en, "county_code": county.code,
        "town": town.name if town else "", "town_en": (town.name_en if town else ""),
        "purpose": application.purpose,
        "area_m2": round(application.site_area_m2, 2),
    }


@transaction.atomic
def notice_publish(*, application: Application, by: AbstractBaseUser, ip: str | None = None) -> Notice:
    """Publish the public notice of an application at the route's last level (its open, accepted
    step), for the kind's configured working days, and move the clocks by those days."""
    with history(by=by, ip=ip, action="notice_published"):
        app = locked(application)
        step = ReviewStep.objects.select_related("division", "application").filter(application=app, closed_at__isnull=True).first()
        if step is None:
            raise StateConflict(_("This application has no open review step; your action was not applied."))
        require(by, "approvals.review_step", step)
        if app.status != ApplicationStatus.IN_REVIEW or step.state != StepState.ACCEPTED:
            raise StateConflict(_("The notice is published by the level that has accepted the case; your action was not applied."))
        if not can_publish_at(step=step, user=by):
            raise StateConflict(_("The public notice is published at the last level of the route, before its final decision."))
        rule = rule_for(app)
        if rule is None:
            raise StateConflict(_("This kind of application needs no public notice."))
        if step.notices.exists():
            raise StateConflict(_("The notice of this step has already been published; your action was not applied."))
        now = timezone.now()
        cal = WorkdayCalendar()
        before = {"statutory_due": app.statutory_due, "promised_due": app.promised_due, "step_due": step.due_at}
        count = app.notices.count() + 1
        notice = Notice(application=app, step=step, number=f"GS{app.reference}-{count}", days=rule.days, published_at=now,
                        published_by=by, ends_at=cal.add_working_days(now, rule.days), content=_content(app), site=app.site)
        notice.full_clean()
        notice.save()
        # 公示期不计入审批时限: the notice's working days are added like a pause (clocks.py), so
        # the deadlines recomputed from acceptance move by exactly those days.
        app.paused_days += rule.days
        app.statutory_due, app.promised_due = application_deadlines(cal=cal, application=app)
        app.full_clean()
        app.save()
        extra = sum(n.days for n in step.notices.all())
        step.due_at = cal.add_working_days(step.opened_at, route_step(app, step.level).limit(green=app.green_channel) + extra)
        step.full_clean()
        step.save()
        after = {"statutory_due": app.statutory_due, "promised_due": app.promised_due, "step_due": step.due_at}
        changed = {k: {"before": v.isoformat() if v else None, "after": after[k].isoformat() if after[k] else None}
                   for k, v in before.items()}
        record(application=app, by=by, action=EventAction.MODIFIED, ip=ip, before=app.status,
               comment=_("Public notice %(number)s published for %(days)d working days, until %(end)s; the notice period is not counted in the time limits.")
               % {"number": notice.number, "days": rule.days, "end": timezone.localtime(notice.ends_at).strftime("%Y-%m-%d %H:%M")},
               data={"level": step.level, "step": step.number, "notice": notice.number, "notice_days": rule.days, "changed": changed})
        return notice


def _clean_text(value: str, *, field: str, limit: int, required: bool) -> str:
    """Text as typed, without control characters (NUL and the like; newlines and tabs are kept)."""
    value = "".join(ch for ch in (value or "") if ch in "\n\t" or unicodedata.category(ch)[0] != "C").strip()
    if required and not value:
        raise ValidationError(_("%(field)s: this field is required.") % {"field": field})
    if len(value) > limit:
        raise ValidationError(_("%(field)s: at most %(limit)d characters.") % {"field": field, "limit": limit})
    return value


@transaction.atomic
def objection_lodge(*, notice: Notice, text: str, name: str = "", phone: str = "") -> Objection:
    """Record an objection to a running notice (no account needed); returns it with its reference."""
    text = _clean_text(text, field=_("Objection"), limit=TEXT_MAX, required=True)
    name = _clean_text(name, field=_("Name"), limit=NAME_MAX, required=False)
    phone = _clean_text(phone, field=_("Phone"), limit=40, required=False)
    if phone:
        phone = phone_clean(phone)
    # Lock the case so that a decision and an objection cannot cross (the decision re-reads the objections).
    locked(notice.application)
    notice = Notice.objects.select_related("application").get(pk=notice.pk)
    if not is_running(notice, timezone.now()):
        raise StateConflict(_("This public notice has ended: objections can no longer be lodged here."))
    for _attempt in range(5):
        reference = "YY" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
        objection = Objection(notice=notice, reference=reference, lodged_at=timezone.now(), name=name, phone=phone, text=text)
        objection.full_clean()
        try:
            with transaction.atomic():
                objection.save()
        except IntegrityError:  # a reference drawn twice (31^8 ≈ 8.5e11): draw again
            continue
        return objection
    raise StateConflict(_("Your objection was not recorded; please try again."))


@transaction.atomic
def objection_answer(*, objection: Objection, by: AbstractBaseUser, text: str, ip: str | None = None) -> ObjectionAnswer:
    """The level's answer to one objection (once). Audited: the answer row (who, when, from where)
    is append-only and its insert is in the field history with the request's context."""
    text = _clean_text(text, field=_("Answer"), limit=ANSWER_MAX, required=True)
    with history(by=by, ip=ip, action="objection_answered"):
        objection = Objection.objects.select_related("notice", "notice__step", "notice__application").get(pk=objection.pk)
        require(by, "notices.answer_objection", objection.notice)
        locked(objection.notice.application)
        if ObjectionAnswer.objects.filter(objection=objection).exists():
            raise StateConflict(_("This objection has already been answered; your action was not applied."))
        answer = ObjectionAnswer(objection=objection, text=text, answered_at=timezone.now(), answered_by=by, ip_address=ip)
        answer.full_clean()
        answer.save()
        return answer



