"""Certificates: issuing (inside a registration), replacing (换证/补证) and cancelling (注销), and the
verification code printed on each certificate.

Verification code decision (like the hall's query code, approvals/hall/services/receipts.py): the
code must be printable again (a reprint of the PDF) yet not readable from the database. It is
derived as HMAC-SHA256(server key, "certificate:" salt ‖ id), written in the receipts' unambiguous
alphabet; only the random per-certificate salt is stored. The server key is the setting
ONEMAP_CERTIFICATE_CODE_KEY, else a key derived from SECRET_KEY under its own label. A replacement
certificate draws its own salt, so the old paper's code keeps showing "replaced by …".
"""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from approvals.exceptions import StateConflict
from approvals.hall.services.receipts import derived_code
from approvals.permissions import require
from approvals.registry.choices import CertificateStatus
from approvals.registry.models import Certificate, Right
from approvals.registry.services.numbering import certificate_number, certificate_serial_next
from approvals.services.common import history
from parcels.models import Division

REASON_MAX = 1000


def code_derive(*, salt: str, certificate_id: int) -> str:
    return derived_code(key_setting="ONEMAP_CERTIFICATE_CODE_KEY", purpose=b"onemap.registry.certificate-code",
                        message=f"certificate:{salt}:{certificate_id}")


def verification_code(certificate: Certificate) -> str:
    """The code printed on the certificate (10 characters, no 0/O/1/I/L)."""
    return code_derive(salt=certificate.verify_salt, certificate_id=certificate.pk)


def certificate_verification_url(certificate: Certificate) -> str:
    """Absolute path of the public verification page with number and code in the URL fragment
    (/certificates/verify/#n=…&c=…): a browser never sends the fragment, so the code stays out of
    server and proxy logs; verify.js reads it and posts the form. The PDF's QR code carries it
    (prefix the server's origin for a full URL)."""
    return f"{reverse('registry-verify')}#{urlencode({'n': certificate.number, 'c': verification_code(certificate)})}"


def certificate_issue(*, right: Right, county: Division, by: AbstractBaseUser, now=None) -> Certificate:
    """A new certificate for `right` with the county's next serial for this year. Runs inside the
    caller's transaction (registration or replacement); no permission check of its own."""
    now = now or timezone.now()
    year = timezone.localtime(now).year
    serial = certificate_serial_next(county=county, year=year)
    certificate = Certificate(number=certificate_number(county=county, year=year, serial=serial), county=county, year=year,
                              serial=serial, right=right, issued_at=now, issued_by=by, verify_salt=secrets.token_hex(16))
    certificate.full_clean()
    certificate.save()
    from approvals.issued.services import certificate_pdf_issue  # the certificate's PDF, versioned per right

    certificate_pdf_issue(certificate=certificate, by=by)
    return certificate


def _clean_reason(reason: str) -> str:
    kept = (reason or "").strip()
    if not kept:
        raise ValidationError(_("Give the reason."), code="reason_required")
    if len(kept) > REASON_MAX or "\x00" in kept:
        raise ValidationError(_("The reason is too long or contains invalid characters."), code="reason_invalid")
    return kept


def _locked(certificate: Certificate) -> Certificate:
    current = Certificate.objects.select_for_update().select_related("county", "right").get(pk=certificate.pk)
    if current.status != CertificateStatus.ISSUED:
        raise StateConflict(_("This certificate is no longer valid; your action was not applied."))
    return current


@transaction.atomic
def certificate_replace(*, certificate: Certificate, by: AbstractBaseUser, reason: str, ip: str | None = None) -> Certificate:
    """Replaces a valid certificate (lost, damaged, corrected: 换证/补证) with a new one for the same
    right, numbered in the current year; the old one says "replaced by" the new number."""
    require(by, "registry.manage_certificate", certificate)
    kept = _clean_reason(reason)
    with history(by=by, ip=ip, action="certificate_replaced"):
        old = _locked(certificate)
        if old.right.status != "active":
            raise StateConflict(_("The right of this certificate has ended: cancel it instead."))
        now = timezone.now()
        # The partial unique index allows one valid certificate per right: end the old one first.
        old.status, old.status_reason, old.ended_at, old.ended_by = CertificateStatus.CANCELLED, kept, now, by
        old.save(update_fields=["status", "status_reason", "ended_at", "ended_by"])
        new = certificate_issue(right=old.right, county=old.county, by=by, now=now)
        old.status, old.replaced_by = CertificateStatus.REPLACED, new
        old.full_clean()
        old.save(update_fields=["status", "replaced_by"])
        return new


@transaction.atomic
def certificate_cancel(*, certificate: Certificate, by: AbstractBaseUser, reason: str, ip: str | None = None) -> Certificate:
    """Cancels (注销) a valid certificate with the reason; the public verification then says so."""
    require(by, "registry.manage_certificate", certificate)
    kept = _clean_reason(reason)
    with history(by=by, ip=ip, action="certificate_cancelled"):
        old = _locked(certificate)
        old.status, old.status_reason, old.ended_at, old.ended_by = CertificateStatus.CANCELLED, kept, timezone.now(), by
        old.full_clean()
        old.save(update_fields=["status", "status_reason", "ended_at", "ended_by"])
        return old
