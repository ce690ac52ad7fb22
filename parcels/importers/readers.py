"""One entry point for every supported input file: the boundary-point TXT or anything GDAL reads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from parcels.importers.vector import SourceData, check_class_lengths, read_vector

# Uploads and command-line files above this size are refused before parsing (bytes).
MAX_TXT_BYTES = 50 * 1024 * 1024


def read_boundary_txt(path: Path, *, transform_params: tuple[float, ...] | None = None) -> SourceData:
    """A boundary-point TXT file as SourceData: one feature per [地块坐标] parcel, class = 地类编码."""
    from parcels.exceptions import SpatialInputError
    from parcels.importers.boundary_txt import parse_boundary_txt

    if path.stat().st_size > MAX_TXT_BYTES:
        raise SpatialInputError(f"file is larger than {MAX_TXT_BYTES} bytes", source=path.name)
    parsed = parse_boundary_txt(path.read_bytes(), source=path.name, transform_params=transform_params)
    parcels = parsed.parcels
    check_class_lengths(np.array([p.land_class for p in parcels], dtype=object), np.array([p.use for p in parcels], dtype=object), source=path.name)
    attributes = pd.DataFrame(
        {
            "number": [p.number for p in parcels],
            "name": [p.name for p in parcels],
            "use": [p.use for p in parcels],
            "declared_area": [p.declared_area for p in parcels],
            "line": [p.line for p in parcels],
        }
    )
    return SourceData(
        source=path.name,
        geoms=np.array([p.geometry for p in parcels], dtype=object),
        class_codes=np.array([p.land_class for p in parcels], dtype=object),
        class_names=np.array([p.use for p in parcels], dtype=object),
        attributes=attributes,
        source_srid=parsed.source_epsg,
        warnings=list(parsed.warnings),
    )


def read_any(
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
    """Any supported file: TXT by our own parser, everything else through the checks of
    parcels.importers.safety and then GDAL. `accepted` limits the vector formats."""
    if path.suffix.lower() == ".txt":
        return read_boundary_txt(path)
    return read_vector(path, layer=layer, class_field=class_field, class_name_field=class_name_field, srid=srid, encoding=encoding,
                       source=source, accepted=accepted)
