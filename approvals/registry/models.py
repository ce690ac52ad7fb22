"""The land register (不动产登记簿): rights on registered parcels, their holders, certificates,
gap-free numbering counters, cadastral areas and the parcels' lineage (docs/registry.md).

The registered parcel itself is `parcels.Parcel` (code, geometry in SRID 4490, ellipsoidal area,
predecessors); everything the register adds around it lives here.

Database-enforced invariants (besides the checks below):
- certificate serials are gap-free per (county, year): a BEFORE INSERT trigger refuses a serial
  that is not max + 1 (migration 0002); the services allocate it from `CertificateCounter` locked
  with SELECT … FOR UPDATE in the same transaction, so a rolled-back registration rolls back its
  number too;
- the holders' shares of a right sum to exactly 1: a deferred constraint trigger checks it at
  commit (migration 0002);
- `ParcelChange` is append-only (pgtrigger Protect).
"""

from __future__ import annotations

from decimal import Decimal

import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from approvals.models import Application
from approvals.registry.choices import (
    TERMED_RIGHT_TYPES,
    CertificateStatus,
    ChangeKind,
    IdType,
    RightStatus,
    RightType,
)
from parcels.codes import LAND_CLASSES
from parcels.geo import STORAGE_SRID, AreaFigures
from parcels.models import Division, Parcel

LAND_USE_CHOICES = [(code, f"{code} {name}") for code, name in LAND_CLASSES.items()]


class CadastralArea(models.Model):
    """A cadastral sub-district (地籍子区): the 12-digit prefix of the parcel codes inside it
    (county 6 + cadastral district 3 + sub-district 3). A new parcel takes the code prefix of the
    area containing its site (services.codes.cadastral_area_for)."""

    code = models.CharField(_("code"), max_length=12, unique=True)
    county = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="cadastral_areas")
    name = models.CharField(_("name"), max_length=64, blank=True)
    boundary = models.MultiPolygonField(_("boundary"), srid=STORAGE_SRID, null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("cadastral area")
        verbose_name_plural = _("cadastral areas")
        constraints = [models.CheckConstraint(condition=Q(code__regex=r"^[0-9]{12}$"), name="cadastralarea_code_12_digits")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ParcelCodeCounter(models.Model):
    """The last parcel-code sequence used per cadastral area and feature code (GB, JC, …)."""

    area = models.ForeignKey(CadastralArea, on_delete=models.PROTECT, related_name="counters")
    feature = models.CharField(_("feature code"), max_length=2)
    last = models.PositiveIntegerField(_("last sequence"), default=0)

    class Meta:
        verbose_name = _("parcel code counter")
        verbose_name_plural = _("parcel code counters")
        constraints = [
            models.UniqueConstraint(fields=["area", "feature"], name="parcelcodecounter_unique"),
            models.CheckConstraint(condition=Q(feature__regex=r"^[GJZ][ABSXCDEFHWY]$"), name="parcelcodecounter_feature"),
            models.CheckConstraint(condition=Q(last__lte=99999), name="parcelcodecounter_5_digits"),
        ]


class CertificateCounter(models.Model):
    """The last certificate serial used per county and year (不动产权第…号)."""

    county = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("year"))
    last = models.PositiveIntegerField(_("last serial"), default=0)

    class Meta:
        verbose_name = _("certificate counter")
        verbose_name_plural = _("certificate counters")
        constraints = [
            models.UniqueConstraint(fields=["county", "year"], name="certificatecounter_unique"),
            models.CheckConstraint(condition=Q(last__lte=9999999), name="certificatecounter_7_digits"),
        ]


@pghistory.track(model_name="RightHistory", obj_field=pghistory.ObjForeignKey(related_name="history"))
class Right(models.Model):
    """A registered right on a parcel: type, use (GB/T 21010 class), areas and term.

    Areas: `area_m2` is ellipsoidal (CGCS2000/GRS80, m²), `gk_area_m2` the Gauss–Krüger planar area
    in the parcel's 3° zone `gk_epsg` (zone-prefixed EPSG 4513–4533), null outside zones 25–45."""

    parcel = models.ForeignKey(Parcel, on_delete=models.PROTECT, related_name="rights", verbose_name=_("parcel"))
    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="rights", verbose_name=_("application"))
    right_type = models.CharField(_("right type"), max_length=32, choices=RightType.choices)
    land_use = models.CharField(_("use"), max_length=8, choices=LAND_USE_CHOICES)
    area_m2 = models.FloatField(_("area (m², ellipsoidal)"))
    gk_area_m2 = models.FloatField(_("area (m², Gauss–Krüger)"), null=True, blank=True)
    gk_epsg = models.PositiveIntegerField(_("Gauss–Krüger EPSG"), null=True, blank=True)
    term_start = models.DateField(_("term from"), null=True, blank=True)
    term_end = models.DateField(_("term to"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=RightStatus.choices, default=RightStatus.ACTIVE)
    registered_at = models.DateTimeField(_("registered at"))
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        ordering = ["-registered_at", "-id"]
        verbose_name = _("right")
        verbose_name_plural = _("rights")
        constraints = [
            models.CheckConstraint(condition=Q(area_m2__gt=0), name="right_area_positive"),
            models.CheckConstraint(condition=Q(gk_area_m2__isnull=True, gk_epsg__isnull=True)
                                   | Q(gk_area_m2__gt=0, gk_epsg__gte=4513, gk_epsg__lte=4533), name="right_gk_area_with_epsg"),
            # A termed right has both ends, in order; the others (homestead, ownership) have none.
            models.CheckConstraint(
                condition=(Q(right_type__in=TERMED_RIGHT_TYPES) & Q(term_start__isnull=False) & Q(term_end__gt=models.F("term_start")))
                | (~Q(right_type__in=TERMED_RIGHT_TYPES) & Q(term_start__isnull=True) & Q(term_end__isnull=True)),
                name="right_term_by_type",
            ),
            models.CheckConstraint(condition=(Q(status=RightStatus.ACTIVE) & Q(ended_at__isnull=True))
                                   | (Q(status=RightStatus.ENDED) & Q(ended_at__isnull=False)), name="right_ended_iff_ended_at"),
            models.UniqueConstraint(fields=["parcel"], condition=Q(status=RightStatus.ACTIVE), name="right_one_active_per_parcel"),
            models.UniqueConstraint(fields=["application"], name="right_one_per_application"),
        ]

    def __str__(self) -> str:
        return f"{self.parcel_id} {self.right_type}"

    @property
    def area(self) -> AreaFigures:
        return AreaFigures(self.area_m2)

    @property
    def land_use_name(self) -> str:
        return LAND_CLASSES.get(self.land_use, "")


@pghistory.track(model_name="RightHolderHistory", obj_field=pghistory.ObjForeignKey(related_name="history"))
class RightHolder(models.Model):
    """A holder of a right with their share (共有份额). Name and identity number are personal data:
    shown only to the county's staff who act on that land; the public sees the name masked."""

    right = models.ForeignKey(Right, on_delete=models.PROTECT, related_name="holders")
    name = models.CharField(_("name"), max_length=128)
    id_type = models.CharField(_("identity document"), max_length=16, choices=IdType.choices)
    id_number = models.CharField(_("identity number"), max_length=32)
    share = models.DecimalField(_("share"), max_digits=7, decimal_places=6)

    class Meta:
        ordering = ["right", "id"]
        verbose_name = _("right holder")
        verbose_name_plural = _("right holders")
        constraints = [
            models.CheckConstraint(condition=Q(share__gt=Decimal("0")) & Q(share__lte=Decimal("1")), name="rightholder_share_0_1"),
            models.CheckConstraint(condition=~Q(name="") & ~Q(id_number=""), name="rightholder_named"),
            models.UniqueConstraint(fields=["right", "id_type", "id_number"], name="rightholder_unique_person"),
        ]

    def __str__(self) -> str:
        return self.name


@pghistory.track(model_name="CertificateHistory", obj_field=pghistory.ObjForeignKey(related_name="history"))
class Certificate(models.Model):
    """A real-estate title certificate (不动产权证书), e.g. 鄂(2026)嘉鱼县不动产权第0000123号.

    The verification code printed on it is never stored: it is HMAC(server key, `verify_salt` ‖ id)
    (services.certificates.verification_code), so a database-only leak reveals no code."""

    number = models.CharField(_("certificate number"), max_length=64, unique=True)
    county = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+", verbose_name=_("county"))
    year = models.PositiveSmallIntegerField(_("year"))
    serial = models.PositiveIntegerField(_("serial"))
    right = models.ForeignKey(Right, on_delete=models.PROTECT, related_name="certificates", verbose_name=_("right"))
    status = models.CharField(_("status"), max_length=16, choices=CertificateStatus.choices, default=CertificateStatus.ISSUED)
    status_reason = models.TextField(_("reason"), max_length=1000, blank=True)
    issued_at = models.DateTimeField(_("issued at"))
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("issued by"))
    ended_at = models.DateTimeField(_("replaced or cancelled at"), null=True, blank=True)
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    replaced_by = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True, related_name="replaces")
    verify_salt = models.CharField(max_length=32, editable=False)

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        constraints = [
            models.UniqueConstraint(fields=["county", "year", "serial"], name="certificate_unique_serial"),
            models.CheckConstraint(condition=Q(serial__gt=0), name="certificate_serial_positive"),
            models.CheckConstraint(condition=Q(verify_salt__regex=r"^[0-9a-f]{32}$"), name="certificate_salt_hex"),
            models.CheckConstraint(
                condition=(Q(status=CertificateStatus.ISSUED) & Q(ended_at__isnull=True) & Q(status_reason=""))
                | (~Q(status=CertificateStatus.ISSUED) & Q(ended_at__isnull=False) & Q(ended_by__isnull=False) & ~Q(status_reason="")),
                name="certificate_end_has_reason",
            ),
            models.CheckConstraint(
                condition=(Q(status=CertificateStatus.REPLACED) & Q(replaced_by__isnull=False))
                | (~Q(status=CertificateStatus.REPLACED) & Q(replaced_by__isnull=True)),
                name="certificate_replaced_iff_successor",
            ),
            models.UniqueConstraint(fields=["right"], condition=Q(status=CertificateStatus.ISSUED), name="certificate_one_valid_per_right"),
        ]

    def __str__(self) -> str:
        return self.number


class ParcelChange(models.Model):
    """A lineage event of the register: first registration (no inputs), split (one → many),
    merge (many → one) or re-survey (one → one). Append-only: the database refuses UPDATE/DELETE."""

    kind = models.CharField(_("change"), max_length=16, choices=ChangeKind.choices)
    inputs = models.ManyToManyField(Parcel, blank=True, related_name="changes_out", verbose_name=_("retired parcels"))
    outputs = models.ManyToManyField(Parcel, related_name="changes_in", verbose_name=_("new parcels"))
    application = models.ForeignKey(Application, on_delete=models.PROTECT, null=True, blank=True, related_name="parcel_changes")
    at = models.DateTimeField(_("at"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by"))
    ip_address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    reason = models.TextField(_("reason"), max_length=1000, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("parcel change")
        verbose_name_plural = _("parcel changes")
        triggers = [pgtrigger.Protect(name="parcelchange_append_only", operation=pgtrigger.Update | pgtrigger.Delete)]
