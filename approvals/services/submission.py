"""Submission side: applications, their parcels and documents, corrections and overlap reports.
Keyword-only, typed, one transaction each, full_clean() before save()."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.gis.db.models.functions import Intersection
from django.contrib.gis.geos import MultiPolygon
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from approvals.choices import OPEN_STATUSES, AgentReason, ApplicationStatus, EventAction, Level, NotificationKind
from approvals.documents import document_check
from approvals.exceptions import NotPermitted, StateConflict
from approvals.hall.phones import phone_clean
from approvals.models import Application, ApplicationDocument, ApplicationKind, ApplicationParcel, OverlapReport, RequiredDocument
from approvals.permissions import require
from approvals.rules import is_window_clerk
from approvals.services.common import history, level_of, locked, notify, record, window_clerks
from parcels.exceptions import SpatialInputError
from parcels.geo import STORAGE_SRID, AreaFigures, GeographyArea, site_areas
from parcels.limits import check_site_size
from parcels.models import Division, Parcel
from parcels.overlap import TOLERANCE_M2, overlap_analyse


def _site_division(site: MultiPolygon, kind: ApplicationKind) -> Division:
    """The application's division: the county containing the site (for a site crossing counties,
    their lowest common division); for a kind whose route starts at the township land station
    (rural homestead), the station whose area contains the site, so that it is received at that
    station's window; a site across two stations starts at the county."""
    division = _site_county(site)
    if division.level == "county" and kind.route.filter(level=Level.STATION).exists():
        station = next((s for s in division.children.filter(level="station", boundary__intersects=site)
                        if s.boundary.contains(site)), None)
        return station or division
    return division


def _site_county(site: MultiPolygon) -> Division:
    """The county containing the site; for a site crossing counties, their lowest common division."""
    counties = list(Division.objects.filter(level="county", boundary__intersects=site))
    if not counties:
        raise SpatialInputError(_("the site lies outside every county this platform serves"))
    inside = [c for c in counties if c.boundary.contains(site)]
    if inside:
        return inside[0]
    served = counties[0].boundary
    for county in counties[1:]:
        served = served.union(county.boundary)
    # a small tolerance (1 m² in degrees² ≈ 1e-10) absorbs slivers where county boundaries do not quite meet
    outside = site.difference(served)
    if not outside.empty and outside.area > 1e-10:
        raise SpatialInputError(
            _("part of the site lies outside every county this platform serves (around %(lon).5f, %(lat).5f)")
            % {"lon": outside.point_on_surface.x, "lat": outside.point_on_surface.y})
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


def _next_reference(division: Division, year: int) -> str:
    prefix = f"{division.code}-{year}-"
    last = Application.objects.filter(reference__startswith=prefix).aggregate(m=Max("reference"))["m"]
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{number:06d}"


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
    kind: ApplicationKind,
    title: str,
    purpose: str,
    site: MultiPolygon,
    parts: list[SitePart] | None = None,
    green_channel: bool = False,
    ip: str | None = None,
    submission_token: uuid.UUID | None = None,
    contact_phone: str = "",
    agent: AbstractBaseUser | None = None,
    agent_reason: str = "",
) -> Application:
    """Creates an application with its parcels (one per entry of `parts`, or one per polygon of
    `site` when drawn), computes and stores its overlap report, records the events and tells the
    window clerks. It then waits at the window (status submitted) for acceptance.
    Preconditions: `site` comes from parcels.site_input (valid, 4490) and is the union of `parts`.
    With `submission_token` (the form's one-time token) a second submission of the same form
    raises AlreadySubmitted carrying the first application, and writes nothing.
    With `agent` (agent service, 代办): a window clerk covering the site's division submits for
    `applicant` with `agent_reason`; the timeline names both (approvals.hall.services.agent).
    """
    if site.srid != STORAGE_SRID:
        raise ValueError(f"site must be in SRID {STORAGE_SRID}")
    check_site_size(site=site)  # SiteTooLarge before anything is written or queried
    if not kind.active:
        raise StateConflict(_("Applications of this kind are not accepted at present."))
    if agent is not None and agent_reason not in AgentReason.values:
        raise ValidationError(_("Say why the case is carried for the applicant."), code="agent_reason")
    contact_phone = phone_clean(contact_phone)
    if submission_token is not None:
        _token_unused(applicant=applicant, token=submission_token, agent=agent)
    with history(by=agent or applicant, ip=ip, action=EventAction.SUBMITTED):
        return _submit(applicant=applicant, kind=kind, title=title, purpose=purpose, site=site, parts=parts,
                       green_channel=green_channel, ip=ip, submission_token=submission_token,
                       contact_phone=contact_phone, agent=agent, agent_reason=agent_reason)


class AlreadySubmitted(StateConflict):
    """This form (its token) was submitted before: `application` is what that submission created."""

    def __init__(self, application: Application) -> None:
        self.application = application
        super().__init__(_("This form was already submitted: application %(reference)s.") % {"reference": application.reference})


def _token_unused(*, applicant: AbstractBaseUser, token: uuid.UUID, agent: AbstractBaseUser | None = None) -> None:
    """Raises AlreadySubmitted when `applicant` already submitted the form with `token`.

    Identical requests arrive together (a double click, a retried POST): each waits here on a row
    lock of the applicant until the one before it commits, then sees its application. The unique
    constraint (applicant, submission_token) is the database's guarantee behind this check.
    An agent's form is keyed by the agent (the same form may have created a new applicant twice)."""
    list(get_user_model().objects.select_for_update().filter(pk=(agent or applicant).pk).values_list("pk"))
    mine = {"agent": agent} if agent is not None else {"applicant": applicant}
    existing = Application.objects.filter(**mine, submission_token=token).first()
    if existing is not None:
        raise AlreadySubmitted(existing)


def _submit(*, applicant, kind, title, purpose, site, parts, green_channel, ip, submission_token=None, contact_phone="",
            agent=None, agent_reason="") -> Application:
    division = _site_division(site, kind)
    now = timezone.now()
    # Serialise reference numbering per division (row lock on the division).
    Division.objects.select_for_update().get(pk=division.pk)
    site_m2 = site_areas(site).ellipsoidal_m2
    application = Application(
        reference=_next_reference(division, now.year),
        kind=kind,
        title=title,
        purpose=purpose,
        applicant=applicant,
        division=division,
        status=ApplicationStatus.SUBMITTED,
        current_level=level_of(division),
        green_channel=green_channel,
        site=site,
        site_area_m2=site_m2,
        submitted_at=now,
        submission_token=submission_token,
        contact_phone=contact_phone,
        agent=agent,
        agent_reason=agent_reason if agent is not None else "",
    )
    data = {}
    if agent is not None:
        from approvals.hall.services.agent import agent_name  # the hall imports the services: import here

        if agent.pk == applicant.pk or not is_window_clerk(agent, application):
            raise NotPermitted(_("Only a window clerk whose jurisdiction covers the site can submit for an applicant."))
        data = {"agent": agent.get_username(), "agent_name": agent_name(agent), "for": applicant.get_username(), "reason": agent_reason}
    application.full_clean()
    application.save()
    _parcels_save(application=application, site=site, parts=parts)
    record(application=application, by=agent or applicant, action=EventAction.SUBMITTED, ip=ip, data=data)
    _overlap_report_recorded(application=application, by=agent or applicant, ip=ip)
    notify(users=window_clerks(application), application=application, kind=NotificationKind.NEW_TASK, data={"step": "window"})
    return application


def _parcels_save(*, application: Application, site: MultiPolygon, parts: list[SitePart] | None) -> None:
    """(Re)creates the application's parcels and registered-parcel links from the site."""
    application.parcels.all().delete()
    for number, part in enumerate(parts or [SitePart(geom=MultiPolygon(p, srid=STORAGE_SRID)) for p in site], start=1):
        part_m2 = site_areas(part.geom).ellipsoidal_m2
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


@transaction.atomic
def application_resubmit(
    *,
    application: Application,
    by: AbstractBaseUser,
    title: str | None = None,
    purpose: str | None = None,
    site: MultiPolygon | None = None,
    parts: list[SitePart] | None = None,
    ip: str | None = None,
) -> Application:
    """The applicant's correction (补正) of a returned application: changed fields and, when given,
    a new site replace the old (field history keeps the before/after); it goes back to the window.
    The clock stays paused until the window accepts it again (README: "Clocks")."""
    require(by, "approvals.correct_application", application)
    with history(by=by, ip=ip, action=EventAction.RESUBMITTED):
        app = locked(application)
        if app.status != ApplicationStatus.RETURNED:
            raise StateConflict(_("Only a returned application can be corrected and resubmitted."))
        changed: dict[str, dict] = {}
        for field, value in (("title", title), ("purpose", purpose)):
            if value is not None and value != getattr(app, field):
                changed[field] = {"before": getattr(app, field), "after": value}
                setattr(app, field, value)
        if site is not None:
            if site.srid != STORAGE_SRID:
                raise ValueError(f"site must be in SRID {STORAGE_SRID}")
            check_site_size(site=site)
            old_m2 = app.site_area_m2
            app.site = site
            app.site_area_m2 = site_areas(site).ellipsoidal_m2
            app.division = _site_division(site, app.kind) if app.accepted_at is None else app.division
            changed["site"] = {"before_m2": round(old_m2, 2), "after_m2": round(app.site_area_m2, 2)}
        app.status = ApplicationStatus.SUBMITTED
        app.revision += 1
        app.full_clean()
        app.save()
        if site is not None:
            _parcels_save(application=app, site=site, parts=parts)
        record(application=app, by=by, action=EventAction.RESUBMITTED, ip=ip, before=ApplicationStatus.RETURNED,
               data={"revision": app.revision, "changed": changed})
        _overlap_report_recorded(application=app, by=by, ip=ip)
        notify(users=window_clerks(app), application=app, kind=NotificationKind.NEW_TASK, data={"step": "window", "revision": app.revision})
        return app


@transaction.atomic
def document_add(*, application: Application, requirement: RequiredDocument, upload: UploadedFile, by: AbstractBaseUser,
                 ip: str | None = None) -> ApplicationDocument:
    """Attaches a PDF/PNG/JPEG document while the application is with the applicant or the window
    (the applicant's own, or one its agent collected on a home visit: `collected_on_visit`)."""
    from pathlib import Path

    require(by, "approvals.add_document", application)
    app = locked(application)
    if app.status not in (ApplicationStatus.SUBMITTED, ApplicationStatus.RETURNED):
        raise StateConflict(_("Documents can be added only before the window accepts the application."))
    if requirement.kind_id != app.kind_id:
        raise ValidationError(_("This document is not one the application's kind asks for."), code="wrong_kind")
    name = Path(upload.name or "").name
    if upload.size > settings.ONEMAP_MAX_DOCUMENT_BYTES:
        raise ValidationError(
            _("%(file)s: %(size)d bytes is over the %(limit)d-byte limit for a document.")
            % {"file": name, "size": upload.size, "limit": settings.ONEMAP_MAX_DOCUMENT_BYTES}, code="too_large")
    # parsed, decoded and scanned for markup (approvals/documents.py): the extension alone proves nothing
    document_check(upload=upload, name=name)
    with history(by=by, ip=ip, action=EventAction.DOCUMENT_ADDED):
        document = ApplicationDocument(application=app, requirement=requirement, file=upload, original_name=name[:200],
                                       size=upload.size, uploaded_by=by, collected_on_visit=app.agent_id == by.pk)
        document.full_clean()
        document.save()
        record(application=app, by=by, action=EventAction.DOCUMENT_ADDED, ip=ip, before=app.status,
               data={"document": requirement.code, "file": name, "size": upload.size, **({"on_visit": True} if app.agent_id == by.pk else {})})
    return document


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
    # The stored report keeps the right holders for the staff who act on the land; every reader
    # gets it through approvals.selectors.overlap_report_for, which strips them for the others.
    analysis = overlap_analyse(site=application.site, right_holders=lambda _division: True)
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
    """Re-runs the overlap analysis (e.g. after a layer changed): the window or the level reviewing it."""
    require(by, "approvals.rerun_overlap", application)
    return _overlap_report_recorded(application=application, by=by, ip=ip)


def _overlap_report_recorded(*, application: Application, by: AbstractBaseUser, ip: str | None) -> OverlapReport:
    """A new overlap report and its audit event (with whether it changed, when there was an earlier one)."""
    report = overlap_report_create(application=application, by=by)
    data = {"report_id": report.pk, "conflicts": report.result["conflicts"]}
    if "diff" in report.result:
        data["changed"] = report.result["diff"]["changed"]
    record(application=application, by=by, action=EventAction.OVERLAP_COMPUTED, ip=ip, before=application.status, data=data)
    return report
