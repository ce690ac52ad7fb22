"""Writes of the spatial core: divisions, layer versions and parcels. Each is one transaction."""

from __future__ import annotations

import hashlib
from pathlib import Path

import geopandas as gpd
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.db import transaction
from django.db.models import Max
from shapely.geometry.base import BaseGeometry
from tqdm import tqdm

from parcels.exceptions import InvalidGeometryError, SpatialInputError
from parcels.geo import STORAGE_SRID, GeographyArea
from parcels.models import Division, Layer, LayerVersion, Parcel, Zone


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _multipolygon(shape: BaseGeometry, *, where: str, source: str) -> MultiPolygon:
    """A shapely polygon/multipolygon in 4490 as a valid GEOS MultiPolygon, or a precise error."""
    if shape is None or shape.is_empty:
        raise InvalidGeometryError("empty geometry", source=source, location=where)
    geom = GEOSGeometry(memoryview(shape.wkb), srid=STORAGE_SRID)
    if geom.geom_type == "Polygon":
        geom = MultiPolygon(geom, srid=STORAGE_SRID)
    if geom.geom_type != "MultiPolygon":
        raise InvalidGeometryError(f"expected a polygon, got {geom.geom_type}", source=source, location=where)
    if not geom.valid:
        raise InvalidGeometryError(f"invalid geometry: {geom.valid_reason}", source=source, location=where)
    return geom


def _to_storage_crs(frame: gpd.GeoDataFrame, source: str) -> gpd.GeoDataFrame:
    if frame.crs is None:
        raise SpatialInputError("the file declares no coordinate reference system", source=source)
    return frame if frame.crs.to_epsg() == STORAGE_SRID else frame.to_crs(epsg=STORAGE_SRID)


@transaction.atomic
def division_load(*, frame: gpd.GeoDataFrame, source: str) -> int:
    """Creates or updates divisions from a frame with code, name, name_en, level, parent_code.

    Parents are written before children (rows are sorted by level), so foreign keys hold.
    """
    frame = _to_storage_crs(frame, source)
    order = {"nation": 0, "province": 1, "city": 2, "county": 3}
    rows = sorted(frame.itertuples(index=False), key=lambda r: order[r.level])
    if not Division.objects.filter(code="100000").exists():
        nation = Division(code="100000", name="中华人民共和国", name_en="People's Republic of China", level="nation")
        nation.full_clean()
        nation.save()
    for i, row in enumerate(rows):
        parent_code = row.parent_code if isinstance(row.parent_code, str) and row.parent_code else "100000"
        division = Division.objects.filter(code=row.code).first() or Division(code=row.code)
        division.name = row.name
        division.name_en = row.name_en or ""
        division.level = row.level
        division.parent_id = parent_code
        division.boundary = _multipolygon(row.geometry, where=f"feature {i + 1} ({row.code})", source=source)
        division.full_clean()
        division.save()
    return len(rows)


@transaction.atomic
def layer_version_create(
    *,
    layer: Layer,
    frame: gpd.GeoDataFrame,
    source_name: str,
    class_field: str = "class_code",
    class_name_field: str | None = "class_name",
    source_sha256: str = "",
    by: AbstractBaseUser | None = None,
    progress: bool = False,
) -> LayerVersion:
    """Imports `frame` as the next version of `layer` and makes it the active one.

    All or nothing: any bad feature raises SpatialInputError naming it, and nothing is written.
    Areas are computed in PostGIS (ellipsoidal, m²) after insertion, never read from the file.
    """
    missing = [f for f in (class_field, class_name_field) if f and f not in frame.columns]
    if missing:
        raise SpatialInputError(f"missing field(s) {', '.join(missing)}; fields are {', '.join(map(str, frame.columns))}", source=source_name)
    source_srid = frame.crs.to_epsg() if frame.crs is not None else None
    frame = _to_storage_crs(frame, source_name)
    number = (LayerVersion.objects.select_for_update().filter(layer=layer).aggregate(n=Max("version"))["n"] or 0) + 1
    LayerVersion.objects.filter(layer=layer, is_active=True).update(is_active=False)
    version = LayerVersion(
        layer=layer,
        version=number,
        source_name=source_name,
        source_sha256=source_sha256,
        source_srid=source_srid,
        is_active=True,
        imported_by=by,
    )
    version.full_clean()
    version.save()
    attribute_columns = [c for c in frame.columns if c not in {frame.geometry.name, class_field, class_name_field}]
    zones = []
    rows = frame.itertuples(index=False)
    for i, row in enumerate(tqdm(rows, total=len(frame), desc=layer.slug, unit="feat", disable=not progress)):
        record = row._asdict()
        geom = _multipolygon(record[frame.geometry.name], where=f"feature {i + 1}", source=source_name)
        zones.append(
            Zone(
                layer_version=version,
                class_code=str(record[class_field]),
                class_name=str(record[class_name_field]) if class_name_field else "",
                attributes={c: _jsonable(record[c]) for c in attribute_columns},
                geom=geom,
                area_m2=1.0,  # placeholder, replaced by the computed area below in this transaction
            )
        )
    Zone.objects.bulk_create(zones, batch_size=2000)
    Zone.objects.filter(layer_version=version).update(area_m2=GeographyArea("geom"))
    version.feature_count = len(zones)
    version.save(update_fields=["feature_count"])
    return version


@transaction.atomic
def parcel_load(*, frame: gpd.GeoDataFrame, source: str) -> int:
    """Creates the registered parcels of `frame` that do not exist yet (matched by parcel code).

    Each parcel's division is the county whose boundary contains its centroid.
    """
    frame = _to_storage_crs(frame, source)
    existing = set(Parcel.objects.filter(code__in=list(frame["code"])).values_list("code", flat=True))
    # County boundaries are large: test containment against prepared geometries held in memory.
    counties = [(d, d.boundary.prepared) for d in Division.objects.filter(level="county").exclude(boundary__isnull=True)]
    created = []
    for i, row in enumerate(frame.itertuples(index=False)):
        if row.code in existing:
            continue
        geom = _multipolygon(row.geometry, where=f"feature {i + 1} ({row.code})", source=source)
        point = geom.point_on_surface
        division = next((d for d, prepared in counties if prepared.contains(point)), None)
        if division is None:
            raise SpatialInputError("parcel lies outside every county", source=source, location=f"feature {i + 1} ({row.code})")
        parcel = Parcel(
            code=row.code,
            right_holder=row.right_holder,
            right_type=row.right_type,
            land_class=row.land_class,
            division=division,
            geom=geom,
            area_m2=1.0,  # replaced by the computed area below
        )
        parcel.full_clean(exclude=["area_m2"])
        created.append(parcel)
    Parcel.objects.bulk_create(created)
    Parcel.objects.filter(code__in=[p.code for p in created]).update(area_m2=GeographyArea("geom"))
    return len(created)


def _jsonable(value: object) -> object:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)
