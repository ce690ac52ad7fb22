"""The printed map sheet (出图): a paper page with a title, the map frame drawn by maps.render,
the CGCS2000 Gauss–Krüger grid, scale, date and the data versions it shows.

One drawing path: the sheet is an HTML page (template maps/print_map_pdf.html) holding the SVG
frame as a data: image; WeasyPrint makes the PDF at exactly the paper's size; the PNG is that PDF
rasterised by pdftoppm (maps.render.raster). Reads only (a selector): nothing is stored.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.gis.geos import Polygon
from django.db.models import Value
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from pyproj import Transformer

from maps.render import MapFrame, MapLayer, RenderError, TooMuchData, render_svg, svg_data_uri
from parcels.geo import STORAGE_SRID, SimplifyPreserveTopology, gk3_zone

# Paper (ISO 216) in mm, portrait.
PAPERS: dict[str, tuple[int, int]] = {"A4": (210, 297), "A3": (297, 420)}
ORIENTATIONS = ("portrait", "landscape")
MARGIN_MM = 10.0
HEADER_MM = 15.0  # title and the scale / zone line above the frame
FOOTER_MM = 22.0  # date and data versions below the frame
# Grid step per scale: 10 cm on paper for 1:500–1:10 000, the kilometre grid for smaller scales.
GRID_FOR_SCALE: dict[int, int] = {500: 50, 1000: 100, 2000: 200, 5000: 500, 10000: 1000, 25000: 1000, 50000: 1000}
# Work limits: features fetched per layer and in all, before any drawing.
MAX_FEATURES_PER_LAYER = 3000
MAX_FEATURES = 6000
# Labels are drawn only where they can be read (parcel codes are 19 characters).
PARCEL_LABEL_MAX_SCALE = 2000
APPLICATION_LABEL_MAX_SCALE = 10000
METRES_PER_DEGREE = 111_320.0


@dataclass(frozen=True)
class SheetSource:
    """One line of the sheet's data versions: what was drawn and from which version."""

    name: str
    detail: str
    features: int


@dataclass(frozen=True)
class Sheet:
    title: str
    frame: MapFrame
    paper: str
    orientation: str
    paper_mm: tuple[float, float]
    grid_m: int
    svg: str
    printed_at: dt.datetime
    printed_by: str
    sources: list[SheetSource] = field(default_factory=list)

    @property
    def convergence_deg(self) -> float:
        """Meridian convergence at the centre, degrees (PROJ's sign: negative west of the central
        meridian in the north), the angle between grid north (up the sheet) and true north."""
        from pyproj import Proj

        return float(Proj(f"EPSG:{self.frame.epsg}").get_factors(*self.frame.centre_lonlat).meridian_convergence)

    @property
    def centre_gk(self) -> tuple[float, float]:
        """(X northing, Y easting) of the centre, metres, as Chinese surveying writes them."""
        e, n = self.frame.centre_gk
        return n, e


def paper_size(paper: str, orientation: str) -> tuple[float, float]:
    if paper not in PAPERS or orientation not in ORIENTATIONS:
        raise RenderError(_("Unknown paper size or orientation."))
    w, h = PAPERS[paper]
    return (float(h), float(w)) if orientation == "landscape" else (float(w), float(h))


def frame_size(paper: str, orientation: str) -> tuple[float, float]:
    """The map frame's width and height, mm: the paper less margins, header and footer."""
    w, h = paper_size(paper, orientation)
    return w - 2 * MARGIN_MM, h - 2 * MARGIN_MM - HEADER_MM - FOOTER_MM


def centre_from_gk(*, x_north: float, y_east: float) -> tuple[float, float]:
    """CGCS2000 lon/lat of a zone-prefixed 3° GK coordinate (X northing, Y easting with the zone
    number in its millions, e.g. Y = 38 493 243 in zone 38). The point must lie in that zone's band."""
    for value in (x_north, y_east):
        if not math.isfinite(value):
            raise RenderError(_("The coordinates must be finite numbers."))
    zone = int(y_east // 1_000_000)
    if not 25 <= zone <= 45:
        raise RenderError(_("Y (easting) must carry its 3° zone number 25–45 in the millions, e.g. 38493243."))
    if not 0 < x_north < 6_200_000:
        raise RenderError(_("X (northing) lies outside China."))
    lon, lat = Transformer.from_crs(f"EPSG:{zone + 4488}", f"EPSG:{STORAGE_SRID}", always_xy=True).transform(y_east, x_north)
    if not (math.isfinite(lon) and math.isfinite(lat)) or gk3_zone(lon) != zone:
        raise RenderError(_("The point lies outside 3° zone %(zone)s: check Y.") % {"zone": zone})
    return float(lon), float(lat)


def _capped(queryset, what: str) -> list:
    rows = list(queryset[: MAX_FEATURES_PER_LAYER + 1])
    if len(rows) > MAX_FEATURES_PER_LAYER:
        raise TooMuchData(_("%(what)s: more than %(limit)s features in this sheet. Choose a larger scale (a smaller area) or fewer layers.")
                          % {"what": what, "limit": MAX_FEATURES_PER_LAYER})
    return rows


def sheet_build(
    *,
    user: AbstractBaseUser,
    centre_lonlat: tuple[float, float],
    scale: int,
    paper: str,
    orientation: str,
    layers: list[Any],
    parcels: bool,
    applications: bool,
    title: str,
    grid_m: int | None = None,
    english: bool = False,
) -> Sheet:
    """Reads the chosen layers' active zones, registered parcels and the user's visible application
    sites in the frame, simplified to 0.1 mm on paper, and draws the map. `layers` are Layer objects
    the caller checked the user may see. Raises RenderError (bad frame, too many features)."""
    from approvals.permissions import visible_applications
    from parcels.models import LayerVersion, Parcel, Zone

    width_mm, height_mm = frame_size(paper, orientation)
    frame = MapFrame(centre_lonlat=centre_lonlat, scale=scale, width_mm=width_mm, height_mm=height_mm)
    grid = grid_m or GRID_FOR_SCALE.get(scale, 1000)
    bbox = Polygon.from_bbox(frame.extent_lonlat(margin_mm=2))
    bbox.srid = STORAGE_SRID
    tolerance = Value(0.1 / 1000 * scale / METRES_PER_DEGREE)  # 0.1 mm on paper, in degrees
    map_layers: list[MapLayer] = []
    sources: list[SheetSource] = []
    total = 0
    # Broad zonings (higher sort order) underneath, the protected layers (farmland, red line) on top.
    for layer in sorted(layers, key=lambda item: (-item.sort_order, item.slug)):
        version = LayerVersion.objects.filter(layer=layer, is_active=True).first()
        if version is None:
            continue
        name = (layer.name_en or layer.name) if english else layer.name
        rows = _capped(
            Zone.objects.filter(layer_version=version, geom__bboverlaps=bbox)
            .annotate(draw=SimplifyPreserveTopology("geom", tolerance)).only("id").order_by("id"),
            name,
        )
        total += len(rows)
        map_layers.append(MapLayer(name=f"{name} v{version.version}", features=[r.draw for r in rows], stroke=layer.color,
                                   fill=layer.color, fill_opacity=0.25, stroke_width_mm=0.2))
        sources.append(SheetSource(name=name, detail=_("version %(version)s, imported %(date)s, %(source)s") % {
            "version": version.version, "date": timezone.localtime(version.imported_at).date().isoformat(), "source": version.source_name},
            features=len(rows)))
    if parcels:
        rows = _capped(Parcel.objects.registered().filter(geom__bboverlaps=bbox)
                       .annotate(draw=SimplifyPreserveTopology("geom", tolerance)).only("id", "code").order_by("code"), _("Registered parcels"))
        total += len(rows)
        labels = [r.code for r in rows] if scale <= PARCEL_LABEL_MAX_SCALE else None
        map_layers.append(MapLayer(name=_("Registered parcels"), features=[r.draw for r in rows], stroke="#444444", fill="none",
                                   stroke_width_mm=0.2, labels=labels))
        sources.append(SheetSource(name=_("Registered parcels"), detail=_("register as at printing"), features=len(rows)))
    if applications:
        rows = _capped(visible_applications(user).filter(site__bboverlaps=bbox)
                       .annotate(draw=SimplifyPreserveTopology("site", tolerance)).only("id", "reference").order_by("reference"),
                       _("Application sites"))
        total += len(rows)
        labels = [r.reference for r in rows] if scale <= APPLICATION_LABEL_MAX_SCALE else None
        map_layers.append(MapLayer(name=_("Application sites"), features=[r.draw for r in rows], stroke="#d62728", fill="#d62728",
                                   fill_opacity=0.15, stroke_width_mm=0.35, dashed=True, labels=labels))
        sources.append(SheetSource(name=_("Application sites"), detail=_("your jurisdiction, as at printing"), features=len(rows)))
    if total > MAX_FEATURES:
        raise TooMuchData(_("More than %(limit)s features in this sheet. Choose a larger scale (a smaller area) or fewer layers.") % {"limit": MAX_FEATURES})
    svg = render_svg(frame=frame, layers=map_layers, grid_m=grid, scale_bar=True, north_arrow=True, legend=bool(map_layers))
    return Sheet(title=title, frame=frame, paper=paper, orientation=orientation, paper_mm=paper_size(paper, orientation), grid_m=grid,
                 svg=svg, printed_at=timezone.localtime(), printed_by=user.get_username(), sources=sources)


def sheet_html(sheet: Sheet) -> str:
    """The sheet as the HTML WeasyPrint lays out (autoescaped template; the map is a data: image)."""
    w, h = sheet.paper_mm
    return render_to_string("maps/print_map_pdf.html", {
        "sheet": sheet, "map_uri": svg_data_uri(sheet.svg), "page_size": f"{w:g}mm {h:g}mm",
        "frame_w": f"{sheet.frame.width_mm:g}mm", "frame_h": f"{sheet.frame.height_mm:g}mm",
        "x_north": round(sheet.centre_gk[0], 3), "y_east": round(sheet.centre_gk[1], 3),
        "convergence": f"{sheet.convergence_deg:+.4f}",
        "lon": round(sheet.frame.centre_lonlat[0], 7), "lat": round(sheet.frame.centre_lonlat[1], 7),
    })


def sheet_pdf(sheet: Sheet) -> bytes:
    from approvals.issued.pdf import pdf_render

    return pdf_render(sheet_html(sheet))
