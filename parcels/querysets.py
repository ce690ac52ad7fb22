"""Reusable spatial predicates as QuerySet methods."""

from __future__ import annotations

from django.contrib.gis.db.models.functions import Intersection
from django.contrib.gis.geos import GEOSGeometry
from django.db import models

from parcels.geo import CollectionExtractPolygons, GeographyArea


class ZoneQuerySet(models.QuerySet):
    def active(self) -> ZoneQuerySet:
        return self.filter(layer_version__is_active=True)

    def touching(self, site: GEOSGeometry) -> ZoneQuerySet:
        """Zones whose geometry shares area or boundary with `site` (GiST-indexed ST_Intersects)."""
        return self.filter(geom__intersects=site)

    def with_overlap_area(self, site: GEOSGeometry) -> ZoneQuerySet:
        """Annotates `overlap_m2`: ellipsoidal area (m²) of the zone's intersection with `site`."""
        return self.annotate(overlap_m2=GeographyArea(Intersection("geom", site)))

    def with_overlap_piece(self, site: GEOSGeometry) -> ZoneQuerySet:
        return self.annotate(piece=CollectionExtractPolygons(Intersection("geom", site)))


class ParcelQuerySet(models.QuerySet):
    def registered(self) -> ParcelQuerySet:
        return self.filter(status="registered")

    def touching(self, site: GEOSGeometry) -> ParcelQuerySet:
        return self.filter(geom__intersects=site)

    def with_overlap_area(self, site: GEOSGeometry) -> ParcelQuerySet:
        return self.annotate(overlap_m2=GeographyArea(Intersection("geom", site)))
