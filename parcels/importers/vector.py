"""Reading any vector file GDAL reads (through pyogrio) into arrays ready for validation.

Like GeoDjango's LayerMapping: the field mapping is declared and checked against the file's
schema *before* any row is read; every problem is a SpatialInputError naming the file.
Output geometries are shapely arrays in EPSG:4490 (CGCS2000 lon/lat).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from django.utils.translation import gettext as _
from pyproj import CRS, Transformer

from parcels.exceptions import CRSError, SpatialInputError
from parcels.geo import STORAGE_SRID
from parcels.importers.safety import Checked, checked_vector_file, expect_driver

# Field names commonly holding a class code, tried in order when --class-field is not given:
# DLBM (三调 land class), GZQLXDM (plan control zone), and generic names.
CLASS_FIELD_CANDIDATES = ("class_code", "DLBM", "dlbm", "GZQLXDM", "gzqlxdm", "YSDM", "code", "CODE", "class", "CLASS")
CLASS_NAME_CANDIDATES = ("class_name", "DLMC", "dlmc", "GZQLXMC", "name", "NAME", "MC")
WKT_COLUMNS = "WKT,wkt,geometry,GEOMETRY,geom,the_geom"


@dataclass(frozen=True)
class FieldMapping:
    """Which source fields become Zone.class_code and Zone.class_name (None: constant/empty)."""

    class_code: str | None
    class_name: str | None


@dataclass
class SourceData:
    """A file's features: geometries (EPSG:4490), class codes/names, other attributes."""

    source: str
    geoms: np.ndarray
    class_codes: np.ndarray
    class_names: np.ndarray
    attributes: pd.DataFrame
    source_srid: int | None
    warnings: list[str] = field(default_factory=list)


def _open_options(path: Path) -> dict[str, str]:
    if path.suffix.lower() == ".csv":
        return {"GEOM_POSSIBLE_NAMES": WKT_COLUMNS, "KEEP_GEOM_COLUMNS": "NO"}
    return {}


def _layer_info(checked: Checked, layer: str | None) -> dict:
    """pyogrio's read_info of a checked file; the driver GDAL chose must be the promised one."""
    if layer is not None:
        try:
            layers = [str(row[0]) for row in pyogrio.list_layers(checked.path)]
        except Exception as exc:  # pyogrio raises DataSourceError and GDAL errors
            raise SpatialInputError(_("cannot be read as a vector file: %(error)s") % {"error": _short(exc, checked)}, source=checked.source) from exc
        if layer not in layers:
            raise SpatialInputError(
                _("has no layer %(layer)s; its layers are: %(layers)s") % {"layer": layer, "layers": ", ".join(layers) or "—"},
                source=checked.source,
            )
    try:
        info = pyogrio.read_info(checked.path, layer=layer, **_open_options(checked.path))
    except Exception as exc:  # pyogrio raises DataSourceError/DataLayerError/GDAL errors
        raise SpatialInputError(_("cannot be read as a vector file: %(error)s") % {"error": _short(exc, checked)}, source=checked.source) from exc
    expect_driver(info.get("driver"), checked)
    if info.get("geometry_type") in (None, "Unknown") and not info.get("features"):
        raise SpatialInputError(_("contains no features"), source=checked.source)
    return info


def inspect_fields(path: Path, *, layer: str | None = None) -> list[str]:
    """The attribute field names of a file (the schema check runs before any row is read)."""
    with checked_vector_file(path) as checked:
        return [str(f) for f in _layer_info(checked, layer)["fields"]]


def resolve_mapping(fields: list[str], *, class_field: str | None, class_name_field: str | None, source: str) -> FieldMapping:
    if class_field is not None and class_field not in fields:
        raise SpatialInputError(
            _("has no field %(field)s; its fields are: %(fields)s") % {"field": class_field, "fields": ", ".join(fields) or "—"},
            source=source,
        )
    if class_name_field is not None and class_name_field not in fields:
        raise SpatialInputError(
            _("has no field %(field)s; its fields are: %(fields)s") % {"field": class_name_field, "fields": ", ".join(fields) or "—"},
            source=source,
        )
    code = class_field or next((f for f in CLASS_FIELD_CANDIDATES if f in fields), None)
    name = class_name_field or next((f for f in CLASS_NAME_CANDIDATES if f in fields and f != code), None)
    return FieldMapping(class_code=code, class_name=name)


def _epsg_of(crs_text: str | None, source: str) -> int | None:
    if not crs_text:
        return None
    try:
        crs = CRS.from_user_input(crs_text)
    except Exception as exc:  # pyproj.exceptions.CRSError
        raise CRSError(_("declares a coordinate reference system PROJ does not understand"), source=source) from exc
    # ESRI-flavoured WKT (shapefile .prj) often matches its EPSG code only at low confidence.
    epsg = crs.to_epsg(min_confidence=70) or crs.to_epsg(min_confidence=20)
    if epsg is None and crs.is_geographic and crs.equals(CRS.from_epsg(STORAGE_SRID), ignore_axis_order=True):
        epsg = STORAGE_SRID
    if epsg is None:
        raise CRSError(_("declares a coordinate reference system without an EPSG code (%(name)s); re-export it with an EPSG code or pass --srid") % {"name": crs.name}, source=source)
    return epsg


_PREFIXED_EASTING = re.compile(r"^\d{8}")


def _guess_without_crs(bounds: np.ndarray, source: str) -> tuple[int, list[str]]:
    """Decides the CRS of a file that declares none, from the magnitude of its coordinates."""
    xmin, ymin, xmax, ymax = bounds
    if -180 <= xmin and xmax <= 180 and -90 <= ymin and ymax <= 90:
        return STORAGE_SRID, [_("no coordinate reference system declared; the coordinates look like longitude/latitude and were taken as CGCS2000 (EPSG:4490)")]
    hint = ""
    if 13_000_000 <= xmin and xmax < 46_000_000 and 1_000_000 <= ymin < 6_000_000:
        zone = int(xmin // 1_000_000)
        if 25 <= zone <= 45:
            hint = _(" The eastings carry zone prefix %(zone)d: CGCS2000 3° zone %(zone)d is EPSG:%(epsg)d.") % {"zone": zone, "epsg": zone + 4488}
        elif 13 <= zone <= 23:
            hint = _(" The eastings carry zone prefix %(zone)d: CGCS2000 6° zone %(zone)d is EPSG:%(epsg)d.") % {"zone": zone, "epsg": zone + 4478}
    elif 13_000_000 <= ymin and ymax < 46_000_000 and 1_000_000 <= xmin < 6_000_000:
        hint = _(" X and Y look swapped (Chinese survey X is the northing).")
    raise CRSError(
        _("has projected coordinates (extent %(extent)s) but declares no coordinate reference system; pass --srid, e.g. --srid 4526 for CGCS2000 3° Gauss–Krüger zone 38 with zone prefix, or 4547 without.%(hint)s")
        % {"extent": [round(float(v), 1) for v in bounds], "hint": hint},
        source=source,
    )


def _check_lonlat_range(bounds: np.ndarray, srid: int, source: str) -> None:
    """Coordinates taken as longitude/latitude must be in range: GeoJSON without a crs member is
    EPSG:4326 to GDAL, so Web Mercator metres or swapped axes would otherwise pass as degrees."""
    xmin, ymin, xmax, ymax = bounds
    if not np.all(np.isfinite(bounds)):
        raise CRSError(_("has coordinates that are not finite numbers (NaN or infinity)"), source=source)
    if -180 <= xmin and xmax <= 180 and -90 <= ymin and ymax <= 90:
        return
    if -90 <= xmin and xmax <= 90 and -180 <= ymin and ymax <= 180:
        raise CRSError(
            _("declares or is taken as longitude/latitude (EPSG:%(srid)d) but its coordinates (extent %(extent)s) look like latitude/longitude: the axes are swapped, longitude comes first")
            % {"srid": srid, "extent": [round(float(v), 6) for v in bounds]},
            source=source,
        )
    # Projected metres taken as degrees: the same hint as a file that declares no CRS.
    _guess_without_crs(bounds, source)


def _read_frame(checked: Checked, *, layer: str | None, srid: int | None, encoding: str | None) -> tuple[gpd.GeoDataFrame, int, list[str]]:
    source = checked.source
    try:
        frame = pyogrio.read_dataframe(checked.path, layer=layer, encoding=encoding, **_open_options(checked.path))
    except Exception as exc:
        raise SpatialInputError(_("cannot be read: %(error)s") % {"error": _short(exc, checked)}, source=source) from exc
    if len(frame) == 0:
        raise SpatialInputError(_("contains no features"), source=source)
    warnings: list[str] = []
    geoms = np.asarray(frame.geometry.values, dtype=object)
    # Z and M are dropped on every path (the site and layer geometries are 2-D).
    geoms = np.asarray(shapely.force_2d(geoms), dtype=object)
    declared = None if frame.crs is None else _epsg_of(frame.crs.to_wkt(), source)
    source_srid = srid or declared
    bounds = shapely.total_bounds(geoms)
    if source_srid is None:
        source_srid, warnings = _guess_without_crs(bounds, source)
    if srid and declared and srid != declared:
        warnings.append(_("the file declares EPSG:%(declared)d; --srid %(srid)d was used instead") % {"declared": declared, "srid": srid})
    try:
        source_crs = CRS.from_epsg(source_srid)
    except Exception as exc:  # pyproj.exceptions.CRSError for unknown codes
        raise CRSError(_("unknown EPSG code %(srid)d") % {"srid": source_srid}, source=source) from exc
    if source_crs.is_geographic:
        _check_lonlat_range(bounds, source_srid, source)
    elif not np.all(np.isfinite(bounds)):
        raise CRSError(_("has coordinates that are not finite numbers (NaN or infinity)"), source=source)
    if source_srid != STORAGE_SRID:
        transformer = Transformer.from_crs(source_srid, STORAGE_SRID, always_xy=True)
        geoms = shapely.transform(geoms, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))
        out = shapely.total_bounds(geoms)
        if not (np.all(np.isfinite(out)) and -180 <= out[0] and out[2] <= 180 and -90 <= out[1] and out[3] <= 90):
            raise CRSError(
                _("coordinates (extent %(extent)s) do not fit EPSG:%(srid)d: they cannot be converted to longitude/latitude; check the declared CRS or --srid")
                % {"extent": [round(float(v), 3) for v in bounds], "srid": source_srid},
                source=source,
            )
    frame = frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index), crs=None).set_crs(STORAGE_SRID, allow_override=True)
    return frame, source_srid, warnings


def read_frame(
    path: Path, *, layer: str | None = None, srid: int | None = None, encoding: str | None = None
) -> tuple[gpd.GeoDataFrame, int, list[str]]:
    """The file's features as a GeoDataFrame in EPSG:4490, the source EPSG code, and warnings.

    CRS: `srid` overrides; else the declared CRS; else lon/lat-looking coordinates are taken as 4490
    with a warning, and projected coordinates are an error naming the options. Longitude/latitude
    out of range (Web Mercator metres, swapped axes) is refused with the same hint.
    """
    with checked_vector_file(path) as checked:
        _layer_info(checked, layer)
        return _read_frame(checked, layer=layer, srid=srid, encoding=encoding)


def read_vector(
    path: Path,
    *,
    layer: str | None = None,
    class_field: str | None = None,
    class_name_field: str | None = None,
    srid: int | None = None,
    encoding: str | None = None,
    source: str | None = None,
    accepted: frozenset[str] | None = None,
) -> SourceData:
    """Reads `path` (GeoJSON, TopoJSON, Shapefile or zipped Shapefile, GeoPackage, KML, CSV with a
    WKT column, …) for a layer import: the field mapping is checked before any row is read.
    `source` names the file in messages; `accepted` limits the formats (parcels.importers.safety)."""
    with checked_vector_file(path, source=source, accepted=accepted) as checked:
        fields = [str(f) for f in _layer_info(checked, layer)["fields"]]
        mapping = resolve_mapping(fields, class_field=class_field, class_name_field=class_name_field, source=checked.source)
        frame, source_srid, warnings = _read_frame(checked, layer=layer, srid=srid, encoding=encoding)
    n = len(frame)
    codes = frame[mapping.class_code].astype(str).to_numpy() if mapping.class_code else np.full(n, "", dtype=object)
    names = frame[mapping.class_name].fillna("").astype(str).to_numpy() if mapping.class_name else np.full(n, "", dtype=object)
    check_class_lengths(codes, names, source=checked.source, field=mapping.class_code)
    other = [c for c in frame.columns if c not in {frame.geometry.name, mapping.class_code, mapping.class_name}]
    return SourceData(
        source=checked.source,
        geoms=np.asarray(frame.geometry.values, dtype=object),
        class_codes=codes,
        class_names=names,
        attributes=pd.DataFrame(frame[other]),
        source_srid=source_srid,
        warnings=warnings,
    )


def check_class_lengths(codes: np.ndarray, names: np.ndarray, *, source: str, field: str | None = None) -> None:
    """Class codes and names must fit Zone's columns; a long one is refused here, naming the
    features, rather than failing inside COPY."""
    from parcels.models import Zone

    for values, column, label in ((codes, "class_code", _("class code")), (names, "class_name", _("class name"))):
        limit = Zone._meta.get_field(column).max_length
        too_long = [i for i, v in enumerate(values) if len(str(v)) > limit]
        if too_long:
            shown = ", ".join(str(i + 1) for i in too_long[:10]) + (" …" if len(too_long) > 10 else "")
            raise SpatialInputError(
                _("%(label)s longer than %(limit)d characters in feature(s) %(features)s (e.g. %(value)r)%(field)s")
                % {"label": label, "limit": limit, "features": shown, "value": str(values[too_long[0]])[:40],
                   "field": (_("; field %(field)s") % {"field": field}) if field and column == "class_code" else ""},
                source=source,
            )


def _short(exc: Exception, checked: Checked | None = None) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if checked is not None:
        # GDAL names our temporary path; the user knows the file by its own name.
        text = text.replace(str(checked.path), checked.source)
    return text[:300]
