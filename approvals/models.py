"""Applications, their parcels (地块), overlap reports, audit events and role memberships."""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from approvals.choices import (
    DECIDED_STATUSES,
    ApplicationKind,
    ApplicationStatus,
    EventAction,
    Level,
    Role,
)
from parcels.geo import STORAGE_SRID, AreaFigures
from parcels.models import Division, LayerVersion, Parcel


class Membership(models.Model):
    """A user's role within a division (jurisdiction). A user may hold several."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="memberships")
    department = models.CharField(_("department"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "division"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.role} @ {self.division_id}"


class Application(models.Model):
    """A land business application tied to one or more site parcels (ApplicationParcel)."""

    reference = models.CharField(_("reference"), max_length=32, unique=True)
    kind = models.CharField(_("kind"), max_length=32, choices=ApplicationKind.choices)
    title = models.CharField(_("title"), max_length=200)
    purpose = models.TextField(_("purpose"), max_length=2000)
    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="applications")
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="applications")
    status = models.CharField(_("status"), max_length=16, choices=ApplicationStatus.choices, default=ApplicationStatus.SUBMITTED)
    current_level = models.CharField(_("current level"), max_length=16, choices=Level.choices, default=Level.COUNTY)
    green_channel = models.BooleanField(_("green channel"), default=False)
    # The site is the union of the application's parcels, kept for indexed spatial queries (4490).
    site = models.MultiPolygonField(_("site"), srid=STORAGE_SRID)
    site_area_m2 = models.FloatField(_("site area (m², ellipsoidal)"))
    submitted_at = models.DateTimeField(_("submitted at"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    touched_parcels = models.ManyToManyField(Parcel, blank=True, related_name="applications")

    class Meta:
        ordering = ["-submitted_at"]
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        constraints = [
            models.CheckConstraint(condition=Q(site_area_m2__gt=0), name="application_site_area_positive"),
            # A decision time exists exactly when the application is decided.
            models.CheckConstraint(
                condition=(Q(status__in=DECIDED_STATUSES) & Q(decided_at__isnull=False))
                | (~Q(status__in=DECIDED_STATUSES) & Q(decided_at__isnull=True)),
                name="application_decided_at_iff_decided",
            ),
        ]
        indexes = [models.Index(fields=["status", "current_level", "division"], name="application_queue_idx")]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"


class ApplicationParcel(models.Model):
    """A parcel (地块) of an application's site: one drawn polygon or one TXT [地块坐标] block."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="parcels")
    number = models.PositiveIntegerField(_("number"))
    name = models.CharField(_("name"), max_length=128, blank=True)
    use = models.CharField(_("use"), max_length=64, blank=True)
    land_class = models.CharField(_("land class"), max_length=8, blank=True)
    declared_area_m2 = models.FloatField(_("declared area (m²)"), null=True, blank=True)
    geom = models.MultiPolygonField(_("geometry"), srid=STORAGE_SRID)
    area_m2 = models.FloatField(_("area (m², ellipsoidal)"))

    class Meta:
        ordering = ["application", "number"]
        verbose_name = _("application parcel")
        verbose_name_plural = _("application parcels")
        constraints = [
            models.UniqueConstraint(fields=["application", "number"], name="applicationparcel_unique_number"),
            models.CheckConstraint(condition=Q(area_m2__gt=0), name="applicationparcel_area_positive"),
        ]

    @property
    def area_mu(self) -> float:
        return AreaFigures(self.area_m2).mu


class OverlapReport(models.Model):
    """Stored result of an overlap analysis for an application at a moment, with the layer versions used."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="overlap_reports")
    created_at = models.DateTimeField(_("computed at"), auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    result = models.JSONField(_("result"))
    pieces = models.JSONField(_("overlap pieces (GeoJSON)"))
    layer_versions = models.ManyToManyField(LayerVersion, related_name="overlap_reports")

    class Meta:
        ordering = ["application", "-created_at"]
        get_latest_by = "created_at"
        verbose_name = _("overlap report")
        verbose_name_plural = _("overlap reports")


class ApplicationEvent(models.Model):
    """Append-only audit record: who did what, when, from where, with before/after status.

    The database refuses UPDATE and DELETE on this table (trigger in migration 0002).
    """

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"), auto_now_add=True)
    ip_address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    action = models.CharField(_("action"), max_length=32, choices=EventAction.choices)
    from_status = models.CharField(_("from"), max_length=16, blank=True)
    to_status = models.CharField(_("to"), max_length=16, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        ordering = ["application", "at", "id"]
        verbose_name = _("event")
        verbose_name_plural = _("events")


class CalendarOverride(models.Model):
    """An administrator's correction to the working-day calendar: a holiday, or a 调休 make-up
    working day (e.g. a Saturday), for years the official data does not cover or gets wrong."""

    date = models.DateField(_("date"), unique=True)
    is_workday = models.BooleanField(_("working day"))
    note = models.CharField(_("note"), max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar override")
        verbose_name_plural = _("calendar overrides")

    def __str__(self) -> str:
        return f"{self.date} {'workday' if self.is_workday else 'holiday'} {self.note}"
