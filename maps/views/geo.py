"""Map data: Mapbox vector tiles of one-map layers, cached per layer version.

The cache is a tree of files at the tile's own path, `<TILE_CACHE_DIR>/<layer version id>/<z>/<x>/<y>.pbf`:
a hit is one open(), a write is one file written beside its target and renamed over it (atomic: a
concurrent reader sees the whole tile or none), and neither depends on how many tiles are cached
(Django's FileBasedCache listed its whole folder on every write: 125 ms at 100k entries).
Only tiles of layer versions that exist are cached, keyed by the version's primary key, so a tile
asked for before its version is imported can never be served stale afterwards. Empty tiles are not
stored (an empty region's query is an index probe), which bounds the cache by the data's extent.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound

from parcels.selectors import layer_tile, tile_layer_version

MVT = "application/vnd.mapbox-vector-tile"
# The map asks for tiles up to zoom 18 (maxNativeZoom in onemap-map.js) and scales them beyond;
# refusing deeper tiles keeps a crawler from filling the disk with millions of tiny ones.
MAX_TILE_ZOOM = 18


def tile_path(*, layer_version_id: int, z: int, x: int, y: int) -> Path:
    return Path(settings.TILE_CACHE_DIR) / str(layer_version_id) / str(z) / str(x) / f"{y}.pbf"


def tile_write(path: Path, body: bytes) -> None:
    """Writes `body` to `path` atomically (temporary file in the same folder, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".pbf")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _not_found() -> HttpResponse:
    # no-store: a tile asked for before its version is imported must not stay blank in any cache
    response = HttpResponseNotFound(b"", content_type="text/plain")
    response["Cache-Control"] = "no-store"
    return response


def tile(request: HttpRequest, slug: str, version: int, z: int, x: int, y: int) -> HttpResponse:
    """GET /tiles/<slug>/v<version>/<z>/<x>/<y>.pbf — the URL names the version, so it is immutable.

    404 for a tile outside the grid, a layer or version that does not exist, or (for a visitor who
    is not logged in) a layer that is not public; nothing is cached in those cases."""
    if not (0 <= z <= MAX_TILE_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z):
        return _not_found()
    layer_version = tile_layer_version(slug=slug, version=version, anonymous=not request.user.is_authenticated)
    if layer_version is None:
        return _not_found()
    path = tile_path(layer_version_id=layer_version.pk, z=z, x=x, y=y)
    try:
        body, hit = path.read_bytes(), True
    except FileNotFoundError:
        body, hit = layer_tile(layer_version=layer_version, z=z, x=x, y=y), False
        if body:
            tile_write(path, body)
    response = HttpResponse(body, content_type=MVT, status=200 if body else 204)
    # Public layers may sit in shared caches; internal ones only in the user's own browser.
    scope = "public" if layer_version.layer.public else "private"
    response["Cache-Control"] = f"{scope}, max-age=604800, immutable"
    response["X-Tile-Cache"] = "hit" if hit else "miss"
    return response
