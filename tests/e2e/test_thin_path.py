"""End-to-end in headless Chromium: the applicant draws and submits, the window accepts, the
application goes up county → city → province → ministry with departments in parallel and ends
approved; a planner runs an overlap query; the home map works offline."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect
from shapely.geometry import shape

from approvals.models import Application, Department
from data.demo import DEMO_LAYERS, DEMO_PASSWORD
from tests.e2e.conftest import login
from tests.factories import PDF_BYTES
from tests.geodesy import assert_area_close, geod_area_m2, overlap_m2

pytestmark = pytest.mark.browser

# Near the county seat's urban edge (lat, lon) and map zoom: a site here meets several layers.
VIEW = (29.956, 113.931, 16)
# Polygon vertices in map-container pixels relative to the map centre.
CLICKS = [(-120, -80), (110, -95), (140, 70), (-90, 100)]


def number(text: str) -> float:
    return float(re.sub(r"[^0-9.\-]", "", text))


def draw_polygon(page: Page) -> None:
    page.evaluate(f"OneMap.map.setView([{VIEW[0]}, {VIEW[1]}], {VIEW[2]}, {{animate: false}})")
    page.click(".leaflet-draw-draw-polygon")
    box = page.locator(".folium-map").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for dx, dy in CLICKS:
        page.mouse.click(cx + dx, cy + dy)
        page.wait_for_timeout(150)
    page.mouse.click(cx + CLICKS[0][0], cy + CLICKS[0][1])  # click the first vertex to close the ring


def test_home_map_works_offline(page: Page, onemap):
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto("/")
    expect(page.locator(".leaflet-container")).to_be_visible()
    expect(page.locator(".leaflet-control-layers")).to_have_count(1)
    # vector tiles of the layers on by default (farmland, red line, urban boundary), drawn as SVG
    page.wait_for_function("document.querySelectorAll('.leaflet-tile-container path').length > 10")
    tiles = [r for r in requests if "/tiles/" in r]
    assert tiles, "the layers come as vector tiles"
    assert all(re.search(r"/tiles/[a-z-]+/v\d+/\d+/\d+/\d+\.pbf$", t) for t in tiles)


def as_user(page: Page, username: str, app_pk: int) -> None:
    page.context.clear_cookies()
    login(page, username, DEMO_PASSWORD)
    page.goto(f"/applications/{app_pk}/")


def act(page: Page, button: str) -> None:
    """Clicks a workflow button and waits for the page to come back with its confirmation."""
    page.click(button)
    expect(page.locator("#messages .msg-success")).to_be_visible()


def test_construction_land_application_goes_through_four_levels_to_approval(page: Page, onemap, demo_frames):
    login(page, "applicant", DEMO_PASSWORD)
    page.goto("/applications/new/")
    page.fill("#id_title", "嘉鱼县产业园仓储项目")
    page.select_option("#id_kind", "construction_land")
    page.fill("#id_purpose", "仓储物流用地")
    draw_polygon(page)
    expect(page.locator("#site-area .area-m2")).to_be_visible()
    # the instant pre-check lists every layer with its verdict before anything is submitted
    expect(page.locator("#site-precheck li")).to_have_count(5)
    expect(page.locator("#site-precheck li.verdict-conflict").first).to_be_visible()

    drawn = json.loads(page.input_value("#id_site_geojson"))
    drawn_shape = shape(drawn["features"][0]["geometry"])
    expected = geod_area_m2(drawn_shape)
    assert expected > 10_000  # a real site, not a sliver
    assert_area_close(number(page.text_content("#site-area .area-m2")), expected)
    assert number(page.text_content("#site-area .area-mu")) == pytest.approx(expected * 15 / 10000, abs=0.001)

    page.click("#submit-application")
    page.wait_for_url(re.compile(r"/applications/\d+/$"))
    app = Application.objects.get()
    assert app.status == "submitted"
    assert_area_close(app.site_area_m2, expected)
    expect(page.locator("#application-status")).to_have_text("等待窗口受理")

    # the applicant attaches the four documents the kind requires (PDFs, checked by content)
    for requirement in app.kind.required_documents.all():
        page.select_option("#id_requirement", str(requirement.pk))
        page.set_input_files("#id_file", files=[{"name": f"{requirement.code}.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}])
        act(page, "#document-upload")
    assert app.documents.count() == 4

    # one window: the clerk's data check passes and the clock starts
    as_user(page, "clerk_jiayu", app.pk)
    expect(page.locator("#data-check .check-ok")).to_have_count(7)
    act(page, "#window-accept")
    expect(page.locator("#application-status")).to_have_text("审查中")
    expect(page.locator("#clock-promised")).to_contain_text("/20")

    # The county reviewer sees the overlap rows, with areas that match an independent overlay.
    as_user(page, "reviewer_jiayu", app.pk)
    rows = page.locator("tr.overlap-row[data-class]:not([data-class=''])")
    expect(rows.first).to_be_visible()
    page.wait_for_function("document.documentElement.dataset.piecesLoaded > 0")  # pieces come in their own request
    site_shape = shape(json.loads(app.site.geojson))
    checked = 0
    for i in range(rows.count()):
        row = rows.nth(i)
        slug, code = row.get_attribute("data-layer"), row.get_attribute("data-class")
        spec = next(s for s in DEMO_LAYERS if s.slug == slug)
        zones = demo_frames[spec.gpkg_layer]
        zones = zones[(zones.class_code == code) & zones.intersects(site_shape)]
        assert_area_close(float(row.get_attribute("data-area-m2")), overlap_m2(site_shape, zones.geometry))
        checked += 1
    assert checked >= 3
    # the map shows the site and the overlap pieces, switchable per layer (labels in Chinese)
    page.wait_for_function("document.querySelectorAll('.leaflet-overlay-pane path').length >= 2")
    expect(page.locator(".leaflet-control-layers")).to_contain_text("永久基本农田 (压占)")

    # clicking a table row zooms the map to that class's overlap pieces
    row = rows.first
    slug, code = row.get_attribute("data-layer"), row.get_attribute("data-class")
    before = page.evaluate("[OneMap.map.getCenter().lat, OneMap.map.getCenter().lng, OneMap.map.getZoom()]")
    row.click()
    expect(row).to_have_class(re.compile("selected"))
    after = page.evaluate("[OneMap.map.getCenter().lat, OneMap.map.getCenter().lng, OneMap.map.getZoom()]")
    assert after != before
    spec = next(s for s in DEMO_LAYERS if s.slug == slug)
    zones = demo_frames[spec.gpkg_layer]
    piece = site_shape.intersection(zones[zones.class_code == code].union_all())
    minx, miny, maxx, maxy = piece.bounds
    assert minx <= after[1] <= maxx
    assert miny <= after[0] <= maxy

    # parallel approval at county and city: the lead department and one cooperating department
    for division, reviewer, lead_user, coop_user in (("421221", "reviewer_jiayu", "dept_jiayu", "dept_jiayu_plan"),
                                                      ("421200", "reviewer_xianning", "dept_xianning", "dept_xianning_plan")):
        as_user(page, reviewer, app.pk)
        if page.locator("#presign").count():
            act(page, "#presign")
            act(page, "#level-accept")
        lead = Department.objects.get(division_id=division, memberships__user__username=lead_user)
        page.select_option("#id_lead", str(lead.pk))
        page.check(f"#assign-form input[name=cooperating][value='{Department.objects.get(division_id=division, memberships__user__username=coop_user).pk}']")
        page.fill("#id_days", "2")
        act(page, "#assign-departments")
        # the level cannot decide before the opinions are in
        page.select_option("#id_outcome", "forwarded")
        page.click("#decide-button")
        expect(page.locator("[role=alert] .error")).to_contain_text("等待")
        for user, text in ((coop_user, "规划符合，同意"), (lead_user, "经会商，同意上报")):
            as_user(page, user, app.pk)
            page.check("#id_agrees_0")
            page.fill("#id_opinion", text)
            act(page, "#opinion-button")
        as_user(page, reviewer, app.pk)
        expect(page.locator("#steps")).to_contain_text("经会商，同意上报")
        page.select_option("#id_outcome", "forwarded")
        page.fill("#id_comment", "同意上报")
        act(page, "#decide-button")

    for reviewer, outcome in (("reviewer_hubei", "forwarded"), ("reviewer_ministry", "approved")):
        as_user(page, reviewer, app.pk)
        act(page, "#presign")
        act(page, "#level-accept")
        page.select_option("#id_outcome", outcome)
        page.fill("#id_comment", "同意")
        act(page, "#decide-button")

    expect(page.locator("#application-status")).to_have_text("已批准")
    app.refresh_from_db()
    assert app.status == "approved"
    assert [(s.level, s.outcome) for s in app.steps.order_by("number")] == [
        ("county", "forwarded"), ("city", "forwarded"), ("province", "forwarded"), ("nation", "approved")]
    # every step is on the timeline, with who did it
    for who in ("clerk_jiayu", "reviewer_jiayu", "dept_jiayu", "dept_xianning_plan", "reviewer_xianning", "reviewer_hubei", "reviewer_ministry"):
        expect(page.locator("#timeline")).to_contain_text(who)
    assert app.events.filter(action__in=["forwarded", "approved"]).count() == 4

    # the applicant's inbox says it was decided
    as_user(page, "applicant", app.pk)
    page.goto("/inbox/")
    expect(page.locator("#inbox li.note-decided")).to_have_count(1)


def test_planner_runs_an_overlap_query(page: Page, onemap):
    login(page, "planner", DEMO_PASSWORD)
    page.goto("/planner/overlap/")
    draw_polygon(page)
    expect(page.locator("#site-area .area-m2")).to_be_visible()
    page.click("#run-query")
    expect(page.locator("tr.overlap-row").first).to_be_visible()
    assert page.locator("tr.overlap-row").count() >= 5
    assert Application.objects.count() == 0


def test_invalid_drawn_site_shows_the_error(page: Page, onemap):
    login(page, "applicant", DEMO_PASSWORD)
    page.goto("/applications/new/")
    page.evaluate(
        "OneMap.loadSite({type: 'Polygon', coordinates: [[[113.93, 29.95], [113.94, 29.96], [113.94, 29.95], [113.93, 29.96], [113.93, 29.95]]]})"
    )
    expect(page.locator("#site-area.error")).to_contain_text("Self-intersection")


def test_planner_intersects_two_layers_and_downloads_the_table(page: Page, onemap, tmp_path):
    login(page, "planner", DEMO_PASSWORD)
    page.goto("/planner/layers/")
    page.select_option("#id_layer_a", "permanent-farmland")
    page.select_option("#id_layer_b", "landuse-survey")
    page.select_option("#id_division", "421221")
    page.click("#run-cross")
    expect(page.locator("#cross-table tr.cross-row").first).to_be_visible()
    rows = page.locator("#cross-table tr.cross-row")
    shown = sum(float(rows.nth(i).get_attribute("data-area-m2")) for i in range(rows.count()))
    assert shown == pytest.approx(number(page.text_content("#cross-total-m2")), abs=0.01)
    # the intersections are on the map and the chart is drawn
    page.wait_for_function("document.querySelectorAll('.leaflet-overlay-pane path').length >= 1")
    expect(page.locator("figure.chart svg rect").first).to_be_visible()
    with page.expect_download() as download:
        page.click("#export-xlsx")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    from openpyxl import load_workbook

    sheet = load_workbook(saved).active
    assert sheet.max_row == rows.count() + 1
    assert sum(sheet.cell(row=r, column=5).value for r in range(2, sheet.max_row + 1)) == pytest.approx(shown, abs=0.05)


def test_applicant_previews_an_uploaded_txt_then_submits_it(page: Page, onemap, fixtures_dir):
    login(page, "applicant", DEMO_PASSWORD)
    page.goto("/applications/new/")
    page.set_input_files("#id_site_file", str(fixtures_dir / "txt" / "multi_parcel.txt"))
    # the server reads it as the submission will: dashed preview on the map, areas, parcels, pre-check
    expect(page.locator("#site-area .preview-note")).to_be_visible()
    expect(page.locator("#site-precheck li").first).to_be_visible()
    page.wait_for_function("document.querySelectorAll('.leaflet-overlay-pane path.site-preview').length >= 1")
    preview_m2 = number(page.text_content("#site-area .area-m2"))
    page.fill("#id_title", "报盘文件项目")
    page.fill("#id_purpose", "工业用地")
    page.click("#submit-application")
    page.wait_for_url(re.compile(r"/applications/\d+/$"))
    app = Application.objects.get()
    assert app.parcels.count() >= 2
    assert_area_close(app.site_area_m2, preview_m2)


def test_an_invalid_upload_is_pinned_on_the_map(page: Page, onemap, tmp_path):
    bowtie = {"type": "Polygon", "coordinates": [[[113.93, 29.95], [113.94, 29.96], [113.94, 29.95], [113.93, 29.96], [113.93, 29.95]]]}
    path = tmp_path / "site.geojson"
    path.write_text(json.dumps(bowtie))
    login(page, "applicant", DEMO_PASSWORD)
    page.goto("/applications/new/")
    page.set_input_files("#id_site_file", str(path))
    expect(page.locator("#site-area.error")).to_contain_text("Self-intersection")
    marker = page.locator("path.error-point")
    expect(marker).to_have_count(1)
    # the map is centred on the crossing point (113.935, 29.955)
    lat, lng = page.evaluate("[OneMap.map.getCenter().lat, OneMap.map.getCenter().lng]")
    assert (lat, lng) == pytest.approx((29.955, 113.935), abs=1e-4)
    assert Application.objects.count() == 0


def _parcel_in_view(demo_frames):
    """A registered parcel near the county seat, large enough to click into at zoom 17."""
    parcels = demo_frames["parcels"]
    parcels = parcels[parcels.status == "registered"] if "status" in parcels else parcels
    near = parcels[parcels.intersects(shape({"type": "Point", "coordinates": [VIEW[1], VIEW[0]]}).buffer(0.02))]
    return near.loc[near.to_crs(4526).area.idxmax()]  # largest by planar area (GK zone 38)


def test_applicant_builds_the_site_from_a_registered_parcel_and_snaps_to_its_corner(page: Page, onemap, demo_frames):
    parcel = _parcel_in_view(demo_frames)
    inside = parcel.geometry.representative_point()
    login(page, "applicant", DEMO_PASSWORD)
    page.goto("/applications/new/")
    page.evaluate(f"OneMap.map.setView([{inside.y}, {inside.x}], 17, {{animate: false}})")
    page.wait_for_function("document.documentElement.dataset.parcelsLoaded > 0")
    # click inside the parcel: it becomes the site, with its area computed by the server
    point = page.evaluate(f"(() => {{ const p = OneMap.map.latLngToContainerPoint([{inside.y}, {inside.x}]); return [p.x, p.y]; }})()")
    box = page.locator(".folium-map").bounding_box()
    page.mouse.click(box["x"] + point[0], box["y"] + point[1])
    expect(page.locator("#site-area .area-m2")).to_be_visible()
    assert_area_close(number(page.text_content("#site-area .area-m2")), geod_area_m2(parcel.geometry))
    site = json.loads(page.input_value("#id_site_geojson"))
    assert len(site["features"]) == 1
    # clicking it again takes it out
    page.mouse.click(box["x"] + point[0], box["y"] + point[1])
    page.wait_for_function("document.getElementById('id_site_geojson').value === ''")

    # drawing: a click 5 px from the parcel's corner lands exactly on the corner
    outer = parcel.geometry.geoms[0] if parcel.geometry.geom_type == "MultiPolygon" else parcel.geometry
    corner = outer.exterior.coords[0]
    cpx = page.evaluate(f"(() => {{ const p = OneMap.map.latLngToContainerPoint([{corner[1]}, {corner[0]}]); return [p.x, p.y]; }})()")
    page.click(".leaflet-draw-draw-polygon")
    box = page.locator(".folium-map").bounding_box()  # clicking the tool may have scrolled the page
    start = (box["x"] + cpx[0] + 4, box["y"] + cpx[1] + 3)
    for dx, dy in [(0, 0), (120, 10), (100, 110)]:
        page.mouse.click(start[0] + dx, start[1] + dy)
        page.wait_for_timeout(150)
    page.mouse.click(*start)  # close on the first vertex
    expect(page.locator("#site-area .area-m2")).to_be_visible()
    drawn = json.loads(page.input_value("#id_site_geojson"))
    ring = drawn["features"][0]["geometry"]["coordinates"][0]
    assert len(ring) == 4  # three vertices, closed
    snapped = [v for v in ring if abs(v[0] - corner[0]) < 1e-9 and abs(v[1] - corner[1]) < 1e-9]
    assert snapped, f"no vertex on the corner {corner[:2]}: {ring}"


def test_clicking_a_feature_shows_its_attributes_and_the_legend_explains_colours(page: Page, onemap, demo_frames):
    zone = demo_frames["permanent_farmland"].iloc[0]
    inside = zone.geometry.representative_point()
    page.goto("/")
    expect(page.locator(".onemap-legend")).to_contain_text("永久基本农田")
    page.evaluate(f"OneMap.map.setView([{inside.y}, {inside.x}], 16, {{animate: false}})")
    page.wait_for_function("document.querySelectorAll('.leaflet-tile-container path').length > 0")
    page.wait_for_timeout(500)
    point = page.evaluate(f"(() => {{ const p = OneMap.map.latLngToContainerPoint([{inside.y}, {inside.x}]); return [p.x, p.y]; }})()")
    box = page.locator(".folium-map").bounding_box()
    page.mouse.click(box["x"] + point[0], box["y"] + point[1])
    expect(page.locator(".zone-attributes")).to_be_visible()
    expect(page.locator(".zone-attributes")).to_contain_text(zone.class_code)
