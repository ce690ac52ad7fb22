"""Template helpers for the Content-Security-Policy and for colours from the database.

`csp_nonce` puts the request's nonce into a rendered map's <head> assets (maps.builders.render
marks their <script> and <style> tags); `swatch` draws a layer's colour as SVG, whose `fill` is a
presentation attribute, so no inline style (which the policy refuses) is needed.
"""

from __future__ import annotations

import re

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from maps.builders import NONCE_PLACEHOLDER

register = template.Library()

HEX_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
FALLBACK_COLOR = "#8c8c8c"


@register.filter
def csp_nonce(header: str, nonce: object) -> SafeString:
    """The map's <head> assets with the request's CSP nonce on each <script> and <style> tag."""
    return mark_safe(str(header).replace(NONCE_PLACEHOLDER, escape(str(nonce or ""))))  # noqa: S308 (folium's own assets: no data in them)


@register.simple_tag
def swatch(color: str, shape: str = "box") -> SafeString:
    """A colour swatch (a box, or a line for outline colours) as inline SVG."""
    fill = color if isinstance(color, str) and HEX_COLOR.fullmatch(color) else FALLBACK_COLOR
    if shape == "line":
        return format_html('<svg class="legend-line" viewBox="0 0 16 3" aria-hidden="true" focusable="false">'
                           '<rect width="16" height="3" fill="{}"></rect></svg>', fill)
    return format_html('<svg class="legend-swatch" viewBox="0 0 1 1" aria-hidden="true" focusable="false">'
                       '<rect width="1" height="1" fill="{}"></rect></svg>', fill)
