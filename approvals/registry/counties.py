"""The registration authority of a case or parcel is its county: a case received at a township
land station (a division below the county) is registered by the county; a case whose site crosses
counties (a city's or province's case) has no single registering county."""

from __future__ import annotations

from parcels.models import Division


def county_of(division: Division | None) -> Division | None:
    """`division` itself when it is a county, else its county ancestor; None above county level."""
    node = division
    while node is not None and node.level != "county":
        if node.level in ("city", "province", "nation"):
            return None
        node = node.parent
    return node
