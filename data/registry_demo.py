"""Demo of the land register (approvals/registry): registration cases registered "while you wait"
at past moments, with certificates (one replaced, one cancelled), one registration replacing a
generator parcel, a split, a merge and a re-survey, so every lineage page has something on it.

Driven through the real services at past moments (data.demo_cases.at). Idempotent: nothing is
made when any certificate exists already.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.db import transaction
from django.utils import timezone

from approvals.models import ApplicationKind
from approvals.registry.models import Certificate
from approvals.registry.services.certificates import certificate_cancel, certificate_replace
from approvals.registry.services.lineage import parcel_merge, parcel_resurvey, parcel_split
from approvals.registry.services.numbering import cadastral_areas_from_parcels
from approvals.registry.services.registration import HolderInput, registration_register
from approvals.services import application_submit, document_add, window_accept
from approvals.workdays import WorkdayCalendar
from data.demo_cases import _local, _pdf, _residents, at
from parcels.models import Division, Parcel

CLERK = "clerk_jiayu"
DISTRICTS = {"001": "鱼岳镇"}
IP = "10.20.1.3"


def _free_site(rng: random.Random, jiayu: Division) -> MultiPolygon:
    """A 35–55 m box near the county seat that overlaps no registered parcel."""
    while True:
        lon, lat = rng.uniform(113.90, 113.96), rng.uniform(29.94, 29.98)
        site = MultiPolygon(Polygon.from_bbox((lon, lat, lon + rng.uniform(0.00036, 0.00057), lat + rng.uniform(0.00032, 0.0005))), srid=4490)
        if jiayu.boundary.covers(site) and not Parcel.objects.filter(status="registered", geom__intersects=site.buffer(0.0001)).exists():
            return site


def _workday(cal: WorkdayCalendar, day: dt.date) -> dt.date:
    while not cal.is_workday(day):
        day -= dt.timedelta(days=1)
    return day


def _case(*, users, applicant: str, site: MultiPolygon, when: dt.datetime, minutes: int, title: str, holders: list[HolderInput],
          right_type: str, land_use: str, years: int | None, replaces=()) -> Certificate:
    """Submitted at `when`, accepted 10 minutes later, registered `minutes` after acceptance."""
    kind = ApplicationKind.objects.get(code="registration")
    with at(when):
        app = application_submit(applicant=users[applicant], kind=kind, title=title, purpose="不动产首次登记", site=site, ip="10.20.0.8")
        for requirement in kind.required_documents.all():
            document_add(application=app, requirement=requirement, upload=_pdf(f"{requirement.code}.pdf"), by=users[applicant], ip="10.20.0.8")
    accepted = when + dt.timedelta(minutes=10)
    with at(accepted):
        app = window_accept(application=app, by=users[CLERK], ip=IP)
    day = accepted.date()
    with at(accepted + dt.timedelta(minutes=minutes)):
        return registration_register(application=app, by=users[CLERK], ip=IP, holders=holders, right_type=right_type, land_use=land_use,
                                     term_start=day if years else None, term_end=day.replace(year=day.year + years) if years else None,
                                     replaces=replaces)


def _halves(parcel: Parcel) -> list[MultiPolygon]:
    """The parcel cut in two by the north–south line through the middle of its bounding box."""
    xmin, ymin, xmax, ymax = parcel.geom.extent
    mid = (xmin + xmax) / 2
    out = []
    for box in (Polygon.from_bbox((xmin - 0.001, ymin - 0.001, mid, ymax + 0.001)), Polygon.from_bbox((mid, ymin - 0.001, xmax + 0.001, ymax + 0.001))):
        part = parcel.geom.intersection(box)
        out.append(part if isinstance(part, MultiPolygon) else MultiPolygon(part, srid=4490))
    return out


def _touching_pair(exclude: set[int]) -> tuple[Parcel, Parcel] | None:
    """Two registered state-owned parcels sharing an edge (their union is one polygon)."""
    for parcel in Parcel.objects.filter(status="registered", code__contains="GB").exclude(pk__in=exclude).order_by("code")[:200]:
        for other in Parcel.objects.filter(status="registered", geom__touches=parcel.geom).exclude(pk__in={*exclude, parcel.pk}).order_by("code")[:5]:
            union = parcel.geom.union(other.geom)
            if isinstance(union, Polygon) or (isinstance(union, MultiPolygon) and len(union) == 1):
                return parcel, other
    return None


def load_registry_demo(*, today: dt.date | None = None) -> int:
    """Makes the register's demo unless a certificate exists already. Returns how many certificates
    and parcel changes it made."""
    if Certificate.objects.exists():
        return 0
    jiayu = Division.objects.get(code="421221")
    with transaction.atomic():
        cadastral_areas_from_parcels(county=jiayu, district_names=DISTRICTS)
    users = {u.username: u for u in get_user_model().objects.filter(username__in=[CLERK])}
    users.update(_residents())
    if CLERK not in users or not Parcel.objects.exists():
        return 0
    rng = random.Random(20261203)  # noqa: S311  (repeatable demo, not secrets)
    cal = WorkdayCalendar()
    today = today or timezone.localdate()
    made = 0
    days = [_workday(cal, today - dt.timedelta(days=d)) for d in (40, 26, 12, 5)]
    state = _case(users=users, applicant="resident_01", site=_free_site(rng, jiayu), when=_local(days[0], 9, 5), minutes=18,
                  title="国有建设用地使用权首次登记", holders=[HolderInput("刘桂兰", "resident_id", "420000196503120028", Decimal("1"))],
                  right_type="国有建设用地使用权", land_use="0701", years=70)
    homestead = _case(users=users, applicant="resident_02", site=_free_site(rng, jiayu), when=_local(days[1], 10, 0), minutes=26,
                      title="宅基地使用权首次登记", holders=[HolderInput("周德胜", "resident_id", "420000197002140031", Decimal("0.5")),
                                                           HolderInput("吴秀英", "resident_id", "420000197208230046", Decimal("0.5"))],
                      right_type="宅基地使用权", land_use="0702", years=None)
    shop = _case(users=users, applicant="resident_03", site=_free_site(rng, jiayu), when=_local(days[2], 14, 30), minutes=34,
                 title="商业用地使用权首次登记", holders=[HolderInput("嘉鱼县鱼岳商贸有限公司", "credit_code", "91421221MA4F000X1K", Decimal("1"))],
                 right_type="国有建设用地使用权", land_use="05H1", years=40)
    made += 3
    # A registration on a generator parcel: the new parcel replaces it (predecessor, old one retired).
    old = Parcel.objects.filter(status="registered", code__contains="GB", land_class="0701").order_by("code").first()
    if old is not None:
        _case(users=users, applicant="resident_04", site=old.geom, when=_local(days[3], 9, 30), minutes=22, title="国有建设用地使用权变更登记",
              holders=[HolderInput("郑国强", "resident_id", "420000198011050017", Decimal("1"))], right_type="国有建设用地使用权",
              land_use="0701", years=70, replaces=[old])
        made += 1
    with at(_local(days[3], 15, 0)):
        certificate_replace(certificate=homestead, by=users[CLERK], reason="原证书遗失，登报声明作废后补发", ip=IP)
    with at(_local(days[3], 15, 20)):
        certificate_cancel(certificate=shop, by=users[CLERK], reason="登记申请材料不实，依法注销", ip=IP)
    made += 2
    # Later changes of generator parcels: a split, then a re-survey of one half, and a merge.
    used = {state.right.parcel_id}
    target = Parcel.objects.filter(status="registered", code__contains="GB", land_class="05H1").order_by("code").first()
    if target is not None:
        with at(_local(days[3], 16, 0)):
            split = parcel_split(parcel=target, parts=_halves(target), by=users[CLERK], reason="土地分割转让", ip=IP)
        half = split.outputs.order_by("code").first()
        with at(_local(_workday(cal, today - dt.timedelta(days=1)), 10, 0)):
            parcel_resurvey(parcel=half, geom=half.geom.buffer(-0.000005), by=users[CLERK], reason="界址点复测，面积更正", ip=IP)
        used.add(target.pk)
        made += 2
    pair = _touching_pair(used)
    if pair is not None:
        with at(_local(_workday(cal, today - dt.timedelta(days=1)), 11, 0)):
            parcel_merge(parcels=list(pair), by=users[CLERK], reason="相邻宗地合并", ip=IP)
        made += 1
    return made
