"""Map data: Mapbox vector tiles of one-map layers, cached per layer version."""

from __future__ import annotations

from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404

from parcels.models import Layer
from parcels.selectors import layer_tile

MVT = "application/vnd.mapbox-vector-tile"


def tile(request: HttpRequest, slug: str, version: int, z: int, x: int, y: int) -> HttpResponse:
    """GET /tiles/<slug>/v<version>/<z>/<x>/<y>.pbf — the URL names the version, so it is immutable."""
    if not (0 <= z <= 22 and 0 <= x < 2**z and 0 <= y < 2**z):
        return HttpResponse(status=404)
    layer = get_object_or_404(Layer, slug=slug)
    key = f"mvt:{layer.pk}:{version}:{z}:{x}:{y}"
    cache = caches["tiles"]
    body = cache.get(key)
    hit = body is not None
    if not hit:
        body = layer_tile(layer=layer, version=version, z=z, x=x, y=y)
        cache.set(key, body)
    response = HttpResponse(body, content_type=MVT, status=200 if body else 204)
    response["Cache-Control"] = "public, max-age=604800, immutable"
    response["X-Tile-Cache"] = "hit" if hit else "miss"
    return response
