"""Public certificate verification without login (/certificates/verify/).

Like the hall's case query: a wrong number and a wrong code get the same page and status, the
check takes the same time, hits are rate-limited per client address in the database, and the
answer holds no personal data beyond the holders' masked names. The certificate's QR code carries
number and code in the URL fragment (#n=…&c=…), which a browser never sends; verify.js reads it
and posts the form.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from approvals.hall.views.common import rate_limited
from approvals.registry.forms import VerifyForm
from approvals.registry.selectors import certificate_verify


@never_cache
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        limited = rate_limited(request, scope="certificate-page", limit=settings.ONEMAP_PUBLIC_PAGE_PER_MINUTE)
        return limited or render(request, "registry/verify.html", {"form": VerifyForm()})
    limited = rate_limited(request, scope="certificate-verify", limit=settings.ONEMAP_PUBLIC_QUERY_PER_MINUTE)
    if limited:
        return limited
    form = VerifyForm(request.POST)
    if not form.is_valid():
        return render(request, "registry/verify.html", {"form": form}, status=400)
    found = certificate_verify(number=form.cleaned_data["number"], code=form.cleaned_data["code"])
    if found is None:
        form.add_error(None, _("No certificate matches this number and verification code. Check both against the certificate."))
        return render(request, "registry/verify.html", {"form": form})
    return render(request, "registry/verify.html", {"form": VerifyForm(), "found": found})


urlpatterns = [path("certificates/verify/", verify, name="registry-verify")]
