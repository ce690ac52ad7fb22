"""The seeded application kinds (migration 0004; `load_demo` and the tests re-apply them).

Idempotent and additive: a kind, route step or document that exists (by code or level) is left
as the administrator edited it; only missing ones are created.
"""

from decimal import Decimal

# Seed kinds (admin-editable afterwards). Limits in working days; 0 = the same working day.
# construction land: statutory 45 (土地管理法实施条例), promised 20 (Hubei), green channel 12;
# rural homestead: 20 before the reform, promised 3.5 (the article); registration: statutory 30
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
     [("county", "3.5", "2")],
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


def seed_all() -> None:
    """Seeds with the live app registry (outside migrations)."""
    from django.apps import apps

    seed_kinds(apps)
    seed_routes(apps)
