"""HTML pages. Thin: parse input → one service or selector → respond."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from approvals import selectors as approval_selectors
from approvals import services as approval_services
from approvals.choices import Role
from approvals.exceptions import NotPermitted, StateConflict
from approvals.permissions import can_review, has_role
from maps import builders
from maps.forms import ApplicationForm, DecisionForm, LayerImportForm, SiteForm
from parcels.exceptions import SpatialInputError
from parcels.models import LayerVersion
from parcels.overlap import overlap_analyse
from parcels.services import layer_import_file

SITE_INPUT_ID = "id_site_geojson"
AREA_OUTPUT_ID = "site-area"


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


def _draw_map(*, visible: tuple[str, ...]) -> builders.MapParts:
    m = builders.base_map()
    builders.add_divisions(m)
    builders.add_layers(m, visible=visible)
    builders.add_site_draw(m, input_id=SITE_INPUT_ID, output_id=AREA_OUTPUT_ID)
    return builders.render(m)


def home(request: HttpRequest) -> HttpResponse:
    m = builders.base_map()
    builders.add_divisions(m)
    builders.add_layers(m, visible=("urban-boundary", "permanent-farmland", "eco-redline"))
    return render(request, "maps/home.html", {"map": builders.render(m)})


@login_required
def application_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "maps/application_list.html",
        {
            "queue": approval_selectors.review_queue(user=request.user),
            "mine": approval_selectors.application_list(user=request.user).filter(applicant=request.user),
            "is_reviewer": has_role(request.user, Role.REVIEWER),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def application_new(request: HttpRequest) -> HttpResponse:
    form = ApplicationForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                application = approval_services.application_submit(
                    applicant=request.user,
                    kind=form.cleaned_data["kind"],
                    title=form.cleaned_data["title"],
                    purpose=form.cleaned_data["purpose"],
                    site=form.site,
                    parts=form.parts,
                    ip=client_ip(request),
                )
            except SpatialInputError as exc:
                form.add_error(None, str(exc))
            else:
                for warning in form.warnings:
                    messages.warning(request, warning)
                return redirect("application-detail", pk=application.pk)
        status = 400
    return render(
        request,
        "maps/application_new.html",
        {"form": form, "map": _draw_map(visible=("urban-boundary", "permanent-farmland", "eco-redline")), "area_output_id": AREA_OUTPUT_ID},
        status=status,
    )


def _report_map(report_result: dict, pieces: dict, site_geojson: dict) -> builders.MapParts:
    m = builders.base_map()
    builders.add_divisions(m)
    builders.add_layers(m)
    builders.add_site(m, site_geojson)
    builders.add_overlap_pieces(m, pieces, {lr["layer"]: lr["verdict"] for lr in report_result["layers"]})
    return builders.render(m)


@login_required
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    application = approval_selectors.application_get(user=request.user, pk=pk)
    report = approval_selectors.latest_overlap_report(application=application)
    site_geojson = json.loads(application.site.geojson)
    reviewing = can_review(request.user, application)
    return render(
        request,
        "maps/application_detail.html",
        {
            "application": application,
            "report": report,
            "map": _report_map(report.result, report.pieces, site_geojson) if report else None,
            "events": application.events.select_related("actor").order_by("at", "id"),
            "parcels": application.parcels.all(),
            "can_review": reviewing,
            # staff see the other applications the site overlaps; an applicant sees only their own
            "show_others": application.applicant_id != request.user.pk,
            "stale": report is not None and approval_selectors.report_is_stale(report),
            "decision_form": DecisionForm(),
        },
    )


@login_required
@require_POST
def application_decide(request: HttpRequest, pk: int) -> HttpResponse:
    application = approval_selectors.application_get(user=request.user, pk=pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return render(request, "maps/message.html", {"title": _("Not applied"), "errors": form.errors, "application": application}, status=400)
    service = approval_services.application_approve if form.cleaned_data["action"] == "approve" else approval_services.application_return
    try:
        service(application=application, by=request.user, comment=form.cleaned_data["comment"], ip=client_ip(request))
    except NotPermitted as exc:
        return HttpResponseForbidden(str(exc))
    except StateConflict as exc:
        return render(request, "maps/message.html", {"title": _("Not applied"), "message": str(exc), "application": application}, status=409)
    return redirect("application-detail", pk=application.pk)


@login_required
@require_POST
def application_overlap_rerun(request: HttpRequest, pk: int) -> HttpResponse:
    application = approval_selectors.application_get(user=request.user, pk=pk)
    try:
        approval_services.overlap_report_rerun(application=application, by=request.user, ip=client_ip(request))
    except NotPermitted as exc:
        return HttpResponseForbidden(str(exc))
    return redirect("application-detail", pk=application.pk)


@login_required
@require_http_methods(["GET", "POST"])
def planner_overlap(request: HttpRequest) -> HttpResponse:
    if not has_role(request.user, Role.PLANNER):
        return HttpResponseForbidden(_("The overlap query is for planners."))
    form = SiteForm(request.POST or None, request.FILES or None)
    context: dict = {"form": form, "area_output_id": AREA_OUTPUT_ID}
    status = 200
    if request.method == "POST" and form.is_valid():
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
