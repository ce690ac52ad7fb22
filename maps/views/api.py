"""JSON API: site check, overlap analysis, layers and bbox-limited layer GeoJSON; applications
(GeoJSON list, detail with clocks, workflow actions under the same rules as the pages)."""

from __future__ import annotations

import json
import re

from django.conf import settings
from django.contrib.gis.geos import Polygon
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.decorators import api_view, parser_classes, permission_classes
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from approvals import selectors as approval_selectors
from approvals.exceptions import DataCheckFailed, NotPermitted, StateConflict
from maps.actions import run_action
from maps.forms import site_from_upload
from maps.serializers import ApplicationFeatureSerializer, LayerSerializer, ParcelFeatureSerializer, ZoneFeatureSerializer, clock_data
from parcels.exceptions import SpatialInputError
from parcels.geo import AreaFigures, site_areas
from parcels.limits import SiteTooLarge, check_site_size
from parcels.models import Layer, Zone
from parcels.overlap import overlap_analyse
from parcels.selectors import MAX_BBOX_FEATURES, active_layers, parcels_in_bbox, zones_in_bbox
from parcels.site_input import parse_site_geojson

# Layer slugs as Django's SlugField accepts them (parcels.models.Layer.slug).
LAYER_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,64}")


def _site_from(request: Request):
    # The declared length, not request.body: a multipart body has already been consumed (CSRF reads
    # request.POST) and reading it again raises; the parser then answers 415.
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > settings.ONEMAP_MAX_UPLOAD_BYTES:
        raise SpatialInputError(_("request body exceeds %(limit)d bytes") % {"limit": settings.ONEMAP_MAX_UPLOAD_BYTES})
    try:
        data = request.data
    except RecursionError as exc:  # DRF's JSON parser on deeply nested arrays
        raise SpatialInputError(_("not valid GeoJSON: nested too deeply"), source=_("request body")) from exc
    return parse_site_geojson(data, source=_("request body"))


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _refusal(exc: SpatialInputError) -> Response:
    """400 with the message and, when the problem can be pinned, its points (lon, lat, 4490)."""
    return Response({"detail": str(exc), "points": [list(p) for p in exc.points]}, status=status.HTTP_400_BAD_REQUEST)


@api_view(["POST"])
def site_check(request: Request) -> Response:
    """Validates a drawn or uploaded site and returns its area (ellipsoidal and GK planar)."""
    try:
        site = _site_from(request)
    except SpatialInputError as exc:
        return _refusal(exc)
    areas = site_areas(site)  # GK figures are null outside China's 3° zones, with a warning
    return Response({**AreaFigures(areas.ellipsoidal_m2).as_dict(), "gk_area_m2": _rounded(areas.gk_m2), "gk_epsg": areas.gk_epsg,
                     "parts": len(site), "warnings": list(areas.warnings)})


@api_view(["POST"])
def overlap(request: Request) -> Response:
    """Overlap report for a GeoJSON geometry, Feature or FeatureCollection (`?layers=a,b` to limit)."""
    try:
        site = _site_from(request)
        check_site_size(site=site)  # before any spatial query: a huge site would tie up the database
    except SiteTooLarge as exc:
        return Response({"detail": str(exc), "limit": exc.limit, "value": exc.value, "maximum": exc.maximum},
                        status=status.HTTP_400_BAD_REQUEST)
    except SpatialInputError as exc:
        return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
    layers = [s for s in request.query_params.get("layers", "").split(",") if s] or None
    if layers and not all(LAYER_SLUG.fullmatch(s) for s in layers):
        return Response({"detail": _("layers must be layer slugs separated by commas")}, status=status.HTTP_400_BAD_REQUEST)
    want_pieces = request.query_params.get("pieces") in {"1", "true"}
    # right holders only for parcels in the jurisdiction of a window clerk or level reviewer asking
    result = overlap_analyse(site=site, layers=layers, pieces=want_pieces,
                             right_holders=approval_selectors.right_holder_jurisdiction(user=request.user))
    body = dict(result.report)
    if want_pieces:
        body["pieces"] = result.pieces
    return Response(body)


@api_view(["GET"])
@permission_classes([AllowAny])
def layer_list(request: Request) -> Response:
    """Active one-map layers; a visitor who is not logged in gets the public ones only."""
    layers = active_layers() if request.user.is_authenticated else active_layers().filter(public=True)
    return Response(LayerSerializer(layers, many=True).data)


@api_view(["GET"])
@permission_classes([AllowAny])
def layer_geojson(request: Request, slug: str) -> Response:
    """Features of a layer's active version inside `in_bbox=w,s,e,n`, simplified for `zoom`
    (404 to a visitor who is not logged in unless the layer is public, as for its tiles)."""
    layer = get_object_or_404(Layer.objects.filter(public=True) if request.user.is_anonymous else Layer.objects.all(), slug=slug)
    try:
        west, south, east, north = (float(v) for v in request.query_params["in_bbox"].split(","))
        zoom = int(request.query_params.get("zoom", "14"))
    except (KeyError, ValueError):
        return Response({"detail": _("in_bbox=west,south,east,north and an integer zoom are required")}, status=400)
    if not (west < east and south < north) or (east - west) * (north - south) > 4.0:
        return Response({"detail": _("bounding box is empty or larger than 4 square degrees")}, status=400)
    if zoom < layer.min_zoom:
        return Response({"type": "FeatureCollection", "features": [], "min_zoom": layer.min_zoom})
    bbox = Polygon.from_bbox((west, south, east, north))
    bbox.srid = 4490
    zones = list(zones_in_bbox(layer=layer, bbox=bbox, zoom=zoom))
    data = ZoneFeatureSerializer(zones, many=True).data
    response = Response({**data, "truncated": len(zones) >= MAX_BBOX_FEATURES})
    # Layer versions change rarely; let the browser reuse a box for a minute.
    response["Cache-Control"] = "public, max-age=60"
    return response


@api_view(["GET"])
def application_list(request: Request) -> Response:
    """The applications the user may see, as GeoJSON (newest first; `?queue=1` for the user's
    work queue, green channel and nearest deadline first), at most 500."""
    qs = approval_selectors.work_queue(user=request.user) if request.query_params.get("queue") in {"1", "true"} \
        else approval_selectors.application_list(user=request.user)
    return Response(ApplicationFeatureSerializer(qs[:500], many=True).data)


def _application_body(application) -> dict:
    [row] = approval_selectors.with_clocks([application])
    return {
        "id": application.pk,
        "reference": application.reference,
        "status": application.status,
        "current_level": application.current_level,
        "revision": application.revision,
        "flags": row.flags,
        "clocks": {k: clock_data(v) for k, v in (row.clocks or {}).items()},
        "steps": [
            {"number": step.number, "level": step.level, "division": step.division_id, "state": step.state, "outcome": step.outcome,
             "comment": step.comment, "clock": clock_data(clock),
             "tasks": [{"id": t.pk, "department": t.department.name, "role": t.role, "agrees": t.agrees, "opinion": t.opinion,
                        "escalated": t.escalated, "clock": clock_data(tc)} for t, tc in tasks]}
            for step, clock, tasks in approval_selectors.steps_with_clocks(application=application)
        ],
    }


@api_view(["GET"])
def application_detail(request: Request, pk: int) -> Response:
    """One application's state, clocks, steps and department tasks (404 if not visible)."""
    return Response(_application_body(approval_selectors.application_get(user=request.user, pk=pk)))


@api_view(["POST"])
def application_action(request: Request, pk: int) -> Response:
    """`{"action": "window_accept" | "window_return" | "presign" | "accept" | "return" | "modify" |
    "assign" | "opinion" | "decide", ...}` with the same fields as the page's forms (reasons as one
    string, one per line; agrees as true/false). 404 not visible, 403 not allowed, 409 wrong state
    or failed data check, 400 bad input; nothing is written on refusal."""
    application = approval_selectors.application_get(user=request.user, pk=pk)
    data = {k: ("1" if v is True else "0" if v is False else v) for k, v in request.data.items()}
    try:
        done = run_action(application=application, user=request.user, ip=request.META.get("REMOTE_ADDR"), data=data)
    except NotPermitted as exc:
        return Response({"detail": str(exc)}, status=status.HTTP_403_FORBIDDEN)
    except DataCheckFailed as exc:
        return Response({"detail": str(exc), "failed": [i.code for i in exc.items]}, status=status.HTTP_409_CONFLICT)
    except StateConflict as exc:
        return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
    except ValidationError as exc:
        return Response({"detail": exc.messages}, status=status.HTTP_400_BAD_REQUEST)
    application.refresh_from_db()
    return Response({"detail": done, **_application_body(application)})


@api_view(["POST"])
@parser_classes([MultiPartParser])
def site_preview(request: Request) -> Response:
    """An uploaded site file (`file`: TXT, GeoJSON, zipped Shapefile or KML) read as the submission
    would read it, for the applicant to confirm on the map: the site (GeoJSON, 4490), its areas,
    its parcels and the reader's warnings; or the error and where it is."""
    upload = request.FILES.get("file")
    if upload is None:
        return Response({"detail": _("no file"), "points": []}, status=status.HTTP_400_BAD_REQUEST)
    try:
        site, parts, warnings = site_from_upload(upload)
        # the caps submission applies (area too), so a preview never shows a site that will be refused
        check_site_size(site=site)
    except SpatialInputError as exc:
        return _refusal(exc)
    areas = site_areas(site)
    return Response({
        "site": json.loads(site.geojson),
        **AreaFigures(areas.ellipsoidal_m2).as_dict(),
        "gk_area_m2": _rounded(areas.gk_m2),
        "gk_epsg": areas.gk_epsg,
        "parts": [{"name": p.name, "land_class": p.land_class, "declared_area_m2": p.declared_area_m2} for p in parts or []] or len(site),
        "warnings": [*warnings, *areas.warnings],
    })


@api_view(["GET"])
def parcel_list(request: Request) -> Response:
    """Registered parcels inside `in_bbox=w,s,e,n` (at most 0.01 square degrees, ~1 km²) as GeoJSON."""
    try:
        west, south, east, north = (float(v) for v in request.query_params["in_bbox"].split(","))
    except (KeyError, ValueError):
        return Response({"detail": _("in_bbox=west,south,east,north is required")}, status=400)
    if not (west < east and south < north) or (east - west) * (north - south) > 0.01:
        return Response({"detail": _("bounding box is empty or larger than 0.01 square degrees")}, status=400)
    bbox = Polygon.from_bbox((west, south, east, north))
    bbox.srid = 4490
    return Response(ParcelFeatureSerializer(parcels_in_bbox(bbox=bbox), many=True).data)


@api_view(["GET"])
@permission_classes([AllowAny])
def zone_detail(request: Request, pk: int) -> Response:
    """One feature of a one-map layer with all its attributes (planning layers are public)."""
    zones = Zone.objects.select_related("layer_version__layer")
    zone = get_object_or_404(zones.filter(layer_version__layer__public=True) if request.user.is_anonymous else zones, pk=pk)
    return Response({
        "id": zone.pk,
        "layer": zone.layer_version.layer.slug,
        "version": zone.layer_version.version,
        "active": zone.layer_version.is_active,
        "class_code": zone.class_code,
        "class_name": zone.class_name,
        **AreaFigures(zone.area_m2).as_dict(),
        "attributes": zone.attributes,
    })
