"""Gap-free numbers of the register: parcel codes per cadastral area and feature code, certificate
serials per county and year; and how a new site finds its cadastral area (docs/registry.md).

Both counters are rows locked with SELECT … FOR UPDATE inside the caller's transaction: a second
registration in the same county and year waits for the first to commit or roll back, and a rolled
back registration rolls its number back with it (the counter's increment is part of the same
transaction). A missing counter row is created with ON CONFLICT DO NOTHING (bulk_create with
ignore_conflicts), seeded from the highest number already in the register, so two first
registrations cannot both create it.
"""

from __future__ import annotations

from django.contrib.gis.db.models.functions import GeometryDistance
from django.contrib.gis.geos import GEOSGeometry
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from approvals.registry.choices import PROVINCE_ABBR
from approvals.registry.models import CadastralArea, Certificate, CertificateCounter, ParcelCodeCounter
from parcels.models import Division, Parcel


def cadastral_area_for(*, site: GEOSGeometry, county: Division) -> CadastralArea:
    """The cadastral area (地籍子区) of a new parcel in `county`: the one whose boundary contains a
    point on the site's surface; else the nearest one of the county (a site just outside every
    drawn sub-district, e.g. across a street, belongs to the one it borders). Refused when the
    county has no cadastral area at all: an administrator must define them first."""
    point = site.point_on_surface
    areas = CadastralArea.objects.filter(county=county, boundary__isnull=False)
    inside = areas.filter(boundary__contains=point).order_by("code").first()
    if inside is not None:
        return inside
    nearest = areas.annotate(distance=GeometryDistance("boundary", point)).order_by("distance", "code").first()
    if nearest is not None:
        return nearest
    raise ValidationError(_("No cadastral area is defined in %(county)s: a parcel code cannot be given.") % {"county": county.name},
                          code="no_cadastral_area")


def _max_sequence(prefix: str) -> int:
    code = Parcel.objects.filter(code__startswith=prefix).aggregate(top=Max("code"))["top"]
    return int(code[-5:]) if code else 0


def parcel_code_next(*, area: CadastralArea, feature: str) -> str:
    """The next 19-character parcel code in `area` for `feature` (GB, JC, …). Call inside the
    transaction that creates the parcel."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("parcel_code_next must run inside the registering transaction")
    prefix = f"{area.code}{feature}"
    ParcelCodeCounter.objects.bulk_create([ParcelCodeCounter(area=area, feature=feature, last=_max_sequence(prefix))], ignore_conflicts=True)
    counter = ParcelCodeCounter.objects.select_for_update().get(area=area, feature=feature)
    counter.last += 1
    if counter.last > 99999:
        raise ValidationError(_("The parcel codes of cadastral area %(area)s are used up.") % {"area": area.code}, code="codes_used_up")
    counter.full_clean()
    counter.save(update_fields=["last"])
    return f"{prefix}{counter.last:05d}"


def certificate_number(*, county: Division, year: int, serial: int) -> str:
    """鄂(2026)嘉鱼县不动产权第0000123号: province abbreviation, year, county name, 7-digit serial."""
    abbr = PROVINCE_ABBR.get(county.code[:2], "")
    return f"{abbr}({year}){county.name}不动产权第{serial:07d}号"


def certificate_serial_next(*, county: Division, year: int) -> int:
    """The next certificate serial of `county` in `year` (gap-free; see the module docstring)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("certificate_serial_next must run inside the issuing transaction")
    seed = Certificate.objects.filter(county=county, year=year).aggregate(top=Max("serial"))["top"] or 0
    CertificateCounter.objects.bulk_create([CertificateCounter(county=county, year=year, last=seed)], ignore_conflicts=True)
    counter = CertificateCounter.objects.select_for_update().get(county=county, year=year)
    counter.last += 1
    counter.full_clean()
    counter.save(update_fields=["last"])
    return counter.last


@transaction.atomic
def cadastral_areas_from_parcels(*, county: Division, district_names: dict[str, str] | None = None) -> int:
    """Creates the cadastral areas of `county` that registered parcels' codes imply and that do not
    exist yet, each bounded by the convex hull of its parcels (how the demo gets its 4 × 4-block
    sub-districts of district 001 鱼岳镇). Returns how many were created."""
    from django.contrib.gis.db.models import Collect
    from django.contrib.gis.geos import MultiPolygon, Polygon

    names = district_names or {}
    prefixes = {code[:12] for code in Parcel.objects.filter(division=county).values_list("code", flat=True)}
    existing = set(CadastralArea.objects.filter(code__in=prefixes).values_list("code", flat=True))
    created = 0
    for prefix in sorted(prefixes - existing):
        collected = Parcel.objects.filter(code__startswith=prefix).aggregate(g=Collect("geom"))["g"]
        hull = collected.convex_hull
        if not isinstance(hull, Polygon):
            continue
        district = names.get(prefix[6:9], "")
        name = f"{district}第{int(prefix[9:12])}地籍子区" if district else ""
        area = CadastralArea(code=prefix, county=county, name=name, boundary=MultiPolygon(hull, srid=hull.srid))
        area.full_clean()
        area.save()
        created += 1
    return created
