"""Enumerations of the spatial core (docs/domain.md, "Codes")."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DivisionLevel(models.TextChoices):
    # 乡镇国土所: the county bureau's land station in a township (a town's 9-digit code, 统计用区划代码).
    STATION = "station", _("Township land station")
    COUNTY = "county", _("County")
    CITY = "city", _("City")
    PROVINCE = "province", _("Province")
    NATION = "nation", _("Nation")


class LayerKind(models.TextChoices):
    FARMLAND = "farmland", _("Permanent basic farmland")
    ECO_REDLINE = "eco_redline", _("Ecological protection red line")
    URBAN_BOUNDARY = "urban_boundary", _("Urban development boundary")
    PLAN_ZONES = "plan_zones", _("Land-use plan control zones")
    LANDUSE_SURVEY = "landuse_survey", _("Land-use survey")
    OTHER = "other", _("Other")


class LayerRule(models.TextChoices):
    """How an overlap with the layer is judged (docs/domain.md, "What an overlap report says")."""

    PROHIBITED = "prohibited", _("Prohibited: any overlap is a conflict")
    MUST_BE_INSIDE = "must_be_inside", _("Must be inside: any part outside is a conflict")
    INFO = "info", _("Information only")


class Verdict(models.TextChoices):
    OK = "ok", _("Compliant")
    CONFLICT = "conflict", _("Conflict")
    INFO = "info", _("For information")


class ParcelStatus(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    RETIRED = "retired", _("Retired")



# Parcel code (宗地代码): 6-digit county + 3-digit cadastral district + 3-digit sub-district +
# 2-letter feature code (G/J/Z then A,B,S,X,C,D,E,F,H,W,Y) + 5-digit sequence.
PARCEL_CODE_REGEX = r"^[0-9]{6}[0-9]{3}[0-9]{3}[GJZ][ABSXCDEFHWY][0-9]{5}$"
