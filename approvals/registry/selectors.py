"""Reads of the register: a certificate for staff, the public verification answer, a parcel's
lineage (map and timeline) and the "while you wait" minutes per window."""

from __future__ import annotations

import datetime as dt
import math
import statistics
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Min
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from approvals.choices import REGISTRATION, ApplicationStatus, StepOutcome
from approvals.hall.choices import ServiceKind
from approvals.hall.models import ServiceEvent
from approvals.hall.services.receipts import normalise_code
from approvals.models import Application
from approvals.permissions import allowed, visible_applications
from approvals.registry.choices import CertificateStatus
from approvals.registry.models import Certificate, ParcelChange, Right
from approvals.registry.services.certificates import code_derive, verification_code
from approvals.registry.services.registration import APPROVED_KIND_RIGHT_TYPES
from parcels.geo import AreaFigures
from parcels.models import Parcel

NUMBER_MAX = 64


def mask_name(name: str) -> str:
    """The public form of a holder's name: the first character kept, the rest masked (张三 → 张*,
    欧阳修文 → 欧***; which characters are the family name is not recorded); one character → *."""
    name = (name or "").strip()
    if len(name) <= 1:
        return "*"
    return name[0] + "*" * (len(name) - 1)


def certificate_get(*, user: AbstractBaseUser | AnonymousUser, number: str) -> Certificate:
    """A certificate with its right, holders and parcel, for staff who act on the county's land
    (404 for everyone else, with no hint that it exists)."""
    if not number or len(number) > NUMBER_MAX or "\x00" in number:
        raise Http404("No such certificate")
    certificate = (Certificate.objects.select_related("county", "right__parcel", "right__application", "issued_by", "ended_by", "replaced_by")
                   .filter(number=number).first())
    if certificate is None or not allowed(user, "registry.view_register", certificate):
        raise Http404("No such certificate")
    return certificate


@dataclass(frozen=True)
class PublicCertificate:
    """What the public verification shows: no identity number, the holders' names masked."""

    number: str
    status: str
    status_label: str
    reason: str
    replaced_by: str
    county: str
    parcel_code: str
    right_type: str
    land_use: str
    area: AreaFigures
    issued_on: dt.date
    holders: list[str] = field(default_factory=list)


# A derived code to compare with when the number is unknown, so a wrong number costs the same.
_DUMMY_SALT = "0" * 32


def certificate_verify(*, number: str, code: str) -> PublicCertificate | None:
    """The public answer for a certificate number and its verification code; None when either is
    wrong (the same answer for both, in the same time)."""
    number = (number or "").strip()
    code = normalise_code(code or "")
    if not number or not code or len(number) > NUMBER_MAX or len(code) > 32 or "\x00" in number + code:
        return None
    certificate = (Certificate.objects.select_related("county", "right__parcel", "replaced_by").filter(number=number).first())
    expected = verification_code(certificate) if certificate is not None else code_derive(salt=_DUMMY_SALT, certificate_id=0)
    if not constant_time_compare(expected, code) or certificate is None:
        return None
    right = certificate.right
    return PublicCertificate(
        number=certificate.number,
        status=certificate.status,
        status_label=str(CertificateStatus(certificate.status).label),
        reason=certificate.status_reason,
        replaced_by=certificate.replaced_by.number if certificate.replaced_by else "",
        county=certificate.county.name,
        parcel_code=right.parcel.code,
        right_type=right.get_right_type_display(),
        land_use=f"{right.land_use} {right.land_use_name}",
        area=AreaFigures(right.area_m2),
        # the local (Asia/Shanghai) day, as printed on the certificate; .date() would give the UTC day
        issued_on=timezone.localdate(certificate.issued_at),
        holders=[mask_name(h) for h in right.holders.values_list("name", flat=True)],
    )


def parcel_get(*, user: AbstractBaseUser | AnonymousUser, code: str) -> Parcel:
    if not code or len(code) > 19 or "\x00" in code:
        raise Http404("No such parcel")
    parcel = Parcel.objects.select_related("division").filter(code=code).first()
    if parcel is None or not allowed(user, "registry.view_register", parcel):
        raise Http404("No such parcel")
    return parcel


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    label: str
    detail: str = ""
    parcel: str = ""
    certificate: str = ""
    application_id: int | None = None
    # the decision PDF (approvals.issued) of a final approval, when issued and the reader may download it
    document_url: str = ""


@dataclass
class Lineage:
    """A parcel's family: every ancestor and descendant (codes), the changes linking them, and a
    timeline from the application to the latest change."""

    parcel: Parcel
    parcels: list[Parcel]
    changes: list[ParcelChange]
    timeline: list[TimelineEntry]
    certificates: list[Certificate]


MAX_LINEAGE = 200


def parcel_lineage(*, parcel: Parcel, user: AbstractBaseUser | None = None) -> Lineage:
    """Walks predecessors and successors (bounded) and orders what happened to the family. With
    `user`, a final approval decided by reviewers (an approved homestead or construction-land case
    registered afterwards) links its decision PDF when the user may download it."""
    seen: dict[int, Parcel] = {parcel.pk: parcel}
    frontier = [parcel.pk]
    while frontier and len(seen) < MAX_LINEAGE:
        rows = Parcel.objects.filter(pk__in=Parcel.objects.filter(pk__in=frontier).values("predecessors")) | \
            Parcel.objects.filter(pk__in=Parcel.objects.filter(pk__in=frontier).values("successors"))
        frontier = []
        for p in rows.distinct():
            if p.pk not in seen:
                seen[p.pk] = p
                frontier.append(p.pk)
    ids = list(seen)
    changes = list(ParcelChange.objects.filter(outputs__in=ids).distinct().select_related("application", "by")
                   .prefetch_related("inputs", "outputs").order_by("at", "id"))
    rights = list(Right.objects.filter(parcel_id__in=ids).select_related("application", "parcel"))
    certificates = list(Certificate.objects.filter(right__in=rights).select_related("right__parcel", "replaced_by").order_by("issued_at", "id"))
    timeline: list[TimelineEntry] = []
    for right in rights:
        app = right.application
        timeline.append(TimelineEntry(app.submitted_at, _("Application submitted"), app.reference, right.parcel.code, application_id=app.pk))
        if app.accepted_at:
            timeline.append(TimelineEntry(app.accepted_at, _("Accepted at the window"), app.reference, right.parcel.code, application_id=app.pk))
        # the step's closing time is the decision's moment (the event row is stamped a moment later)
        approved = app.steps.filter(outcome=StepOutcome.APPROVED).order_by("closed_at").first()
        if approved:
            timeline.append(TimelineEntry(approved.closed_at, _("Final approval"), app.reference, right.parcel.code, application_id=app.pk,
                                          document_url=_decision_url(user=user, application=app)))
    for change in changes:
        outs = "、".join(p.code for p in change.outputs.all())
        ins = "、".join(p.code for p in change.inputs.all())
        detail = f"{ins} → {outs}" if ins else outs
        timeline.append(TimelineEntry(change.at, change.get_kind_display(), detail, outs.split("、")[0]))
    for cert in certificates:
        timeline.append(TimelineEntry(cert.issued_at, _("Certificate issued"), cert.number, cert.right.parcel.code, certificate=cert.number))
        if cert.ended_at:
            label = _("Certificate replaced") if cert.status == CertificateStatus.REPLACED else _("Certificate cancelled")
            timeline.append(TimelineEntry(cert.ended_at, label, cert.status_reason, cert.right.parcel.code, certificate=cert.number))
    # Same instant (one registration): application steps, then registration, then the certificate.
    order = {_("Application submitted"): 0, _("Accepted at the window"): 1, _("Final approval"): 2, _("Certificate issued"): 4}
    timeline.sort(key=lambda e: (e.at, order.get(e.label, 3)))
    return Lineage(parcel=parcel, parcels=sorted(seen.values(), key=lambda p: p.code), changes=changes, timeline=timeline,
                   certificates=certificates)


def _decision_url(*, user: AbstractBaseUser | None, application: Application) -> str:
    """The latest decision PDF of an approved case registered after its approval (not a
    registration case: its decision is the registration itself), if the user may download it."""
    from approvals.issued.models import DocumentKind, IssuedDocument
    from approvals.issued.selectors import may_download
    if user is None or application.kind_id not in APPROVED_KIND_RIGHT_TYPES:
        return ""
    document = IssuedDocument.objects.filter(application=application, kind=DocumentKind.DECISION).order_by("-version").first()
    if document is None or not may_download(user=user, document=document, application=application):
        return ""
    return reverse("issued-pdf", args=[document.pk])


def lineage_geojson(lineage: Lineage) -> dict:
    """The family's parcels as a GeoJSON FeatureCollection (4490 lon/lat, drawn as WGS84): code,
    status, whether it is the page's parcel, its area in m². No holder names."""
    features = []
    for p in lineage.parcels:
        features.append({"type": "Feature", "geometry": {"type": p.geom.geom_type, "coordinates": p.geom.coords},
                         "properties": {"code": p.code, "status": p.status, "current": p.pk == lineage.parcel.pk,
                                        "area_m2": round(p.area_m2, 2)}})
    return {"type": "FeatureCollection", "features": features}


@dataclass(frozen=True)
class WindowMinutes:
    """Minutes from window acceptance to certificate issue for one window's registrations."""

    window: str
    count: int
    median: float
    p90: float


def _p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def registration_minutes(*, user: AbstractBaseUser) -> list[WindowMinutes]:
    """Per window that accepted them: the registrations the user may see whose first certificate
    was issued, minutes from acceptance (accepted_at) to that first certificate (median and p90,
    nearest rank)."""
    # registration cases only: an approved homestead or construction-land case registered later
    # was accepted days before its certificate, which is not "while you wait"
    apps = visible_applications(user).filter(kind_id=REGISTRATION, rights__isnull=False, accepted_at__isnull=False)
    first = (Right.objects.filter(application__in=apps).annotate(first_issued=Min("certificates__issued_at"))
             .values_list("application_id", "application__accepted_at", "first_issued"))
    minutes: dict[int, float] = {}
    for app_id, accepted_at, issued in first:
        if issued is not None:
            minutes[app_id] = max(0.0, (issued - accepted_at).total_seconds() / 60)
    windows: dict[str, list[float]] = {}
    events = (ServiceEvent.objects.filter(application_id__in=list(minutes), kind=ServiceKind.ACCEPTANCE).select_related("window")
              .order_by("application_id", "at"))
    named: dict[int, str] = {}
    for event in events:
        named.setdefault(event.application_id, event.window.label)
    for app_id, value in minutes.items():
        windows.setdefault(named.get(app_id, _("(no window recorded)")), []).append(value)
    return [WindowMinutes(window=w, count=len(v), median=round(statistics.median(v), 1), p90=round(_p90(v), 1))
            for w, v in sorted(windows.items())]


def registration_cases(*, user: AbstractBaseUser, application: Application) -> bool:
    """Whether `user` may register `application` now (the button on the application page)."""
    return application.kind_id == "registration" and application.status == "in_review" and allowed(user, "registry.register", application)


def approved_case_registrable(*, user: AbstractBaseUser, application: Application) -> bool:
    """Whether `user` may register `application`, an approved homestead or construction-land case
    not yet registered (the same button on the application page)."""
    return (application.kind_id in APPROVED_KIND_RIGHT_TYPES and application.status == ApplicationStatus.APPROVED
            and not Right.objects.filter(application=application).exists() and allowed(user, "registry.register", application))
