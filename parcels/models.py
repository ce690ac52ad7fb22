"""Spatial core: divisions, one-map layers and their versions and zones, registered parcels.

All geometries are stored in SRID 4490 (CGCS2000 geographic, lon/lat); areas are computed in
PostGIS (ellipsoidal, m²) and never trusted from input files. GeoDjango adds a GiST index to
every geometry field (spatial_index=True is the default).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.core.exceptions import ValidationError
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from parcels.choices import (
    PARCEL_CODE_REGEX,
    DivisionLevel,
    LayerKind,
    LayerRule,
    ParcelStatus,
)
from parcels.querysets import ParcelQuerySet, ZoneQuerySet

STORAGE_SRID = 4490


class Division(models.Model):
    """Administrative division. Jurisdiction and routing hang on it.

    Codes (GB/T 2260, extended to townships as in GB/T 10114 / 统计用区划代码): nation, province,
    city and county have 6 digits; a township land station (乡镇国土所) has its town's 9 digits, its
    county's 6 followed by 3, and its parent is that county.
    """

    code = models.CharField(_("code"), max_length=9, primary_key=True)
    name = models.CharField(_("name"), max_length=64)
    name_en = models.CharField(_("English name"), max_length=128, blank=True)
    level = models.CharField(_("level"), max_length=16, choices=DivisionLevel.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # The nation has no boundary in the demo data; every other level has one.
    boundary = models.MultiPolygonField(_("boundary"), srid=STORAGE_SRID, null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("division")
        verbose_name_plural = _("divisions")
        constraints = [
            # 9 digits for a station (inside its parent's code), 6 for every other level.
            models.CheckConstraint(
                condition=(Q(level="station", code__regex=r"^[0-9]{9}$", code__startswith=F("parent_id"))
                           | (~Q(level="station") & Q(code__regex=r"^[0-9]{6}$"))),
                name="division_code_digits_by_level",
            ),
            models.CheckConstraint(
                condition=Q(level="nation") | Q(parent__isnull=False), name="division_parent_unless_nation"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def clean(self) -> None:
        # A station hangs under a county (the CHECK above can test the code, not the parent's level).
        if self.level == DivisionLevel.STATION and self.parent_id and Division.objects.filter(
                pk=self.parent_id).exclude(level=DivisionLevel.COUNTY).exists():
            raise ValidationError({"parent": _("A township land station belongs to a county.")})


class Layer(models.Model):
    """A one-map layer (e.g. permanent basic farmland) with its review rule and map style."""

    slug = models.SlugField(_("slug"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=128)
    name_en = models.CharField(_("English name"), max_length=128, blank=True)
    kind = models.CharField(_("kind"), max_length=32, choices=LayerKind.choices, default=LayerKind.OTHER)
    rule = models.CharField(_("rule"), max_length=32, choices=LayerRule.choices, default=LayerRule.INFO)
    color = models.CharField(_("colour"), max_length=7, default="#3388ff")
    sort_order = models.PositiveIntegerField(_("order"), default=100)
    # Below this web-map zoom the layer is too dense to draw feature by feature.
    min_zoom = models.PositiveSmallIntegerField(_("minimum map zoom"), default=0)
    # Whether visitors who are not logged in may see the layer (tiles, map, features). Off by
    # default: a newly imported layer is internal until an administrator publishes it.
    public = models.BooleanField(
        _("public"), default=False, help_text=_("Shown to visitors who are not logged in (home page map, tiles, features).")
    )

    class Meta:
        ordering = ["sort_order", "slug"]
        verbose_name = _("layer")
        verbose_name_plural = _("layers")
        constraints = [
            models.CheckConstraint(condition=Q(color__regex=r"^#[0-9a-fA-F]{6}$"), name="layer_color_hex"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def active_version(self) -> LayerVersion | None:
        return self.versions.filter(is_active=True).first()


class LayerVersion(models.Model):
    """One import of a layer. Earlier versions stay queryable; exactly one is active."""

    layer = models.ForeignKey(Layer, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField(_("version"))
    source_name = models.CharField(_("source file"), max_length=255)
    source_sha256 = models.CharField(_("source checksum"), max_length=64, blank=True)
    source_srid = models.PositiveIntegerField(_("source SRID"), null=True, blank=True)
    feature_count = models.PositiveIntegerField(_("features"), default=0)
    is_active = models.BooleanField(_("active"), default=False)
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["layer", "-version"]
        verbose_name = _("layer version")
        verbose_name_plural = _("layer versions")
        constraints = [
            models.UniqueConstraint(fields=["layer", "version"], name="layerversion_unique_number"),
            models.UniqueConstraint(
                fields=["layer"], condition=Q(is_active=True), name="layerversion_one_active"
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="layerversion_version_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.layer.slug} v{self.version}"


class Zone(models.Model):
    """A feature of a layer version: class code and name, attributes, geometry, computed area."""

    layer_version = models.ForeignKey(LayerVersion, on_delete=models.CASCADE, related_name="zones")
    class_code = models.CharField(_("class code"), max_length=16, db_index=True)
    class_name = models.CharField(_("class name"), max_length=64, blank=True)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    geom = models.MultiPolygonField(_("geometry"), srid=STORAGE_SRID)
    # Ellipsoidal area in m² (CGCS2000 ellipsoid), computed on import.
    area_m2 = models.FloatField(_("area (m²)"))
    # First web-map zoom at which the zone covers MIN_FEATURE_PIXELS display pixels; tiles below it
    # leave it out (parcels.selectors.zone_min_zoom). 0 = always shown.
    min_zoom = models.PositiveSmallIntegerField(_("minimum map zoom"), default=0)

    objects = ZoneQuerySet.as_manager()

    class Meta:
        verbose_name = _("zone")
        verbose_name_plural = _("zones")
        constraints = [
            models.CheckConstraint(condition=Q(area_m2__gt=0), name="zone_area_positive"),
        ]
        # Migration 0002 adds a *partial* spatial index of the zones drawn at zoom ≤ 12
        # (zone_geom_lowzoom), so a low-zoom tile does not walk the hundreds of thousands of small
        # zones it leaves out. It is raw SQL there because Django's PostGIS schema editor drops the
        # condition of an index on a geometry field (it would silently build a full second index).

    def __str__(self) -> str:
        return f"{self.layer_version} {self.class_code}"


class Parcel(models.Model):
    """A registered land parcel (宗地) with its 19-character parcel code."""

    code = models.CharField(_("parcel code"), max_length=19, unique=True)
    right_holder = models.CharField(_("right holder"), max_length=128)
    right_type = models.CharField(_("right type"), max_length=64)
    land_class = models.CharField(_("land class"), max_length=8)
    status = models.CharField(
        _("status"), max_length=16, choices=ParcelStatus.choices, default=ParcelStatus.REGISTERED
    )
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="parcels")
    geom = models.MultiPolygonField(_("geometry"), srid=STORAGE_SRID)
    area_m2 = models.FloatField(_("area (m²)"))
    predecessors = models.ManyToManyField("self", symmetrical=False, blank=True, related_name="successors")

    objects = ParcelQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("parcel")
        verbose_name_plural = _("parcels")
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=PARCEL_CODE_REGEX), name="parcel_code_format"),
            models.CheckConstraint(condition=Q(area_m2__gt=0), name="parcel_area_positive"),
        ]

    def __str__(self) -> str:
        return self.code
