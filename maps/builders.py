"""folium map builders. Every map is made offline-safe by maps.assets.localize before rendering.

Maps are drawn in Leaflet's default Web Mercator; data are CGCS2000 lon/lat (4490), which Leaflet
shows as WGS84 (the difference is centimetres).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import folium
from django.conf import settings
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from maps.assets import localize
from maps.elements import ExtraOverlays, Measure, RegisterMap, RemotePieces, SiteDraw, TextTooltip, TileLayers
from parcels.selectors import active_layer_versions, division_outlines

# Jiayu County seat (Yuyue town), lat/lon degrees: the demo's default view.
DEFAULT_CENTER = (29.97, 113.92)
DEFAULT_ZOOM = 11
RULE_COLORS = {"conflict": "#cf1322", "ok": "#389e0d", "info": "#1677ff"}
# Put into every <script> and <style> tag of a map's <head> assets; the template filter
# `csp_nonce` (maps.templatetags.onemap_csp) replaces it with the request's CSP nonce.
NONCE_PLACEHOLDER = "__onemap_csp_nonce__"


@dataclass(frozen=True)
class MapParts:
    """A rendered map split for a Django template: <head> assets, the map <div>, and its script."""

    header: str
    html: str
    script: str
    name: str


def base_map(*, height: str = "560px", center: tuple[float, float] = DEFAULT_CENTER, zoom: int = DEFAULT_ZOOM) -> folium.Map:
    m = folium.Map(
        location=list(center),
        zoom_start=zoom,
        tiles=None,
        height=height,
        width="100%",
        control_scale=True,
        prefer_canvas=False,
    )
    _add_basemap(m)
    RegisterMap().add_to(m)
    return m


def _add_basemap(m: folium.Map) -> None:
    """Adds the configured base map; with BASEMAP=none (default) the map needs no tiles at all."""
    choice = settings.BASEMAP.strip()
    if not choice or choice == "none":
        return
    if choice == "osm":
        folium.TileLayer("OpenStreetMap", name=_("Base map")).add_to(m)
    elif choice == "tianditu":
        url = "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=" + settings.TIANDITU_KEY
        folium.TileLayer(url, attr="© 天地图 Tianditu", name=_("Base map"), subdomains="01234567").add_to(m)
    else:
        folium.TileLayer(choice, attr=_("Internal base map"), name=_("Base map")).add_to(m)


def add_divisions(m: folium.Map) -> None:
    """County outlines of Xianning (embedded: a few hundred vertices after simplification)."""
    english = (get_language() or "").startswith("en")
    fields = ["name_en" if english else "name", "code"]
    layer = folium.GeoJson(
        _text_features(division_outlines()["features"], fields),
        name=_("Administrative divisions"),
        style_function=lambda f: {"color": "#595959", "weight": 2, "fill": False, "dashArray": "6 4"},
        control=False,
    )
    TextTooltip(fields=fields, aliases=[_("Division"), _("Code")]).add_to(layer)
    layer.add_to(m)


def add_layers(m: folium.Map, *, visible: tuple[str, ...] = (), public_only: bool = False) -> None:
    """Every active one-map layer as vector tiles of its active version (cacheable, never embedded);
    `public_only` for visitors who are not logged in (other layers' tiles are 404 to them)."""
    english = (get_language() or "").startswith("en")
    layers = []
    for layer, version in active_layer_versions(public_only=public_only):
        url = reverse("layer-tile", kwargs={"slug": layer.slug, "version": version, "z": 0, "x": 0, "y": 0})
        layers.append(
            {
                "slug": layer.slug,
                "name": (layer.name_en or layer.name) if english else layer.name,
                "color": layer.color,
                "min_zoom": layer.min_zoom,
                "visible": layer.slug in visible,
                "tile_url": url.replace("/0/0/0.pbf", "/{z}/{x}/{y}.pbf"),
                "rule": layer.rule,
                "rule_label": str(layer.get_rule_display()),
            }
        )
    TileLayers(
        layers=layers,
        zone_url=reverse("api-zone-detail", args=[0]),
        labels={"legend": str(_("Legend")), "conflict": str(_("conflict with the rule")), "ok": str(_("fine")),
                "site": str(_("Site")), "attributes": str(_("Attributes")), "class": str(_("Class")), "area": str(_("Area (m²)")), "mu": str(_("mu"))},
        rule_colors=RULE_COLORS,
    ).add_to(m)


def add_site(m: folium.Map, site_geojson: dict[str, Any], *, fit: bool = True) -> None:
    site = folium.GeoJson(
        site_geojson,
        name=_("Site"),
        style_function=lambda f: {"color": "#d4380d", "weight": 3, "fillOpacity": 0.05},
        control=False,
    )
    site.add_to(m)
    ExtraOverlays(entries=[(site.get_name(), str(_("Site")))]).add_to(m)
    if fit:
        m.fit_bounds(_bounds(site_geojson), max_zoom=17)


def add_overlap_pieces(m: folium.Map, pieces: dict[str, Any], verdicts: dict[str, str]) -> None:
    """Overlap pieces, one switchable group per layer; conflicting layers outlined red."""
    by_layer: dict[str, list[dict[str, Any]]] = {}
    for feature in pieces.get("features", []):
        by_layer.setdefault(feature["properties"]["layer"], []).append(feature)
    overlap_label = _("overlap")
    entries: list[tuple[str, str]] = []
    for slug, features in by_layer.items():
        props = features[0]["properties"]
        verdict = verdicts.get(slug, "info")
        label = f"{props['layer_name']} ({overlap_label})"
        fields = ["layer_name", "class_code", "class_name", "area_m2"]
        layer = folium.GeoJson(
            # `layer` and `class_code` stay: the overlap table's rows find their pieces by them
            _text_features(features, [*fields, "layer", "color"]),
            name=label,
            control=False,
            style_function=lambda f, v=verdict: {
                "color": RULE_COLORS[v],
                "weight": 2 if v == "conflict" else 1,
                "fillColor": f["properties"]["color"],
                "fillOpacity": 0.45,
            },
        )
        TextTooltip(fields=fields, aliases=[_("Layer"), _("Class code"), _("Class"), _("Area (m²)")]).add_to(layer)
        layer.add_to(m)
        entries.append((layer.get_name(), label))
    # one switcher: the pieces join the control the tile layers made
    ExtraOverlays(entries=entries).add_to(m)


def add_remote_pieces(m: folium.Map, *, url: str, verdicts: dict[str, str]) -> None:
    """Overlap pieces loaded from `url` (GeoJSON FeatureCollection) once the map is up."""
    RemotePieces(
        url=url,
        verdicts=verdicts,
        rule_colors=RULE_COLORS,
        labels={"overlap": str(_("overlap")), "layer": str(_("Layer")), "class": str(_("Class")), "area": str(_("Area (m²)"))},
    ).add_to(m)


def add_cross_pieces(m: folium.Map, pieces: dict[str, Any]) -> None:
    """Layer × layer intersections (display-simplified), one feature per class pair, fitted."""
    if not pieces["features"]:
        return
    fields = ["class_a", "name_a", "class_b", "name_b", "area_m2"]
    layer = folium.GeoJson(
        _text_features(pieces["features"], [*fields, "color"]),
        name=str(_("Intersections")),
        control=False,
        style_function=lambda f: {"color": "#cf1322", "weight": 1, "fillColor": f["properties"]["color"], "fillOpacity": 0.5},
    )
    TextTooltip(fields=fields, aliases=["A", "", "B", "", str(_("Area (m²)"))]).add_to(layer)
    layer.add_to(m)
    ExtraOverlays(entries=[(layer.get_name(), str(_("Intersections")))]).add_to(m)
    m.fit_bounds(_bounds(pieces), max_zoom=16)


def add_nearby(m: folium.Map, features: list[dict[str, Any]]) -> None:
    """Other applications near the site (outlines, hover for reference and status)."""
    fields = ["reference", "title", "status"]
    layer = folium.GeoJson(
        _text_features(features, fields),
        name=str(_("Applications nearby")),
        control=False,
        style_function=lambda f: {"color": "#722ed1", "weight": 2, "dashArray": "4 4", "fillOpacity": 0.05},
    )
    # the titles are the applicants' own words: shown as text (folium's GeoJsonTooltip takes HTML)
    TextTooltip(fields=fields, aliases=[_("Reference"), _("Title"), _("Status")]).add_to(layer)
    layer.add_to(m)
    ExtraOverlays(entries=[(layer.get_name(), str(_("Applications nearby")))]).add_to(m)


def add_measure(m: folium.Map) -> None:
    """A measuring tool (distances and areas, ellipsoidal) built on Leaflet.draw; nothing is saved."""
    Measure(labels={"title": str(_("Measure distance or area")), "length": str(_("length")), "area": str(_("area")),
                    "mu": str(_("mu")), "clear": str(_("Clear measurements"))}, check_url=reverse("api-site-check")).add_to(m)


def add_site_draw(m: folium.Map, *, input_id: str, output_id: str, precheck_id: str = "site-precheck",
                  file_input_id: str = "id_site_file") -> None:
    """Drawing and uploading a site: live area, the instant pre-check against every layer, the
    upload preview and errors pinned on the map."""
    SiteDraw(
        input_id=input_id,
        output_id=output_id,
        check_url=reverse("api-site-check"),
        extra={"overlapUrl": reverse("api-overlap"), "previewUrl": reverse("api-site-preview"),
               "precheck": precheck_id, "fileInput": file_input_id,
               "parcelsUrl": reverse("api-parcel-list"), "parcelsMinZoom": 15},
        labels={
            "precheck": _("Pre-check against the one-map layers"),
            "conflict": _("conflict"),
            "ok": _("fine"),
            "info": _("for information"),
            "preview": _("Preview of the uploaded file: check it on the map, then submit."),
            "warnings": _("Warnings"),
            "errorHere": _("the problem is here"),
            "empty": _("Draw the site boundary with the polygon or rectangle tool."),
            "checking": _("Computing area…"),
            "invalid": _("Invalid site:"),
            "mu": _("mu"),
            "parts": _("parcel(s)"),
            "method": _("ellipsoidal area, CGCS2000"),
        },
    ).add_to(m)


def _text_features(features: list[dict[str, Any]], fields: list[str]) -> dict[str, Any]:
    """A FeatureCollection keeping only `fields` of each feature's properties, each feature with
    its index as id.

    folium writes the name of the first property whose values are unique into the page's script
    as code (`switch(feature.properties.<name>)`); with an id it uses `feature.id` instead, and
    with only known property names nothing from the data is ever written as code.
    """
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "id": i, "geometry": f["geometry"],
             "properties": {k: (f.get("properties") or {}).get(k) for k in fields}}
            for i, f in enumerate(features)
        ],
    }


def render(m: folium.Map) -> MapParts:
    """Renders a map for base.html. Its <head> assets are folium's (no data in them): each <script>
    and <style> tag gets the CSP nonce placeholder; the map script is wrapped by the template in a
    <script> with the nonce."""
    localize(m)
    figure = m.get_root()
    figure.render()
    header = re.sub(r"<(script|style)(?=[\s>])", rf'<\1 nonce="{NONCE_PLACEHOLDER}"', figure.header.render())
    return MapParts(
        header=header,
        html=figure.html.render(),
        script=figure.script.render(),
        name=m.get_name(),
    )


def _bounds(geojson: dict[str, Any]) -> list[list[float]]:
    xs: list[float] = []
    ys: list[float] = []

    def walk(coords: Any) -> None:
        if coords and isinstance(coords[0], (int, float)):
            xs.append(coords[0])
            ys.append(coords[1])
        else:
            for c in coords:
                walk(c)

    features = geojson.get("features") or [geojson]
    for f in features:
        geometry = f.get("geometry", f)
        walk(geometry["coordinates"])
    return [[min(ys), min(xs)], [max(ys), max(xs)]]
