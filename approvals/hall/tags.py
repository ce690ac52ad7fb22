"""The rating indicator tags (评价指标), versioned: the rules change them centrally, so each rating
stores the version it was given under (Rating.tag_set) and old ratings keep their meaning.

Offline (the window's tablet) and online (receipt QR code, query page) have different indicators
(Zhejiang / GB/T 39735-2020 practice: docs/public-side.md). The version in force is
settings.ONEMAP_RATING_TAG_SET.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from approvals.hall.choices import RatingChannel

RATING_TAG_SETS: dict[str, dict[str, tuple[tuple[str, object], ...]]] = {
    "2026.1": {
        RatingChannel.KIOSK: (
            ("overall", _("Overall satisfaction")),
            ("efficiency", _("Service efficiency")),
            ("service_level", _("Service level")),
            ("attitude", _("Service attitude")),
        ),
        RatingChannel.ONLINE: (
            ("efficiency", _("Efficiency")),
            ("guide_accuracy", _("Accuracy of the service guide")),
            ("convenience", _("Convenience")),
            ("ease_of_use", _("Ease of use of the platform")),
        ),
    },
}


def current_tag_set() -> str:
    return settings.ONEMAP_RATING_TAG_SET


def tag_choices(channel: str, version: str | None = None) -> tuple[tuple[str, object], ...]:
    """The (code, label) tags a rater may tick on `channel` under `version` (default: in force)."""
    return RATING_TAG_SETS.get(version or current_tag_set(), {}).get(channel, ())


def tag_labels(channel: str, codes: list[str], version: str) -> list[str]:
    """The labels of stored tag codes (a code the version no longer knows is shown as is)."""
    known = dict(tag_choices(channel, version))
    return [str(known.get(code, code)) for code in codes]
