"""Staff pages of the register: the clerk's registration form, the certificate page (replace and
cancel for the county's clerks) and a parcel's lineage (map and timeline).

Thin, like every view: parse, call one service or selector, answer. Refusals are mapped in one
place (approvals.hall.views.common.refusal): NotPermitted 403, StateConflict 409, ValidationError 400.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from approvals.exceptions import NotPermitted, StateConflict
from approvals.hall.views.common import refusal
from approvals.models import Application
from approvals.permissions import allowed, visible_applications
from approvals.registry import selectors
from approvals.registry.forms import HolderFormSet, ReasonForm, RegistrationForm
from approvals.registry.models import Certificate
from approvals.registry.services.certificates import (
    certificate_cancel,
    certificate_replace,
    certificate_verification_url,
    verification_code,
)
from approvals.registry.services.registration import (
    APPROVED_KIND_RIGHT_TYPES,
    HOMESTEAD_LAND_USE,
    HolderInput,
    approved_register,
    registration_register,
)
from onemap.http import client_ip
from parcels.geo import AreaFigures
from parcels.models import Parcel

APPLICATION_ID_MAX = 2**31 - 1


def _application(request: HttpRequest, pk: int) -> Application:
    if pk > APPLICATION_ID_MAX:
        raise Http404("No such application")
    application = visible_applications(request.user).select_related("division", "kind").filter(pk=pk).first()
    if application is None:
        raise Http404("No such application")
    return application


@login_required
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest, pk: int) -> HttpResponse:
    """The registration form of an accepted registration case, or of an approved homestead or
    construction-land case (the county's window clerk)."""
    application = _application(request, pk)
    if not allowed(request.user, "registry.register", application):
        return refusal(request, NotPermitted(_("Only a window clerk of the county registers its cases.")))
    initial = {"land_use": (application.parcels.values_list("land_class", flat=True).first() or "0701")}
    # an approved homestead or construction-land case: its kind's right type (and a homestead's use) by default
    service = registration_register
    if application.kind_id in APPROVED_KIND_RIGHT_TYPES:
        service = approved_register
        initial["right_type"] = APPROVED_KIND_RIGHT_TYPES[application.kind_id][0]
        if application.kind_id == "rural_homestead":
            initial["land_use"] = HOMESTEAD_LAND_USE
    form = RegistrationForm(request.POST or None, initial=initial)
    holders = HolderFormSet(request.POST or None, prefix="holder")
    status = 200
    if request.method == "POST":
        if form.is_valid() and holders.is_valid():
            rows = [h.cleaned_data for h in holders.forms if h.has_content()]
            codes = form.cleaned_data["replaces"]
            replaces = list(Parcel.objects.filter(code__in=codes))
            try:
                if len(replaces) != len(set(codes)):
                    raise ValidationError(_("A parcel to replace does not exist."))
                certificate = service(
                    application=application, by=request.user, ip=client_ip(request),
                    holders=[HolderInput(name=r.get("name") or "", id_type=r["id_type"], id_number=r.get("id_number") or "",
                                         share=r["share"] if r.get("share") is not None else 0) for r in rows],
                    right_type=form.cleaned_data["right_type"], land_use=form.cleaned_data["land_use"],
                    term_start=form.cleaned_data["term_start"], term_end=form.cleaned_data["term_end"], replaces=replaces)
            except (NotPermitted, StateConflict) as exc:
                return refusal(request, exc)
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error(None, message)
            else:
                return redirect("registry-certificate", number=certificate.number)
        status = 400
    return render(request, "registry/register.html", {"application": application, "form": form, "holders": holders,
                                                      "area": AreaFigures(application.site_area_m2)}, status=status)


@login_required
@require_http_methods(["GET"])
def certificate_page(request: HttpRequest, number: str) -> HttpResponse:
    import segno

    certificate = selectors.certificate_get(user=request.user, number=number)
    manage = allowed(request.user, "registry.manage_certificate", certificate)
    context = {"certificate": certificate, "right": certificate.right, "parcel": certificate.right.parcel,
               "holders": list(certificate.right.holders.all()), "area": AreaFigures(certificate.right.area_m2),
               "manage": manage, "reason_form": ReasonForm(), "papers": _papers(certificate)}
    if manage:
        # The code is printed on the paper: the county's clerks, who print and hand it over, see it.
        url = request.build_absolute_uri(certificate_verification_url(certificate))
        context.update({"code": verification_code(certificate), "verify_url": url,
                        "qr": segno.make(url, error="m").svg_data_uri(scale=3, border=2)})
    return render(request, "registry/certificate.html", context)


def _papers(certificate: Certificate) -> list:
    """The certificate's printed PDFs (approvals.issued, one version per issue), newest first."""
    from approvals.issued.models import IssuedDocument

    return list(IssuedDocument.objects.filter(certificate_id=certificate.pk).order_by("-version"))


def _certificate_action(request: HttpRequest, number: str, action) -> HttpResponse:
    certificate = selectors.certificate_get(user=request.user, number=number)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return refusal(request, ValidationError([e for errs in form.errors.values() for e in errs]))
    try:
        result: Certificate = action(certificate=certificate, by=request.user, reason=form.cleaned_data["reason"], ip=client_ip(request))
    except (NotPermitted, StateConflict, ValidationError) as exc:
        return refusal(request, exc)
    return redirect("registry-certificate", number=result.number)


@login_required
@require_POST
def certificate_replace_view(request: HttpRequest, number: str) -> HttpResponse:
    return _certificate_action(request, number, certificate_replace)


@login_required
@require_POST
def certificate_cancel_view(request: HttpRequest, number: str) -> HttpResponse:
    return _certificate_action(request, number, certificate_cancel)


@login_required
@require_http_methods(["GET"])
def parcel_page(request: HttpRequest, code: str) -> HttpResponse:
    parcel = selectors.parcel_get(user=request.user, code=code)
    lineage = selectors.parcel_lineage(parcel=parcel, user=request.user)
    return render(request, "registry/parcel.html", {
        "parcel": parcel, "lineage": lineage, "geojson": selectors.lineage_geojson(lineage),
        "area": AreaFigures(parcel.area_m2),
        "rights": list(parcel.rights.select_related("application").prefetch_related("certificates")),
    })


urlpatterns = [
    path("registry/applications/<int:pk>/register/", register, name="registry-register"),
    path("registry/certificates/<str:number>/", certificate_page, name="registry-certificate"),
    path("registry/certificates/<str:number>/replace/", certificate_replace_view, name="registry-certificate-replace"),
    path("registry/certificates/<str:number>/cancel/", certificate_cancel_view, name="registry-certificate-cancel"),
    path("registry/parcels/<str:code>/", parcel_page, name="registry-parcel"),
]
