"""Issuing the bureau's documents: render the PDF, store it under a generated name with its
SHA-256, and record it as the next version of its (kind, subject). Never an overwrite.

Callers hold the subject's row lock (step_decide locks the application, the registry its right), so
two issues of one subject are serialised; the UNIQUE (kind, subject, version) constraint is the last
line. The PDF is written to storage before the row: a rolled-back transaction can leave an orphan
file (never a row without its file), which nothing links to.
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from approvals.issued.models import DocumentKind, IssuedDocument
from approvals.issued.pdf import pdf_page_count, pdf_render, qr_data_uri
from approvals.models import Application


def token_hash(token: str) -> str:
    """SHA-256 hex of a verification token (random, 192 bits: a fast hash is enough)."""
    return hashlib.sha256(token.encode()).hexdigest()


def public_url(path: str) -> str:
    """An absolute URL of a public page for paper: ONEMAP_PUBLIC_URL (what a phone scanning the
    paper reaches; the demo's local server when unset) + path."""
    base = getattr(settings, "ONEMAP_PUBLIC_URL", "") or "http://127.0.0.1:8000"
    return base.rstrip("/") + path


def verify_url(token: str) -> str:
    """The public verification page of a token, absolute."""
    return public_url(reverse("issued-verify", args=[token]))


def application_subject(application: Application) -> str:
    return f"application:{application.pk}"


def right_subject(right_id: int) -> str:
    return f"right:{right_id}"


@transaction.atomic
def document_issue(*, kind: str, subject: str, number: str, by: AbstractBaseUser, template: str,
                   context: dict, application: Application | None = None, certificate_id: int | None = None) -> IssuedDocument:
    """Renders `template` (Chinese paper, under zh-hans) with `context` plus the verification QR
    (`verify_url`, `qr`, `version`, `issued_at`) and stores it as the next version of (kind, subject)."""
    if kind not in DocumentKind.values:
        raise ValueError(f"unknown document kind {kind!r}")
    latest = IssuedDocument.objects.filter(kind=kind, subject=subject).aggregate(v=Max("version"))["v"] or 0
    token = secrets.token_urlsafe(24)
    url = verify_url(token)
    now = timezone.now()
    with translation.override("zh-hans"):
        html = render_to_string(template, {**context, "verify_url": url, "qr": qr_data_uri(url), "version": latest + 1, "issued_at": now})
    data = pdf_render(html)
    document = IssuedDocument(
        kind=kind, subject=subject, version=latest + 1, number=number, application=application, certificate_id=certificate_id,
        sha256=hashlib.sha256(data).hexdigest(), size=len(data), pages=pdf_page_count(data), token_hash=token_hash(token),
        created_at=now, created_by=by,
    )
    document.file.save("document.pdf", ContentFile(data), save=False)
    document.full_clean()
    document.save()
    return document


def decision_issue(*, application: Application, by: AbstractBaseUser) -> IssuedDocument:
    """The decision (审批决定书 / 批复) of a decided application, as its next version. Called by
    step_decide inside the final approval's or rejection's transaction."""
    from approvals.issued.papers import decision_context

    return document_issue(kind=DocumentKind.DECISION, subject=application_subject(application), number=application.reference,
                          by=by, template="issued/decision_pdf.html", context=decision_context(application=application),
                          application=application)


def boundary_points_issue(*, application: Application, by: AbstractBaseUser) -> IssuedDocument:
    """The site's boundary-point table (界址点成果表) as a PDF, next version."""
    from approvals.issued.papers import boundary_context

    return document_issue(kind=DocumentKind.BOUNDARY_POINTS, subject=application_subject(application), number=application.reference,
                          by=by, template="issued/boundary_pdf.html", context=boundary_context(application=application),
                          application=application)


def certificate_pdf_issue(*, certificate, by: AbstractBaseUser) -> IssuedDocument:
    """The certificate's PDF (不动产权证书: cover page and map page). Versions count per right: a
    replacement certificate of the same right is the next version and the old one says so."""
    from approvals.issued.papers import certificate_context

    return document_issue(kind=DocumentKind.CERTIFICATE, subject=right_subject(certificate.right_id), number=certificate.number,
                          by=by, template="issued/certificate_pdf.html", context=certificate_context(certificate=certificate),
                          application=certificate.right.application, certificate_id=certificate.pk)


