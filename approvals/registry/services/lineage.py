"""Later changes of registered parcels: split (分割), merge (合并) and re-survey (变更测量).

Each retires its input parcels and creates output parcels with new gap-free codes in their
cadastral areas, the inputs as their predecessors, and one append-only ParcelChange. The inputs'
rights in force end and their valid certificates are cancelled with the change as the reason:
the outputs are registered again (a registration case replacing nothing, or the certificate
reissued by the county) — the register never lets an old paper describe a shape that no longer
exists. Areas are ellipsoidal m² (PostGIS geography on CGCS2000); the tolerance is
ONEMAP_REGISTRATION_OVERLAP_TOLERANCE_M2.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.gis.geos import GEOSException, GEOSGeometry, MultiPolygon, Polygon
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from approvals.exceptions import StateConflict
from approvals.permissions import require
from approvals.registry.choices import ChangeKind
from approvals.registry.models import ParcelChange
from approvals.registry.services.registration import (
    overlap_refusal,
    overlap_tolerance_m2,
    parcel_create,
    registered_overlaps,
    retire,
)
from approvals.services.common import history
from parcels.choices import ParcelStatus
from parcels.geo import STORAGE_SRID
from parcels.models import Parcel
from parcels.sql import geometry_areas

MAX_PARTS = 50


def area_m2(geom: GEOSGeometry | None) -> float:
    """Ellipsoidal area in m² of any 4490 geometry (0 for an empty one)."""
    if geom is None or geom.empty:
        return 0.0
    return geometry_areas(geom, STORAGE_SRID)[0]


def as_multipolygon(geom: GEOSGeometry, *, what: str) -> MultiPolygon:
    """`geom` as a valid MultiPolygon in SRID 4490, or a ValidationError naming `what`."""
    if not isinstance(geom, GEOSGeometry) or geom.empty:
        raise ValidationError(_("%(what)s is empty or not a geometry.") % {"what": what}, code="bad_geometry")
    if geom.srid not in (None, STORAGE_SRID):
        geom = geom.transform(STORAGE_SRID, clone=True)
    if isinstance(geom, Polygon):
        geom = MultiPolygon(geom, srid=STORAGE_SRID)
    if not isinstance(geom, MultiPolygon):
        raise ValidationError(_("%(what)s must be a polygon.") % {"what": what}, code="bad_geometry")
    geom.srid = STORAGE_SRID
    if not geom.valid:
        raise ValidationError(_("%(what)s is not a valid polygon: %(reason)s") % {"what": what, "reason": geom.valid_reason}, code="bad_geometry")
    if area_m2(geom) <= overlap_tolerance_m2():
        raise ValidationError(_("%(what)s has no area.") % {"what": what}, code="bad_geometry")
    return geom


def _polygonal(geom: GEOSGeometry) -> MultiPolygon:
    """The polygonal part of a GEOS result (unions and intersections may add lines or points)."""
    polys: list[Polygon] = []
    for g in (geom if geom.geom_type in ("MultiPolygon", "GeometryCollection") else [geom]):
        if isinstance(g, Polygon):
            polys.append(g)
        elif isinstance(g, MultiPolygon):
            polys.extend(g)
    return MultiPolygon(polys, srid=STORAGE_SRID)


def _locked_registered(parcels: Sequence[Parcel], by: AbstractBaseUser) -> list[Parcel]:
    for parcel in parcels:
        require(by, "registry.change_parcel", parcel)
    rows = list(Parcel.objects.select_for_update().select_related("division").filter(pk__in=[p.pk for p in parcels]).order_by("code"))
    for parcel in rows:
        if parcel.status != ParcelStatus.REGISTERED:
            raise StateConflict(_("Parcel %(code)s is retired; your action was not applied.") % {"code": parcel.code})
    return rows


def _clean_reason(reason: str) -> str:
    kept = (reason or "").strip()
    if len(kept) > 1000 or "\x00" in kept:
        raise ValidationError(_("The reason is too long or contains invalid characters."), code="reason_invalid")
    return kept


def _change(*, kind: str, inputs: list[Parcel], outputs: list[Parcel], by, ip, now, reason: str, data: dict) -> ParcelChange:
    change = ParcelChange(kind=kind, at=now, by=by, ip_address=ip, reason=reason, data=data)
    change.full_clean()
    change.save()
    change.inputs.set(inputs)
    change.outputs.set(outputs)
    return change


def _outputs(parts: list[MultiPolygon], *, source: Parcel, inputs: list[Parcel]) -> list[Parcel]:
    return [parcel_create(geom=g, county=source.division, right_type=source.right_type, land_class=source.land_class,
                          holder_label=source.right_holder, predecessors=inputs) for g in parts]


@transaction.atomic
def parcel_split(*, parcel: Parcel, parts: Sequence[GEOSGeometry], by: AbstractBaseUser, reason: str = "", ip: str | None = None) -> ParcelChange:
    """Splits `parcel` into `parts` (at least two valid polygons that do not overlap each other,
    lie within the parcel and cover it, each within the tolerance in ellipsoidal m²)."""
    if not 2 <= len(parts) <= MAX_PARTS:
        raise ValidationError(_("A split needs between 2 and %(max)s parts.") % {"max": MAX_PARTS}, code="bad_parts")
    tolerance = overlap_tolerance_m2()
    geoms = [as_multipolygon(g, what=_("Part %(n)s") % {"n": i + 1}) for i, g in enumerate(parts)]
    kept = _clean_reason(reason)
    with history(by=by, ip=ip, action="parcel_split"):
        (source,) = _locked_registered([parcel], by)
        try:
            for i, g in enumerate(geoms):
                outside = area_m2(_polygonal(g.difference(source.geom)))
                if outside > tolerance:
                    raise ValidationError(_("Part %(n)s lies %(area).2f m² outside the parcel.") % {"n": i + 1, "area": outside}, code="part_outside")
                for j in range(i):
                    shared = area_m2(_polygonal(g.intersection(geoms[j])))
                    if shared > tolerance:
                        raise ValidationError(_("Parts %(a)s and %(b)s overlap by %(area).2f m².") % {"a": j + 1, "b": i + 1, "area": shared}, code="parts_overlap")
            union = geoms[0]
            for g in geoms[1:]:
                union = union.union(g)
            uncovered = area_m2(_polygonal(source.geom.difference(union)))
        except GEOSException:
            raise ValidationError(_("The parts cannot be compared with the parcel."), code="bad_geometry") from None
        if uncovered > tolerance:
            raise ValidationError(_("The parts leave %(area).2f m² of the parcel uncovered.") % {"area": uncovered}, code="parts_gap")
        now = timezone.now()
        outputs = _outputs(geoms, source=source, inputs=[source])
        retire([source], by=by, now=now, reason=_("Parcel split into %(codes)s") % {"codes": "、".join(p.code for p in outputs)})
        return _change(kind=ChangeKind.SPLIT, inputs=[source], outputs=outputs, by=by, ip=ip, now=now, reason=kept,
                       data={"input_m2": round(source.area_m2, 2), "outputs_m2": [round(p.area_m2, 2) for p in outputs]})


@transaction.atomic
def parcel_merge(*, parcels: Sequence[Parcel], by: AbstractBaseUser, reason: str = "", ip: str | None = None) -> ParcelChange:
    """Merges adjacent (touching or overlapping) registered parcels of one county into one."""
    if not 2 <= len({p.pk for p in parcels}) <= MAX_PARTS:
        raise ValidationError(_("A merge needs between 2 and %(max)s different parcels.") % {"max": MAX_PARTS}, code="bad_parts")
    kept = _clean_reason(reason)
    with history(by=by, ip=ip, action="parcel_merge"):
        inputs = _locked_registered(parcels, by)
        if len({p.division_id for p in inputs}) != 1:
            raise ValidationError(_("Parcels of different counties cannot be merged."), code="merge_counties")
        union = inputs[0].geom
        for p in inputs[1:]:
            union = union.union(p.geom)
        merged = _polygonal(union.buffer(0)) if not union.valid else _polygonal(union)
        if len(merged) != 1:
            raise ValidationError(_("The parcels do not form one piece: only adjacent parcels can be merged."), code="merge_not_adjacent")
        now = timezone.now()
        outputs = _outputs([merged], source=inputs[0], inputs=inputs)
        retire(inputs, by=by, now=now, reason=_("Parcel merged into %(code)s") % {"code": outputs[0].code})
        return _change(kind=ChangeKind.MERGE, inputs=inputs, outputs=outputs, by=by, ip=ip, now=now, reason=kept,
                       data={"inputs_m2": [round(p.area_m2, 2) for p in inputs], "output_m2": round(outputs[0].area_m2, 2)})


@transaction.atomic
def parcel_resurvey(*, parcel: Parcel, geom: GEOSGeometry, by: AbstractBaseUser, reason: str = "", ip: str | None = None) -> ParcelChange:
    """Replaces a parcel's geometry by a new survey: the old parcel is retired, a new one with a new
    code takes the new geometry. Refused when the new geometry overlaps another registered parcel
    beyond the tolerance."""
    new = as_multipolygon(geom, what=_("The new survey"))
    kept = _clean_reason(reason)
    with history(by=by, ip=ip, action="parcel_resurvey"):
        (source,) = _locked_registered([parcel], by)
        clash = registered_overlaps(geom=new, exclude=[source.pk])
        if clash:
            raise overlap_refusal(clash)
        now = timezone.now()
        outputs = _outputs([new], source=source, inputs=[source])
        retire([source], by=by, now=now, reason=_("Parcel re-surveyed as %(code)s") % {"code": outputs[0].code})
        return _change(kind=ChangeKind.RESURVEY, inputs=[source], outputs=outputs, by=by, ip=ip, now=now, reason=kept,
                       data={"before_m2": round(source.area_m2, 2), "after_m2": round(outputs[0].area_m2, 2)})
