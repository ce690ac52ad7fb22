"""Writes of the approval domain: keyword-only, typed, one transaction each, full_clean() before save()."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.gis.geos import MultiPolygon
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from approvals.choices import ApplicationStatus, EventAction, Level
from approvals.exceptions import NotPermitted, StateConflict
from approvals.models import Application, ApplicationEvent, ApplicationParcel, OverlapReport
from approvals.permissions import can_review
from parcels.exceptions import SpatialInputError
from parcels.geo import STORAGE_SRID, gk3_epsg
from parcels.models import Division, Parcel
from parcels.overlap import overlap_analyse
from parcels.sql import geometry_areas


def _site_division(site: MultiPolygon) -> Division:
    """The county containing the site; for a site crossing counties, their lowest common division."""
    counties = list(Division.objects.filter(level="county", boundary__intersects=site))
    if not counties:
        raise SpatialInputError(_("the site lies outside every county this platform serves"))
    inside = [c for c in counties if c.boundary.contains(site)]
    if inside:
        return inside[0]
    ancestors = [_ancestors(c) for c in counties]
    common = [d for d in ancestors[0] if all(d in chain for chain in ancestors[1:])]
    return common[0]


def _ancestors(division: Division) -> list[Division]:
    chain = []
    node: Division | None = division
    while node is not None:
        chain.append(node)
        node = node.parent
    return chain


def _level_of(division: Division) -> str:
    return {"county": Level.COUNTY, "city": Level.CITY, "province": Level.PROVINCE, "nation": Level.NATION}[division.level]


def _next_reference(division: Division, year: int) -> str:
    prefix = f"{division.code}-{year}-"
    last = Application.objects.filter(reference__startswith=prefix).aggregate(m=Max("reference"))["m"]
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{number:06d}"


def _event(*, application: Application, by: AbstractBaseUser, action: str, ip: str | None, before: str = "", comment: str = "", data: dict | None = None) -> ApplicationEvent:
    event = ApplicationEvent(
        application=application,
        actor=by,
        ip_address=ip,
        action=action,
        from_status=before,
        to_status=application.status,
        comment=comment,
        data=data if data is not None else {},
    )
    event.full_clean()
    event.save()
    return event


@transaction.atomic
def application_submit(
    *,
    applicant: AbstractBaseUser,
    kind: str,
    title: str,
    purpose: str,
    site: MultiPolygon,
    green_channel: bool = False,
    ip: str | None = None,
) -> Application:
    """Creates an application with one ApplicationParcel per polygon of `site`, computes and stores
    its overlap report, and records the events. `site` must come from parcels.site_input (valid, 4490).
    """
    if site.srid != STORAGE_SRID:
        raise ValueError(f"site must be in SRID {STORAGE_SRID}")
    division = _site_division(site)
    now = timezone.now()
    # Serialise reference numbering per division (row lock on the division).
    Division.objects.select_for_update().get(pk=division.pk)
    site_m2, _planar = geometry_areas(site, gk3_epsg(site.centroid.x))
    application = Application(
        reference=_next_reference(division, now.year),
        kind=kind,
        title=title,
        purpose=purpose,
        applicant=applicant,
        division=division,
        status=ApplicationStatus.SUBMITTED,
        current_level=_level_of(division),
        green_channel=green_channel,
        site=site,
        site_area_m2=site_m2,
        submitted_at=now,
    )
    application.full_clean()
    application.save()
    for number, polygon in enumerate(site, start=1):
        part = MultiPolygon(polygon, srid=STORAGE_SRID)
        part_m2, _planar = geometry_areas(part, gk3_epsg(part.centroid.x))
        parcel = ApplicationParcel(application=application, number=number, geom=part, area_m2=part_m2)
        parcel.full_clean()
        parcel.save()
    application.touched_parcels.set(Parcel.objects.registered().touching(site))
    _event(application=application, by=applicant, action=EventAction.SUBMITTED, ip=ip)
    report = overlap_report_create(application=application, by=applicant)
    _event(
        application=application,
        by=applicant,
        action=EventAction.OVERLAP_COMPUTED,
        ip=ip,
        before=application.status,
        data={"report_id": report.pk, "conflicts": report.result["conflicts"]},
    )
    return application


@transaction.atomic
def overlap_report_create(*, application: Application, by: AbstractBaseUser) -> OverlapReport:
    """Runs the overlap analysis on the application's site and stores it with the layer versions used."""
    result = overlap_analyse(site=application.site)
    report = OverlapReport(application=application, created_by=by, result=result.report, pieces=result.pieces)
    report.full_clean()
    report.save()
    report.layer_versions.set(result.layer_version_ids)
    return report


def _decide(*, application: Application, by: AbstractBaseUser, to_status: str, action: str, comment: str, ip: str | None) -> Application:
    # Lock the row, then re-check: of two reviewers acting at once exactly one sees SUBMITTED.
    locked = Application.objects.select_for_update().get(pk=application.pk)
    if not can_review(by, locked):
        raise NotPermitted(_("You may not review this application."))
    if locked.status != ApplicationStatus.SUBMITTED:
        raise StateConflict(
            _("This application is already %(status)s; your action was not applied.") % {"status": locked.get_status_display()}
        )
    before = locked.status
    locked.status = to_status
    if to_status in (ApplicationStatus.APPROVED, ApplicationStatus.REJECTED):
        locked.decided_at = timezone.now()
    locked.full_clean()
    locked.save()
    _event(application=locked, by=by, action=action, ip=ip, before=before, comment=comment)
    return locked


@transaction.atomic
def application_approve(*, application: Application, by: AbstractBaseUser, comment: str = "", ip: str | None = None) -> Application:
    """Final approval at the current level (the thin path: county decides)."""
    return _decide(application=application, by=by, to_status=ApplicationStatus.APPROVED, action=EventAction.APPROVED, comment=comment, ip=ip)


@transaction.atomic
def application_return(*, application: Application, by: AbstractBaseUser, comment: str, ip: str | None = None) -> Application:
    """Returns the application to the applicant; a comment saying why is required."""
    if not comment.strip():
        raise ValidationError(_("A return needs a comment saying why."), code="comment_required")
    return _decide(application=application, by=by, to_status=ApplicationStatus.RETURNED, action=EventAction.RETURNED, comment=comment, ip=ip)
