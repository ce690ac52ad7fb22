"""DRF serializers for map data (GeoJSON through djangorestframework-gis)."""

from __future__ import annotations

from django.contrib.gis.geos import GEOSGeometry
from rest_framework import serializers
from rest_framework_gis.fields import GeometrySerializerMethodField
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from parcels.models import Layer, Zone


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
