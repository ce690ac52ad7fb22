"""Writes of the spatial core: divisions, layer versions and parcels. Each is one transaction."""

from __future__ import annotations

import hashlib
import queue
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.db import transaction
from django.db.models import Max
from shapely.geometry.base import BaseGeometry
from tqdm import tqdm

from parcels.choices import PARCEL_CODE_REGEX
from parcels.exceptions import InvalidGeometryError, SpatialInputError
from parcels.geo import STORAGE_SRID, GeographyArea, ellipsoidal_areas
from parcels.importers.validation import validate_geometries
from parcels.importers.vector import SourceData
from parcels.limits import lift_statement_timeout
from parcels.models import Division, Layer, LayerVersion, Parcel
from parcels.sql import copy_zones, refine_large_zone_areas, zone_copy_rows
from parcels.tiling import zone_min_zoom

PARCEL_CODE = re.compile(PARCEL_CODE_REGEX)


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
    order = {"nation": 0, "province": 1, "city": 2, "county": 3, "station": 4}
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


@dataclass
class ImportSummary:
    """What an import did: the new version, counts, repaired and rejected features with reasons."""

    version: LayerVersion | None
    read: int
    imported: int
    repaired: list[tuple[int, str]] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def rejected_by_reason(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for _i, reason in self.rejected:
            key = reason.split(":")[0]
            out[key] = out.get(key, 0) + 1
        return out


COPY_CHUNK = 20_000
# Zones wider or taller than this (degrees, ≈ 5 km) get their stored area from PostGIS geography:
# on long edges the equal-area projection's straight lines drift from geodesics.
LARGE_ZONE_SPAN_DEG = 0.05


def _copy_chunks(data: SourceData, keep: np.ndarray, geoms: np.ndarray, *, version_id: int, progress: bool, label: str) -> Iterator[bytes]:
    """Binary COPY rows for the kept features, chunk by chunk: areas (ellipsoidal m²), the zoom from
    which each zone is drawn, EWKB. Computed in a background thread while PostgreSQL ingests the
    previous chunk, so the two cores work at once."""
    codes = [str(c) for c in data.class_codes[keep]]
    names = [str(n) for n in data.class_names[keep]]
    if len(data.attributes.columns):
        # One JSON document per line. Split on "\n" only: str.splitlines() also splits on U+2028,
        # U+2029 and U+0085, which JSON leaves raw inside strings (text pasted from Word has them).
        text = data.attributes.iloc[keep].to_json(orient="records", lines=True, force_ascii=False, date_format="iso")
        attrs = text.rstrip("\n").split("\n") if text.strip() else []
    else:
        attrs = ["{}"] * len(keep)

    def produce() -> Iterator[bytes]:
        for start in range(0, len(geoms), COPY_CHUNK):
            part = geoms[start : start + COPY_CHUNK]
            areas = ellipsoidal_areas(part)
            min_zooms = zone_min_zoom(areas, shapely.get_y(shapely.centroid(part)))
            yield zone_copy_rows(
                layer_version_id=version_id,
                codes=codes[start : start + COPY_CHUNK],
                names=names[start : start + COPY_CHUNK],
                attributes=attrs[start : start + COPY_CHUNK],
                wkbs=shapely.to_wkb(part, include_srid=True).tolist(),
                areas=areas.tolist(),
                min_zooms=min_zooms.tolist(),
            )

    with tqdm(total=len(keep), desc=label, unit="feat", disable=not progress) as bar:
        for chunk in prefetch(produce(), depth=2):
            yield chunk
            bar.update(min(COPY_CHUNK, bar.total - bar.n))


def prefetch(items: Iterator[bytes], *, depth: int) -> Iterator[bytes]:
    """Runs `items` in a background thread, up to `depth` ahead; re-raises its exception here.
    If the consumer stops early (e.g. COPY failed), the producer is told to stop too."""
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for item in items:
                if not put(item):
                    return
        except BaseException as exc:  # handed to the consumer, which re-raises it
            put(exc)
        else:
            put(done)

    worker = threading.Thread(target=run, name="zone-copy-producer", daemon=True)
    worker.start()
    try:
        while (item := buffer.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


@transaction.atomic
def layer_import(
    *,
    layer: Layer,
    data: SourceData,
    source_name: str,
    skip_invalid: bool = False,
    source_sha256: str = "",
    by: AbstractBaseUser | None = None,
    progress: bool = False,
) -> ImportSummary:
    """Validates `data` (EPSG:4490) and stores it as the next, active version of `layer`.

    All or nothing: unless `skip_invalid`, any rejected feature raises InvalidGeometryError listing
    them and nothing is written. With `skip_invalid` the rejected ones are skipped and reported.
    Areas are computed (ellipsoidal m², parcels.geo.ellipsoidal_areas), never read from the file.
    """
    started = time.perf_counter()
    lift_statement_timeout()  # long by nature and bounded by the file (parcels/limits.py)
    checked = validate_geometries(data.geoms)
    for i, reason in checked.repaired:
        data.warnings.append(f"feature {i + 1}: repaired ({reason})")
    if checked.rejected and not skip_invalid:
        shown = "; ".join(f"feature {i + 1}: {reason}" for i, reason in checked.rejected[:20])
        more = f" (and {len(checked.rejected) - 20} more)" if len(checked.rejected) > 20 else ""
        raise InvalidGeometryError(
            f"{len(checked.rejected)} invalid feature(s), nothing imported: {shown}{more}. Use --skip-invalid to import the rest.",
            source=source_name,
        )
    if len(checked.keep) == 0:
        raise InvalidGeometryError("no valid features to import", source=source_name)
    number = (LayerVersion.objects.select_for_update().filter(layer=layer).aggregate(n=Max("version"))["n"] or 0) + 1
    LayerVersion.objects.filter(layer=layer, is_active=True).update(is_active=False)
    version = LayerVersion(
        layer=layer,
        version=number,
        source_name=source_name[:255],
        source_sha256=source_sha256,
        source_srid=data.source_srid,
        is_active=True,
        imported_by=by,
        feature_count=len(checked.keep),
    )
    version.full_clean()
    version.save()
    chunks = _copy_chunks(data, checked.keep, checked.geoms, version_id=version.pk, progress=progress, label=layer.slug)
    copy_zones(chunks=chunks, total=len(checked.keep))
    refine_large_zone_areas(layer_version_id=version.pk, min_span_deg=LARGE_ZONE_SPAN_DEG)
    return ImportSummary(
        version=version,
        read=len(data.geoms),
        imported=len(checked.keep),
        repaired=checked.repaired,
        rejected=checked.rejected,
        warnings=data.warnings,
        seconds=time.perf_counter() - started,
    )


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
    """Imports an in-memory GeoDataFrame as the next active version of `layer` (all or nothing)."""
    missing = [f for f in (class_field, class_name_field) if f and f not in frame.columns]
    if missing:
        raise SpatialInputError(f"missing field(s) {', '.join(missing)}; fields are {', '.join(map(str, frame.columns))}", source=source_name)
    source_srid = frame.crs.to_epsg() if frame.crs is not None else None
    frame = _to_storage_crs(frame, source_name)
    other = [c for c in frame.columns if c not in {frame.geometry.name, class_field, class_name_field}]
    data = SourceData(
        source=source_name,
        geoms=np.asarray(frame.geometry.values, dtype=object),
        class_codes=frame[class_field].astype(str).to_numpy(),
        class_names=frame[class_name_field].fillna("").astype(str).to_numpy() if class_name_field else np.full(len(frame), "", dtype=object),
        attributes=pd.DataFrame(frame[other]),
        source_srid=source_srid,
    )
    return layer_import(layer=layer, data=data, source_name=source_name, source_sha256=source_sha256, by=by, progress=progress).version


@transaction.atomic
def parcel_load(*, frame: gpd.GeoDataFrame, source: str) -> int:
    """Creates the registered parcels of `frame` that do not exist yet (matched by parcel code).

    Each parcel's division is the county whose boundary contains its centroid.
    """
    lift_statement_timeout()  # long by nature and bounded by the file (parcels/limits.py)
    frame = _to_storage_crs(frame, source)
    existing = set(Parcel.objects.filter(code__in=list(frame["code"])).values_list("code", flat=True))
    # County boundaries are large: test containment against prepared geometries held in memory.
    counties = [(d, d.boundary.prepared) for d in Division.objects.filter(level="county").exclude(boundary__isnull=True)]
    created = []
    for i, row in enumerate(frame.itertuples(index=False)):
        if row.code in existing:
            continue
        if not PARCEL_CODE.match(str(row.code)):
            raise SpatialInputError(
                f"parcel code {row.code!r} is not a 19-character parcel code (6-digit county, 3+3-digit districts, "
                "2-letter feature code such as GB or JC, 5-digit number)",
                source=source,
                location=f"feature {i + 1}",
            )
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




@transaction.atomic
def layer_import_file(
    *,
    path: Path,
    slug: str,
    name: str = "",
    kind: str | None = None,
    rule: str | None = None,
    class_field: str | None = None,
    class_name_field: str | None = None,
    srid: int | None = None,
    encoding: str | None = None,
    skip_invalid: bool = False,
    by: AbstractBaseUser | None = None,
    progress: bool = False,
    source_name: str | None = None,
    source_layer: str | None = None,
) -> ImportSummary:
    """Imports a file as the next active version of layer `slug` (created if missing), all or nothing.

    The file's schema (fields) is checked before any row is read; see parcels.importers.
    """
    from parcels.importers.readers import read_any

    # source_layer: the layer inside a multi-layer file (GeoPackage, KML); None reads the first.
    data = read_any(path, layer=source_layer, class_field=class_field, class_name_field=class_name_field, srid=srid, encoding=encoding)
    layer, _created = Layer.objects.get_or_create(slug=slug, defaults={"name": name or slug})
    changed = False
    for attr, value in (("kind", kind), ("rule", rule), ("name", name)):
        if value and getattr(layer, attr) != value:
            setattr(layer, attr, value)
            changed = True
    if changed:
        layer.full_clean()
        layer.save()
    return layer_import(
        layer=layer,
        data=data,
        source_name=source_name or path.name,
        skip_invalid=skip_invalid,
        source_sha256=file_sha256(path),
        by=by,
        progress=progress,
    )
