"""Issued documents: the bureau's papers (decision 批复, certificate 不动产权证书, boundary-point
table 界址点成果表) as PDFs, stored with their SHA-256, one row per version.

A re-issue is a new row with the next version, never an overwrite: UNIQUE (kind, subject, version),
and the database refuses UPDATE and DELETE (pgtrigger Protect, like hall.Rating; the table is also in
onemap.dbroles.PROTECTED_MODELS, so the app role has only SELECT and INSERT on it).

`subject` names what the document is about, e.g. "application:12" or "certificate:7": a decision
and a boundary-point table are about an application, a certificate about a registered certificate.
The verification token printed in the QR code is random (32 bytes); only its SHA-256 is stored (a
random 256-bit token needs no slow hash), so the database alone cannot produce a working link.
"""

from __future__ import annotations

import uuid

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from approvals.models import Application


class DocumentKind(models.TextChoices):
    DECISION = "decision", _("Approval decision")
    CERTIFICATE = "certificate", _("Real estate title certificate")
    BOUNDARY_POINTS = "boundary_points", _("Boundary-point table")


def _issued_path(instance: IssuedDocument, filename: str) -> str:
    # A generated name: nothing from the subject or the user reaches the file system.
    return f"issued/{instance.kind}/{uuid.uuid4().hex}.pdf"


class IssuedDocument(models.Model):
    kind = models.CharField(_("kind"), max_length=16, choices=DocumentKind.choices)
    subject = models.CharField(_("subject"), max_length=64)
    version = models.PositiveIntegerField(_("version"))
    # What the paper is known by in public: the application's reference or the certificate's number.
    number = models.CharField(_("number"), max_length=64)
    application = models.ForeignKey(Application, on_delete=models.PROTECT, null=True, blank=True, related_name="issued_documents")
    certificate_id = models.PositiveBigIntegerField(_("certificate"), null=True, blank=True)
    file = models.FileField(_("file"), upload_to=_issued_path, max_length=200)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveIntegerField(_("size (bytes)"))
    pages = models.PositiveSmallIntegerField(_("pages"))
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("issued at"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("issued by"))

    class Meta:
        ordering = ["kind", "subject", "-version"]
        verbose_name = _("issued document")
        verbose_name_plural = _("issued documents")
        constraints = [
            models.UniqueConstraint(fields=["kind", "subject", "version"], name="issueddocument_unique_version"),
            models.CheckConstraint(condition=Q(version__gte=1), name="issueddocument_version_positive"),
            models.CheckConstraint(condition=Q(sha256__regex=r"^[0-9a-f]{64}$"), name="issueddocument_sha256_hex"),
            models.CheckConstraint(condition=Q(token_hash__regex=r"^[0-9a-f]{64}$"), name="issueddocument_token_hash_hex"),  # noqa: S106
            # A decision and a boundary-point table hang off an application; a certificate off a certificate.
            models.CheckConstraint(
                condition=(Q(kind=DocumentKind.CERTIFICATE) & Q(certificate_id__isnull=False))
                | (~Q(kind=DocumentKind.CERTIFICATE) & Q(application__isnull=False)),
                name="issueddocument_subject_present",
            ),
        ]
        indexes = [models.Index(fields=["application", "kind"], name="issueddocument_app_idx")]
        triggers = [pgtrigger.Protect(name="issueddocument_append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number} v{self.version}"
