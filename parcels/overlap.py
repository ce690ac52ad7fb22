"""Overlap analysis: a site geometry against every active one-map layer (docs/domain.md, "What an overlap report says";
docs/decisions.md §3).

`overlap_analyse` is the one service used by submission, review, the planner page, the API and
the `overlap` command. It knows nothing of applications: it takes a geometry and returns a report.
All areas are ellipsoidal m² (geography, CGCS2000 ellipsoid) unless a key says `gk_` (Gauss–Krüger
planar, in the site's 3° zone).

How it stays fast: one grouped query over all layers; the GiST index finds candidates; a zone
wholly inside the site contributes its stored area (computed on import), so only zones crossing the
site boundary are intersected. A layer's overlap is the sum of its class overlaps, exact for layers
that are coverages (survey, plan zones); for `must_be_inside` layers the inside part is computed
from the union of the zones, so overlapping features cannot hide a part of the site outside them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.gis.db.models import Union
from django.contrib.gis.db.models.functions import Intersection
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.db.models import F, Max, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from parcels.choices import LayerRule, Verdict
from parcels.geo import STORAGE_SRID, AreaFigures, CollectionExtractPolygons, GeographyArea, site_areas
from parcels.models import Layer, LayerVersion, Parcel, Zone
from parcels.sql import layer_cross_overlap, zone_overlap_by_class

# Overlaps smaller than this (m²) are floating-point noise of the intersection, not a conflict.
TOLERANCE_M2 = 0.01


@dataclass
class OverlapResult:
    """A report (JSON-serialisable dict) and the overlap pieces as a GeoJSON FeatureCollection."""

    report: dict[str, Any]
    pieces: dict[str, Any] = field(default_factory=dict)
    layer_version_ids: list[int] = field(default_factory=list)


def _site_area(site: GEOSGeometry) -> tuple[AreaFigures, float | None, int | None, list[str]]:
    """Ellipsoidal and GK planar area (m²) of the site, the GK EPSG (site's 3° zone) used, and
    warnings; outside China's 3° zones the GK figures are None (parcels.geo.site_areas)."""
    areas = site_areas(site)
    return AreaFigures(areas.ellipsoidal_m2), areas.gk_m2, areas.gk_epsg, list(areas.warnings)


def _verdict(rule: str, overlap_m2: float, site_m2: float) -> tuple[str, float]:
    """Verdict for a layer and the conflicting area (m²) it is based on."""
    if rule == LayerRule.PROHIBITED:
        return (Verdict.CONFLICT if overlap_m2 > TOLERANCE_M2 else Verdict.OK), overlap_m2
    if rule == LayerRule.MUST_BE_INSIDE:
        outside = max(site_m2 - overlap_m2, 0.0)
        return (Verdict.CONFLICT if outside > TOLERANCE_M2 else Verdict.OK), outside
    return Verdict.INFO, 0.0


def _class_rows(site: GEOSGeometry, version_ids: list[int]) -> list[dict[str, Any]]:
    """Per (layer version, class): overlap m² and zones hit, in one indexed query (parcels.sql)."""
    return zone_overlap_by_class(site=site, version_ids=version_ids, tolerance_m2=TOLERANCE_M2)


def _inside_m2(site: GEOSGeometry, version_id: int) -> float:
    """Area (m²) of the part of the site inside the union of a layer version's zones."""
    return Zone.objects.filter(layer_version_id=version_id, geom__intersects=site).aggregate(
        m2=Coalesce(GeographyArea(Intersection(site, Union("geom"))), Value(0.0))
    )["m2"]


def _pieces(site: GEOSGeometry, versions: list[LayerVersion]) -> list[dict[str, Any]]:
    """The overlap geometries per layer and class (for maps), clipped to the site."""
    by_id = {v.pk: v.layer for v in versions}
    rows = (
        Zone.objects.filter(layer_version_id__in=list(by_id), geom__intersects=site)
        .values("layer_version_id", "class_code")
        .annotate(piece=Union(CollectionExtractPolygons(Intersection("geom", site))), name=Max("class_name"))
        .annotate(piece_m2=GeographyArea(F("piece")))
        .order_by("layer_version_id", "class_code")
    )
    features = []
    for row in rows:
        if row["piece"] is None or row["piece"].empty or row["piece_m2"] <= TOLERANCE_M2:
            continue
        layer = by_id[row["layer_version_id"]]
        features.append(
            {
                "type": "Feature",
                "geometry": json.loads(row["piece"].geojson),
                "properties": {
                    "layer": layer.slug,
                    "layer_name": layer.name,
                    "color": layer.color,
                    "rule": layer.rule,
                    "class_code": row["class_code"],
                    "class_name": row["name"],
                    "area_m2": round(row["piece_m2"], 2),
                },
            }
        )
    return features


def overlap_analyse(*, site: MultiPolygon, layers: list[str] | None = None, pieces: bool = True,
                    right_holders: Callable[[str], bool] | None = None) -> OverlapResult:
    """Overlap report of `site` against the active version of every layer (or those in `layers`).

    Preconditions: `site` is a valid polygonal geometry in SRID 4490 (see parcels.site_input).
    `pieces=False` skips the overlap geometries (the report's numbers are the same).
    `right_holders` is asked with each touched parcel's division code: the parcel's right holder and
    right type (personal data) are in the report only where it answers True. Who may see them is
    the approvals rules' business (approvals.selectors); by default nobody does.
    """
    if site.srid != STORAGE_SRID:
        raise ValueError(f"site must be in SRID {STORAGE_SRID}, got {site.srid}")
    site_area, gk_area, gk_epsg, site_warnings = _site_area(site)
    site_m2 = site_area.m2

    versions = LayerVersion.objects.filter(is_active=True).select_related("layer").order_by("layer__sort_order", "layer__slug")
    if layers:
        versions = versions.filter(layer__slug__in=layers)
    versions = list(versions)
    rows = _class_rows(site, [v.pk for v in versions])

    layer_reports: list[dict[str, Any]] = []
    for version in versions:
        layer = version.layer
        classes = sorted((r for r in rows if r["layer_version_id"] == version.pk), key=lambda r: (-r["area"], r["class_code"]))
        overlap_m2 = sum(c["area"] for c in classes)
        if layer.rule == LayerRule.MUST_BE_INSIDE:
            overlap_m2 = _inside_m2(site, version.pk)
        verdict, verdict_m2 = _verdict(layer.rule, overlap_m2, site_m2)
        layer_reports.append(
            {
                "layer": layer.slug,
                "name": layer.name,
                "name_en": layer.name_en,
                "color": layer.color,
                "version": version.version,
                "version_id": version.pk,
                "rule": layer.rule,
                "verdict": verdict,
                "verdict_area_m2": round(verdict_m2, 2),
                **AreaFigures(overlap_m2).as_dict("overlap"),
                "percent": round(100.0 * overlap_m2 / site_m2, 4) if site_m2 else 0.0,
                "classes": [
                    {
                        "code": c["class_code"],
                        "name": c["name"],
                        **AreaFigures(c["area"]).as_dict(),
                        "percent": round(100.0 * c["area"] / site_m2, 4) if site_m2 else 0.0,
                        "count": c["count"],
                    }
                    for c in classes
                    if c["area"] > TOLERANCE_M2
                ],
            }
        )

    parcels = [
        {
            "code": p.code,
            "division": p.division_id,
            "land_class": p.land_class,
            **({"right_holder": p.right_holder, "right_type": p.right_type}
               if right_holders is not None and right_holders(p.division_id) else {}),
            **AreaFigures(p.overlap_m2).as_dict("overlap"),
        }
        for p in Parcel.objects.registered().touching(site).with_overlap_area(site).order_by("-overlap_m2")
        if p.overlap_m2 > TOLERANCE_M2
    ]

    report = {
        "computed_at": timezone.now().isoformat(),
        "site": {
            **site_area.as_dict(),
            "gk_area_m2": round(gk_area, 2) if gk_area is not None else None,
            "gk_epsg": gk_epsg,
            **({"warnings": site_warnings} if site_warnings else {}),
            "parts": len(site),
            "area_method": "ellipsoidal (geography, CGCS2000 ellipsoid)",
        },
        "layers": layer_reports,
        "conflicts": [lr["layer"] for lr in layer_reports if lr["verdict"] == Verdict.CONFLICT],
        "parcels": parcels,
        "layer_versions": [{"layer": lr["layer"], "version": lr["version"], "id": lr["version_id"]} for lr in layer_reports],
    }
    return OverlapResult(
        report=report,
        pieces={"type": "FeatureCollection", "features": _pieces(site, versions) if pieces else []},
        layer_version_ids=[v.pk for v in versions],
    )


# Keys of a report's parcel entries that name people or companies (personal data).
PERSONAL_PARCEL_KEYS = frozenset({"right_holder", "right_type"})


def without_right_holders(report: dict[str, Any]) -> dict[str, Any]:
    """A copy of a (stored) report whose parcels carry code, division, land class and areas only:
    what a reader who may not see right holders gets (the stored report keeps them for the staff)."""
    return {**report, "parcels": [{k: v for k, v in p.items() if k not in PERSONAL_PARCEL_KEYS} for p in report.get("parcels", [])]}


@dataclass(frozen=True)
class CrossResult:
    """Two layers intersected inside an area: rows per class pair (m², ha, mu) and display pieces."""

    layer_a: Layer
    layer_b: Layer
    area_m2: float
    rows: list[dict[str, Any]]
    pieces: dict[str, Any]

    @property
    def total_m2(self) -> float:
        return sum(r["area_m2"] for r in self.rows)

    @property
    def total(self) -> AreaFigures:
        return AreaFigures(self.total_m2)


def layers_cross(*, layer_a: Layer, layer_b: Layer, area: MultiPolygon) -> CrossResult:
    """Where two layers' active versions overlap inside `area` (e.g. permanent farmland × land-use
    survey in a county), per class pair. Areas are ellipsoidal m² of the exact intersections; the
    pieces are simplified for display only (by 1/20000 of the area's span).
    Precondition: both layers have an active version; `area` is valid, SRID 4490."""
    va = layer_a.versions.get(is_active=True)
    vb = layer_b.versions.get(is_active=True)
    xmin, ymin, xmax, ymax = area.extent
    simplify = max(xmax - xmin, ymax - ymin) / 20000  # ~1/20000 of the span: invisible at any zoom that shows it all
    rows = layer_cross_overlap(version_a=va.pk, version_b=vb.pk, area=area, simplify_deg=simplify, tolerance_m2=TOLERANCE_M2)
    features = []
    for r in rows:
        geometry = r.pop("geometry")
        r.update(AreaFigures(r["area_m2"]).as_dict())
        if geometry:
            features.append({"type": "Feature", "geometry": json.loads(geometry),
                             "properties": {"class_a": r["class_a"], "name_a": r["name_a"], "class_b": r["class_b"],
                                            "name_b": r["name_b"], "area_m2": r["area_m2"], "color": layer_a.color}})
    site_m2 = site_areas(area).ellipsoidal_m2
    return CrossResult(layer_a, layer_b, site_m2, rows, {"type": "FeatureCollection", "features": features})
