"""HTML pages. Thin: parse input → one service or selector → respond."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from approvals import selectors as approval_selectors
from approvals import services as approval_services
from approvals.choices import LEVEL_ORDER, ApplicationStatus, Level, Role, StepState, TaskRole
from approvals.exceptions import DataCheckFailed, NotPermitted, StateConflict
from approvals.hall.selectors.dashboard import hall_figures
from approvals.models import ApplicationKind
from approvals.permissions import allowed, has_role, memberships
from approvals.services.common import route
from maps import builders
from maps.actions import run_action
from maps.exports import FORMATS, export
from maps.forms import (
    ApplicationForm,
    ApplicationQueryForm,
    AssignForm,
    DecisionForm,
    DocumentForm,
    LayerCrossForm,
    LayerImportForm,
    ModifyForm,
    OpinionForm,
    ReasonsForm,
    ResubmitForm,
    SiteForm,
)
from onemap.http import client_ip
from parcels.exceptions import SpatialInputError
from parcels.limits import SiteTooLarge, check_site_size
from parcels.models import LayerVersion
from parcels.overlap import layers_cross, overlap_analyse
from parcels.selectors import layer_summaries
from parcels.services import layer_import_file

SITE_INPUT_ID = "id_site_geojson"
AREA_OUTPUT_ID = "site-area"



def _draw_map(*, visible: tuple[str, ...]) -> builders.MapParts:
    m = builders.base_map()
    builders.add_divisions(m)
    builders.add_layers(m, visible=visible)
    builders.add_site_draw(m, input_id=SITE_INPUT_ID, output_id=AREA_OUTPUT_ID)
    return builders.render(m)


def home(request: HttpRequest) -> HttpResponse:
    m = builders.base_map()
    builders.add_divisions(m)
    # a visitor who is not logged in sees the public layers only (tiles, and the table beside the map)
    anonymous = not request.user.is_authenticated
    builders.add_layers(m, visible=("urban-boundary", "permanent-farmland", "eco-redline"), public_only=anonymous)
    summaries = [s for s in layer_summaries() if s["layer"].public or not anonymous]
    return render(request, "maps/home.html", {"map": builders.render(m), "summaries": summaries})


@login_required
def application_list(request: HttpRequest) -> HttpResponse:
    """The work queue (with clocks, flags and filters) and the user's own applications."""
    rows = approval_selectors.with_clocks(approval_selectors.work_queue(user=request.user))
    filters = {k: request.GET.get(k, "") for k in ("flag", "level", "kind", "status")}
    return render(
        request,
        "maps/application_list.html",
        {
            "queue": approval_selectors.queue_filter(rows, **filters),
            "queue_total": len(rows),
            "filters": filters,
            "levels": Level.choices,
            "kinds": ApplicationKind.objects.all(),
            "statuses": ApplicationStatus.choices,
            "mine": approval_selectors.with_clocks(approval_selectors.application_list(user=request.user).filter(applicant=request.user)),
            "is_staff_member": any(has_role(request.user, r) for r in (Role.CLERK, Role.REVIEWER, Role.DEPARTMENT_REVIEWER)),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def application_new(request: HttpRequest) -> HttpResponse:
    import uuid

    from approvals.hall.services.agent import applicant_for_agent
    from approvals.services.submission import AlreadySubmitted

    form = ApplicationForm(request.POST or None, request.FILES or None, agent_allowed=memberships(request.user, Role.CLERK).exists())
    status = 200
    # The form's one-time token (hidden field): the same form posted twice makes one application.
    posted_token = request.POST.get("submission_token", "") if request.method == "POST" else ""
    try:
        token = uuid.UUID(posted_token) if posted_token else None
    except ValueError:
        token = None
        form.add_error(None, _("This form is out of date. Check the fields and submit it again."))
    if request.method == "POST":
        if form.is_valid():
            on_behalf = form.on_behalf  # agent service: a clerk submits for an applicant
            try:
                with transaction.atomic():  # a new light applicant account is kept only with its application
                    applicant = applicant_for_agent(by=request.user, ip=client_ip(request), **on_behalf) if on_behalf else request.user
                    application = approval_services.application_submit(
                        applicant=applicant,
                        contact_phone=form.phone_for_case,
                        agent=request.user if on_behalf else None,
                        agent_reason=form.cleaned_data.get("agent_reason", "") if on_behalf else "",
                        green_channel=False,
                        kind=form.cleaned_data["kind"],
                        title=form.cleaned_data["title"],
                        purpose=form.cleaned_data["purpose"],
                        site=form.site,
                        parts=form.parts,
                        ip=client_ip(request),
                        submission_token=token,
                    )
            except AlreadySubmitted as exc:
                messages.info(request, _("This form had already been submitted; here is its application."))
                return redirect("application-detail", pk=exc.application.pk)
            except SpatialInputError as exc:
                form.add_error(None, str(exc))
            except (NotPermitted, ValidationError) as exc:
                form.add_error(None, exc.messages if isinstance(exc, ValidationError) else str(exc))
            else:
                for warning in form.warnings:
                    messages.warning(request, warning)
                return redirect("application-detail", pk=application.pk)
        status = 400
    return render(
        request,
        "maps/application_new.html",
        {"form": form, "map": _draw_map(visible=("urban-boundary", "permanent-farmland", "eco-redline")), "area_output_id": AREA_OUTPUT_ID,
         "submission_token": token or uuid.uuid4()},
        status=status,
    )


def _report_map(report_result: dict, pieces: dict, site_geojson: dict) -> builders.MapParts:
    m = builders.base_map()
    builders.add_divisions(m)
    builders.add_layers(m)
    builders.add_site(m, site_geojson)
    builders.add_overlap_pieces(m, pieces, {lr["layer"]: lr["verdict"] for lr in report_result["layers"]})
    return builders.render(m)


def _detail_context(request: HttpRequest, application) -> dict:
    user = request.user
    # right holders only for the staff acting on this land (approvals.view_right_holders)
    report = approval_selectors.overlap_report_for(user=user, application=application)
    steps = approval_selectors.steps_with_clocks(application=application)
    open_step = next((s for s, _c, _t in steps if s.closed_at is None), None)
    reviewing = open_step is not None and allowed(user, "approvals.review_step", open_step)
    at_window = application.status == ApplicationStatus.SUBMITTED and allowed(user, "approvals.window_check", application)
    own = allowed(user, "approvals.correct_application", application)
    task = approval_selectors.open_task_for(user=user, application=application)
    check = None
    if at_window or (reviewing and open_step.state in (StepState.PENDING, StepState.PRESIGNED)):
        check = approval_services.data_check(application=application, division=open_step.division if reviewing else None)
    [row] = approval_selectors.with_clocks([application])
    # staff see the other applications around the site; an applicant sees only their own
    show_others = application.applicant_id != user.pk
    nearby = approval_selectors.nearby_applications(user=user, application=application) if show_others else []
    holders_visible = approval_selectors.right_holders_visible(user=user, application=application)
    return {
        "application": application,
        "row": row,
        "report": report,
        "map": _application_map(application, report, nearby) if report else None,
        "nearby": nearby,
        "events": application.events.select_related("actor").order_by("at", "id"),
        "history": approval_selectors.field_history(application=application),
        "parcels": application.parcels.all(),
        "documents": application.documents.select_related("requirement").all(),
        "required_documents": application.kind.required_documents.all(),
        "steps": steps,
        "open_step": open_step,
        "reviewing": reviewing,
        "at_window": at_window,
        "own": own,
        "task": task,
        "check": check,
        "check_ok": check is not None and all(i.ok for i in check),
        "can_rerun": allowed(user, "approvals.rerun_overlap", application),
        "can_view_documents": allowed(user, "approvals.view_documents", application),
        "show_others": show_others,
        "show_right_holders": holders_visible,
        # The applicant's phone: personal data, for the applicant and the staff acting on that land.
        "show_contact": application.applicant_id == user.pk or holders_visible,
        "stale": report is not None and approval_selectors.report_is_stale(report),
        "reasons_form": ReasonsForm(),
        "decision_form": DecisionForm(last_level=open_step.level == route(application)[-1].level if reviewing else None),
        "assign_form": AssignForm(division=open_step.division) if reviewing and open_step.state == StepState.ACCEPTED else None,
        "has_tasks": open_step is not None and open_step.tasks.exists(),
        "opinion_form": OpinionForm(),
        "modify_form": ModifyForm(initial={"title": application.title, "purpose": application.purpose, "green_channel": application.green_channel}),
        "document_form": DocumentForm(kind=application.kind) if allowed(user, "approvals.add_document", application) and application.status in (ApplicationStatus.SUBMITTED, ApplicationStatus.RETURNED) else None,
        "TaskRole": TaskRole,
    }


def _application_map(application, report, nearby=()) -> builders.MapParts:
    """The reviewer's map: every layer as tiles, the site, other applications nearby, and the
    overlap pieces fetched separately."""
    m = builders.base_map()
    builders.add_divisions(m)
    builders.add_layers(m)
    builders.add_site(m, json.loads(application.site.geojson))
    if nearby:
        builders.add_nearby(m, [{"type": "Feature", "geometry": json.loads(a.site.geojson),
                                 "properties": {"reference": a.reference, "title": a.title, "status": a.get_status_display()}} for a in nearby])
    builders.add_measure(m)
    builders.add_remote_pieces(m, url=reverse("application-pieces", args=[application.pk]),
                               verdicts={lr["layer"]: lr["verdict"] for lr in report.result["layers"]})
    return builders.render(m)


@login_required
def application_pieces(request: HttpRequest, pk: int) -> JsonResponse:
    """The latest overlap report's pieces (GeoJSON, EPSG:4490 lon/lat) for the map; 404 if not visible."""
    application = approval_selectors.application_get(user=request.user, pk=pk)
    report = approval_selectors.latest_overlap_report(application=application)
    response = JsonResponse(report.pieces if report else {"type": "FeatureCollection", "features": []})
    response["Content-Type"] = "application/geo+json"
    return response


@login_required
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    application = approval_selectors.application_get(user=request.user, pk=pk)
    return render(request, "maps/application_detail.html", _detail_context(request, application))


@login_required
def application_print(request: HttpRequest, pk: int) -> HttpResponse:
    """A printable record: the map, the overlap table, the steps with opinions and the timeline."""
    application = approval_selectors.application_get(user=request.user, pk=pk)
    return render(request, "maps/application_print.html", _detail_context(request, application))


@login_required
@require_POST
def application_act(request: HttpRequest, pk: int) -> HttpResponse:
    """One workflow action on an application (form field `action`); 403/409/400 on refusal."""
    application = approval_selectors.application_get(user=request.user, pk=pk)
    try:
        done = run_action(application=application, user=request.user, ip=client_ip(request), data=request.POST, files=request.FILES)
    except NotPermitted as exc:
        return HttpResponseForbidden(str(exc))
    except DataCheckFailed as exc:
        return render(request, "maps/message.html", {"title": _("Data check failed"), "items": exc.items, "application": application}, status=409)
    except StateConflict as exc:
        return render(request, "maps/message.html", {"title": _("Not applied"), "message": str(exc), "application": application}, status=409)
    except ValidationError as exc:
        return render(request, "maps/message.html", {"title": _("Not applied"), "errors_list": exc.messages, "application": application}, status=400)
    messages.success(request, done)
    return redirect("application-detail", pk=application.pk)


@login_required
@require_http_methods(["GET", "POST"])
def application_resubmit(request: HttpRequest, pk: int) -> HttpResponse:
    """The applicant corrects a returned application (and may replace the site), then resubmits."""
    application = approval_selectors.application_get(user=request.user, pk=pk)
    if not allowed(request.user, "approvals.correct_application", application):
        return HttpResponseForbidden(_("Only the applicant can correct an application."))
    form = ResubmitForm(request.POST or None, request.FILES or None,
                        initial={"title": application.title, "purpose": application.purpose})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                approval_services.application_resubmit(
                    application=application, by=request.user, title=form.cleaned_data["title"], purpose=form.cleaned_data["purpose"],
                    site=form.cleaned_data.get("site"), parts=form.cleaned_data.get("parts"), ip=client_ip(request))
            except StateConflict as exc:
                form.add_error(None, str(exc))
                status = 409
            except SpatialInputError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Resubmitted to the window."))
                return redirect("application-detail", pk=application.pk)
    return render(request, "maps/application_resubmit.html",
                  {"form": form, "application": application, "map": _draw_map(visible=("urban-boundary", "permanent-farmland", "eco-redline")),
                   "area_output_id": AREA_OUTPUT_ID}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def inbox(request: HttpRequest) -> HttpResponse:
    """The user's notifications; POST marks them all read."""
    if request.method == "POST":
        approval_services.notifications_mark_read(user=request.user)
        return redirect("inbox")
    return render(request, "maps/inbox.html", {"notifications": approval_selectors.notifications_for(user=request.user)[:200]})


@login_required
@require_POST
def application_overlap_rerun(request: HttpRequest, pk: int) -> HttpResponse:
    application = approval_selectors.application_get(user=request.user, pk=pk)
    try:
        approval_services.overlap_report_rerun(application=application, by=request.user, ip=client_ip(request))
    except NotPermitted as exc:
        return HttpResponseForbidden(str(exc))
    return redirect("application-detail", pk=application.pk)


def _planner_or_403(request: HttpRequest) -> HttpResponse | None:
    if not has_role(request.user, Role.PLANNER):
        return HttpResponseForbidden(_("The overlap query is for planners."))
    return None


@login_required
@require_http_methods(["GET", "POST"])
def planner_overlap(request: HttpRequest) -> HttpResponse:
    if (denied := _planner_or_403(request)) is not None:
        return denied
    form = SiteForm(request.POST or None, request.FILES or None)
    context: dict = {"form": form, "area_output_id": AREA_OUTPUT_ID}
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            check_site_size(site=form.site)  # before any spatial query (parcels/limits.py)
        except SiteTooLarge as exc:
            form.add_error(None, str(exc))
    if request.method == "POST" and form.is_valid():
        # planners never see right holders (overlap_analyse's default)
        result = overlap_analyse(site=form.site)
        context["report"] = result.report
        context["map"] = _report_map(result.report, result.pieces, json.loads(form.site.geojson))
    else:
        status = 400 if request.method == "POST" else 200
        context["map"] = _draw_map(visible=("urban-boundary", "permanent-farmland", "eco-redline"))
    return render(request, "maps/planner_overlap.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def layer_import(request: HttpRequest) -> HttpResponse:
    """Administrators upload a layer file: it becomes the layer's new active version (all or nothing)."""
    if not has_role(request.user, Role.ADMIN):
        return HttpResponseForbidden(_("Layer imports are for administrators."))
    form = LayerImportForm(request.POST or None, request.FILES or None)
    status, summary = 200, None
    if request.method == "POST":
        status = 400
        if form.is_valid():
            upload = form.cleaned_data["file"]
            suffix = Path(upload.name).suffix.lower()
            with tempfile.TemporaryDirectory(prefix="onemap-import-") as folder:
                path = Path(folder) / f"upload{suffix}"
                with open(path, "wb") as fh:
                    for chunk in upload.chunks():
                        fh.write(chunk)
                try:
                    summary = layer_import_file(
                        path=path,
                        slug=form.cleaned_data["layer"],
                        name=form.cleaned_data["name"],
                        kind=form.cleaned_data["kind"],
                        rule=form.cleaned_data["rule"],
                        class_field=form.cleaned_data["class_field"] or None,
                        class_name_field=form.cleaned_data["class_name_field"] or None,
                        srid=form.cleaned_data["srid"],
                        encoding=form.cleaned_data["encoding"] or None,
                        skip_invalid=form.cleaned_data["skip_invalid"],
                        by=request.user,
                        source_name=upload.name,
                    )
                    status = 200
                except SpatialInputError as exc:
                    form.add_error("file", str(exc).replace(path.name, upload.name))
    return render(
        request,
        "maps/layer_import.html",
        {"form": form, "summary": summary, "versions": LayerVersion.objects.select_related("layer", "imported_by").order_by("layer__sort_order", "layer__slug", "-version")},
        status=status,
    )


@login_required
def planner_layers(request: HttpRequest) -> HttpResponse:
    """Two layers intersected inside a division, per class pair: table, chart, map; CSV/XLSX/GeoJSON."""
    if (denied := _planner_or_403(request)) is not None:
        return denied
    form = LayerCrossForm(request.GET if "layer_a" in request.GET else None, initial={"division": "421221"})
    context: dict = {"form": form}
    if form.is_bound and form.is_valid():
        division = form.cleaned_data["division"]
        result = layers_cross(layer_a=form.cleaned_data["layer_a"], layer_b=form.cleaned_data["layer_b"], area=division.boundary)
        fmt = request.GET.get("format")
        if fmt in FORMATS:
            columns = [("class_a", _("Class (first layer)")), ("name_a", _("Name")), ("class_b", _("Class (second layer)")),
                       ("name_b", _("Name")), ("area_m2", "m²"), ("area_ha", "ha"), ("area_mu", _("mu")), ("pairs", _("Zone pairs"))]
            return export(fmt=fmt, filename=f"{result.layer_a.slug}-x-{result.layer_b.slug}-{division.code}", columns=columns,
                          rows=result.rows, features=result.pieces["features"])
        m = builders.base_map()
        builders.add_divisions(m)
        builders.add_cross_pieces(m, result.pieces)
        english = (request.LANGUAGE_CODE or "").startswith("en")
        context.update({"result": result, "division": division, "map": builders.render(m),
                        "layer_a_name": (result.layer_a.name_en or result.layer_a.name) if english else result.layer_a.name,
                        "layer_b_name": (result.layer_b.name_en or result.layer_b.name) if english else result.layer_b.name,
                        "chart_rows": [(f"{r['class_a']}×{r['class_b']} {r['name_b']}", r["area_ha"]) for r in result.rows[:12]],
                        "query": request.GET.urlencode()})
    return render(request, "maps/planner_layers.html", context, status=400 if form.is_bound and not form.is_valid() else 200)


@login_required
def planner_applications(request: HttpRequest) -> HttpResponse:
    """Queries across applications (year, kind, status, a layer their site touches, division),
    approved area per county and land class; CSV/XLSX/GeoJSON."""
    if (denied := _planner_or_403(request)) is not None:
        return denied
    form = ApplicationQueryForm(request.GET or None)
    context: dict = {"form": form}
    if form.is_valid():
        data = form.cleaned_data
        hits = approval_selectors.applications_query(
            user=request.user, year=data["year"], kind=data["kind"].code if data["kind"] else "", status=data["status"],
            layer_slug=data["layer"].slug if data["layer"] else "", division_code=data["division"].code if data["division"] else "")
        approved = approval_selectors.approved_area_by_county_and_class(user=request.user, year=data["year"])
        rows = [{"reference": h.application.reference, "title": h.application.title, "kind": h.application.kind.label,
                 "status": h.application.get_status_display(), "division": h.application.division.name,
                 "submitted_at": h.application.submitted_at.strftime("%Y-%m-%d"), "site_area_m2": round(h.application.site_area_m2, 2),
                 "layer_overlap_m2": h.layer_overlap_m2} for h in hits]
        fmt = request.GET.get("format")
        if fmt in FORMATS:
            columns = [("reference", _("Reference")), ("title", _("Title")), ("kind", _("Kind")), ("status", _("Status")),
                       ("division", _("Division")), ("submitted_at", _("Submitted")), ("site_area_m2", _("Site area (m²)")),
                       ("layer_overlap_m2", _("Overlap with the layer (m²)"))]
            features = [{"type": "Feature", "geometry": json.loads(h.application.site.geojson), "properties": row} for h, row in zip(hits, rows, strict=True)]
            return export(fmt=fmt, filename="applications", columns=columns, rows=rows, features=features)
        by_county: dict[str, float] = {}
        for a in approved:
            by_county[a["division"]] = by_county.get(a["division"], 0.0) + a["area_m2"]
        context.update({"rows": rows, "approved": approved, "query": request.GET.urlencode(),
                        "total_m2": sum(r["site_area_m2"] for r in rows),
                        "county_chart": [(name, round(m2 / 10000, 4)) for name, m2 in sorted(by_county.items(), key=lambda kv: -kv[1])]})
    return render(request, "maps/planner_applications.html", context)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Counts by status, level and kind, the overdue list and processing times against the limits."""
    if not any(has_role(request.user, r) for r in (Role.CLERK, Role.REVIEWER, Role.DEPARTMENT_REVIEWER, Role.PLANNER, Role.ADMIN)):
        return HttpResponseForbidden(_("The dashboard is for the bureau's staff."))
    stats = approval_selectors.dashboard(user=request.user)
    kinds = {k.code: k for k in ApplicationKind.objects.all()}
    statuses, levels = dict(ApplicationStatus.choices), dict(Level.choices)
    processing = []
    for code, used in stats["processing"].items():
        kind = kinds[code]
        average = sum(used) / len(used)
        processing.append({"kind": kind, "count": len(used), "average": average, "rows": [(str(_("average")), float(average))],
                           "markers": [(str(_("promised")), float(kind.promised_days))]
                           + ([(str(_("statutory")), float(kind.statutory_days))] if kind.statutory_days is not None else [])})
    return render(request, "maps/dashboard.html", {
        "status_rows": [(str(statuses.get(k, k)), v) for k, v in sorted(stats["by_status"].items())],
        # 所 → 县 → 市 → 省 → 部, the order a case climbs
        "level_rows": [(str(levels.get(k, k)), v) for k, v in sorted(
            stats["by_level"].items(), key=lambda kv: LEVEL_ORDER.index(kv[0]) if kv[0] in LEVEL_ORDER else len(LEVEL_ORDER))],
        "kind_rows": [(kinds[k].label if k in kinds else k, v) for k, v in sorted(stats["by_kind"].items())],
        "overdue": stats["overdue"],
        "processing": processing,
        "hall": hall_figures(user=request.user),
    })


@login_required
def document_download(request: HttpRequest, pk: int, document_pk: int) -> HttpResponse:
    """An attached document, for whoever may see its application (the same rule; 404 otherwise,
    also for another applicant). Served as a download with its checked type, never inline: the
    browser neither renders nor sniffs it (approvals/documents.py checks the content on upload)."""
    from django.http import FileResponse, Http404
    from django.shortcuts import get_object_or_404

    from approvals.documents import content_type_for

    application = approval_selectors.application_get(user=request.user, pk=pk)
    if not allowed(request.user, "approvals.view_documents", application):
        raise Http404("no such document")  # the same answer as for a document that does not exist
    document = get_object_or_404(application.documents.all(), pk=document_pk)
    try:
        handle = document.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("document file missing") from exc
    response = FileResponse(handle, as_attachment=True, filename=document.original_name,
                            content_type=content_type_for(document.file.name))
    response["X-Content-Type-Options"] = "nosniff"
    # should it ever be rendered anyway, as an inert sandboxed document without scripts
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
