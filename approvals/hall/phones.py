"""Chinese telephone numbers as people write them: a mobile (11 digits from 13–19, an optional +86)
or a landline with its area code (0xx-xxxxxxxx, 0xxx-xxxxxxx, an optional extension)."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MOBILE = re.compile(r"(?:\+?86)?(1[3-9][0-9]{9})")
# Area codes: 010 and 02x have three digits, all others four (so digits without a separator split one way).
LANDLINE = re.compile(r"(01[0-9]|02[0-9]|0[3-9][0-9]{2})-?([1-9][0-9]{6,7})(?:-([0-9]{1,6}))?")
# what a number is stored as at most (Application.contact_phone)
MAX_LENGTH = 20


def phone_clean(value: str) -> str:
    """The number in one canonical form (mobile: 11 digits; landline: area-number[-extension]);
    "" for an empty value; ValidationError for anything else."""
    text = (value or "").strip()
    if not text:
        return ""
    compact = re.sub(r"[\s()（）]", "", text) if len(text) <= 40 else text
    if match := MOBILE.fullmatch(compact.replace("-", "")):
        return match.group(1)
    if match := LANDLINE.fullmatch(compact):
        area, number, extension = match.groups()
        cleaned = f"{area}-{number}" + (f"-{extension}" if extension else "")
        if len(cleaned) <= MAX_LENGTH:
            return cleaned
    raise ValidationError(_("Enter a Chinese mobile number (11 digits) or a landline with its area code, e.g. 0715-6321234."), code="phone")
