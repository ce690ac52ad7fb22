"""Writes of the approval domain: keyword-only, typed, one transaction each, full_clean() before save()."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.gis.db.models.functions import Intersection
from django.contrib.gis.geos import MultiPolygon
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from approvals.choices import OPEN_STATUSES, ApplicationStatus, EventAction, Level
from approvals.exceptions import NotPermitted, StateConflict
from approvals.models import Application, ApplicationEvent, ApplicationParcel, OverlapReport
from approvals.permissions import can_review
from parcels.exceptions import SpatialInputError
from parcels.geo import STORAGE_SRID, AreaFigures, GeographyArea, gk3_epsg
from parcels.models import Division, Parcel
from parcels.overlap import TOLERANCE_M2, overlap_analyse
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


@dataclass(frozen=True)
class SitePart:
    """One parcel (地块) of a site as submitted: a drawn polygon or a TXT [地块坐标] block (4490)."""

    geom: MultiPolygon
    name: str = ""
    use: str = ""
    land_class: str = ""
    declared_area_m2: float | None = None


@transaction.atomic
def application_submit(
    *,
    applicant: AbstractBaseUser,
    kind: str,
    title: str,
    purpose: str,
    site: MultiPolygon,
    parts: list[SitePart] | None = None,
    green_channel: bool = False,
    ip: str | None = None,
) -> Application:
    """Creates an application with its parcels (one per entry of `parts`, or one per polygon of
    `site` when drawn), computes and stores its overlap report, and records the events.
    Preconditions: `site` comes from parcels.site_input (valid, 4490) and is the union of `parts`.
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
    for number, part in enumerate(parts or [SitePart(geom=MultiPolygon(p, srid=STORAGE_SRID)) for p in site], start=1):
        part_m2, _planar = geometry_areas(part.geom, gk3_epsg(part.geom.centroid.x))
        parcel = ApplicationParcel(
            application=application,
            number=number,
            name=part.name,
            use=part.use,
            land_class=part.land_class,
            declared_area_m2=part.declared_area_m2,
            geom=part.geom,
            area_m2=part_m2,
        )
        parcel.full_clean()
        parcel.save()
    application.touched_parcels.set(Parcel.objects.registered().touching(site))
    _event(application=application, by=applicant, action=EventAction.SUBMITTED, ip=ip)
    _overlap_report_recorded(application=application, by=applicant, ip=ip)
    return application


def _other_applications(application: Application) -> list[dict]:
    """Open applications (other than this one) whose sites overlap this site, with the shared area."""
    others = (
        Application.objects.filter(status__in=OPEN_STATUSES, site__intersects=application.site)
        .exclude(pk=application.pk)
        .annotate(overlap_m2=GeographyArea(Intersection("site", application.site)))
        .order_by("-overlap_m2")
    )
    return [
        {"id": a.pk, "reference": a.reference, "title": a.title, **AreaFigures(a.overlap_m2).as_dict("overlap")}
        for a in others
        if a.overlap_m2 > TOLERANCE_M2
    ]


def _declared_vs_computed(application: Application) -> list[dict]:
    """Per parcel with a declared area: declared and computed (ellipsoidal) m² and the difference in %."""
    return [
        {
            "number": p.number,
            "name": p.name,
            "declared_m2": round(p.declared_area_m2, 2),
            "computed_m2": round(p.area_m2, 2),
            "difference_percent": round(100 * (p.declared_area_m2 - p.area_m2) / p.area_m2, 3),
        }
        for p in application.parcels.exclude(declared_area_m2__isnull=True).order_by("number")
    ]


def report_diff(old: dict, new: dict) -> dict:
    """What changed between two overlap reports: layer versions, verdicts and class areas (m²)."""
    before = {lr["layer"]: lr for lr in old["layers"]}
    changes = []
    for lr in new["layers"]:
        prev = before.pop(lr["layer"], None)
        old_classes = {c["code"]: c["area_m2"] for c in (prev or {}).get("classes", [])}
        new_classes = {c["code"]: c["area_m2"] for c in lr["classes"]}
        class_changes = [
            {"code": code, "before_m2": old_classes.get(code, 0.0), "after_m2": new_classes.get(code, 0.0),
             "change_m2": round(new_classes.get(code, 0.0) - old_classes.get(code, 0.0), 2)}
            for code in sorted(set(old_classes) | set(new_classes))
            if abs(new_classes.get(code, 0.0) - old_classes.get(code, 0.0)) > TOLERANCE_M2
        ]
        if prev is None or prev["version"] != lr["version"] or prev["verdict"] != lr["verdict"] or class_changes:
            changes.append(
                {
                    "layer": lr["layer"],
                    "name": lr["name"],
                    "version_before": prev["version"] if prev else None,
                    "version_after": lr["version"],
                    "verdict_before": prev["verdict"] if prev else None,
                    "verdict_after": lr["verdict"],
                    "classes": class_changes,
                }
            )
    for gone in before.values():
        changes.append({"layer": gone["layer"], "name": gone["name"], "version_before": gone["version"], "version_after": None,
                        "verdict_before": gone["verdict"], "verdict_after": None, "classes": []})
    return {"changed": bool(changes), "layers": changes}


@transaction.atomic
def overlap_report_create(*, application: Application, by: AbstractBaseUser) -> OverlapReport:
    """Runs the overlap analysis on the application's site and stores it with the layer versions
    used, the other open applications it overlaps and declared-vs-computed parcel areas. When an
    earlier report exists, the new one carries the difference (`result["diff"]`)."""
    previous = application.overlap_reports.order_by("-created_at", "-id").first()
    analysis = overlap_analyse(site=application.site)
    result = {
        **analysis.report,
        "applications": _other_applications(application),
        "declared": _declared_vs_computed(application),
    }
    if previous is not None:
        result["diff"] = report_diff(previous.result, result)
    report = OverlapReport(application=application, created_by=by, result=result, pieces=analysis.pieces)
    report.full_clean()
    report.save()
    report.layer_versions.set(analysis.layer_version_ids)
    return report


@transaction.atomic
def overlap_report_rerun(*, application: Application, by: AbstractBaseUser, ip: str | None = None) -> OverlapReport:
    """Re-runs the overlap analysis (e.g. after a layer changed) by a reviewer of the application."""
    if not can_review(by, application):
        raise NotPermitted(_("You may not review this application."))
    return _overlap_report_recorded(application=application, by=by, ip=ip)


def _overlap_report_recorded(*, application: Application, by: AbstractBaseUser, ip: str | None) -> OverlapReport:
    """A new overlap report and its audit event (with whether it changed, when there was an earlier one)."""
    report = overlap_report_create(application=application, by=by)
    data = {"report_id": report.pk, "conflicts": report.result["conflicts"]}
    if "diff" in report.result:
        data["changed"] = report.result["diff"]["changed"]
    _event(application=application, by=by, action=EventAction.OVERLAP_COMPUTED, ip=ip, before=application.status, data=data)
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
