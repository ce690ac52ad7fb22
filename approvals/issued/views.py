"""Pages and downloads of the issued documents: the PDF of an issued document, the site's
boundary-point table (HTML, TXT, stamped PDF), the site map image of the print view, and the public
verification page behind every document's QR code (no login, rate-limited like /query/).

Thin: parse → one selector or service → respond. Not visible: 404; not allowed: 403.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from approvals.hall.views.common import rate_limited, refused
from approvals.issued import selectors
from approvals.issued.boundary import BoundaryUnavailable, application_boundary_table, application_boundary_txt
from approvals.issued.models import DocumentKind
from approvals.issued.services import boundary_points_issue
from approvals.services.common import locked


def _ascii_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9-]+", "_", text).strip("_") or "document"


@never_cache
@login_required
@require_GET
def issued_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """An issued document's stored PDF, byte for byte (its SHA-256 is on the verification page)."""
    document = selectors.document_get(user=request.user, pk=pk)
    try:
        handle = document.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("the stored file is missing") from exc
    response = FileResponse(handle, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{document.kind}-{_ascii_name(document.number)}-v{document.version}.pdf"'
    return response


@never_cache
@login_required
@require_GET
def boundary_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The site's boundary-point table for surveyors, with the TXT download and the stamped PDFs."""
    application = selectors.application_for_boundary(user=request.user, pk=pk)
    try:
        table = application_boundary_table(application=application)
    except BoundaryUnavailable:
        table = None
    documents = [d for d in selectors.documents_for(user=request.user, application=application) if d.kind == DocumentKind.BOUNDARY_POINTS]
    return render(request, "issued/boundary.html", {
        "application": application, "table": table, "documents": documents,
        "can_issue": selectors.may_issue_boundary(user=request.user, application=application),
    })


@never_cache
@login_required
@require_GET
def boundary_txt(request: HttpRequest, pk: int) -> HttpResponse:
    """The site as the national boundary-point TXT (UTF-8, CRLF), in the same zone as the table."""
    application = selectors.application_for_boundary(user=request.user, pk=pk)
    try:
        data = application_boundary_txt(application=application)
    except (BoundaryUnavailable, ValueError) as exc:
        return refused(request, status=409, message=_("This site has no national boundary-point coordinates: %(reason)s") % {"reason": exc})
    response = HttpResponse(data, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_ascii_name(application.reference)}.txt"'
    return response


@login_required
@require_POST
def boundary_issue(request: HttpRequest, pk: int) -> HttpResponse:
    """Issues the stamped boundary-point table (PDF) as the next version; staff of that land only."""
    application = selectors.application_for_boundary(user=request.user, pk=pk)
    if not selectors.may_issue_boundary(user=request.user, application=application):
        return refused(request, status=403, message=_("Only the window clerks and reviewers of this land issue the boundary-point table."))
    with transaction.atomic():
        # One issue at a time per application: the version numbers follow each other.
        locked(application)
        boundary_points_issue(application=application, by=request.user)
    return redirect(reverse("issued-boundary", args=[application.pk]))


@never_cache
@login_required
@require_GET
def site_map_svg(request: HttpRequest, pk: int) -> HttpResponse:
    """The site among the registered parcels around it, drawn on the server (SVG, A4-wide), for the
    print view; 404 when it cannot be drawn."""
    from approvals.issued.papers import site_map_svg_text

    application = selectors.application_for_boundary(user=request.user, pk=pk)
    drawn = site_map_svg_text(geometry=application.site, width_mm=178, height_mm=120, title=application.reference, site_label=_("Site"))
    if drawn is None:
        raise Http404("no map")
    response = HttpResponse(drawn[0], content_type="image/svg+xml")
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


@never_cache
@require_GET
def verify(request: HttpRequest, token: str) -> HttpResponse:
    """Public: which document a QR code's token belongs to (kind, number, version, issue date,
    SHA-256) and whether a newer version exists. No personal data. A malformed and an unknown token
    answer alike (404)."""
    if (limited := rate_limited(request, scope="issued-verify", limit=settings.ONEMAP_PUBLIC_QUERY_PER_MINUTE)) is not None:
        return limited
    found = selectors.verify_token(token=token)
    return render(request, "issued/verify.html", {"found": found}, status=200 if found else 404)


urlpatterns = [
    path("documents/<int:pk>.pdf", issued_pdf, name="issued-pdf"),
    path("applications/<int:pk>/boundary-points/", boundary_page, name="issued-boundary"),
    path("applications/<int:pk>/boundary-points.txt", boundary_txt, name="issued-boundary-txt"),
    path("applications/<int:pk>/boundary-points/issue/", boundary_issue, name="issued-boundary-issue"),
    path("applications/<int:pk>/site-map.svg", site_map_svg, name="issued-site-map"),
    path("verify/<str:token>/", verify, name="issued-verify"),
]
