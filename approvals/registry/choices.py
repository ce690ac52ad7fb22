"""Enumerations of the land register (docs/registry.md)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RightType(models.TextChoices):
    """Registered right types (不动产权利类型); the value is the Chinese legal name."""

    STATE_CONSTRUCTION = "国有建设用地使用权", _("State-owned construction land use right")
    HOMESTEAD = "宅基地使用权", _("Homestead use right")
    COLLECTIVE_CONSTRUCTION = "集体建设用地使用权", _("Collective construction land use right")
    COLLECTIVE_OWNERSHIP = "集体土地所有权", _("Collective land ownership")


#: Right types granted for a term (出让/流转年限); the others have none (homestead, ownership).
TERMED_RIGHT_TYPES = (RightType.STATE_CONSTRUCTION, RightType.COLLECTIVE_CONSTRUCTION)

#: The parcel code's 2-letter feature code (docs/domain.md "Parcel code") of each right type.
FEATURE_CODES: dict[str, str] = {
    RightType.STATE_CONSTRUCTION: "GB",
    RightType.HOMESTEAD: "JC",
    RightType.COLLECTIVE_CONSTRUCTION: "JB",
    RightType.COLLECTIVE_OWNERSHIP: "JA",
}


class RightStatus(models.TextChoices):
    ACTIVE = "active", _("In force")
    ENDED = "ended", _("Ended")


class IdType(models.TextChoices):
    RESIDENT_ID = "resident_id", _("Resident identity card")
    PASSPORT = "passport", _("Passport")
    CREDIT_CODE = "credit_code", _("Unified social credit code")
    OTHER = "other", _("Other")


class CertificateStatus(models.TextChoices):
    ISSUED = "issued", _("Valid")
    REPLACED = "replaced", _("Replaced")
    CANCELLED = "cancelled", _("Cancelled")


class ChangeKind(models.TextChoices):
    REGISTRATION = "registration", _("First registration")
    SPLIT = "split", _("Split")
    MERGE = "merge", _("Merge")
    RESURVEY = "resurvey", _("Re-survey")


#: Province abbreviation (简称) by the 2-digit province code, for certificate numbers.
PROVINCE_ABBR: dict[str, str] = {
    "11": "京", "12": "津", "13": "冀", "14": "晋", "15": "蒙", "21": "辽", "22": "吉", "23": "黑",
    "31": "沪", "32": "苏", "33": "浙", "34": "皖", "35": "闽", "36": "赣", "37": "鲁", "41": "豫",
    "42": "鄂", "43": "湘", "44": "粤", "45": "桂", "46": "琼", "50": "渝", "51": "川", "52": "贵",
    "53": "云", "54": "藏", "61": "陕", "62": "甘", "63": "青", "64": "宁", "65": "新",
}
