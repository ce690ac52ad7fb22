"""Receipts (on screen and as PDF) and the public query without login (/query/).

The query answers a wrong case number and a wrong code alike (same status, same text, a password
check either way), is rate-limited per client address in the database, and shows no personal data.
The receipt's QR code carries the number and the code in the URL's fragment (/query/#n=…&c=…): a
browser never sends a fragment, so the code stays out of server and proxy logs; query.js reads it
and posts the form.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from approvals.choices import Level
from approvals.hall.access import grant_query
from approvals.hall.choices import ReceiptKind
from approvals.hall.selectors.query import code_visible, latest_receipt_number, public_case, query_find, receipt_code, receipt_get
from approvals.hall.services.ratelimit import rate_limit_hit
from approvals.hall.services.receipts import CODE_LENGTH
from approvals.hall.views.common import too_many
from approvals.issued.pdf import pdf_render  # the project's one PDF path (data: URIs only)
from onemap.http import client_ip


class QueryForm(forms.Form):
    number = forms.CharField(label=gettext_lazy("Case number"), max_length=40, strip=True,
                             widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text", "autocapitalize": "characters", "spellcheck": "false"}))
    code = forms.CharField(label=gettext_lazy("Query code"), max_length=32, strip=True,
                           widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}))



@never_cache
@require_http_methods(["GET", "POST"])
def public_query(request: HttpRequest) -> HttpResponse:
    """GET: the form. POST: the case's public state when number and code match."""
    address = client_ip(request)
    if request.method == "GET":
        if rate_limit_hit(scope="query-page", address=address, limit=settings.ONEMAP_PUBLIC_PAGE_PER_MINUTE):
            return too_many(request)
        return render(request, "hall/query.html", {"form": QueryForm(), "code_length": CODE_LENGTH})
    if rate_limit_hit(scope="query", address=address, limit=settings.ONEMAP_PUBLIC_QUERY_PER_MINUTE):
        return too_many(request)
    form = QueryForm(request.POST)
    if not form.is_valid():
        return render(request, "hall/query.html", {"form": form, "code_length": CODE_LENGTH}, status=400)
    application = query_find(number=form.cleaned_data["number"], code=form.cleaned_data["code"])
    if application is None:
        # One message for an unknown number and a wrong code: nothing tells which was wrong.
        form.add_error(None, _("No case matches this number and query code. Check both against your receipt."))
        return render(request, "hall/query.html", {"form": form, "code_length": CODE_LENGTH}, status=200)
    grant_query(request, application.pk)
    case = public_case(application=application)
    return render(request, "hall/query.html", {"form": QueryForm(), "code_length": CODE_LENGTH, "case": case, "application_id": application.pk})


def _query_url(request: HttpRequest, *, reference: str, code: str | None) -> str:
    base = request.build_absolute_uri(reverse("hall-query"))
    return f"{base}#{urlencode({'n': reference, 'c': code})}" if code else base


def _receipt_context(request: HttpRequest, number: str) -> dict:
    import segno

    receipt = receipt_get(user=request.user, number=number)
    application = receipt.application
    visible = code_visible(user=request.user, receipt=receipt)
    code = receipt_code(receipt=receipt) if visible else None
    url = _query_url(request, reference=application.reference, code=code)
    return {
        "receipt": receipt,
        "application": application,
        "c": receipt.content,
        "window": receipt.content.get("window") or {},
        "acceptance": receipt.kind == ReceiptKind.ACCEPTANCE,
        "code": code,
        "code_withheld": not visible,
        "latest_number": latest_receipt_number(application_id=application.pk),
        "query_url": url,
        "query_page": request.build_absolute_uri(reverse("hall-query")),
        # An SVG data: URI: allowed by the page's CSP (img-src data:) and by the PDF's fetcher.
        "qr": segno.make(url, error="m").svg_data_uri(scale=4, border=2),
        "promised_due": _parse(receipt.content.get("promised_due")),
        "statutory_due": _parse(receipt.content.get("statutory_due")),
        "level_label": Level(receipt.content["level"]).label if receipt.content.get("level") in Level.values else "",
        "documents": [{"name": d.get("name", ""), "name_en": d.get("name_en") or d.get("name", ""), "count": d.get("count", 1)}
                      for d in receipt.content.get("documents", [])],
    }


def _parse(value: str | None) -> dt.datetime | None:
    return parse_datetime(value) if value else None


@never_cache
@require_GET
def receipt_detail(request: HttpRequest, number: str) -> HttpResponse:
    return render(request, "hall/receipt.html", _receipt_context(request, number))





@never_cache
@require_GET
def receipt_pdf(request: HttpRequest, number: str) -> HttpResponse:
    context = _receipt_context(request, number)
    # The paper is the Chinese official form whatever the screen's language.
    with translation.override("zh-hans"):
        html = render_to_string("hall/receipt_pdf.html", context)
    response = HttpResponse(pdf_render(html), content_type="application/pdf")
    filename = re.sub(r"[^A-Za-z0-9-]", "_", context["receipt"].number)
    response["Content-Disposition"] = f'inline; filename="{filename}.pdf"'
    return response


urlpatterns = [
    path("query/", public_query, name="hall-query"),
    path("hall/receipts/<str:number>.pdf", receipt_pdf, name="hall-receipt-pdf"),
    path("hall/receipts/<str:number>/", receipt_detail, name="hall-receipt"),
]
