"""Stored XSS, tried as an attacker would (issue 9, item 2), in headless Chromium.

Payloads go where users, files and administrators put text: an application's title, a layer's
name, a class code and class name, a zone attribute (key and value), a division's name, a parcel's
land class, and an uploaded file's name, properties and coordinates. Every role then visits every
page it can open, hovers every feature (tooltips), clicks a zone of the hostile layer (popup with
all attributes), opens the layer switcher and uploads the hostile files.

It fails if a dialog opens, if any element the payloads would create exists in the page, if the
browser reports a Content-Security-Policy violation (an escaped payload never becomes HTML, so
there must be none at all), or if a payload's `src=x` is requested. And it checks the other way
too: the payloads are shown, literally, as text (so the test cannot pass by showing nothing).
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect

from approvals.services import window_accept
from data.demo import DEMO_PASSWORD
from tests.e2e.conftest import login
from tests.factories import JIAYU_SITE, submit

pytestmark = pytest.mark.browser

# Each payload runs `alert` (a dialog) or leaves a marked element if it is ever parsed as HTML.
TITLE = '<img src=x onerror=alert("title")><i class=xss>T</i>'
TITLE_NEAR = '"><svg onload=alert("near")><i class=xss>N</i>'
LAYER = '<img src=x onerror=alert("layer")><i class=xss>L</i>'
CLASS_NAME = '<svg onload=alert("class")><i class=xss>C</i>'
CLASS_CODE = "<i class=xss>"  # class codes are at most 16 characters
ATTR_KEY = '<img src=x onerror=alert("k")>'
ATTR_VALUE = '<img src=x onerror=alert("v")><i class=xss>V</i>'
DIVISION = '<img src=x onerror=alert("division")>'
LAND_CLASS = "<i id=x>"  # land classes are at most 8 characters
FILE_NAME = '<img src=x onerror=alert("file")>.geojson'
PROPERTY = '<img src=x onerror=alert("prop")><i class=xss>P</i>'
COORDINATE = '<img src=x onerror=alert("coord")>'

# Elements or attributes that exist only if a payload was parsed as HTML.
PLANTED = ".xss, i#x, img[src='x'], [onerror], [onload]"

CSP_LISTENER = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || ''));
}, true);
"""

# The site of the second application: 300 m east of the first, so each is "nearby" the other.
NEAR_SITE = (JIAYU_SITE[0] + 0.003, JIAYU_SITE[1], JIAYU_SITE[2] + 0.003, JIAYU_SITE[3])


@pytest.fixture
def hostile(onemap, users, demo_frames) -> dict[str, int]:
    """A hostile layer (from the urban boundary, which the test sites cross), a hostile division and
    parcels, and two applications with hostile titles, one at the window and one in county review."""
    from parcels.models import Division, Layer, Parcel
    from parcels.services import layer_version_create

    frame = demo_frames["urban_boundary"].copy()
    frame["class_code"] = CLASS_CODE
    frame["class_name"] = CLASS_NAME
    frame[ATTR_KEY] = ATTR_VALUE
    # public: on the home page for anonymous visitors too (layers are internal unless published)
    public = {"public": True} if any(f.name == "public" for f in Layer._meta.fields) else {}
    layer = Layer.objects.create(slug="hostile", name=LAYER, name_en=LAYER, kind="other", rule="prohibited",
                                 color="#cf1322", sort_order=1, **public)
    layer_version_create(layer=layer, frame=frame, source_name=FILE_NAME)
    Division.objects.filter(code="421281").update(name=DIVISION[:64], name_en=DIVISION)
    Parcel.objects.update(land_class=LAND_CLASS)
    at_window = submit(users["applicant"], title=TITLE)
    in_review = submit(users["applicant"], title=TITLE_NEAR, bbox=NEAR_SITE)
    window_accept(application=in_review, by=users["clerk_jiayu"])
    return {"at_window": at_window.pk, "in_review": in_review.pk}


class Watch:
    """Dialogs, CSP reports (console) and requests for a payload's `src=x` during a test."""

    def __init__(self, page: Page) -> None:
        self.dialogs: list[str] = []
        self.console: list[str] = []
        self.payload_requests: list[str] = []
        page.on("dialog", self._dialog)
        page.on("console", lambda m: self.console.append(m.text) if "Content Security Policy" in m.text or "Refused to" in m.text else None)
        page.on("request", lambda r: self.payload_requests.append(r.url) if r.url.rstrip("/").endswith("/x") else None)
        page.context.add_init_script(CSP_LISTENER)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()


def check(page: Page, watch: Watch, where: str) -> None:
    planted = page.evaluate(f"document.querySelectorAll({json.dumps(PLANTED)}).length")
    violations = page.evaluate("window.__csp || []")
    assert watch.dialogs == [], f"{where}: a payload ran: {watch.dialogs}"
    assert planted == 0, f"{where}: {planted} element(s) planted by a payload"
    assert violations == [], f"{where}: CSP violations {violations}"
    assert watch.console == [], f"{where}: CSP reports in the console {watch.console}"
    assert watch.payload_requests == [], f"{where}: payload requests {watch.payload_requests}"


def exercise_map(page: Page, *, hostile_zone: bool = False) -> str:
    """Opens every tooltip of the map's vector features (what hovering shows), the layer switcher
    and, if the hostile layer is on the map, a popup of one of its zones with all attributes.
    Returns the text that the map showed."""
    if not page.evaluate("!!(window.OneMap && OneMap.map)"):
        return ""
    page.wait_for_load_state("networkidle")
    page.evaluate("""() => {
      const map = OneMap.map;
      const grid = OneMap.grids && OneMap.grids.hostile;
      if (grid && !map.hasLayer(grid)) grid.addTo(map);
      const c = document.querySelector('.leaflet-control-layers');
      if (c) c.classList.add('leaflet-control-layers-expanded');
    }""")
    page.wait_for_load_state("networkidle")
    # hovering: mouseover on each feature, propagated to its group as a real pointer's would be
    # (folium binds a layer's tooltip to the group, OneMap's remote pieces to each feature)
    shown = page.evaluate("""() => {
      const map = OneMap.map, out = [];
      const pane = map.getPane('tooltipPane');
      map.eachLayer(l => {
        if (!l.feature) return;
        const at = l.getBounds ? l.getBounds().getCenter() : l.getLatLng();
        l.fire('mouseover', {latlng: at, originalEvent: null}, true);
        out.push(pane.textContent);
        l.fire('mouseout', {latlng: at, originalEvent: null}, true);
      });
      return out.join('\\n');
    }""")
    # a click on a zone of the hostile layer: the popup, then every attribute from the zone API
    path = page.locator(".leaflet-pane path.zone-hostile").first
    if hostile_zone:  # the page must draw it; vector tiles can arrive after "networkidle" under load
        path.wait_for(state="attached")
    if path.count():
        path.dispatch_event("click")
        expect(page.locator(".leaflet-popup-content .zone-attributes")).to_be_visible()
        shown += "\n" + page.locator(".leaflet-popup-content").inner_text()
    layers = page.locator(".leaflet-control-layers")
    if layers.count():
        shown += "\n" + layers.first.inner_text()
    legend = page.locator(".onemap-legend")
    if legend.count():
        shown += "\n" + legend.first.inner_text()
    return shown


def visit(page: Page, watch: Watch, url: str, *, hostile_zone: bool = False) -> str:
    response = page.goto(url)
    assert response is not None, url
    assert response.status < 500, f"{url}: {response.status}"
    shown = exercise_map(page, hostile_zone=hostile_zone) if response.status == 200 else ""
    check(page, watch, url)
    return shown


def upload_hostile_files(page: Page, watch: Watch) -> None:
    """The applicant's upload preview: an error quoting the file, then a valid file with hostile
    properties (its pre-check lists the hostile layer)."""
    w, s, e, n = JIAYU_SITE
    bad = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": PROPERTY},
           "geometry": {"type": "Polygon", "coordinates": [[[COORDINATE, s], [e, s], [e, n], [w, s]]]}}]}
    good = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": PROPERTY, PROPERTY: PROPERTY},
            "geometry": {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}}]}
    area = page.locator("#site-area")
    for content, expect_error in ((bad, True), (good, False)):
        page.set_input_files("#id_site_file", files=[{"name": FILE_NAME, "mimeType": "application/geo+json",
                                                      "buffer": json.dumps(content).encode()}])
        if expect_error:
            expect(area).to_have_class("site-area error")
        else:
            expect(area.locator(".area-m2")).to_be_visible()
            expect(page.locator("#site-precheck li").first).to_be_visible()
            # the layer's name is shown as the text it is
            expect(page.locator("#site-precheck")).to_contain_text(LAYER)
        check(page, watch, "upload preview")


ROLES = ["anonymous", "applicant", "clerk_jiayu", "reviewer_jiayu", "clerk_xianning", "planner", "admin"]


@pytest.mark.parametrize("role", ROLES)
def test_payloads_are_text_for_every_role_on_every_page(page: Page, hostile, role: str):
    watch = Watch(page)
    if role != "anonymous":
        login(page, role, DEMO_PASSWORD)
    shown = visit(page, watch, "/", hostile_zone=True)
    # the home map's switcher and legend, and the layer table, show the hostile layer's name as text
    assert LAYER in shown
    # a click on a hostile zone: its popup lists the hostile attribute (key and value) as text
    assert ATTR_KEY in shown
    assert ATTR_VALUE in shown
    expect(page.locator("#layer-table")).to_contain_text(LAYER)
    expect(page.locator("#layer-table")).to_contain_text(CLASS_NAME)
    if role == "anonymous":
        visit(page, watch, "/accounts/login/")
        return
    pages = ["/applications/", "/inbox/", "/dashboard/", "/applications/new/"]
    for pk in hostile.values():
        pages += [f"/applications/{pk}/", f"/applications/{pk}/print/"]
    texts = {url: visit(page, watch, url) for url in pages}
    if role == "applicant":
        page.goto("/applications/new/")
        upload_hostile_files(page, watch)
    if role in {"clerk_jiayu", "reviewer_jiayu"}:
        detail_text = texts[f"/applications/{hostile['at_window']}/"] + texts[f"/applications/{hostile['in_review']}/"]
        if role == "clerk_jiayu":
            # the clerk sees each application "nearby" the other (the reviewer only the one in review)
            assert TITLE_NEAR in detail_text
            assert TITLE in detail_text
        # the overlap pieces' tooltips name the hostile layer and class as text
        assert CLASS_NAME in detail_text
    if role in {"planner", "admin", "reviewer_jiayu"}:
        visit(page, watch, "/planner/layers/")
        shown = visit(page, watch, "/planner/layers/?layer_a=hostile&layer_b=landuse-survey&division=421221")
        if role == "planner":
            assert CLASS_NAME in shown, "the layer × layer tooltip shows the class name"
        visit(page, watch, "/planner/applications/?year=&kind=&status=&layer=hostile")
        page.goto("/planner/overlap/")
        if page.locator("#run-query").count():
            w, s, e, n = JIAYU_SITE
            site = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},
                    "geometry": {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}}]}
            page.evaluate("s => document.getElementById('id_site_geojson').value = s", json.dumps(site))
            page.click("#run-query")
            expect(page.locator(".overlap-table")).to_be_visible()
            shown = exercise_map(page)
            check(page, watch, "planner overlap result")
            assert LAYER in shown
    if role == "admin":
        visit(page, watch, "/layers/import/")
        for url in ("/admin/", "/admin/parcels/layer/", "/admin/approvals/application/", "/admin/parcels/division/"):
            visit(page, watch, url)
