"""What each paper says: the template contexts of the decision, the boundary-point table and the
certificate, and their maps (drawn on the server by maps.render, embedded as SVG data: URIs).

The papers are the Chinese official forms (rendered under zh-hans). Values are data: the templates
autoescape them. Dates are the bureau's local time (TIME_ZONE).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.gis.geos import Polygon

from approvals.choices import StepOutcome
from approvals.issued.boundary import BoundaryUnavailable, application_boundary_table, boundary_table
from approvals.models import Application
from approvals.selectors import latest_overlap_report
from parcels.geo import AreaFigures, site_areas
from parcels.models import Parcel

# Neighbouring registered parcels drawn around a site: enough for any real frame, bounded for paper.
MAX_NEIGHBOURS = 400


def person(user) -> str:
    """A user as a paper names them: full name, else the account name.

    A Chinese name is family name first with no space (何春花); Django's get_full_name() would print
    "春花 何"."""
    if user is None:
        return ""
    first, last = user.first_name.strip(), user.last_name.strip()
    if any("\u4e00" <= ch <= "\u9fff" for ch in first + last):
        return f"{last}{first}"
    return user.get_full_name() or user.get_username()


def site_map_svg_text(*, geometry, width_mm: float, height_mm: float, title: str, site_label: str,
                      exclude: Sequence[int] = ()) -> tuple[str, int, int] | None:
    """The site (red) among the registered parcels around it (grey, labelled with the last digits
    of their codes), with a GK grid, scale bar and north arrow, framed at the largest round scale
    that fits: (svg, scale denominator, EPSG), or None when it cannot be drawn (outside the GK
    zones, too large for 1:50,000)."""
    # maps.render is the project's one map renderer; approvals otherwise never imports maps, so
    # the import stays local to the papers that print a map.
    from maps.render import MapLayer, RenderError, frame_for, render_svg

    try:
        frame = frame_for(geometry, width_mm=width_mm, height_mm=height_mm, margin=0.15)
        w, s, e, n = frame.extent_lonlat()
        around = Parcel.objects.registered().filter(geom__intersects=Polygon.from_bbox((w, s, e, n)))
        if exclude:
            # the parcel itself, and those it replaces (retired in the same transaction, after this)
            around = around.exclude(pk__in=list(exclude))
        neighbours = list(around.only("code", "geom").order_by("code")[:MAX_NEIGHBOURS])
        layers = [
            MapLayer(name="相邻宗地", features=[p.geom for p in neighbours], stroke="#555555", fill="none",
                     labels=[p.code[-5:] for p in neighbours]),
            MapLayer(name=site_label, features=[geometry], stroke="#d62728", fill="#d62728", fill_opacity=0.2, stroke_width_mm=0.5),
        ]
        svg = render_svg(frame=frame, layers=layers, grid_m=GRID_M.get(frame.scale, 1000), scale_bar=True, north_arrow=True, legend=True, title=title)
    except RenderError:
        return None
    return svg, frame.scale, frame.epsg


# Grid step (m) per scale: about 5 cm on paper.
GRID_M = {500: 20, 1000: 50, 2000: 100, 5000: 200, 10000: 500, 25000: 1000, 50000: 2000}


def site_map(*, geometry, width_mm: float, height_mm: float, title: str, site_label: str,
             exclude: Sequence[int] = ()) -> dict[str, Any] | None:
    """site_map_svg_text as an embeddable image: {uri, scale, epsg, width_mm, height_mm} or None."""
    from approvals.issued.pdf import svg_data_uri

    drawn = site_map_svg_text(geometry=geometry, width_mm=width_mm, height_mm=height_mm, title=title,
                              site_label=site_label, exclude=exclude)
    if drawn is None:
        return None
    svg, scale, epsg = drawn
    return {"uri": svg_data_uri(svg), "scale": scale, "epsg": epsg, "width_mm": width_mm, "height_mm": height_mm}


def bureau_name(division) -> str:
    """The issuing authority as its paper is headed: the ministry, a province's department (厅), a
    city's or county's bureau (局), a township land station (所)."""
    level = getattr(division, "level", "")
    if division.code == "100000" or level == "nation":
        return "中华人民共和国自然资源部"
    if level == "province":
        return f"{division.name}自然资源厅"
    if level == "station":
        return f"{division.name}自然资源所"
    return f"{division.name}自然资源和规划局"


def _areas(geometry) -> dict[str, Any]:
    areas = site_areas(geometry)
    figures = AreaFigures(areas.ellipsoidal_m2)
    return {"m2": figures.m2, "ha": figures.ha, "mu": figures.mu, "gk_m2": areas.gk_m2, "gk_epsg": areas.gk_epsg}


def _steps(application: Application) -> list[dict[str, Any]]:
    out = []
    for step in application.steps.select_related("division", "closed_by").order_by("number"):
        tasks = [
            {"department": t.department.name, "role": t.get_role_display(), "answered": t.answered_at is not None,
             "agrees": t.agrees, "opinion": t.opinion, "answered_at": t.answered_at, "escalated": t.escalated}
            for t in step.tasks.select_related("department").order_by("role", "id")
        ]
        out.append({"level": step.get_level_display(), "division": step.division.name, "outcome": step.get_outcome_display() if step.outcome else step.get_state_display(),
                    "comment": step.comment, "closed_at": step.closed_at, "by": person(step.closed_by), "tasks": tasks})
    return out


def decision_context(*, application: Application) -> dict[str, Any]:
    """The decision's content: applicant, case, site and areas, the overlap summary of the latest
    report (each layer's verdict and version), every level's and department's opinion, the decision."""
    report = latest_overlap_report(application=application)
    final = application.steps.exclude(outcome="").order_by("-number").first()
    return {
        "application": application,
        "applicant": person(application.applicant),
        "kind_name": application.kind.name,
        "division": application.division.name,
        "areas": _areas(application.site),
        "parcels": list(application.parcels.order_by("number")),
        "report": report.result if report else None,
        "report_at": report.created_at if report else None,
        "steps": _steps(application),
        "approved": application.status == "approved",
        "decision_comment": final.comment if final and final.outcome in (StepOutcome.APPROVED, StepOutcome.REJECTED) else "",
        "decided_by": person(final.closed_by) if final else "",
        "decided_at": application.decided_at,
        "bureau": bureau_name(final.division if final else application.division),
        "map": site_map(geometry=application.site, width_mm=170, height_mm=100, title="项目用地位置示意图", site_label="申请用地"),
    }


def boundary_context(*, application: Application) -> dict[str, Any]:
    try:
        table = application_boundary_table(application=application)
    except BoundaryUnavailable:
        table = None
    return {"application": application, "division": application.division.name, "table": table, "areas": _areas(application.site)}


def certificate_context(*, certificate) -> dict[str, Any]:
    """The certificate's two pages: the register page (holders with shares, location, parcel code,
    right type, use, area, term, number) and the map page (parcel with neighbours and scale bar, the
    boundary-point table in the parcel's 3° GK zone)."""
    import shapely

    from parcels.importers.boundary_txt import ExportParcel

    right = certificate.right
    parcel = right.parcel
    application = right.application
    try:
        table = boundary_table(parcels=[ExportParcel(geometry=shapely.from_wkb(bytes(parcel.geom.wkb)), number=parcel.code)])
    except BoundaryUnavailable:
        table = None
    holders = list(right.holders.order_by("id"))
    for h in holders:
        # 份额 as the certificate writes it: 60%, 33.333333% (never 0.600000)
        h.share_text = f"{(h.share * 100).normalize():f}%"
    # The register's own check of the certificate (number + code, approvals.registry), beside the
    # document's verification QR: the first says the right is valid, the second that this paper is.
    from approvals.issued.pdf import qr_data_uri
    from approvals.issued.services import public_url
    from approvals.registry.services.certificates import certificate_verification_url

    register_url = public_url(certificate_verification_url(certificate))
    return {
        "register_url": register_url,
        "register_qr": qr_data_uri(register_url, scale=3),
        "certificate": certificate,
        "right": right,
        "parcel": parcel,
        "application": application,
        "holders": holders,
        "shared": len(holders) > 1,
        "location": f"{parcel.division.name} {application.title}",
        "county": certificate.county.name,
        "bureau": bureau_name(certificate.county),
        "areas": {"m2": right.area_m2, "ha": right.area.ha, "mu": right.area.mu, "gk_m2": right.gk_area_m2, "gk_epsg": right.gk_epsg},
        "table": table,
        "map": site_map(geometry=parcel.geom, width_mm=150, height_mm=120, title="宗地图", site_label="本宗地",
                        exclude=[parcel.pk, *parcel.predecessors.values_list("pk", flat=True)]),
    }
