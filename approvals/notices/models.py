"""Public notice (公示) before a final decision, and objections (异议) lodged against it.

- `NoticeRule`: which application kinds need a notice, and for how many working days (admin-editable).
- `Notice`: one publication at the route's last level. What was published is frozen here (content
  and a copy of the site), so the public page says what it said even if the case changes later.
- `Objection` and `ObjectionAnswer`: lodged by anyone without an account; answered by a reviewer of
  the level that published the notice.

Notices, objections and answers are public-law records: append-only in the database (a trigger
refuses UPDATE and DELETE), and pghistory keeps who/where/why of every insert.
"""

from __future__ import annotations

import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.gis.db import models
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from approvals.models import Application, ApplicationKind, ReviewStep
from parcels.geo import STORAGE_SRID, AreaFigures

# The longest notice an administrator may set (working days); the usual practice is 5–10.
MAX_NOTICE_DAYS = 30
NAME_MAX = 40
PHONE_MAX = 20
TEXT_MAX = 2000
ANSWER_MAX = 4000


def _append_only(name: str) -> pgtrigger.Protect:
    return pgtrigger.Protect(name=name, operation=pgtrigger.Update | pgtrigger.Delete)


class NoticeRule(models.Model):
    """A kind whose final approval must wait for a public notice of `days` working days."""

    kind = models.OneToOneField(ApplicationKind, on_delete=models.CASCADE, primary_key=True, related_name="notice_rule", verbose_name=_("application kind"))
    days = models.PositiveSmallIntegerField(_("notice period (working days)"), validators=[MinValueValidator(1), MaxValueValidator(MAX_NOTICE_DAYS)])
    active = models.BooleanField(_("notice required"), default=True)

    class Meta:
        ordering = ["kind"]
        verbose_name = _("public-notice rule")
        verbose_name_plural = _("public-notice rules")
        constraints = [
            models.CheckConstraint(condition=Q(days__gte=1) & Q(days__lte=MAX_NOTICE_DAYS), name="noticerule_days_range"),
        ]

    def __str__(self) -> str:
        return f"{self.kind_id}: {self.days}"


@pghistory.track(pghistory.InsertEvent(), model_name="NoticeHistory")
class Notice(models.Model):
    """One public notice of an application, published at the route's last level before its final
    decision. It runs from `published_at` to `ends_at` (the close of the last working day)."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="notices", verbose_name=_("application"))
    step = models.ForeignKey(ReviewStep, on_delete=models.PROTECT, related_name="notices", verbose_name=_("review step"))
    number = models.CharField(_("notice number"), max_length=48, unique=True)
    days = models.PositiveSmallIntegerField(_("notice period (working days)"))
    published_at = models.DateTimeField(_("published at"))
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("published by"))
    ends_at = models.DateTimeField(_("ends at"))
    # What the notice said: reference, kind, county/town, purpose, site area (no personal data).
    content = models.JSONField(_("content"))
    site = models.MultiPolygonField(_("site"), srid=STORAGE_SRID)

    class Meta:
        ordering = ["-published_at", "-id"]
        get_latest_by = "published_at"
        verbose_name = _("public notice")
        verbose_name_plural = _("public notices")
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("published_at")), name="notice_ends_after_start"),
            models.CheckConstraint(condition=Q(days__gte=1) & Q(days__lte=MAX_NOTICE_DAYS), name="notice_days_range"),
            models.UniqueConstraint(fields=["step"], name="notice_one_per_step"),
        ]
        indexes = [models.Index(fields=["ends_at"], name="notice_ends_idx")]
        triggers = [_append_only("notice_append_only")]

    def __str__(self) -> str:
        return self.number

    @property
    def area(self) -> AreaFigures:
        return AreaFigures(float(self.content.get("area_m2", 0)))


@pghistory.track(pghistory.InsertEvent(), model_name="ObjectionHistory")
class Objection(models.Model):
    """An objection (异议) to a notice, lodged without an account. Name and phone are optional
    personal data: shown only to the reviewers of the level that published the notice."""

    notice = models.ForeignKey(Notice, on_delete=models.PROTECT, related_name="objections", verbose_name=_("public notice"))
    reference = models.CharField(_("objection reference"), max_length=16, unique=True)
    lodged_at = models.DateTimeField(_("lodged at"))
    name = models.CharField(_("name"), max_length=NAME_MAX, blank=True)
    phone = models.CharField(_("phone"), max_length=PHONE_MAX, blank=True)
    text = models.TextField(_("objection"), max_length=TEXT_MAX)

    class Meta:
        ordering = ["lodged_at", "id"]
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        constraints = [models.CheckConstraint(condition=~Q(text=""), name="objection_has_text")]
        triggers = [_append_only("objection_append_only")]

    def __str__(self) -> str:
        return self.reference


@pghistory.track(pghistory.InsertEvent(), model_name="ObjectionAnswerHistory")
class ObjectionAnswer(models.Model):
    """The level's answer to one objection (once; the answer is a separate row so the objection
    itself is never rewritten)."""

    objection = models.OneToOneField(Objection, on_delete=models.PROTECT, related_name="answer", verbose_name=_("objection"))
    text = models.TextField(_("answer"), max_length=ANSWER_MAX)
    answered_at = models.DateTimeField(_("answered at"))
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("answered by"))
    ip_address = models.GenericIPAddressField(_("address"), null=True, blank=True)

    class Meta:
        ordering = ["answered_at", "id"]
        verbose_name = _("answer to an objection")
        verbose_name_plural = _("answers to objections")
        constraints = [models.CheckConstraint(condition=~Q(text=""), name="objectionanswer_has_text")]
        triggers = [_append_only("objectionanswer_append_only")]
