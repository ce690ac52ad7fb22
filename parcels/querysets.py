"""Reusable spatial predicates as QuerySet methods."""

from __future__ import annotations

from django.contrib.gis.db.models.functions import Intersection
from django.contrib.gis.geos import GEOSGeometry
from django.db import models

from parcels.geo import GeographyArea


class ZoneQuerySet(models.QuerySet):
    def active(self) -> ZoneQuerySet:
        """Zones of the active version of their layer."""
        return self.filter(layer_version__is_active=True)


class ParcelQuerySet(models.QuerySet):
    def registered(self) -> ParcelQuerySet:
        return self.filter(status="registered")

    def touching(self, site: GEOSGeometry) -> ParcelQuerySet:
        return self.filter(geom__intersects=site)

    def with_overlap_area(self, site: GEOSGeometry) -> ParcelQuerySet:
        return self.annotate(overlap_m2=GeographyArea(Intersection("geom", site)))
