"""DRF serializers for map data (GeoJSON through djangorestframework-gis)."""

from __future__ import annotations

from django.contrib.gis.geos import GEOSGeometry
from rest_framework import serializers
from rest_framework_gis.fields import GeometrySerializerMethodField
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from approvals.models import Application
from parcels.models import Layer, Parcel, Zone


class ZoneFeatureSerializer(GeoFeatureModelSerializer):
    """A zone as a GeoJSON Feature with its display (simplified) geometry."""

    display_geom = GeometrySerializerMethodField()

    class Meta:
        model = Zone
        geo_field = "display_geom"
        fields = ["id", "class_code", "class_name", "area_m2"]

    def get_display_geom(self, obj: Zone) -> GEOSGeometry:
        """The geometry simplified for the requested zoom (annotated by parcels.selectors.zones_in_bbox)."""
        return obj.display_geom


class LayerSerializer(serializers.ModelSerializer):
    active_version = serializers.SerializerMethodField()

    class Meta:
        model = Layer
        fields = ["slug", "name", "name_en", "kind", "rule", "color", "min_zoom", "active_version"]

    def get_active_version(self, obj: Layer) -> dict | None:
        v = obj.active_version
        return {"version": v.version, "features": v.feature_count, "imported_at": v.imported_at} if v else None


class ApplicationFeatureSerializer(GeoFeatureModelSerializer):
    """An application as a GeoJSON Feature (site geometry, 4490 lon/lat) with its state and deadlines."""

    kind = serializers.CharField(source="kind_id")
    division = serializers.CharField(source="division_id")
    status_label = serializers.CharField(source="get_status_display")

    class Meta:
        model = Application
        geo_field = "site"
        fields = ["id", "reference", "title", "kind", "division", "status", "status_label", "current_level", "green_channel",
                  "site_area_m2", "submitted_at", "accepted_at", "promised_due", "statutory_due", "decided_at"]


def clock_data(clock) -> dict | None:
    """A Clock as JSON: working days as strings (half-day decimals), deadline as ISO time."""
    if clock is None:
        return None
    return {"due": clock.due.isoformat() if clock.due else None, "limit": None if clock.limit is None else str(clock.limit),
            "used": str(clock.used), "left": None if clock.left is None else str(clock.left),
            "overdue": clock.overdue, "due_soon": clock.due_soon, "running": clock.running}


class ParcelFeatureSerializer(GeoFeatureModelSerializer):
    """A registered parcel for picking and snapping: code, land class and area only (right holders
    are personal data and not for applicants' maps)."""

    class Meta:
        model = Parcel
        geo_field = "geom"
        fields = ["code", "land_class", "area_m2"]
