"""Loading the demo one-map for Jiayu County and the demo accounts. Idempotent: a second run
creates nothing that exists already (layers are matched by the checksum of their source file).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction

from approvals.choices import Role
from approvals.models import Department, Membership
from parcels.choices import LayerKind, LayerRule
from parcels.models import Division, Layer, LayerVersion
from parcels.services import division_load, file_sha256, layer_version_create, parcel_load

DATA_DIR = Path(__file__).resolve().parent
DIVISIONS_FILE = DATA_DIR / "divisions" / "xianning_divisions.geojson"
# Jiayu's township land stations (乡镇国土所), synthetic boundaries (data/stations.py).
STATIONS_FILE = DATA_DIR / "divisions" / "jiayu_stations.geojson"
DEMO_GPKG = DATA_DIR / "demo" / "jiayu_onemap.gpkg"
# Printed in the README, so known to everyone: a server with DEBUG=0 refuses to start while an
# account still has it, unless ONEMAP_DEMO=1 (onemap/checks.py).
PUBLISHED_DEMO_PASSWORD = "onemap-demo-2026"  # noqa: S105  (public on purpose, see above)
DEMO_PASSWORD = os.environ.get("ONEMAP_DEMO_PASSWORD", PUBLISHED_DEMO_PASSWORD)


@dataclass(frozen=True)
class DemoLayer:
    slug: str
    gpkg_layer: str
    name: str
    name_en: str
    kind: str
    rule: str
    color: str
    sort_order: int
    min_zoom: int = 0
    # Shown to visitors who are not logged in. The planning results (farmland, red line, urban
    # boundary, plan control zones) are published with the territorial plan; the land-use survey is
    # detailed current-use data whose release the survey rules restrict, so it is for staff only.
    public: bool = False


DEMO_LAYERS = (
    DemoLayer("permanent-farmland", "permanent_farmland", "永久基本农田", "Permanent basic farmland", LayerKind.FARMLAND, LayerRule.PROHIBITED, "#d4b106", 10, public=True),
    DemoLayer("eco-redline", "eco_redline", "生态保护红线", "Ecological protection red line", LayerKind.ECO_REDLINE, LayerRule.PROHIBITED, "#389e0d", 20, public=True),
    DemoLayer("urban-boundary", "urban_boundary", "城镇开发边界", "Urban development boundary", LayerKind.URBAN_BOUNDARY, LayerRule.MUST_BE_INSIDE, "#fa541c", 30, public=True),
    DemoLayer("plan-zones", "plan_zones", "建设用地管制区", "Land-use plan control zones", LayerKind.PLAN_ZONES, LayerRule.INFO, "#722ed1", 40, 10, public=True),
    DemoLayer("landuse-survey", "landuse_survey", "土地利用现状", "Land-use survey", LayerKind.LANDUSE_SURVEY, LayerRule.INFO, "#8c8c8c", 50, 13),
)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    division: str
    description: str
    department: str = ""


# Departments of each level's bureau that take part in parallel approval (name, English name).
DEMO_DEPARTMENTS = {
    "421221": [("耕地保护股", "Farmland protection section"), ("国土空间规划股", "Spatial planning section")],
    "421200": [("耕地保护科", "Farmland protection division"), ("国土空间规划科", "Spatial planning division")],
    "420000": [("耕地保护处", "Farmland protection department"), ("国土空间规划处", "Spatial planning department")],
    "100000": [("耕地保护监督司", "Farmland protection and supervision"), ("国土空间用途管制司", "Spatial use control")],
}

DEMO_ACCOUNTS = (
    DemoAccount("applicant", Role.APPLICANT, "421221", "applicant (Jiayu)"),
    DemoAccount("clerk_jiayu", Role.CLERK, "421221", "Jiayu county window clerk"),
    DemoAccount("clerk_xianning", Role.CLERK, "421200", "Xianning city window clerk (sites crossing counties)"),
    DemoAccount("reviewer_jiayu", Role.REVIEWER, "421221", "Jiayu county reviewer"),
    DemoAccount("reviewer_chibi", Role.REVIEWER, "421281", "Chibi county reviewer"),
    DemoAccount("reviewer_xianning", Role.REVIEWER, "421200", "Xianning city reviewer"),
    DemoAccount("reviewer_hubei", Role.REVIEWER, "420000", "Hubei province reviewer"),
    DemoAccount("reviewer_ministry", Role.REVIEWER, "100000", "ministry reviewer"),
    DemoAccount("dept_jiayu", Role.DEPARTMENT_REVIEWER, "421221", "Jiayu farmland protection section (lead)", "耕地保护股"),
    DemoAccount("dept_jiayu_plan", Role.DEPARTMENT_REVIEWER, "421221", "Jiayu spatial planning section", "国土空间规划股"),
    DemoAccount("dept_xianning", Role.DEPARTMENT_REVIEWER, "421200", "Xianning farmland protection division", "耕地保护科"),
    DemoAccount("dept_xianning_plan", Role.DEPARTMENT_REVIEWER, "421200", "Xianning spatial planning division", "国土空间规划科"),
    DemoAccount("planner", Role.PLANNER, "421221", "Jiayu planner"),
    DemoAccount("clerk_jiayu2", Role.CLERK, "421221", "Jiayu county window clerk (second officer)"),
    DemoAccount("head_jiayu", Role.CLERK, "421221", "head of the Jiayu land window (bad-rating follow-ups)"),
    DemoAccount("caller_hubei", Role.CALLER, "420000", "Hubei call-back surveyor (万人评窗口)"),
    DemoAccount("admin", Role.ADMIN, "100000", "administrator (Django admin)"),
)


@dataclass(frozen=True)
class DemoWindow:
    code: str
    division: str
    name: str
    name_en: str
    address: str
    hours: str
    extended_hours: str


@dataclass(frozen=True)
class DemoOfficer:
    username: str
    window: str
    staff_number: str
    display_name: str
    duties: str
    commitment: str
    party_member: bool = False
    is_head: bool = False


DEMO_WINDOWS = (
    DemoWindow("jiayu-land", "421221", "嘉鱼县自然资源和规划局用地审批窗口", "Jiayu County land approval window",
               "嘉鱼县政务服务中心一楼 12 号窗口", "周一至周五 9:00–12:00, 14:30–17:30", "周三延时至 19:00"),
    DemoWindow("xianning-land", "421200", "咸宁市自然资源和规划局用地审批窗口", "Xianning City land approval window",
               "咸宁市民之家二楼 B 区 6 号窗口", "周一至周五 9:00–12:00, 14:30–17:30", "周四延时至 19:00"),
)

DEMO_OFFICERS = (
    DemoOfficer("head_jiayu", "jiayu-land", "JY0101", "王红梅", "窗口负责人，统筹受理与差评核实整改", "一次告知、限时办结、让群众少跑腿", party_member=True, is_head=True),
    DemoOfficer("clerk_jiayu", "jiayu-land", "JY0102", "李建国", "建设用地、宅基地申请受理", "首问负责、当场受理、微笑服务", party_member=True),
    DemoOfficer("clerk_jiayu2", "jiayu-land", "JY0103", "张敏", "不动产登记受理、代办与上门服务", "预约服务、延时服务、上门代办"),
    DemoOfficer("clerk_xianning", "xianning-land", "XN0201", "陈志强", "跨县用地申请受理，窗口负责人", "一窗受理、并联审批、按时办结", party_member=True, is_head=True),
)


# Jiayu's township land stations (乡镇国土所, data/stations.py): (slug, code, town, English).
# Their accounts, windows and officers are made only where the stations are loaded (load_stations:
# `load_demo` does; the test database has the real divisions only unless a test loads them).
STATIONS = (("yuyue", "421221100", "鱼岳镇", "Yuyue"), ("guanqiao", "421221102", "官桥镇", "Guanqiao"),
            ("paizhouwan", "421221103", "簰洲湾镇", "Paizhouwan"), ("panjiawan", "421221105", "潘家湾镇", "Panjiawan"))
# A window clerk each (rural homesteads are received at the station) and the station head, who
# reviews the station's step and forwards the case to the county.
STATION_ACCOUNTS = tuple(
    DemoAccount(f"{who}_{slug}", role, code, f"{name_en} land station {what}")
    for slug, code, _town, name_en in STATIONS
    for who, role, what in (("clerk", Role.CLERK, "window clerk"), ("reviewer", Role.REVIEWER, "head (station step)"))
)
STATION_WINDOWS = tuple(
    DemoWindow(f"{slug}-station", code, f"{town}国土所窗口", f"{name_en} land station window",
               f"{town}便民服务中心国土所窗口", "周一至周五 8:30–12:00, 14:30–17:30", "农忙时节周六上午")
    for slug, code, town, name_en in STATIONS
)
STATION_OFFICERS = (
    DemoOfficer("clerk_yuyue", "yuyue-station", "JY1001", "刘春华", "宅基地申请受理、现场踏勘与代办", "就近受理、上门代办、限时办结", is_head=True),
    DemoOfficer("clerk_guanqiao", "guanqiao-station", "JY1021", "周立新", "宅基地申请受理、现场踏勘与代办", "就近受理、上门代办、限时办结", is_head=True),
    DemoOfficer("clerk_paizhouwan", "paizhouwan-station", "JY1031", "吴小燕", "宅基地申请受理、现场踏勘与代办", "就近受理、上门代办、限时办结", is_head=True),
    DemoOfficer("clerk_panjiawan", "panjiawan-station", "JY1051", "黄德兵", "宅基地申请受理、现场踏勘与代办", "就近受理、上门代办、限时办结", is_head=True),
)


def load_divisions() -> int:
    return division_load(frame=gpd.read_file(DIVISIONS_FILE), source=DIVISIONS_FILE.name)


def load_stations() -> int:
    """Jiayu's township land stations, under their county (after load_divisions; same loader)."""
    return division_load(frame=gpd.read_file(STATIONS_FILE), source=STATIONS_FILE.name)


def load_layers(*, progress: bool = False) -> list[str]:
    """Imports each demo layer unless a version from the same file content exists. Returns what was loaded."""
    sha = file_sha256(DEMO_GPKG)
    loaded = []
    for spec in DEMO_LAYERS:
        with transaction.atomic():
            layer, _created = Layer.objects.update_or_create(
                slug=spec.slug,
                defaults={
                    "name": spec.name,
                    "name_en": spec.name_en,
                    "kind": spec.kind,
                    "rule": spec.rule,
                    "color": spec.color,
                    "sort_order": spec.sort_order,
                    "min_zoom": spec.min_zoom,
                    "public": spec.public,
                },
            )
            source_sha = f"{sha}:{spec.gpkg_layer}"
            if LayerVersion.objects.filter(layer=layer, source_sha256=source_sha[:64]).exists():
                continue
            frame = gpd.read_file(DEMO_GPKG, layer=spec.gpkg_layer)
            layer_version_create(
                layer=layer,
                frame=frame,
                source_name=f"{DEMO_GPKG.name}:{spec.gpkg_layer}",
                source_sha256=source_sha[:64],
                progress=progress,
            )
            loaded.append(spec.slug)
    return loaded


def load_parcels() -> int:
    return parcel_load(frame=gpd.read_file(DEMO_GPKG, layer="parcels"), source=f"{DEMO_GPKG.name}:parcels")


@transaction.atomic
def load_departments() -> int:
    created = 0
    for code, names in DEMO_DEPARTMENTS.items():
        for name, name_en in names:
            _dept, new = Department.objects.update_or_create(division_id=code, name=name, defaults={"name_en": name_en})
            created += new
    return created


@transaction.atomic
def load_accounts() -> list[DemoAccount]:
    """Creates the demo users (password DEMO_PASSWORD), their departments and memberships if missing
    (and the seeded application kinds, should a flushed database have lost them)."""
    from approvals.seed import seed_all

    seed_all()
    load_departments()
    user_model = get_user_model()
    # One hash for all demo accounts: the password is public anyway, and the startup check
    # (onemap/checks.py) then tests it once instead of once per account.
    hashed = make_password(DEMO_PASSWORD)
    for account in DEMO_ACCOUNTS:
        user, created = user_model.objects.get_or_create(username=account.username)
        if created:
            user.password = hashed
            if account.role == Role.ADMIN:
                user.is_staff = user.is_superuser = True
            user.full_clean()
            user.save()
        division = Division.objects.get(code=account.division)
        department = Department.objects.get(division=division, name=account.department) if account.department else None
        Membership.objects.get_or_create(user=user, role=account.role, division=division, defaults={"department": department})
    load_windows()
    return [*DEMO_ACCOUNTS, *_station_accounts()]


def _loaded_stations() -> set[str]:
    return set(Division.objects.filter(level="station", code__in=[s[1] for s in STATIONS]).values_list("code", flat=True))


def _station_accounts() -> list[DemoAccount]:
    """The stations' accounts (where the stations are loaded), their windows and officers."""
    from approvals.hall.models import Officer, Window

    loaded = _loaded_stations()
    accounts = [a for a in STATION_ACCOUNTS if a.division in loaded]
    hashed = make_password(DEMO_PASSWORD)
    for account in accounts:
        user, created = get_user_model().objects.get_or_create(username=account.username)
        if created:
            user.password = hashed
            user.full_clean()
            user.save()
        Membership.objects.get_or_create(user=user, role=account.role, division_id=account.division)
    for spec in STATION_WINDOWS:
        if spec.division in loaded:
            Window.objects.update_or_create(code=spec.code, defaults={
                "division_id": spec.division, "name": spec.name, "name_en": spec.name_en, "address": spec.address,
                "hours": spec.hours, "extended_hours": spec.extended_hours})
    windows = {w.code: w for w in Window.objects.filter(code__in=[s.window for s in STATION_OFFICERS])}
    for spec in STATION_OFFICERS:
        if spec.window in windows:
            Officer.objects.update_or_create(user=get_user_model().objects.get(username=spec.username), defaults={
                "window": windows[spec.window], "staff_number": spec.staff_number, "display_name": spec.display_name,
                "duties": spec.duties, "commitment": spec.commitment, "party_member": spec.party_member, "is_head": spec.is_head})
    return accounts


def load_windows() -> None:
    """The demo windows and the officers on their public boards (approvals.hall)."""
    from approvals.hall.models import Officer, Window

    for spec in DEMO_WINDOWS:
        Window.objects.update_or_create(code=spec.code, defaults={
            "division_id": spec.division, "name": spec.name, "name_en": spec.name_en, "address": spec.address,
            "hours": spec.hours, "extended_hours": spec.extended_hours})
    user_model = get_user_model()
    for spec in DEMO_OFFICERS:
        Officer.objects.update_or_create(user=user_model.objects.get(username=spec.username), defaults={
            "window": Window.objects.get(code=spec.window), "staff_number": spec.staff_number, "display_name": spec.display_name,
            "duties": spec.duties, "commitment": spec.commitment, "party_member": spec.party_member, "is_head": spec.is_head})
