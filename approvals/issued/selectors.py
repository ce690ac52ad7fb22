"""Reads of the issued documents: who may download which, the public verification of a token, and
the documents listed on an application's page. Always filtered through the approval rules."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Max
from django.http import Http404

from approvals.issued.models import DocumentKind, IssuedDocument
from approvals.issued.services import token_hash
from approvals.models import Application
from approvals.permissions import allowed
from approvals.selectors import application_get

# secrets.token_urlsafe(24): 32 characters of the URL-safe base64 alphabet. Anything else is no token.
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32}$")


def may_download(*, user: AbstractBaseUser, document: IssuedDocument, application: Application) -> bool:
    """Decision and boundary-point table: whoever may see the application's attached documents (the
    applicant, the staff acting on that land, the departments asked). Certificate (holders' names and
    identity numbers): the applicant and the staff acting on that land only."""
    if document.kind == DocumentKind.CERTIFICATE:
        return application.applicant_id == user.pk or allowed(user, "approvals.view_right_holders", application)
    return allowed(user, "approvals.view_documents", application)


def document_get(*, user: AbstractBaseUser, pk: int) -> IssuedDocument:
    """An issued document the user may download; 404 otherwise (no hint that it exists)."""
    document = IssuedDocument.objects.filter(pk=pk).first()
    if document is None or document.application_id is None:
        raise Http404("No such document")
    application = application_get(user=user, pk=document.application_id)
    if not may_download(user=user, document=document, application=application):
        raise Http404("No such document")
    return document


def documents_for(*, user: AbstractBaseUser, application: Application) -> list[IssuedDocument]:
    """The application's issued documents the user may download, newest version first per kind."""
    documents = IssuedDocument.objects.filter(application=application).order_by("kind", "-version")
    return [d for d in documents if may_download(user=user, document=d, application=application)]


@dataclass(frozen=True)
class Verification:
    """What the public verification page shows: no personal data."""

    kind: str
    kind_label: str
    number: str
    version: int
    issued_at: datetime
    sha256: str
    latest_version: int

    @property
    def superseded(self) -> bool:
        return self.latest_version > self.version


def verify_token(*, token: str) -> Verification | None:
    """The document a verification token belongs to, or None (malformed or unknown alike)."""
    if not isinstance(token, str) or not TOKEN_RE.match(token):
        return None
    document = IssuedDocument.objects.filter(token_hash=token_hash(token)).first()
    if document is None:
        return None
    latest = IssuedDocument.objects.filter(kind=document.kind, subject=document.subject).aggregate(v=Max("version"))["v"]
    return Verification(kind=document.kind, kind_label=str(document.get_kind_display()), number=document.number,
                        version=document.version, issued_at=document.created_at, sha256=document.sha256, latest_version=latest)


def application_for_boundary(*, user: AbstractBaseUser, pk: int) -> Application:
    """The application whose site coordinates the user may read (anyone who may see it: coordinates
    are not personal data)."""
    return application_get(user=user, pk=pk)


def may_issue_boundary(*, user: AbstractBaseUser, application: Application) -> bool:
    """Issuing the stamped table is the staff's act: a window clerk or level reviewer of that land."""
    return allowed(user, "approvals.view_right_holders", application)
