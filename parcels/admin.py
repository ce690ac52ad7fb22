"""Admin for the spatial core. Geometry fields are read-only here: GeoDjango's admin map widget
loads OpenLayers from a CDN, which a closed network cannot reach; geometries come in by import."""

from django.contrib import admin

from parcels.models import Division, Layer, LayerVersion, Parcel


@admin.register(Division)
class DivisionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name", "name_en"]
    exclude = ["boundary"]


@admin.register(Layer)
class LayerAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "kind", "rule", "color", "sort_order", "min_zoom", "public"]
    list_editable = ["rule", "color", "sort_order", "min_zoom", "public"]
    list_filter = ["public"]

    def has_delete_permission(self, request, obj=None) -> bool:
        # A layer whose versions an overlap report cites is evidence behind a decision: the app role
        # may not delete report rows (onemap/dbroles.py), so refuse here with a 403, not a 500.
        if obj is not None and obj.versions.filter(overlap_reports__isnull=False).exists():
            return False
        return super().has_delete_permission(request, obj)


@admin.register(LayerVersion)
class LayerVersionAdmin(admin.ModelAdmin):
    list_display = ["layer", "version", "source_name", "feature_count", "is_active", "imported_at", "imported_by"]
    list_filter = ["layer", "is_active"]
    readonly_fields = ["layer", "version", "source_name", "source_sha256", "source_srid", "feature_count", "is_active", "imported_at", "imported_by"]

    def has_delete_permission(self, request, obj=None) -> bool:
        # Versions are replaced by importing a new one, never deleted: reports name the version they
        # were computed against, and a deleted one would leave the decision without its evidence.
        return False


@admin.register(Parcel)
class ParcelAdmin(admin.ModelAdmin):
    list_display = ["code", "right_holder", "right_type", "land_class", "status", "division", "area_m2"]
    list_filter = ["status", "division", "right_type"]
    search_fields = ["code", "right_holder"]
    exclude = ["geom"]
    readonly_fields = ["area_m2"]
