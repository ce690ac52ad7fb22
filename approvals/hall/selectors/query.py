"""Reads of receipts and of the public query (查询): who may see a receipt, and what the public
learns about a case from its number and query code.

The public answer holds no personal data: no applicant, no title or purpose (they may name people),
no actor but "the window", no comments, reasons or opinions; just status, level, clocks, the steps
and dates, and the window services given.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from approvals.choices import EventAction, Level, Role
from approvals.clocks import application_clocks
from approvals.hall.models import QueryAccess, Receipt, ServiceEvent
from approvals.hall.services.receipts import normalise_code, query_code_current
from approvals.models import Application
from approvals.permissions import covers, memberships
from approvals.workdays import WorkdayCalendar

# Steps the public sees; the rest (overlap runs, documents, modifications, department opinions) are internal.
PUBLIC_ACTIONS = (
    EventAction.SUBMITTED, EventAction.RESUBMITTED, EventAction.WINDOW_ACCEPTED, EventAction.WINDOW_RETURNED,
    EventAction.PRESIGNED, EventAction.ACCEPTED, EventAction.RETURNED_DOWN, EventAction.RETURNED,
    EventAction.TASKS_ASSIGNED, EventAction.FORWARDED, EventAction.APPROVED, EventAction.REJECTED,
)
WINDOW_ACTIONS = (EventAction.WINDOW_ACCEPTED, EventAction.WINDOW_RETURNED)
APPLICANT_ACTIONS = (EventAction.SUBMITTED, EventAction.RESUBMITTED)


def receipt_viewer(*, user: AbstractBaseUser | AnonymousUser, application: Application) -> bool:
    """The applicant of the case, the window clerks and the level reviewers whose division covers
    the case's division. Nobody else (planners, departments, callers, administrators) needs the
    paper that carries the query code."""
    if not user.is_authenticated or not user.is_active:
        return False
    if application.applicant_id == user.pk:
        return True
    for role in (Role.CLERK, Role.REVIEWER):
        if any(covers(m.division, application.division) for m in memberships(user, role)):
            return True
    return False


def receipt_get(*, user: AbstractBaseUser | AnonymousUser, number: str) -> Receipt:
    """The receipt if `user` may see it; 404 otherwise (no hint that it exists)."""
    if len(number) > Receipt._meta.get_field("number").max_length or "\x00" in number:
        raise Http404("No such receipt")
    receipt = (Receipt.objects.select_related("application__division", "application__kind", "event__window", "event__window__division")
               .filter(number=number).first())
    if receipt is None or not receipt_viewer(user=user, application=receipt.application):
        raise Http404("No such receipt")
    return receipt


def receipts_for(*, user: AbstractBaseUser | AnonymousUser, application: Application) -> list[Receipt]:
    if not receipt_viewer(user=user, application=application):
        return []
    return list(application.receipts.order_by("-issued_at", "-id"))


def receipt_code(*, receipt: Receipt) -> str | None:
    """The query code to print on `receipt`: the case's current code on its latest receipt; an
    earlier receipt's code was replaced (None)."""
    latest = Receipt.objects.filter(application_id=receipt.application_id).order_by("-issued_at", "-id").values_list("pk", flat=True).first()
    if latest != receipt.pk:
        return None
    return query_code_current(application=receipt.application)


# The window hands the printed receipt over at once: the clerk who issued it sees the code for this
# long, then only the case's applicant does. Staff who could read every case's code could rate their
# own services from a browser where they are not logged in (the "staff cannot rate" rule checks the
# logged-in user), so the code is not theirs to keep.
STAFF_CODE_MINUTES = 30


def code_visible(*, user: AbstractBaseUser | AnonymousUser, receipt: Receipt, now: dt.datetime | None = None) -> bool:
    """Whether `user` may read the receipt's query code: its applicant, or the issuing clerk within
    STAFF_CODE_MINUTES of issue (to print it and hand it over)."""
    if not user.is_authenticated:
        return False
    if receipt.application.applicant_id == user.pk:
        return True
    now = now or timezone.now()
    return receipt.issued_by_id == user.pk and now - receipt.issued_at <= dt.timedelta(minutes=STAFF_CODE_MINUTES)


def latest_receipt_number(*, application_id: int) -> str | None:
    return Receipt.objects.filter(application_id=application_id).order_by("-issued_at", "-id").values_list("number", flat=True).first()


# --- public query ---------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Checked when the number is unknown, so a wrong number costs the same time as a wrong code.
    return make_password("no-such-case-query-code")


def query_find(*, number: str, code: str) -> Application | None:
    """The application whose case number (its reference, or one of its receipt numbers) and query
    code match; None otherwise, after the same work either way."""
    number = number.strip().upper()
    app_id = (Application.objects.filter(reference=number).values_list("pk", flat=True).first()
              or Receipt.objects.filter(number=number).values_list("application_id", flat=True).first())
    access = QueryAccess.objects.filter(application_id=app_id).first() if app_id else None
    ok = check_password(normalise_code(code), access.code_hash if access else _dummy_hash())
    if not (ok and access):
        return None
    return Application.objects.select_related("kind", "division").get(pk=access.application_id)


@dataclass(frozen=True)
class PublicStep:
    at: dt.datetime
    action: str
    label: str
    by: str


@dataclass(frozen=True)
class PublicService:
    at: dt.datetime
    kind: str
    window: str


@dataclass(frozen=True)
class PublicCase:
    application_id: int
    reference: str
    kind: str
    division: str
    status: str
    status_label: str
    level_label: str
    submitted_at: dt.datetime
    accepted_at: dt.datetime | None
    decided_at: dt.datetime | None
    promised_due: dt.datetime | None
    statutory_due: dt.datetime | None
    used_days: Decimal | None
    promised_days: Decimal | None
    paused: bool
    overdue: bool
    steps: list[PublicStep] = field(default_factory=list)
    services: list[PublicService] = field(default_factory=list)


def _step_by(action: str, level: str) -> str:
    if action in WINDOW_ACTIONS:
        return _("Window")
    if action in APPLICANT_ACTIONS:
        return _("Applicant")
    return str(Level(level).label) if level in Level.values else ""


def public_case(*, application: Application, now: dt.datetime | None = None) -> PublicCase:
    """What the public query shows of `application` (see the module docstring)."""
    now = now or timezone.now()
    clocks = application_clocks(cal=WorkdayCalendar(), application=application, now=now)
    promised = clocks["promised"] if clocks else None
    steps = [PublicStep(e.at, e.action, e.get_action_display(), _step_by(e.action, str(e.data.get("level", "") if isinstance(e.data, dict) else "")))
             for e in application.events.filter(action__in=PUBLIC_ACTIONS).order_by("at", "id")]
    services = [PublicService(s.at, s.get_kind_display(), s.window.label)
                for s in ServiceEvent.objects.filter(application=application).select_related("window").order_by("at", "id")]
    return PublicCase(
        application_id=application.pk, reference=application.reference, kind=application.kind.label, division=application.division.name,
        status=application.status, status_label=application.get_status_display(), level_label=application.get_current_level_display(),
        submitted_at=application.submitted_at, accepted_at=application.accepted_at, decided_at=application.decided_at,
        promised_due=application.promised_due, statutory_due=application.statutory_due,
        used_days=promised.used if promised else None, promised_days=promised.limit if promised else None,
        paused=bool(promised and promised.paused), overdue=bool(promised and promised.overdue), steps=steps, services=services,
    )
