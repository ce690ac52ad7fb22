"""The boundary-point table (界址点成果表): one typed selector shared by the certificate PDF, the
surveyors' HTML page and the site TXT download.

Coordinates are CGCS2000 3° Gauss–Krüger of the site's zone (EPSG zone + 4488, zone-prefixed
easting), X = northing and Y = easting in metres rounded to the millimetre. The table is built with
the national TXT exporter's own steps (parcels.importers.boundary_txt: the same transformation, each
exterior clockwise, every ring rounded to mm and started at its north-westernmost vertex, points
numbered J1… per parcel, each ring closed by repeating its first point), and the zone is chosen
once here and handed to both, so table and TXT agree to the millimetre.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.polygon import orient

from approvals.models import Application
from parcels.geo import M2_PER_HA, gk3_zone
from parcels.importers.boundary_txt import (
    GEOGRAPHIC_CRS,
    ExportParcel,
    export_boundary_txt,
)
from parcels.importers.boundary_txt import _export_ring as export_ring  # the exporter's rounding and start vertex
from parcels.importers.boundary_txt import _transform as transform  # the exporter's cached pyproj transformation


class BoundaryUnavailable(ValueError):
    """The site lies outside China's 3° Gauss–Krüger zones 25–45 (no national coordinates)."""


@dataclass(frozen=True)
class BoundaryPoint:
    """One row: point name (J1…), ring number (1 = exterior of the first polygon), X northing and
    Y easting (m, zone-prefixed, mm), and the length of the edge to the next row's point (m, GK
    planar, from the rounded coordinates; None on the row that closes the ring)."""

    name: str
    ring: int
    x: float
    y: float
    edge_m: float | None

    # Written exactly as the TXT writes them (f"{value:.3f}"), so paper and file read the same.
    @property
    def x_text(self) -> str:
        return f"{self.x:.3f}"

    @property
    def y_text(self) -> str:
        return f"{self.y:.3f}"

    @property
    def edge_text(self) -> str:
        return f"{self.edge_m:.2f}" if self.edge_m is not None else ""


@dataclass(frozen=True)
class BoundaryParcel:
    number: str
    name: str
    gk_area_m2: float  # planar, of the mm-rounded rings, as the TXT's 地块面积 (there in ha)
    points: tuple[BoundaryPoint, ...]

    @property
    def gk_area_ha(self) -> float:
        return self.gk_area_m2 / M2_PER_HA

    @property
    def point_count(self) -> int:
        """Distinct boundary points (closing rows not counted)."""
        return sum(1 for p in self.points if p.edge_m is not None)


@dataclass(frozen=True)
class BoundaryTable:
    zone: int
    epsg: int
    parcels: tuple[BoundaryParcel, ...]

    @property
    def points(self) -> list[BoundaryPoint]:
        return [p for parcel in self.parcels for p in parcel.points]


def zone_for(parcels: Sequence[ExportParcel]) -> int:
    """The 3° zone of the parcels' centroid longitude; BoundaryUnavailable outside zones 25–45."""
    lon = shapely.GeometryCollection([p.geometry for p in parcels]).centroid.x
    zone = gk3_zone(lon)
    if not 25 <= zone <= 45:
        raise BoundaryUnavailable(f"longitude {lon:.6f} is outside China's 3° Gauss–Krüger zones 25–45")
    return zone


def boundary_table(*, parcels: Sequence[ExportParcel], zone: int | None = None) -> BoundaryTable:
    """The table of `parcels` (EPSG:4490 (Multi)Polygons) in `zone` (default: zone_for(parcels))."""
    if not parcels:
        raise ValueError("no parcels")
    zone = zone if zone is not None else zone_for(parcels)
    epsg = zone + 4488
    out: list[BoundaryParcel] = []
    for i, parcel in enumerate(parcels, 1):
        geom = parcel.geometry
        if isinstance(geom, Polygon):
            geom = MultiPolygon([geom])
        projected = transform(geom, GEOGRAPHIC_CRS, f"EPSG:{epsg}")
        rings: list[list[tuple[float, float]]] = []
        area = 0.0
        for polygon in projected.geoms:
            polygon = orient(polygon, -1.0)  # as the exporter: exterior clockwise, holes anticlockwise
            exterior = export_ring(np.asarray(polygon.exterior.coords))
            interiors = [export_ring(np.asarray(r.coords)) for r in polygon.interiors]
            area += Polygon(exterior, interiors).area
            rings.extend([exterior, *interiors])
        rows: list[BoundaryPoint] = []
        counter = 0
        for ring_number, ring in enumerate(rings, 1):
            first = ""
            for j, (easting, northing) in enumerate(ring):
                if j == len(ring) - 1:
                    rows.append(BoundaryPoint(first, ring_number, northing, easting, None))
                    continue
                counter += 1
                name = f"J{counter}"
                first = first or name
                nxt = ring[j + 1]
                rows.append(BoundaryPoint(name, ring_number, northing, easting, math.hypot(nxt[0] - easting, nxt[1] - northing)))
        out.append(BoundaryParcel(number=str(parcel.number) or str(i), name=parcel.name, gk_area_m2=area, points=tuple(rows)))
    return BoundaryTable(zone=zone, epsg=epsg, parcels=tuple(out))


def application_export_parcels(*, application: Application) -> list[ExportParcel]:
    """The application's site parcels (地块), in number order, as the exporter takes them."""
    return [
        ExportParcel(geometry=shapely.from_wkb(bytes(p.geom.wkb)), number=str(p.number), name=p.name, use=p.use, land_class=p.land_class)
        for p in application.parcels.order_by("number")
    ]


def application_boundary_table(*, application: Application) -> BoundaryTable:
    """The application's site as a boundary-point table (BoundaryUnavailable outside the zones)."""
    parcels = application_export_parcels(application=application)
    return boundary_table(parcels=parcels, zone=zone_for(parcels))


def application_boundary_txt(*, application: Application, date: str | None = None) -> bytes:
    """The site as the national boundary-point TXT (UTF-8), in the same zone as the table."""
    parcels = application_export_parcels(application=application)
    return export_boundary_txt(parcels, zone=zone_for(parcels), producer=application.division.name, date=date)
