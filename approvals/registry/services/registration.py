"""Registration "while you wait" (立等可取): the county window clerk registers an accepted
registration case in one sitting: final approval of the county step, the registered parcel (the
application's own site geometry, never redrawn), the right and its holders, the certificate, the
lineage event and the hall's rateable service event, all in one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.gis.db.models.functions import Intersection
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from approvals.choices import REGISTRATION, ApplicationStatus, EventAction, Level, NotificationKind, StepOutcome, StepState
from approvals.exceptions import StateConflict
from approvals.hall.choices import ServiceKind
from approvals.hall.services.events import service_event_record
from approvals.models import Application
from approvals.permissions import require
from approvals.registry.choices import (
    FEATURE_CODES,
    TERMED_RIGHT_TYPES,
    CertificateStatus,
    ChangeKind,
    IdType,
    RightStatus,
    RightType,
)
from approvals.registry.counties import county_of
from approvals.registry.models import Certificate, ParcelChange, Right, RightHolder
from approvals.registry.services.certificates import certificate_issue
from approvals.registry.services.numbering import cadastral_area_for, parcel_code_next
from approvals.services.common import history, locked, notify, record
from parcels.choices import ParcelStatus
from parcels.codes import LAND_CLASSES
from parcels.geo import CollectionExtractPolygons, GeographyArea, site_areas
from parcels.models import Division, Parcel

MAX_HOLDERS = 50


@dataclass(frozen=True)
class HolderInput:
    """One right holder as the clerk enters them; `share` a fraction (0.5 for half)."""

    name: str
    id_type: str
    id_number: str
    share: Decimal


def overlap_tolerance_m2() -> float:
    """Overlap (ellipsoidal m²) with another registered parcel that is tolerated as survey noise."""
    return float(getattr(settings, "ONEMAP_REGISTRATION_OVERLAP_TOLERANCE_M2", 1.0))


def clean_holders(holders: Sequence[HolderInput]) -> list[HolderInput]:
    """Checks the holders: at least one, each named with an identity number, shares in (0, 1]
    summing to exactly 1 (the database checks the sum again at commit)."""
    if not holders:
        raise ValidationError(_("A right needs at least one holder."), code="no_holders")
    if len(holders) > MAX_HOLDERS:
        raise ValidationError(_("Too many holders."), code="too_many_holders")
    kept, total, seen = [], Decimal(0), set()
    for h in holders:
        name, number = (h.name or "").strip(), (h.id_number or "").strip().upper()
        if not name or not number or len(name) > 128 or len(number) > 32 or "\x00" in name + number:
            raise ValidationError(_("Each holder needs a name and an identity number."), code="holder_incomplete")
        if h.id_type not in IdType.values:
            raise ValidationError(_("Unknown identity document type."), code="bad_id_type")
        try:
            share = Decimal(h.share).quantize(Decimal("0.000001"))
        except (InvalidOperation, TypeError, ValueError):
            raise ValidationError(_("A share must be a number between 0 and 1."), code="bad_share") from None
        if not Decimal(0) < share <= Decimal(1):
            raise ValidationError(_("A share must be a number between 0 and 1."), code="bad_share")
        if (h.id_type, number) in seen:
            raise ValidationError(_("The same holder is entered twice."), code="holder_twice")
        seen.add((h.id_type, number))
        total += share
        kept.append(HolderInput(name=name, id_type=h.id_type, id_number=number, share=share))
    if total != Decimal(1):
        raise ValidationError(_("The holders' shares must add up to 1 (they add up to %(total)s).") % {"total": format(total.normalize(), "f")},
                              code="shares_sum")
    return kept


def clean_right(*, right_type: str, land_use: str, term_start: dt.date | None, term_end: dt.date | None) -> None:
    if right_type not in RightType.values:
        raise ValidationError(_("Unknown right type."), code="bad_right_type")
    if land_use not in LAND_CLASSES:
        raise ValidationError(_("Unknown land use class."), code="bad_land_use")
    if right_type in TERMED_RIGHT_TYPES:
        if term_start is None or term_end is None or term_end <= term_start:
            raise ValidationError(_("This right type needs a term: a start date and a later end date."), code="term_required")
    elif term_start is not None or term_end is not None:
        raise ValidationError(_("This right type has no term: leave the dates empty."), code="term_not_allowed")


def registered_overlaps(*, geom: GEOSGeometry, exclude: Iterable[int] = ()) -> list[tuple[Parcel, float]]:
    """Registered (not retired) parcels overlapping `geom` by more than the tolerance, with the
    overlap in ellipsoidal m², largest first."""
    tolerance = overlap_tolerance_m2()
    rows = (Parcel.objects.filter(status=ParcelStatus.REGISTERED, geom__intersects=geom).exclude(pk__in=list(exclude))
            .annotate(overlap_m2=GeographyArea(CollectionExtractPolygons(Intersection("geom", geom)))).order_by("code"))
    found = [(p, float(p.overlap_m2 or 0.0)) for p in rows]
    return sorted([(p, a) for p, a in found if a > tolerance], key=lambda pa: -pa[1])


def overlap_refusal(overlaps: list[tuple[Parcel, float]]) -> ValidationError:
    return ValidationError(
        [_("The site overlaps registered parcel %(code)s by %(area).2f m² (tolerance %(tolerance).2f m²); register it as replacing that parcel or correct the site.")
         % {"code": p.code, "area": a, "tolerance": overlap_tolerance_m2()} for p, a in overlaps],
        code="overlaps_registered",
    )


def parcel_create(*, geom: MultiPolygon, county, right_type: str, land_class: str, holder_label: str,
                  predecessors: Sequence[Parcel]) -> Parcel:
    """A new registered parcel with the next gap-free code of its cadastral area (inside the
    caller's transaction); its area is the ellipsoidal m² computed in PostGIS."""
    area = cadastral_area_for(site=geom, county=county)
    code = parcel_code_next(area=area, feature=FEATURE_CODES.get(right_type, "GB"))
    parcel = Parcel(code=code, right_holder=holder_label[:128], right_type=right_type, land_class=land_class, division=county,
                    geom=geom, area_m2=site_areas(geom).ellipsoidal_m2)
    parcel.full_clean()
    parcel.save()
    if predecessors:
        parcel.predecessors.set(predecessors)
    return parcel


def retire(parcels: Sequence[Parcel], *, by: AbstractBaseUser, now, reason: str, successor: Certificate | None = None) -> None:
    """Retires `parcels`, ends their rights in force and ends their valid certificates: the first
    is replaced by `successor` when there is one, the others cancelled with `reason`."""
    for parcel in parcels:
        parcel.status = ParcelStatus.RETIRED
        parcel.full_clean()
        parcel.save(update_fields=["status"])
        for right in Right.objects.select_for_update().filter(parcel=parcel, status=RightStatus.ACTIVE):
            right.status, right.ended_at = RightStatus.ENDED, now
            right.full_clean()
            right.save(update_fields=["status", "ended_at"])
            for cert in Certificate.objects.select_for_update().filter(right=right, status=CertificateStatus.ISSUED):
                cert.status_reason, cert.ended_at, cert.ended_by = reason, now, by
                if successor is not None and not Certificate.objects.filter(replaced_by=successor).exists():
                    cert.status, cert.replaced_by = CertificateStatus.REPLACED, successor
                else:
                    cert.status = CertificateStatus.CANCELLED
                cert.full_clean()
                cert.save(update_fields=["status", "status_reason", "ended_at", "ended_by", "replaced_by"])


def _close_county_step(app: Application, *, by: AbstractBaseUser, ip: str | None, now) -> None:
    """Final approval of the registration's county step, as step_decide records it (the window
    clerk of the county decides a registration; its route is the county alone)."""
    step = app.steps.select_for_update().filter(closed_at__isnull=True).first()
    if step is None or step.level != Level.COUNTY or step.state != StepState.ACCEPTED:
        raise StateConflict(_("This registration is not open at the county; your action was not applied."))
    if app.kind.route.exclude(level=Level.COUNTY).exists():
        raise StateConflict(_("This kind is not decided at the county alone."))
    step.state, step.closed_at, step.closed_by, step.outcome = StepState.CLOSED, now, by, StepOutcome.APPROVED
    step.comment = _("Registered at the window")
    step.full_clean()
    step.save()
    before = app.status
    app.status, app.decided_at = ApplicationStatus.APPROVED, now
    app.full_clean()
    app.save()
    record(application=app, by=by, action=EventAction.APPROVED, ip=ip, before=before, comment=step.comment,
           data={"level": step.level, "step": step.number, "registration": True})
    notify(users=[app.applicant], application=app, kind=NotificationKind.DECIDED, data={"level": step.level, "outcome": StepOutcome.APPROVED})


def _site_to_register(app: Application, replaces: Sequence[Parcel]) -> tuple[Division, list[Parcel], MultiPolygon]:
    """The county, the locked parcels to replace and the site of a case about to be registered;
    refuses (StateConflict / ValidationError) what cannot be registered as it is."""
    county = county_of(app.division)
    if county is None:
        raise StateConflict(_("This case has no single county to register it; your action was not applied."))
    replaced = list(Parcel.objects.select_for_update().filter(pk__in=[p.pk for p in replaces]).order_by("code"))
    if len(replaced) != len({p.pk for p in replaces}):
        raise ValidationError(_("A parcel to replace does not exist."), code="replace_unknown")
    for p in replaced:
        if p.status != ParcelStatus.REGISTERED or p.division_id != county.pk:
            raise ValidationError(_("Parcel %(code)s is not registered in this county: it cannot be replaced.") % {"code": p.code},
                                  code="replace_not_registered")
    geom = app.site
    if not geom.valid:
        raise ValidationError(_("The site geometry is not valid: %(reason)s") % {"reason": geom.valid_reason}, code="bad_geometry")
    overlaps = registered_overlaps(geom=geom, exclude=[p.pk for p in replaced])
    if overlaps:
        raise overlap_refusal(overlaps)
    return county, replaced, geom


def _register_site(app: Application, *, county: Division, replaced: list[Parcel], geom: MultiPolygon, by: AbstractBaseUser,
                   holders: list[HolderInput], right_type: str, land_use: str, term_start: dt.date | None,
                   term_end: dt.date | None, ip: str | None, now: dt.datetime, change_data: dict | None = None) -> Certificate:
    """The case's site becomes a registered parcel (retiring `replaced`) with its right, holders,
    certificate, lineage record and the hall's "certificate handed over" service event."""
    parcel = parcel_create(geom=geom, county=county, right_type=right_type, land_class=land_use,
                           holder_label="、".join(h.name for h in holders), predecessors=replaced)
    areas = site_areas(geom)
    right = Right(parcel=parcel, application=app, right_type=right_type, land_use=land_use, area_m2=areas.ellipsoidal_m2,
                  gk_area_m2=areas.gk_m2, gk_epsg=areas.gk_epsg, term_start=term_start, term_end=term_end,
                  registered_at=now, registered_by=by)
    right.full_clean()
    right.save()
    for h in holders:
        holder = RightHolder(right=right, name=h.name, id_type=h.id_type, id_number=h.id_number, share=h.share)
        holder.full_clean()
        holder.save()
    certificate = certificate_issue(right=right, county=county, by=by, now=now)
    retire(replaced, by=by, now=now, reason=_("Parcel replaced by %(code)s on registration %(reference)s") % {"code": parcel.code, "reference": app.reference},
           successor=certificate)
    app.touched_parcels.add(parcel)
    change = ParcelChange(kind=ChangeKind.REGISTRATION, application=app, at=now, by=by, ip_address=ip,
                          data={"certificate": certificate.number, "replaced": [p.code for p in replaced], **(change_data or {})})
    change.full_clean()
    change.save()
    change.inputs.set(replaced)
    change.outputs.set([parcel])
    service_event_record(kind=ServiceKind.CERTIFICATE, by=by, application=app)
    return certificate


@transaction.atomic
def registration_register(*, application: Application, by: AbstractBaseUser, holders: Sequence[HolderInput], right_type: str,
                          land_use: str, term_start: dt.date | None = None, term_end: dt.date | None = None,
                          replaces: Sequence[Parcel] = (), ip: str | None = None) -> Certificate:
    """Registers an accepted registration case and issues its certificate (see the module docstring).

    Refused (ValidationError) when the site overlaps a registered parcel by more than
    ONEMAP_REGISTRATION_OVERLAP_TOLERANCE_M2 (ellipsoidal m²) unless that parcel is in `replaces`:
    replaced parcels are retired, become the new parcel's predecessors, and their valid
    certificate is replaced by the new one."""
    require(by, "registry.register", application)
    kept = clean_holders(holders)
    clean_right(right_type=right_type, land_use=land_use, term_start=term_start, term_end=term_end)
    with history(by=by, ip=ip, action="registered"):
        app = locked(application)
        if app.kind_id != REGISTRATION:
            raise StateConflict(_("Only a registration case is registered; your action was not applied."))
        if app.status != ApplicationStatus.IN_REVIEW:
            raise StateConflict(_("This case is not accepted and open; your action was not applied."))
        county, replaced, geom = _site_to_register(app, replaces)
        now = timezone.now()
        _close_county_step(app, by=by, ip=ip, now=now)
        return _register_site(app, county=county, replaced=replaced, geom=geom, by=by, holders=kept, right_type=right_type,
                              land_use=land_use, term_start=term_start, term_end=term_end, ip=ip, now=now)


# --- Registering an approved case (宅基地 / 建设用地 approved at the county) -----------------------

#: Kinds whose approved case the county's window clerk registers directly, and the right types each
#: may be registered as (the first is the form's default): a homestead grants a homestead use right
#: (feature code JC); construction land a state-owned construction land use right (GB), or a
#: collective one (JB) where the land stays collective.
APPROVED_KIND_RIGHT_TYPES: dict[str, tuple[str, ...]] = {
    "rural_homestead": (RightType.HOMESTEAD,),
    "construction_land": (RightType.STATE_CONSTRUCTION, RightType.COLLECTIVE_CONSTRUCTION),
}

#: GB/T 21010 class 0702 农村宅基地: the use a homestead case's form proposes.
HOMESTEAD_LAND_USE = "0702"


@transaction.atomic
def approved_register(*, application: Application, by: AbstractBaseUser, holders: Sequence[HolderInput], right_type: str,
                      land_use: str, term_start: dt.date | None = None, term_end: dt.date | None = None,
                      replaces: Sequence[Parcel] = (), ip: str | None = None) -> Certificate:
    """Registers a rural homestead or construction-land case APPROVED at the county and issues its
    certificate, so the certificate's lineage starts at the approved case (no second registration
    case, no re-upload). The case's site becomes the parcel as submitted; overlap refusal,
    tolerance and `replaces` as in `registration_register`. The case stays approved: its steps are
    not touched (the decision was the reviewers'), and no approval event is recorded twice.

    Refused: StateConflict when the case is of another kind, not approved, or already registered;
    NotPermitted for anyone but a window clerk of the case's county (not its agent)."""
    require(by, "registry.register", application)
    kept = clean_holders(holders)
    clean_right(right_type=right_type, land_use=land_use, term_start=term_start, term_end=term_end)
    with history(by=by, ip=ip, action="registered"):
        app = locked(application)
        allowed_types = APPROVED_KIND_RIGHT_TYPES.get(app.kind_id)
        if allowed_types is None:
            raise StateConflict(_("Only an approved rural homestead or construction land case is registered this way; your action was not applied."))
        if app.status != ApplicationStatus.APPROVED:
            raise StateConflict(_("This case is not approved; your action was not applied."))
        # the row lock above serialises two clerks; the unique constraint on Right.application backs it
        if Right.objects.filter(application=app).exists():
            raise StateConflict(_("This case is already registered; your action was not applied."))
        if right_type not in allowed_types:
            raise ValidationError(_("This kind of case is registered as: %(types)s.")
                                  % {"types": "、".join(str(RightType(t).label) for t in allowed_types)}, code="right_type_for_kind")
        county, replaced, geom = _site_to_register(app, replaces)
        return _register_site(app, county=county, replaced=replaced, geom=geom, by=by, holders=kept, right_type=right_type,
                              land_use=land_use, term_start=term_start, term_end=term_end, ip=ip, now=timezone.now(),
                              change_data={"approved_case": True})
