"""Geometry validation for imports (vectorised with shapely 2).

Rules (issue #3): empty, non-polygonal, degenerate and zero-area features are rejected; an invalid
polygon is repaired with make_valid only when the repair changes its area by less than 0.1 %,
otherwise rejected with GEOS's reason. Areas for the ratio are planar in degrees² — a ratio, so the
unit cancels for features of survey size.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely

from parcels.geo import MIN_AREA_DEG2

MAX_REPAIR_AREA_CHANGE = 0.001  # 0.1 %
POLYGON, MULTIPOLYGON = 3, 6


@dataclass
class ValidationResult:
    """Which features to keep (as MultiPolygons, EPSG:4490), which were repaired or rejected and why."""

    keep: np.ndarray  # indices into the input
    geoms: np.ndarray  # MultiPolygons for `keep`, in the same order
    repaired: list[tuple[int, str]] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)

    def counts_by_reason(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for _i, reason in self.rejected:
            key = reason.split("[")[0].split(":")[0].strip()
            out[key] = out.get(key, 0) + 1
        return out


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    parts = [p for p in shapely.get_parts(geom) if shapely.get_type_id(p) in (POLYGON, MULTIPOLYGON)]
    flat = [q for p in parts for q in shapely.get_parts(p)]
    return shapely.MultiPolygon(flat) if flat else shapely.MultiPolygon()


def validate_geometries(geoms: np.ndarray) -> ValidationResult:
    n = len(geoms)
    status = np.zeros(n, dtype=np.int8)  # 0 keep, 1 repaired, 2 rejected
    out = np.empty(n, dtype=object)
    rejected: list[tuple[int, str]] = []
    repaired: list[tuple[int, str]] = []

    missing = shapely.is_missing(geoms)
    empty = missing | shapely.is_empty(np.where(missing, shapely.Point(), geoms))
    types = np.where(empty, -1, shapely.get_type_id(np.where(missing, shapely.Point(), geoms)))
    for i in np.flatnonzero(empty):
        status[i] = 2
        rejected.append((int(i), "empty geometry"))
    nonpoly = ~empty & ~np.isin(types, (POLYGON, MULTIPOLYGON))
    for i in np.flatnonzero(nonpoly):
        status[i] = 2
        rejected.append((int(i), f"not a polygon: {geoms[i].geom_type}"))

    candidates = np.flatnonzero(status == 0)
    valid = shapely.is_valid(geoms[candidates])
    areas = shapely.area(geoms[candidates])
    for i, ok, area in zip(candidates, valid, areas, strict=True):
        if ok and area <= MIN_AREA_DEG2:
            status[i] = 2
            rejected.append((int(i), "zero area"))
    for i in candidates[~valid]:
        reason = shapely.is_valid_reason(geoms[i])
        fixed = _polygonal(shapely.make_valid(geoms[i]))
        before = abs(shapely.area(geoms[i]))
        after = shapely.area(fixed)
        if fixed.is_empty or after <= MIN_AREA_DEG2:
            status[i] = 2
            rejected.append((int(i), f"degenerate: {reason}"))
        elif before <= 0:
            # e.g. a bow-tie: its signed parts cancel, so no repair can be shown to keep the area.
            status[i] = 2
            rejected.append((int(i), f"invalid: {reason}; the rings cross so the drawn area is undefined (repair would give {after:.3g} deg²)"))
        elif before > 0 and abs(after - before) / before < MAX_REPAIR_AREA_CHANGE:
            status[i] = 1
            out[i] = fixed
            repaired.append((int(i), reason))
        else:
            change = abs(after - before) / before * 100
            status[i] = 2
            rejected.append((int(i), f"invalid: {reason}; repair would change the area by {change:.2f} %"))

    keep = np.flatnonzero(status < 2)
    plain = keep[status[keep] == 0]
    polys = plain[types[plain] == POLYGON]
    if len(polys):
        out[polys] = shapely.multipolygons(geoms[polys], indices=np.arange(len(polys)))
    multis = plain[types[plain] == MULTIPOLYGON]
    out[multis] = geoms[multis]
    rejected.sort()
    return ValidationResult(keep=keep, geoms=out[keep], repaired=repaired, rejected=rejected)
