"""Receipts (受理回执 / 退件告知书) and the case's public query code (查询码).

The window's acceptance or return issues a receipt in the same transaction (approvals.services.window),
so a rolled-back action leaves no receipt. The receipt's `content` freezes what the paper says:
documents received, the return's reasons (一次性告知: every reason at once), deadlines (ISO) and
the level the case is at.

Query code decision: the code must be printable again (the applicant loses the paper, the window
reprints it) yet must not be readable from the database. So the code is not stored at all: it is
derived as HMAC-SHA256(server key, random per-issue salt ‖ application id), written in an
unambiguous alphabet (no 0/O/1/I/L). QueryAccess keeps the salt and a password hash of the code
(django make_password), and the public query checks the hash only. The server key is the setting
ONEMAP_QUERY_CODE_KEY, else a key derived from SECRET_KEY: a database-only leak (salt + hash) reveals
no code, and a slow hash guards against guessing from a leaked hash. Each new receipt draws a new salt,
so the code printed on an earlier receipt stops working (rotation); only the latest receipt shows it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from approvals.choices import EventAction
from approvals.hall.choices import ReceiptKind
from approvals.hall.models import QueryAccess, Receipt, ServiceEvent
from approvals.models import Application

# No 0/O, 1/I/L: a code read aloud over the phone or copied from paper survives.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10
NUMBER_PREFIX = "HZ"


def derived_code(*, key_setting: str, purpose: bytes, message: str) -> str:
    """CODE_LENGTH characters of CODE_ALPHABET (31^10 ≈ 8·10^14 codes): HMAC-SHA256 of `message`
    under the key in the setting `key_setting`, else under a key of its own derived from SECRET_KEY
    for `purpose`, so this use never shares bytes with sessions or signing. Shared by receipts'
    query codes and certificates' verification codes (approvals/registry/services/certificates.py)."""
    key = (getattr(settings, key_setting, "") or "").encode() or hmac.new(settings.SECRET_KEY.encode(), purpose, hashlib.sha256).digest()
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()
    number = int.from_bytes(digest, "big")
    out = []
    for _ in range(CODE_LENGTH):
        number, index = divmod(number, len(CODE_ALPHABET))
        out.append(CODE_ALPHABET[index])
    return "".join(out)


def query_code_derive(*, salt: str, application_id: int) -> str:
    """The query code for `salt` (from QueryAccess) and the application."""
    return derived_code(key_setting="ONEMAP_QUERY_CODE_KEY", purpose=b"onemap.hall.query-code", message=f"{salt}:{application_id}")


def query_code_current(*, application: Application) -> str | None:
    """The case's current query code, or None when none was issued (or issued before salts existed)."""
    access = QueryAccess.objects.filter(application=application).first()
    if access is None or not access.salt:
        return None
    return query_code_derive(salt=access.salt, application_id=application.pk)


def normalise_code(code: str) -> str:
    """What the visitor typed, as the code is written: upper case, no spaces or dashes."""
    return "".join(code.split()).replace("-", "").upper()


def _query_code_rotate(*, application: Application, now) -> str:
    salt = secrets.token_hex(16)
    code = query_code_derive(salt=salt, application_id=application.pk)
    access = QueryAccess.objects.select_for_update().filter(application=application).first() or QueryAccess(application=application)
    access.salt = salt
    access.code_hash = make_password(code)
    access.issued_at = now
    access.full_clean()
    access.save()
    return code


def _next_number(application: Application) -> str:
    # The application row is locked by the workflow action, so numbering per case cannot race.
    sequence = Receipt.objects.filter(application=application).count() + 1
    return f"{NUMBER_PREFIX}{application.reference}-{sequence:02d}"


def _documents_received(application: Application) -> list[dict[str, Any]]:
    counts: dict[str, dict[str, Any]] = {}
    for document in application.documents.select_related("requirement").order_by("requirement_id", "uploaded_at"):
        r = document.requirement
        entry = counts.setdefault(r.code, {"code": r.code, "name": r.name, "name_en": r.name_en, "count": 0})
        entry["count"] += 1
    return list(counts.values())


def _return_reasons(application: Application) -> list[str]:
    event = application.events.filter(action=EventAction.WINDOW_RETURNED).order_by("-at", "-id").first()
    if event is None:
        return []
    return [str(r) for r in event.data.get("reasons", [])] or [line for line in event.comment.splitlines() if line.strip()]


def _days(value: Decimal) -> str:
    """Working days as written on paper: 20, 3.5 (not 20.0)."""
    return format(value.normalize(), "f")


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


@transaction.atomic
def receipt_issue(*, application: Application, event: ServiceEvent | None, by: AbstractBaseUser, kind: str) -> Receipt:
    """Issues the acceptance receipt or return notice for the window's action just taken on
    `application` (called inside that action's transaction), and a new query code for the case."""
    if kind not in ReceiptKind.values:
        raise ValueError(f"unknown receipt kind {kind!r}")
    now = timezone.now()
    window = event.window if event is not None else None
    content: dict[str, Any] = {
        "reference": application.reference,
        "kind": application.kind.code,
        "kind_name": application.kind.name,
        "kind_name_en": application.kind.name_en,
        "division": application.division.name,
        "window": {"code": window.code, "name": window.name, "name_en": window.name_en, "address": window.address, "hours": window.hours} if window else None,
        "documents": _documents_received(application),
        "reasons": _return_reasons(application) if kind == ReceiptKind.RETURN else [],
        "promised_due": _iso(application.promised_due),
        "statutory_due": _iso(application.statutory_due),
        "promised_days": _days(application.kind.limit(green=application.green_channel)),
        "statutory_days": _days(application.kind.statutory_days) if application.kind.statutory_days is not None else None,
        "level": application.current_level,
        "status": application.status,
    }
    receipt = Receipt(application=application, event=event, kind=kind, number=_next_number(application), issued_at=now, issued_by=by, content=content)
    receipt.full_clean()
    receipt.save()
    _query_code_rotate(application=application, now=now)
    return receipt
