"""Reads of the approval domain, always through the permission rules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import rules
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from pghistory.models import Events

from approvals.choices import LEVEL_OF_DIVISION, ApplicationStatus, Role
from approvals.clocks import Clock, application_clocks, step_clock, task_clock
from approvals.models import Application, DepartmentTask, Notification, OverlapReport, ReviewStep, RouteStep
from approvals.permissions import covered_divisions_q, covers, memberships, visible_applications, window_divisions_q
from approvals.services.common import route_from, route_step
from approvals.workdays import WorkdayCalendar
from parcels.models import Division, LayerVersion
from parcels.overlap import without_right_holders


def application_list(*, user: AbstractBaseUser) -> QuerySet[Application]:
    return visible_applications(user).select_related("division", "applicant", "kind").order_by("-green_channel", "-submitted_at")


def work_queue(*, user: AbstractBaseUser) -> QuerySet[Application]:
    """Applications waiting for this user to act: at their window (clerks), at the open step of
    their division (level reviewers), or with an unanswered task of their department."""
    q = Q(pk__in=[])
    for m in memberships(user, Role.CLERK):
        q |= window_divisions_q(m.division) & Q(status=ApplicationStatus.SUBMITTED)
    for m in memberships(user, Role.REVIEWER):
        q |= Q(pk__in=ReviewStep.objects.filter(division=m.division, closed_at__isnull=True).values("application"))
    for m in memberships(user, Role.DEPARTMENT_REVIEWER):
        q |= Q(pk__in=DepartmentTask.objects.filter(department_id=m.department_id, answered_at__isnull=True,
                                                    step__closed_at__isnull=True).values("step__application"))
    return (visible_applications(user).filter(q).exclude(applicant=user)
            .select_related("division", "applicant", "kind").order_by("-green_channel", "promised_due", "submitted_at"))


@dataclass
class QueueRow:
    """An application as a list shows it: its open step and the clocks (now)."""

    application: Application
    step: ReviewStep | None
    step_clock: Clock | None
    clocks: dict[str, Clock] | None
    flags: list[str] = field(default_factory=list)

    @property
    def overdue(self) -> bool:
        return "overdue" in self.flags

    @property
    def due_soon(self) -> bool:
        return "due_soon" in self.flags


def with_clocks(applications, *, now: dt.datetime | None = None) -> list[QueueRow]:
    """Rows with each application's open step and clocks; flags: green, overdue, due_soon, paused."""
    now = now or timezone.now()
    cal = WorkdayCalendar()
    apps = list(applications)
    open_steps = {s.application_id: s for s in ReviewStep.objects.filter(application__in=apps, closed_at__isnull=True).select_related("division")}
    # one query for every kind's route and one for the divisions' levels, not one per row
    routes: dict[str, list[RouteStep]] = {}
    for r in RouteStep.objects.filter(kind__in={a.kind_id for a in apps}).order_by("kind", "order"):
        routes.setdefault(r.kind_id, []).append(r)
    division_levels = dict(Division.objects.filter(pk__in={a.division_id for a in apps}).values_list("code", "level"))
    rows = []
    for app in apps:
        step = open_steps.get(app.pk)
        sclock = None
        if step is not None:
            spec = next(r for r in route_from(routes[app.kind_id], LEVEL_OF_DIVISION[division_levels[app.division_id]]) if r.level == step.level)
            sclock = step_clock(cal=cal, step=step, limit=spec.limit(green=app.green_channel), now=now)
        clocks = application_clocks(cal=cal, application=app, now=now)
        flags = ["green"] if app.green_channel else []
        candidates = [c for c in ([sclock] if sclock else []) + (list(clocks.values()) if clocks else []) if c.limit is not None]
        if any(c.overdue and (c.running or c.paused) for c in candidates):
            flags.append("overdue")
        elif any(c.due_soon for c in candidates):
            flags.append("due_soon")
        if app.paused_since is not None:
            flags.append("paused")
        rows.append(QueueRow(app, step, sclock, clocks, flags))
    return rows


def queue_filter(rows: list[QueueRow], *, flag: str = "", level: str = "", kind: str = "", status: str = "") -> list[QueueRow]:
    return [r for r in rows
            if (not flag or flag in r.flags) and (not level or r.application.current_level == level)
            and (not kind or r.application.kind_id == kind) and (not status or r.application.status == status)]


def application_get(*, user: AbstractBaseUser, pk: int) -> Application:
    """The application if the user may see it; 404 otherwise (no hint that it exists)."""
    try:
        return visible_applications(user).select_related("division", "applicant", "kind").get(pk=pk)
    except Application.DoesNotExist as exc:
        raise Http404("No such application") from exc


def steps_with_clocks(*, application: Application, now: dt.datetime | None = None) -> list[tuple[ReviewStep, Clock, list[tuple[DepartmentTask, Clock]]]]:
    now = now or timezone.now()
    cal = WorkdayCalendar()
    out = []
    for step in application.steps.select_related("division", "closed_by").order_by("number"):
        limit = route_step(application, step.level).limit(green=application.green_channel)
        tasks = [(t, task_clock(cal=cal, task=t, now=now)) for t in step.tasks.select_related("department", "answered_by").order_by("role", "department__name")]
        out.append((step, step_clock(cal=cal, step=step, limit=limit, now=now), tasks))
    return out


def open_task_for(*, user: AbstractBaseUser, application: Application) -> DepartmentTask | None:
    """The user's department's unanswered task on the application's open step, if any."""
    departments = memberships(user, Role.DEPARTMENT_REVIEWER).values("department")
    return (DepartmentTask.objects.filter(step__application=application, step__closed_at__isnull=True, answered_at__isnull=True,
                                          department__in=departments).select_related("step", "department").first())


def field_history(*, application: Application) -> list[Events]:
    """Field-level history (pghistory): the application's rows and every row referencing it
    (parcels, documents, steps) plus the steps' department tasks, oldest first, with diffs."""
    events = list(Events.objects.references(application))
    tasks = DepartmentTask.objects.filter(step__application=application)
    if tasks.exists():
        events += list(Events.objects.tracks(tasks))
    return sorted(events, key=lambda e: (e.pgh_created_at, e.pgh_model, e.pgh_id))


def notifications_for(*, user: AbstractBaseUser) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user).select_related("application")


def unread_count(*, user: AbstractBaseUser) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def latest_overlap_report(*, application: Application) -> OverlapReport | None:
    return application.overlap_reports.order_by("-created_at").first()


# --- right holders (personal data) -----------------------------------------------------------


def right_holders_visible(*, user: AbstractBaseUser, application: Application) -> bool:
    """Whether `user` may read the right holders of the application's parcels (rule
    approvals.view_right_holders). Tested on the rule itself: Django's has_perm lets any superuser
    through, and the administrator has no business with people's names outside the audited admin."""
    return bool(user.is_authenticated and user.is_active and rules.has_perm("approvals.view_right_holders", user, application))


def overlap_report_for(*, user: AbstractBaseUser, application: Application) -> OverlapReport | None:
    """The latest overlap report as `user` may read it: without right holders unless they act on
    that land. For display only: the instance's `result` may be redacted in memory, never save it."""
    report = latest_overlap_report(application=application)
    if report is not None and not right_holders_visible(user=user, application=application):
        report.result = without_right_holders(report.result)
    return report


def right_holder_jurisdiction(*, user: AbstractBaseUser) -> Callable[[str], bool]:
    """For an overlap query without an application: given a parcel's division code, whether `user`
    is a window clerk or level reviewer whose jurisdiction covers it (same rule as
    approvals.view_right_holders; superusers and administrators are not let through)."""
    divisions = [m.division for role in (Role.CLERK, Role.REVIEWER) for m in memberships(user, role)]

    def sees(division_code: str) -> bool:
        # covers() reads only the other division's code (6-digit prefixes by level)
        return any(covers(d, Division(code=division_code)) for d in divisions)

    return sees


def report_is_stale(report: OverlapReport) -> bool:
    """True when some layer's active version differs from the versions the report used."""
    used = set(report.layer_versions.values_list("id", flat=True))
    active = set(LayerVersion.objects.filter(is_active=True).values_list("id", flat=True))
    return used != active




# --- planners' queries across applications ---------------------------------------------------


@dataclass(frozen=True)
class ApplicationHit:
    """An application found by a planner's query, with its overlap with the chosen layer (m², as
    of its latest overlap report) when a layer was chosen."""

    application: Application
    layer_overlap_m2: float | None


def applications_query(*, user: AbstractBaseUser, year: int | None = None, kind: str = "", status: str = "",
                       layer_slug: str = "", division_code: str = "") -> list[ApplicationHit]:
    """Visible applications submitted in `year`, of `kind`, in `status`, in `division_code` (and the
    divisions under it), whose site touches the active version of layer `layer_slug` (PostGIS)."""
    from django.db.models import Exists, OuterRef

    from parcels.models import Zone

    qs = visible_applications(user).select_related("division", "kind", "applicant")
    if year:
        qs = qs.filter(submitted_at__year=year)
    if kind:
        qs = qs.filter(kind_id=kind)
    if status:
        qs = qs.filter(status=status)
    if division_code:
        qs = qs.filter(covered_divisions_q(Division.objects.get(code=division_code)))
    if layer_slug:
        qs = qs.filter(Exists(Zone.objects.active().filter(layer_version__layer__slug=layer_slug, geom__intersects=OuterRef("site"))))
    hits = []
    for app in qs.order_by("-submitted_at"):
        overlap = None
        if layer_slug:
            report = latest_overlap_report(application=app)
            layer = next((lr for lr in report.result["layers"] if lr["layer"] == layer_slug), None) if report else None
            overlap = layer["overlap_m2"] if layer else None
        hits.append(ApplicationHit(app, overlap))
    return hits


def approved_area_by_county_and_class(*, user: AbstractBaseUser, year: int | None = None) -> list[dict]:
    """Approved applications' site area (m²) per county and land-survey class, from each one's
    latest overlap report (the land-use survey layer's classes), largest first."""
    from parcels.choices import LayerKind
    from parcels.models import Layer

    survey = set(Layer.objects.filter(kind=LayerKind.LANDUSE_SURVEY).values_list("slug", flat=True))
    totals: dict[tuple[str, str, str], float] = {}
    qs = visible_applications(user).filter(status=ApplicationStatus.APPROVED).select_related("division")
    if year:
        qs = qs.filter(decided_at__year=year)
    for app in qs.select_related("division__parent"):
        report = latest_overlap_report(application=app)
        # a township land station's case counts for its county
        county = app.division.parent if app.division.level == "station" else app.division
        for layer in report.result["layers"] if report else []:
            if layer["layer"] not in survey:
                continue
            for c in layer["classes"]:
                key = (county.name, c["code"], c["name"])
                totals[key] = totals.get(key, 0.0) + c["area_m2"]
    return [{"division": d, "class_code": code, "class_name": name, "area_m2": round(area, 2)}
            for (d, code, name), area in sorted(totals.items(), key=lambda kv: -kv[1])]


def dashboard(*, user: AbstractBaseUser, now: dt.datetime | None = None) -> dict:
    """Counts by status, level and kind; open applications that are overdue; average working days
    from acceptance to decision per kind against its statutory and promised limits."""
    from django.db.models import Count

    now = now or timezone.now()
    apps = visible_applications(user)
    by_status = dict(apps.values_list("status").annotate(n=Count("id")).order_by())
    by_level = dict(apps.filter(status=ApplicationStatus.IN_REVIEW).values_list("current_level").annotate(n=Count("id")).order_by())
    by_kind = dict(apps.values_list("kind").annotate(n=Count("id")).order_by())
    open_rows = with_clocks(apps.filter(status__in=[ApplicationStatus.IN_REVIEW, ApplicationStatus.RETURNED]).select_related("kind", "division"), now=now)
    cal = WorkdayCalendar()
    processing: dict[str, list] = {}
    for app in apps.filter(status__in=[ApplicationStatus.APPROVED, ApplicationStatus.REJECTED], accepted_at__isnull=False).select_related("kind"):
        clocks = application_clocks(cal=cal, application=app, now=now)
        processing.setdefault(app.kind_id, []).append(clocks["promised"].used)
    return {"by_status": by_status, "by_level": by_level, "by_kind": by_kind,
            "overdue": [r for r in open_rows if r.overdue], "processing": processing}


NEARBY_M = 1000.0


def nearby_applications(*, user: AbstractBaseUser, application: Application, radius_m: float = NEARBY_M) -> list[Application]:
    """Other applications the user may see whose sites come within `radius_m` metres of this one
    (ellipsoidal distance), nearest first, each with `distance_m`."""
    from django.contrib.gis.db.models.functions import Distance
    from django.contrib.gis.measure import D

    # a degree-box prefilter (≥ radius at these latitudes) lets the spatial index work
    near = application.site.buffer(radius_m / 80_000.0)
    return list(
        visible_applications(user)
        .exclude(pk=application.pk)
        .filter(site__intersects=near, site__distance_lte=(application.site, D(m=radius_m)))
        .annotate(distance_m=Distance("site", application.site))
        .select_related("kind")
        .order_by("distance_m")[:50]
    )
