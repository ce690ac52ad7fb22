"""Reads of the spatial core."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.gis.geos import Polygon
from django.db.models import Max, QuerySet, Value

from parcels.geo import SimplifyPreserveTopology, tolerance_for_zoom
from parcels.models import Division, Layer, LayerVersion, Zone

# Upper bound of features in one bbox response; a client asking for more must zoom in.
MAX_BBOX_FEATURES = 5000


def active_layers() -> QuerySet[Layer]:
    return Layer.objects.filter(versions__is_active=True).distinct().order_by("sort_order", "slug")


def active_layer_versions(*, public_only: bool = False) -> list[tuple[Layer, int]]:
    """(layer, active version number) pairs in display order; with `public_only`, only the layers
    visitors who are not logged in may see (their tiles answer 404 to them otherwise)."""
    versions = LayerVersion.objects.filter(is_active=True).select_related("layer").order_by("layer__sort_order", "layer__slug")
    if public_only:
        versions = versions.filter(layer__public=True)
    return [(lv.layer, lv.version) for lv in versions]


def division_outlines(*, parent_code: str = "421200", tolerance_deg: float = 0.0005) -> dict[str, Any]:
    """County outlines under `parent_code` as a GeoJSON FeatureCollection, simplified (~50 m) for display."""
    features = []
    for d in Division.objects.filter(parent_id=parent_code).exclude(boundary__isnull=True):
        geom = d.boundary.simplify(tolerance_deg, preserve_topology=True)
        features.append(
            {
                "type": "Feature",
                "geometry": json.loads(geom.geojson),
                "properties": {"code": d.code, "name": d.name, "name_en": d.name_en},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def zones_in_bbox(*, layer: Layer, bbox: Polygon, zoom: int) -> QuerySet[Zone]:
    """Active zones of `layer` meeting `bbox`, with `display_geom` simplified for `zoom`."""
    return (
        Zone.objects.active()
        .filter(layer_version__layer=layer, geom__bboverlaps=bbox)
        .annotate(display_geom=SimplifyPreserveTopology("geom", Value(tolerance_for_zoom(zoom))))
        .only("id", "class_code", "class_name", "area_m2")
        .order_by("id")[:MAX_BBOX_FEATURES]
    )


def tile_layer_version(*, slug: str, version: int, anonymous: bool) -> LayerVersion | None:
    """The layer version a tile URL names, with its layer; None when it does not exist or when an
    anonymous visitor asks for a layer that is not public (the two are indistinguishable: 404)."""
    versions = LayerVersion.objects.select_related("layer").filter(layer__slug=slug, version=version)
    if anonymous:
        versions = versions.filter(layer__public=True)
    return versions.first()


def layer_tile(*, layer_version: LayerVersion, z: int, x: int, y: int) -> bytes:
    """Vector tile bytes for an existing layer version (empty below the layer's minimum zoom)."""
    from parcels.sql import zone_tile
    from parcels.tiling import tile_extent

    if z < layer_version.layer.min_zoom:
        return b""
    return zone_tile(layer_version_id=layer_version.pk, z=z, x=x, y=y, extent=tile_extent(z))


MAX_BBOX_PARCELS = 2000


def parcels_in_bbox(*, bbox: Polygon):
    """Registered parcels intersecting `bbox` (4490), at most MAX_BBOX_PARCELS, for picking and snapping."""
    from parcels.models import Parcel

    return Parcel.objects.registered().filter(geom__intersects=bbox).only("code", "land_class", "area_m2", "geom").order_by("code")[:MAX_BBOX_PARCELS]


def layer_summaries() -> list[dict[str, Any]]:
    """Each active layer with its version, feature count and area per class (m²): the table
    alternative to the home map. Cached per layer version (a version never changes)."""
    from django.core.cache import cache
    from django.db.models import Count, Sum

    from parcels.models import LayerVersion

    out = []
    for version in LayerVersion.objects.filter(is_active=True).select_related("layer").order_by("layer__sort_order", "layer__slug"):
        def classes(v=version) -> list[dict[str, Any]]:
            rows = (v.zones.values("class_code").annotate(name=Max("class_name"), n=Count("id"), area=Sum("area_m2")).order_by("-area"))
            return [{"code": r["class_code"], "name": r["name"] or "", "count": r["n"], "area_m2": float(r["area"] or 0.0)} for r in rows]

        out.append({"layer": version.layer, "version": version,
                    "classes": cache.get_or_set(f"layer-summary:{version.pk}:{version.imported_at.timestamp()}:{version.feature_count}", classes, timeout=None)})
    return out
