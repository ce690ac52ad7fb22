"""The seeded application kinds (migration 0004; `load_demo` and the tests re-apply them).

Idempotent and additive: a kind, route step or document that exists (by code or level) is left
as the administrator edited it; only missing ones are created.
"""

from decimal import Decimal

# Seed kinds (admin-editable afterwards). Limits in working days; 0 = the same working day.
# construction land: statutory 45 (土地管理法实施条例), promised 20 (Hubei), green channel 12;
# rural homestead: 20 before the reform, promised 3.5 (the article), received at the township land
# station (1 day: the one-window check and the site visit; green 0.5) and decided at the county
# (2.5; green 1.5), the two adding up to the promise; registration: statutory 30
# (不动产登记暂行条例), issued the same day (当场办结).
KINDS = [
    # code, name, English, statutory, promised, green, order, route [(level, days, green days)], documents [(code, name, English)]
    ("construction_land", "建设用地审批", "Construction-land use approval", "45", "20", "12", 10,
     [("county", "5", "3"), ("city", "5", "3"), ("province", "5", "3"), ("nation", "5", "3")],
     [("application_form", "建设用地申请表", "Application form"),
      ("survey_report", "勘测定界报告", "Boundary survey report"),
      ("plan_conformity", "规划符合性说明", "Statement of conformity with the spatial plan"),
      ("farmland_compensation", "补充耕地方案", "Farmland compensation plan")]),
    ("rural_homestead", "农村宅基地审批", "Rural homestead approval", "20", "3.5", "2", 20,
     [("station", "1", "0.5"), ("county", "2.5", "1.5")],
     [("application_form", "宅基地申请表", "Homestead application form"),
      ("household_register", "户口簿", "Household register"),
      ("village_opinion", "村民小组意见", "Village group opinion")]),
    ("registration", "土地登记发证", "Land registration and certificate", "30", "0", "0", 30,
     [("county", "0", "0")],
     [("registration_form", "不动产登记申请书", "Registration application"),
      ("identity", "身份证明", "Proof of identity"),
      ("title_source", "权属来源材料", "Source-of-title documents")]),
]


def seed_kinds(apps, schema_editor=None):
    Kind = apps.get_model("approvals", "ApplicationKind")
    for code, name, name_en, statutory, promised, green, order, _route, _docs in KINDS:
        Kind.objects.get_or_create(code=code, defaults={
            "name": name, "name_en": name_en, "statutory_days": Decimal(statutory), "promised_days": Decimal(promised),
            "green_promised_days": Decimal(green), "sort_order": order})


def seed_routes(apps, schema_editor=None):
    RouteStep = apps.get_model("approvals", "RouteStep")
    RequiredDocument = apps.get_model("approvals", "RequiredDocument")
    for code, *_rest, route, docs in KINDS:
        for order, (level, days, green) in enumerate(route, start=1):
            RouteStep.objects.get_or_create(kind_id=code, level=level, defaults={"order": order, "days": Decimal(days), "green_days": Decimal(green)})
        for doc_code, name, name_en in docs:
            RequiredDocument.objects.get_or_create(kind_id=code, code=doc_code, defaults={"name": name, "name_en": name_en})


# The homestead route before the station level (migration 0004 seeded it on existing installs).
_HOMESTEAD_COUNTY_BEFORE = ("3.5", "2")


def homestead_via_station(apps, schema_editor=None):
    """Migration 0008: puts the township land station in front of the county on an existing
    install's rural homestead route (idempotent: a route that already has a station step is left
    alone). The county step moves to second place; its limits become the seed's split only while
    they are still the old seed's (an administrator's own figures are kept)."""
    RouteStep = apps.get_model("approvals", "RouteStep")
    kind = next(k for k in KINDS if k[0] == "rural_homestead")
    steps = RouteStep.objects.filter(kind_id=kind[0])
    if not apps.get_model("approvals", "ApplicationKind").objects.filter(code=kind[0]).exists() or steps.filter(level="station").exists():
        return
    # Highest order first, so that (kind, order) stays unique at every step.
    for step in steps.order_by("-order"):
        step.order += 1
        step.save(update_fields=["order"])
    (_level, days, green), (_county, county_days, county_green) = kind[7][:2]
    RouteStep.objects.create(kind_id=kind[0], level="station", order=1, days=Decimal(days), green_days=Decimal(green))
    steps.filter(level="county", days=Decimal(_HOMESTEAD_COUNTY_BEFORE[0]), green_days=Decimal(_HOMESTEAD_COUNTY_BEFORE[1])).update(
        days=Decimal(county_days), green_days=Decimal(county_green))


def seed_all() -> None:
    """Seeds with the live app registry (outside migrations)."""
    from django.apps import apps

    seed_kinds(apps)
    seed_routes(apps)
