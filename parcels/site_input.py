"""Parsing a site boundary (drawn on the map or uploaded as GeoJSON) into a valid MultiPolygon.

Preconditions the caller can rely on afterwards: SRID 4490, valid, non-empty, polygonal, every
vertex inside China's lon/lat range. Anything else raises a SpatialInputError that names the
feature and ring at fault.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from django.contrib.gis.gdal import GDALException, SpatialReference
from django.contrib.gis.geos import GEOSException, GEOSGeometry, MultiPolygon, Polygon
from django.utils.translation import gettext as _

from parcels.exceptions import CRSError, InvalidGeometryError, SpatialInputError
from parcels.geo import MIN_AREA_DEG2, STORAGE_SRID
from parcels.importers.safety import gdal_lockdown, is_crs84_name
from parcels.limits import check_geojson_size

# Every GDAL in the process is locked (allowed drivers only, no network) as soon as the code that
# takes spatial input is loaded, not only before the first file import.
gdal_lockdown()

# China's extent in lon/lat (degrees); coordinates outside it are certainly not a site here.
CHINA_LON = (73.0, 136.0)
CHINA_LAT = (3.0, 54.0)
# Coordinates beyond this (metres or degrees) are no survey's: the largest zone-prefixed easting is
# below 1e8; bigger values only overflow transformations.
MAX_COORDINATE = 1e9
EPSG_NAME = re.compile(r"^(?:urn:ogc:def:crs:EPSG:[0-9.]*:|EPSG:)([0-9]{4,6})$", re.IGNORECASE)


def _crs_srid(doc: dict[str, Any], source: str) -> int:
    """SRID named by a legacy GeoJSON `crs` member; RFC 7946 GeoJSON has none and is lon/lat.

    Only EPSG codes and CRS84 are accepted: a free-form SRS string is never handed to GDAL
    (GDAL < 3.9 may open files or URLs named in one), and a linked CRS is refused.
    """
    crs = doc.get("crs")
    if crs is None:
        return STORAGE_SRID
    if not isinstance(crs, dict):
        raise CRSError(_("the crs member is not an object"), source=source)
    properties = crs.get("properties")
    if crs.get("type") == "link" or (isinstance(properties, dict) and "href" in properties):
        raise CRSError(_("a linked crs (\"type\": \"link\") is refused: the server does not fetch URLs; name an EPSG code"), source=source)
    name = properties.get("name", "") if isinstance(properties, dict) else ""
    name = name if isinstance(name, str) else ""
    if is_crs84_name(name):
        return 4326
    match = EPSG_NAME.match(name)
    if not match:
        raise CRSError(_("unsupported coordinate reference system %(name)r; use an EPSG code") % {"name": name[:80]}, source=source)
    srid = int(match.group(1))
    try:
        SpatialReference(srid)
    except Exception as exc:  # GDAL raises SRSException or GDALException for unknown codes
        raise CRSError(_("unknown EPSG code %(srid)d") % {"srid": srid}, source=source) from exc
    return srid


def _items(doc: dict[str, Any], source: str) -> list[tuple[Any, str]]:
    """(geometry, label) for every geometry of a FeatureCollection, Feature or bare geometry."""
    kind = doc.get("type")
    if kind == "FeatureCollection":
        features = doc.get("features")
        if features is None:
            features = []
        if not isinstance(features, (list, tuple)):
            raise SpatialInputError(_("\"features\" is not a list"), source=source)
        items = []
        for i, feature in enumerate(features):
            label = _("feature %(n)d") % {"n": i + 1}
            if not isinstance(feature, dict):
                raise InvalidGeometryError(_("is not a GeoJSON Feature object"), source=source, location=label)
            items.append((feature.get("geometry"), label))
        return items
    if kind == "Feature":
        return [(doc.get("geometry"), _("feature 1"))]
    return [(doc, _("geometry"))]


def _polygons(geometry: Any, where: str, source: str) -> list[Any]:
    """The coordinate arrays of the polygons of a Polygon or MultiPolygon geometry object."""
    if geometry is None:
        raise InvalidGeometryError(_("has no geometry"), source=source, location=where)
    if not isinstance(geometry, dict):
        raise InvalidGeometryError(_("the geometry is not a GeoJSON object"), source=source, location=where)
    gtype = geometry.get("type")
    coordinates = geometry.get("coordinates")
    if gtype == "Polygon":
        return [coordinates]
    if gtype == "MultiPolygon":
        if coordinates is None:
            return []
        if not isinstance(coordinates, (list, tuple)):
            raise InvalidGeometryError(_("MultiPolygon coordinates are not a list of polygons"), source=source, location=where)
        return coordinates
    shown = gtype if isinstance(gtype, str) else type(gtype).__name__
    raise InvalidGeometryError(
        _("a site must be a Polygon or MultiPolygon, not %(type)s") % {"type": shown[:40]}, source=source, location=where
    )


def _position(value: Any, where: str, source: str) -> tuple[float, float]:
    """A GeoJSON position as (x, y): two to four finite numbers; Z and M are dropped, on every
    path, because sites are stored 2-D (a Z that passed the check failed at submission before)."""
    if not isinstance(value, (list, tuple)) or not 2 <= len(value) <= 4:
        raise InvalidGeometryError(_("a position must be a list of 2 to 4 numbers, got %(value)s") % {"value": _shown(value)},
                                   source=source, location=where)
    out = []
    for number in value:
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            raise InvalidGeometryError(_("a coordinate is not a number: %(value)s") % {"value": _shown(number)}, source=source, location=where)
        try:
            number = float(number)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number) or abs(number) > MAX_COORDINATE:
            raise InvalidGeometryError(_("a coordinate is not a finite number of sensible size: %(value)s") % {"value": _shown(number)},
                                       source=source, location=where)
        out.append(number)
    return out[0], out[1]


def _shown(value: Any) -> str:
    return json.dumps(value, allow_nan=True, default=str)[:60] if not isinstance(value, float) else repr(value)


def _lonlat(points: list[Any], srid: int) -> list[tuple[float, float]]:
    """Positions of the document (in `srid`) as lon/lat in 4490 for pinning an error on the map."""
    out = []
    for p in points:
        try:
            point = GEOSGeometry(f"SRID={srid};POINT({float(p[0])} {float(p[1])})")
            if srid != STORAGE_SRID:
                point.transform(STORAGE_SRID)
        except (GEOSException, GDALException, ValueError, TypeError, IndexError, KeyError):
            continue
        out.append((round(point.x, 7), round(point.y, 7)))
    return out


# GEOS names the place of an invalidity: "Self-intersection[113.94 29.955]"
_GEOS_POINT = re.compile(r"\[(-?[0-9.]+(?:e-?[0-9]+)?) (-?[0-9.]+(?:e-?[0-9]+)?)\]")


def _reason_points(reason: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in _GEOS_POINT.findall(reason)]


def _ring(ring: Any, where: str, source: str, srid: int = STORAGE_SRID) -> list[tuple[float, float]]:
    """A linear ring's 2-D positions: at least 4, closed; the first problem raises. (Tuples come
    from shapely's __geo_interface__; JSON gives lists.)"""
    if not isinstance(ring, (list, tuple)):
        raise InvalidGeometryError(_("a ring is not a list of positions"), source=source, location=where)
    if len(ring) < 4:
        raise InvalidGeometryError(_("ring has fewer than 4 points"), source=source, location=where,
                                   points=_lonlat(ring[:1], srid))
    points = [_position(p, where, source) for p in ring]
    if points[0] != points[-1]:
        raise InvalidGeometryError(
            _("ring is not closed (first point %(first)s, last point %(last)s)") % {"first": list(points[0]), "last": list(points[-1])},
            source=source,
            location=where,
            points=_lonlat([points[0], points[-1]], srid),
        )
    return points


def _inside(extent: tuple[float, float, float, float], lon: tuple[float, float], lat: tuple[float, float]) -> bool:
    xmin, ymin, xmax, ymax = extent
    return lon[0] <= xmin and xmax <= lon[1] and lat[0] <= ymin and ymax <= lat[1]


def _check_lonlat(poly: Polygon, where: str, source: str) -> None:
    """Coordinates must be lon/lat inside China; swapped axes and projected metres are named as such."""
    extent = poly.extent
    if _inside(extent, CHINA_LON, CHINA_LAT):
        return
    shown = [round(v, 5) for v in extent]
    if _inside(extent, CHINA_LAT, CHINA_LON):
        raise CRSError(
            _("coordinates look like latitude/longitude (axes swapped, extent %(extent)s); GeoJSON is longitude first") % {"extent": shown},
            source=source,
            location=where,
        )
    if _inside(extent, (-180.0, 180.0), (-90.0, 90.0)):
        raise CRSError(_("coordinates lie outside China (extent %(extent)s)") % {"extent": shown}, source=source, location=where)
    raise CRSError(
        _(
            "coordinates are not longitude/latitude (extent %(extent)s); projected coordinates need "
            "a declared CRS, e.g. EPSG:4526 for CGCS2000 3° zone 38"
        )
        % {"extent": [round(v, 3) for v in extent]},
        source=source,
        location=where,
    )


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _load(data: str | bytes, source: str) -> Any:
    try:
        return json.loads(data, parse_constant=_no_constant)
    except RecursionError as exc:
        raise SpatialInputError(_("not valid GeoJSON: nested too deeply"), source=source) from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        where = _("line %(line)s") % {"line": line} if line else None
        raise SpatialInputError(_("not valid JSON: %(error)s") % {"error": getattr(exc, "msg", str(exc))}, source=source, location=where) from exc
    except ValueError as exc:  # NaN/Infinity, integers too long for Python
        raise SpatialInputError(_("not valid JSON: %(error)s") % {"error": str(exc)[:100]}, source=source) from exc


def parse_site_geojson(data: str | bytes | dict[str, Any], *, source: str = "GeoJSON") -> MultiPolygon:
    """Parses a GeoJSON geometry, Feature or FeatureCollection of polygons into one MultiPolygon (4490).

    Parts are kept as given (not dissolved); overlapping parts are an error because the site's
    area would be counted twice. Z and M values are dropped. Every malformed input (wrong types,
    NaN, deep nesting, …) raises SpatialInputError; nothing else escapes.
    """
    doc = _load(data, source) if isinstance(data, (str, bytes)) else data
    if not isinstance(doc, dict) or "type" not in doc:
        raise SpatialInputError(_("not a GeoJSON object"), source=source)
    try:
        return _parse(doc, source)
    except RecursionError as exc:  # a dict from a JSON parser elsewhere, nested too deeply
        raise SpatialInputError(_("not valid GeoJSON: nested too deeply"), source=source) from exc


def _parse(doc: dict[str, Any], source: str) -> MultiPolygon:
    srid = _crs_srid(doc, source)
    items = _items(doc, source)
    if not items:
        raise InvalidGeometryError(_("no features"), source=source)
    # parts and vertices counted before any geometry is built (parcels/limits.py: item 7 of issue 9)
    check_geojson_size(g for g, _label in items)

    polygons: list[Polygon] = []
    for geometry, label in items:
        for p_index, rings in enumerate(_polygons(geometry, label, source)):
            where = _("%(label)s, polygon %(p)d") % {"label": label, "p": p_index + 1}
            if not rings:
                raise InvalidGeometryError(_("empty polygon"), source=source, location=where)
            if not isinstance(rings, (list, tuple)):
                raise InvalidGeometryError(_("polygon coordinates are not a list of rings"), source=source, location=where)
            clean = []
            for r_index, ring in enumerate(rings):
                ring_where = _("%(label)s, polygon %(p)d, ring %(r)d") % {"label": label, "p": p_index + 1, "r": r_index + 1}
                clean.append(_ring(ring, ring_where, source, srid))
            try:
                poly = Polygon(*clean, srid=srid)
                if srid != STORAGE_SRID:
                    poly.transform(STORAGE_SRID)
            except (GEOSException, GDALException, ValueError, TypeError) as exc:
                raise InvalidGeometryError(_("unreadable coordinates (%(error)s)") % {"error": str(exc)[:100]}, source=source, location=where) from exc
            _check_lonlat(poly, where, source)
            if not poly.valid:
                raise InvalidGeometryError(
                    _("invalid polygon: %(reason)s") % {"reason": poly.valid_reason}, source=source, location=where,
                    points=_reason_points(poly.valid_reason),
                )
            if poly.area <= MIN_AREA_DEG2:
                raise InvalidGeometryError(_("polygon has zero area"), source=source, location=where)
            polygons.append(poly)

    site = MultiPolygon(polygons, srid=STORAGE_SRID)
    if not site.valid:
        raise InvalidGeometryError(
            _("the site's polygons overlap each other: %(reason)s") % {"reason": site.valid_reason}, source=source,
            points=_reason_points(site.valid_reason),
        )
    return site
