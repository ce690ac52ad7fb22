"""Serving folium's browser assets from this server (closed network, docs/decisions.md §10).

folium elements list their scripts and stylesheets as (name, CDN URL) pairs. `localize` walks a
map's element tree and rewrites every pair to a vendored static file, drops the ones OneMap does
not use, and raises on anything unknown, so a new plugin cannot make a page reach the internet.
"""

from __future__ import annotations

from branca.element import Element
from django.core.exceptions import ImproperlyConfigured
from django.templatetags.static import static

# name folium uses → path under STATIC_URL (see maps/static/vendor/README.md)
LOCAL_ASSETS: dict[str, str] = {
    "leaflet": "vendor/leaflet/leaflet.js",
    "leaflet_css": "vendor/leaflet/leaflet.css",
    "leaflet_draw_js": "vendor/leaflet-draw/leaflet.draw.js",
    "leaflet_draw_css": "vendor/leaflet-draw/leaflet.draw.css",
    "leaflet_vectorgrid_js": "vendor/leaflet-vectorgrid/Leaflet.VectorGrid.bundled.min.js",
    "onemap_text_js": "maps/js/onemap-text.js",
    "onemap_map_js": "maps/js/onemap-map.js",
}

# folium's defaults for markers and popups styled with Bootstrap/Font Awesome; OneMap's maps use
# none of them, so they are not served at all.
UNUSED_ASSETS = frozenset(
    {
        "jquery",
        "bootstrap",
        "awesome_markers",
        "bootstrap_css",
        "glyphicons_css",
        "awesome_markers_font_css",
        "awesome_markers_css",
        "awesome_rotate_css",
    }
)


def _rewrite(element: Element, attribute: str) -> None:
    pairs = getattr(element, attribute, None)
    if not pairs:
        return
    local = []
    for name, url in pairs:
        if name in LOCAL_ASSETS:
            local.append((name, static(LOCAL_ASSETS[name])))
        elif name in UNUSED_ASSETS:
            continue
        else:
            raise ImproperlyConfigured(
                f"{type(element).__name__} needs asset {name!r} from {url}; vendor it under maps/static/vendor "
                "and list it in maps.assets.LOCAL_ASSETS"
            )
    # Instance attribute: the class-level CDN lists stay untouched for other code.
    setattr(element, attribute, local)


def localize(root: Element) -> Element:
    """Rewrites the asset lists of `root` and all its descendants to local static URLs, in place."""
    stack = [root]
    while stack:
        element = stack.pop()
        _rewrite(element, "default_js")
        _rewrite(element, "default_css")
        stack.extend(getattr(element, "_children", {}).values())
    return root
