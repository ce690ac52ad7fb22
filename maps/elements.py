"""folium elements that hook a map into OneMap's shared script (maps/static/maps/js/onemap-map.js)."""

from __future__ import annotations

from typing import Any

from branca.element import MacroElement
from folium.elements import JSCSSMixin
from folium.template import Template

# rewritten to static URLs by maps.assets.localize; the text helpers come first (onemap-map.js uses them)
_ONEMAP_JS = [("onemap_text_js", "onemap-text.js"), ("onemap_map_js", "onemap-map.js")]


class RegisterMap(JSCSSMixin, MacroElement):
    """Exposes the Leaflet map as `OneMap.map` (used by page scripts and browser tests)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            OneMap.register({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )
    default_js = _ONEMAP_JS


class TileLayers(JSCSSMixin, MacroElement):
    """One-map layers as vector tiles of their active version, with a layer switcher.

    `layers`: dicts with slug, name, color, min_zoom, visible and tile_url ({z}/{x}/{y} template).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            OneMap.tileLayers({{ this._parent.get_name() }}, {{ this.config|tojson }});
        {% endmacro %}
        """
    )
    default_js = [("leaflet_vectorgrid_js", "Leaflet.VectorGrid.bundled.min.js"), *_ONEMAP_JS]

    def __init__(self, *, layers: list[dict[str, Any]], collapsed: bool = True, zone_url: str = "",
                 labels: dict[str, str] | None = None, rule_colors: dict[str, str] | None = None) -> None:
        super().__init__()
        self._name = "TileLayers"
        self.config = {"layers": layers, "collapsed": collapsed, "zoneUrl": zone_url, "labels": labels or {},
                       "ruleColors": rule_colors or {}}


class SiteDraw(JSCSSMixin, MacroElement):
    """Leaflet.draw control for polygons and rectangles; syncs the drawing into a hidden form field
    (GeoJSON FeatureCollection) and shows the server-computed area in m², mu and ha.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            OneMap.siteDraw({{ this._parent.get_name() }}, {{ this.config|tojson }});
        {% endmacro %}
        """
    )
    default_js = [("leaflet_draw_js", "leaflet.draw.js"), *_ONEMAP_JS]
    default_css = [("leaflet_draw_css", "leaflet.draw.css")]

    def __init__(self, *, input_id: str, output_id: str, check_url: str, labels: dict[str, str], extra: dict | None = None) -> None:
        super().__init__()
        self._name = "SiteDraw"
        self.config = {"input": input_id, "output": output_id, "checkUrl": check_url, "labels": labels, **(extra or {})}


class TextTooltip(JSCSSMixin, MacroElement):
    """A GeoJSON layer's hover tooltip listing `fields` (labelled by `aliases`) as text.

    Replaces folium's GeoJsonTooltip, which inserts property values as HTML: a title or class name
    such as `<img src=x onerror=…>` would run in the reader's browser.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            OneMap.textTooltip({{ this._parent.get_name() }}, {{ this.config|tojson }});
        {% endmacro %}
        """
    )
    default_js = _ONEMAP_JS

    def __init__(self, *, fields: list[str], aliases: list[str]) -> None:
        super().__init__()
        self._name = "TextTooltip"
        self.config = {"fields": list(fields), "aliases": [str(a) for a in aliases]}


class ExtraOverlays(MacroElement):
    """Adds folium layers (site, overlap pieces) to the map's one layer switcher (OneMap.layersControl)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            {%- for name, label in this.entries %}
            OneMap.addOverlay({{ this._parent.get_name() }}, {{ name }}, {{ label|tojson }});
            {%- endfor %}
        {% endmacro %}
        """
    )

    def __init__(self, *, entries: list[tuple[str, str]]) -> None:
        super().__init__()
        self._name = "ExtraOverlays"
        self.entries = entries


class RemotePieces(MacroElement):
    """Overlap pieces fetched from the server after the page loads (so a page stays small however
    many zones a site meets): one switchable group per layer, outlined by the layer's verdict."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            OneMap.remotePieces({{ this._parent.get_name() }}, {{ this.config|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, *, url: str, verdicts: dict[str, str], rule_colors: dict[str, str], labels: dict[str, str]) -> None:
        super().__init__()
        self._name = "RemotePieces"
        self.config = {"url": url, "verdicts": verdicts, "ruleColors": rule_colors, "labels": labels}


class Measure(JSCSSMixin, MacroElement):
    """Measuring distances (polyline) and areas (polygon) with Leaflet.draw's handlers; results are
    ellipsoidal (Leaflet.GeometryUtil on WGS84 ≈ CGCS2000) and never saved."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            OneMap.siteCheckUrl = {{ this.check_url|tojson }};
            OneMap.measure({{ this._parent.get_name() }}, {{ this.labels|tojson }});
        {% endmacro %}
        """
    )
    default_js = [("leaflet_draw_js", "leaflet.draw.js"), *_ONEMAP_JS]
    default_css = [("leaflet_draw_css", "leaflet.draw.css")]

    def __init__(self, *, labels: dict[str, str], check_url: str) -> None:
        super().__init__()
        self._name = "Measure"
        self.labels = labels
        self.check_url = check_url
